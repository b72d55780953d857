"""The start page (placeholder until the workflow list lands)."""

from __future__ import annotations

import reflex as rx

ROUTE = "/"
TITLE = "n8nclone"


def page() -> rx.Component:
    """Render the start page."""
    return rx.container(
        rx.vstack(
            rx.heading("n8nclone", size="8"),
            rx.text(
                "Build workflows from nodes; every run is a durable, checkpointed step function."
            ),
            rx.link("Workflows", href="/workflows"),
            rx.link("API documentation", href="/docs", is_external=True),
            spacing="4",
            padding_y="4em",
        ),
    )
