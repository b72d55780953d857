"""Runs page (being built)."""

from __future__ import annotations

import reflex as rx

ROUTE = "/runs"
TITLE = "Runs | n8nclone"


def page() -> rx.Component:
    return rx.container(rx.heading("Runs"))
