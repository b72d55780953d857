"""`/api/auth/*`: log in and out, who am I, and the first-visit setup. Open routes: they are
how a caller gets a session.

The JSON routes serve scripts; the `-form` routes serve the login and setup pages' plain
HTML forms (urlencoded bodies) and answer with 303 redirects, never with an error page.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from n8nclone.api.access import SESSION_COOKIE, accounts
from n8nclone.api.deps import ServicesDep
from n8nclone.auth import WRONG_CREDENTIALS, Accounts
from n8nclone.errors import UserInputError

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Credentials(BaseModel):
    email: str
    password: str


def _set_session_cookie(request: Request, response: Response, book: Accounts,
                        token: str) -> None:
    https = (request.url.scheme == "https"
             or request.headers.get("x-forwarded-proto", "").lower() == "https")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=https,
                        path="/", max_age=int(book.session_lifetime.total_seconds()))


@router.post("/login")
async def login(body: Credentials, request: Request, response: Response,
                services: ServicesDep) -> dict:
    """Check the email and password; on success set the session cookie (HttpOnly,
    SameSite=Lax) and answer `{"email"}`; otherwise 401."""
    book = accounts(services)
    user = await asyncio.to_thread(book.authenticate, body.email, body.password)
    if user is None:
        raise HTTPException(401, WRONG_CREDENTIALS)
    token = await asyncio.to_thread(book.start_session, user)
    _set_session_cookie(request, response, book, token)
    return user.to_public()


@router.post("/logout", status_code=204)
async def logout(request: Request, services: ServicesDep) -> Response:
    """End this browser's session (if any) and clear its cookie."""
    await asyncio.to_thread(accounts(services).end_session,
                            request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/me")
async def me(request: Request, services: ServicesDep) -> dict:
    """The logged-in user `{"email"}`, or 401."""
    user = await asyncio.to_thread(accounts(services).session_user,
                                   request.cookies.get(SESSION_COOKIE))
    if user is None:
        raise HTTPException(401, "not logged in")
    return user.to_public()


@router.get("/setup")
async def needs_setup(services: ServicesDep) -> dict:
    """`{"needs_setup": true}` while no user exists (the first visit)."""
    return {"needs_setup": await asyncio.to_thread(accounts(services).needs_setup)}


@router.post("/setup", status_code=201)
async def setup(body: Credentials, request: Request, response: Response,
                services: ServicesDep) -> dict:
    """Create the first user and log them in; 409 once any user exists."""
    book = accounts(services)
    user = await asyncio.to_thread(book.create_first_user, body.email, body.password)
    if user is None:
        raise HTTPException(409, "setup is done: a user exists already; log in instead")
    token = await asyncio.to_thread(book.start_session, user)
    _set_session_cookie(request, response, book, token)
    return user.to_public()


# -- the pages' HTML forms ------------------------------------------------------------------

DEFAULT_NEXT = "/workflows"
FORM_MAX_BYTES = 16 * 1024  # an email and two passwords; more is not a login form
# /setup?error=<code>: what the setup page says for each code.
SETUP_ERRORS = {
    "mismatch": "The two passwords differ.",
    "password": "A password must have at least 8 characters (and at most 1024).",
    "email": "That is not an email address (name@example.com).",
    "invalid": "Those details were not accepted.",
}


def local_path(target: str | None, default: str = DEFAULT_NEXT) -> str:
    """`target` when it is a path on this site, else `default`: a login never sends the
    browser elsewhere (`//evil.com`, `https://evil.com`, `/\\evil.com` are refused)."""
    if (not isinstance(target, str) or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


async def _form_fields(request: Request) -> dict[str, str]:
    """The first value of each field of an urlencoded body; {} for anything else or a body
    over FORM_MAX_BYTES."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX_BYTES:
            return {}
    try:
        fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                          max_num_fields=20)
    except ValueError:
        return {}
    return {name: values[0] for name, values in fields.items() if values}


def _next_from_referer(request: Request) -> str | None:
    """The `next` of the login page that sent the form, in case its hidden field was still
    empty (the page fills it once loaded)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.headers.get("host"):
        return None
    values = parse_qs(referer.query).get("next")
    return values[0] if values else None


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.post("/login-form", response_class=RedirectResponse, status_code=303)
async def login_form(request: Request, services: ServicesDep) -> Response:
    """The login page's form (`email`, `password`, `next`): on success set the session
    cookie and go to `next` (a local path, else /workflows); otherwise back to
    `/login?error=1` (the same for an unknown email and a wrong password)."""
    fields = await _form_fields(request)
    target = local_path(fields.get("next") or _next_from_referer(request))
    book = accounts(services)
    user = await asyncio.to_thread(book.authenticate, fields.get("email", ""),
                                   fields.get("password", ""))
    if user is None:
        return _see_other(f"/login?error=1&next={quote(target, safe='')}")
    token = await asyncio.to_thread(book.start_session, user)
    response = _see_other(target)
    _set_session_cookie(request, response, book, token)
    return response


@router.post("/logout-form", response_class=RedirectResponse, status_code=303)
async def logout_form(request: Request, services: ServicesDep) -> Response:
    """The nav bar's Log out button: end the session, clear the cookie, go to /login."""
    await asyncio.to_thread(accounts(services).end_session,
                            request.cookies.get(SESSION_COOKIE))
    response = _see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/setup-form", response_class=RedirectResponse, status_code=303)
async def setup_form(request: Request, services: ServicesDep) -> Response:
    """The setup page's form (`email`, `password`, `password2`): while no user exists,
    create the first one, log in and go to /workflows; once one exists, go to /login;
    bad input goes back to `/setup?error=<code>` (see SETUP_ERRORS)."""
    fields = await _form_fields(request)
    password = fields.get("password", "")
    if password != fields.get("password2", ""):
        return _see_other("/setup?error=mismatch")
    book = accounts(services)
    try:
        user = await asyncio.to_thread(book.create_first_user, fields.get("email", ""),
                                       password)
    except UserInputError as problem:
        code = ("email" if "email" in str(problem) else
                "password" if "password" in str(problem) else "invalid")
        if not await asyncio.to_thread(book.needs_setup):
            return _see_other("/login")
        return _see_other(f"/setup?error={code}")
    if user is None:
        return _see_other("/login")
    token = await asyncio.to_thread(book.start_session, user)
    response = _see_other(DEFAULT_NEXT)
    _set_session_cookie(request, response, book, token)
    return response
