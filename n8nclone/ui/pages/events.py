"""Events page (being built)."""

from __future__ import annotations

import reflex as rx

ROUTE = "/events"
TITLE = "Events | n8nclone"


def page() -> rx.Component:
    return rx.container(rx.heading("Events"))
