"""The login page: email and password in a plain HTML form.

The form posts to `/api/auth/login-form`, which sets the HttpOnly session cookie and
redirects to `next` (or back here with `?error=1`). With no user yet, the page sends the
visitor to /setup; a visitor already logged in goes straight on to `next`.
"""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.state.auth import LoginState

ROUTE = "/login"
TITLE = "Log in | n8nclone"
ON_LOAD = LoginState.open


def auth_card(title: str, *children: rx.Component) -> rx.Component:
    """A narrow centred card with the app's name, a heading and `children`."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.text("n8nclone", size="2", color_scheme="gray", weight="bold"),
                rx.heading(title, size="6"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="3",
            width="100%",
            max_width="380px",
        ),
        min_height="100vh",
        padding="1em",
    )


def field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1",
                     width="100%")


def login_form() -> rx.Component:
    # on_submit=None: a native POST (Reflex forms otherwise stop it in the browser).
    return rx.el.form(
        rx.vstack(
            rx.cond(
                LoginState.failed,
                rx.callout("Wrong email or password.", icon="triangle_alert",
                           color_scheme="red", size="1", width="100%", id="login-error"),
            ),
            field("Email", rx.input(name="email", type="email", required=True,
                                    auto_complete="username", auto_focus=True,
                                    placeholder="you@example.com", width="100%",
                                    id="login-email")),
            field("Password", rx.input(name="password", type="password", required=True,
                                       auto_complete="current-password", width="100%",
                                       id="login-password")),
            rx.el.input(type="hidden", name="next", value=LoginState.next_path,
                        id="login-next"),
            rx.button("Log in", type="submit", width="100%", size="3", id="login-submit"),
            spacing="3",
            width="100%",
        ),
        action="/api/auth/login-form",
        method="post",
        on_submit=None,
        width="100%",
        id="login-form",
    )


def page() -> rx.Component:
    """Render the login page."""
    return auth_card(
        "Log in",
        rx.cond(
            LoginState.ready,
            login_form(),
            rx.hstack(rx.spinner(), rx.text("Loading...", color_scheme="gray"),
                      align="center"),
        ),
    )
