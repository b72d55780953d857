"""`/api/auth/*`: log in and out, who am I, and the first-visit setup. Open routes: they are
how a caller gets a session."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from n8nclone.api.access import SESSION_COOKIE, accounts
from n8nclone.api.deps import ServicesDep
from n8nclone.auth import WRONG_CREDENTIALS, Accounts

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
