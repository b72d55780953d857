"""Run page (being built)."""

from __future__ import annotations

import reflex as rx

ROUTE = "/runs/[run_id]"
TITLE = "Run | n8nclone"


def page() -> rx.Component:
    return rx.container(rx.heading("Run"))
