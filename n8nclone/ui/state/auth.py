"""Who is looking at the UI: every page but /login and /setup opens only with a session.

The session cookie is HttpOnly (set by `POST /api/auth/login` or the login page's form),
so the browser sends it with the websocket that carries the page's events; `require_login`
reads it from there, checks it in the database and sends anyone without one to /login.

The login and setup pages are plain HTML forms posting to `/api/auth/login-form` and
`/api/auth/setup-form` (only the server can set an HttpOnly cookie); their states only
decide where a visitor belongs and what the form says.
"""

from __future__ import annotations

import asyncio
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

import reflex as rx
from reflex.middleware import Middleware

from n8nclone.api.access import SESSION_COOKIE, accounts
from n8nclone.api.auth import DEFAULT_NEXT, SETUP_ERRORS, local_path
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
            url = self.router.url
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            return rx.redirect(f"/login?next={quote(path, safe='/')}", replace=True)
        self.email = email
        return None


def _needs_setup() -> bool:
    return accounts(get_services()).needs_setup()


class LoginState(rx.State):
    """The login page: where to go after logging in, and whether the last try failed."""

    next_path: str = DEFAULT_NEXT
    failed: bool = False
    ready: bool = False

    @rx.event
    async def open(self):
        """No user yet: the setup page. Logged in already: straight to `next`."""
        query = self.router.url.query_parameters
        self.next_path = local_path(query.get("next"))
        self.failed = query.get("error", "") != ""
        if await asyncio.to_thread(_needs_setup):
            return rx.redirect("/setup", replace=True)
        token = session_token(self.router.headers.cookie)
        if await asyncio.to_thread(_email_for, token) is not None:
            return rx.redirect(self.next_path, replace=True)
        self.ready = True
        return None


class SetupState(rx.State):
    """The first-visit setup page: usable only while no user exists."""

    problem: str = ""
    ready: bool = False

    @rx.event
    async def open(self):
        if not await asyncio.to_thread(_needs_setup):
            return rx.redirect("/login", replace=True)
        code = self.router.url.query_parameters.get("error", "")
        self.problem = SETUP_ERRORS.get(code, SETUP_ERRORS["invalid"]) if code else ""
        self.ready = True
        return None


def with_login(route: str, on_load):
    """A page's on_load with `AuthState.require_login` first, unless the page is public
    (/login, /setup) or has it first already: `app.py` applies it to every page, so a new
    page is protected without a line of its own."""
    handlers = list(on_load) if isinstance(on_load, (list, tuple)) else (
        [] if on_load is None else [on_load])
    if route in PUBLIC_PAGES:
        return on_load
    if not handlers or handlers[0] is not AuthState.require_login:
        handlers.insert(0, AuthState.require_login)
    return handlers


class SessionGate(Middleware):
    """Drops every event of our own page states sent without a valid session.

    `require_login` sends a visitor without a session to /login, but the page's other
    on_load handlers (and any event a client sends by hand) are queued already: without
    this gate they would load the page's data into the state sent to that visitor. The
    login, setup and auth states stay open. A session seen valid is trusted for
    `TRUST_SECONDS` (events can come per keystroke); logging out ends it everywhere
    within that time.
    """

    TRUST_SECONDS = 5.0
    PACKAGE_MARK = "n8nclone___"  # how our states' module path shows in an event name

    def __init__(self) -> None:
        self._trusted: dict[str, float] = {}  # session token -> monotonic time it expires

    @staticmethod
    def open_states() -> tuple[str, ...]:
        return tuple(state.get_full_name() for state in (AuthState, LoginState, SetupState))

    async def preprocess(self, app, state, event):
        state_path = event.name.rpartition(".")[0]
        if self.PACKAGE_MARK not in state_path or state_path in self.open_states():
            return None
        token = session_token(state.router.headers.cookie)
        if token is not None and self._trusted.get(token, 0.0) > time.monotonic():
            return None
        if await asyncio.to_thread(_email_for, token) is None:
            from reflex.state import StateUpdate

            return StateUpdate()  # dropped: nothing runs, nothing is sent
        now = time.monotonic()
        self._trusted = {t: until for t, until in self._trusted.items() if until > now}
        self._trusted[token] = now + self.TRUST_SECONDS
        return None
