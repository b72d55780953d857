"""The start page: what n8nclone is, with links to the main pages."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.components.layout import app_shell
from n8nclone.ui.state.auth import AuthState

ROUTE = "/"
TITLE = "n8nclone"
ON_LOAD = [AuthState.require_login]


def page() -> rx.Component:
    """Render the start page."""
    return app_shell(
        rx.vstack(
            rx.heading("n8nclone", size="8"),
            rx.text(
                "Build workflows from nodes; every run is a durable, checkpointed step function."
            ),
            rx.link("Workflows", href="/workflows"),
            rx.link("API documentation", href="/docs", is_external=True),
            spacing="4",
            padding_y="2em",
        ),
    )
