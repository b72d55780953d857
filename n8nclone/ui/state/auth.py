"""Who is looking at the UI: every page but /login and /setup opens only with a session.

The session cookie is HttpOnly (set by `POST /api/auth/login` or the login page's form),
so the browser sends it with the websocket that carries the page's events; `require_login`
reads it from there, checks it in the database and sends anyone without one to /login.
"""

from __future__ import annotations

import asyncio
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

import reflex as rx

from n8nclone.api.access import SESSION_COOKIE, accounts
from n8nclone.services import get_services

PUBLIC_PAGES = ("/login", "/setup")


def session_token(cookie_header: str) -> str | None:
    """The session token in a Cookie header, if any."""
    try:
        cookies = SimpleCookie(cookie_header or "")
    except CookieError:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def _email_for(token: str | None) -> str | None:
    if token is None:
        return None
    user = accounts(get_services()).session_user(token)
    return user.email if user is not None else None


class AuthState(rx.State):
    """The logged-in user's email ("" until checked)."""

    email: str = ""

    @rx.event
    async def require_login(self):
        """On every protected page's load: no valid session, no page."""
        token = session_token(self.router.headers.cookie)
        email = await asyncio.to_thread(_email_for, token)
        if email is None:
            self.email = ""
            path = self.router.url.path or "/"
            return rx.redirect(f"/login?next={quote(path, safe='/')}", replace=True)
        self.email = email
        return None
