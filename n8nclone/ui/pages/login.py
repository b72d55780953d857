"""Log in page (being built)."""

from __future__ import annotations

import reflex as rx

ROUTE = "/login"
TITLE = "Log in | n8nclone"


def page() -> rx.Component:
    return rx.container(rx.heading("Log in"))
