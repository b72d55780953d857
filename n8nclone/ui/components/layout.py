"""The frame of every logged-in page: the navigation bar, then the page's content."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.state.auth import AuthState

NAV = (("Workflows", "/workflows"), ("Runs", "/runs"), ("Events", "/events"))


def nav_bar() -> rx.Component:
    """Links to the main pages, the user's email and a log-out button (a plain form POST:
    the server ends the session and clears the HttpOnly cookie)."""
    return rx.hstack(
        rx.link(rx.heading("n8nclone", size="5"), href="/", underline="none"),
        *[rx.link(label, href=href, id=f"nav-{label.lower()}") for label, href in NAV],
        rx.spacer(),
        rx.text(AuthState.email, size="2", color_scheme="gray", id="nav-user"),
        rx.el.form(
            rx.button("Log out", type="submit", variant="soft", size="1", id="logout"),
            # on_submit=None: a native POST (Reflex forms otherwise stop it in the browser).
            action="/api/auth/logout-form", method="post", on_submit=None,
        ),
        align="center", spacing="5", width="100%", padding_y="0.75em",
        border_bottom="1px solid var(--gray-5)",
    )


def app_shell(*children: rx.Component, title: str = "") -> rx.Component:
    """A logged-in page: the navigation bar, an optional heading, then `children`."""
    return rx.container(
        rx.vstack(
            nav_bar(),
            *([rx.heading(title, size="6")] if title else []),
            *children,
            spacing="4", width="100%", padding_bottom="2em",
        ),
        size="4",
    )
