"""Pieces every dialog of the UI shares."""

from __future__ import annotations

import reflex as rx


def form_actions(submit_label: str, submit_id: str) -> rx.Component:
    """The button row at the foot of a dialog's form: Cancel (closes it) and the submit."""
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                  type="button")),
        rx.button(submit_label, type="submit", id=submit_id),
        justify="end", width="100%",
    )
