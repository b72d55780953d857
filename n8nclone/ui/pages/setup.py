"""The first-visit setup page: create the admin account (only while no user exists).

The form posts to `/api/auth/setup-form`, which creates the first user, logs them in and
redirects to /workflows (or back here with `?error=<code>`). Once a user exists the page
sends visitors to /login.
"""

from __future__ import annotations

import reflex as rx

from n8nclone.auth import PASSWORD_MIN
from n8nclone.ui.pages.login import auth_card, field
from n8nclone.ui.state.auth import SetupState

ROUTE = "/setup"
TITLE = "Set up | n8nclone"
ON_LOAD = SetupState.open


def setup_form() -> rx.Component:
    # on_submit=None: a native POST (Reflex forms otherwise stop it in the browser).
    return rx.el.form(
        rx.vstack(
            rx.text("No account exists yet: create the admin account. More users can be "
                    "added later with `n8nclone user create`.", size="2",
                    color_scheme="gray"),
            rx.cond(
                SetupState.problem != "",
                rx.callout(SetupState.problem, icon="triangle_alert", color_scheme="red",
                           size="1", width="100%", id="setup-error"),
            ),
            field("Email", rx.input(name="email", type="email", required=True,
                                    auto_complete="username", auto_focus=True,
                                    placeholder="you@example.com", width="100%",
                                    id="setup-email")),
            field("Password", rx.input(name="password", type="password", required=True,
                                       min_length=PASSWORD_MIN,
                                       auto_complete="new-password", width="100%",
                                       placeholder=f"at least {PASSWORD_MIN} characters",
                                       id="setup-password")),
            field("Repeat password", rx.input(name="password2", type="password",
                                              required=True, min_length=PASSWORD_MIN,
                                              auto_complete="new-password", width="100%",
                                              id="setup-password2")),
            rx.button("Create account and log in", type="submit", width="100%", size="3",
                      id="setup-submit"),
            spacing="3",
            width="100%",
        ),
        action="/api/auth/setup-form",
        method="post",
        on_submit=None,
        width="100%",
        id="setup-form",
    )


def page() -> rx.Component:
    """Render the setup page."""
    return auth_card(
        "Set up n8nclone",
        rx.cond(
            SetupState.ready,
            setup_form(),
            rx.hstack(rx.spinner(), rx.text("Loading...", color_scheme="gray"),
                      align="center"),
        ),
    )
