"""Set up page (being built)."""

from __future__ import annotations

import reflex as rx

ROUTE = "/setup"
TITLE = "Set up | n8nclone"


def page() -> rx.Component:
    return rx.container(rx.heading("Set up"))
