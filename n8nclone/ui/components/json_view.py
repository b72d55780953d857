"""Collapsible JSON: a step's input or output, pretty-printed, capped for the browser.

A step output can be megabytes (a big HTTP body); the page shows at most
`DISPLAY_LIMIT` characters of it with a note saying so (the API has it all).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

DISPLAY_LIMIT = 20_000


def json_text(value: Any, limit: int = DISPLAY_LIMIT) -> tuple[str, str]:
    """`value` as indented JSON, cut to `limit` characters; plus a note when it was cut."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return text, ""
    note = (f"showing the first {limit // 1000} KB of {len(text) / 1000:,.0f} KB; "
            "GET /api/runs/<id> has it all")
    return text[:limit] + "\n...", note


def json_view(label: str, text: rx.Var, note: rx.Var, class_name: str = "") -> rx.Component:
    """A closed <details> whose summary is `label`; opened, the JSON `text` and `note`."""
    return rx.el.details(
        rx.el.summary(label, cursor="pointer", class_name="json-summary"),
        rx.cond(note != "", rx.text(note, size="1", color_scheme="amber",
                                    class_name="json-note"), rx.fragment()),
        rx.el.pre(text, class_name="json-text", max_height="24em", overflow="auto",
                  font_size="12px", padding="0.5em", margin="0.25em 0 0 0",
                  background="var(--gray-2)", border_radius="4px", white_space="pre-wrap",
                  word_break="break-all"),
        class_name=f"json-view {class_name}".strip(),
    )
