"""Who may use the management API: a logged-in browser (the session cookie) or a script
(`Authorization: Bearer <API key>`). `require_access` is applied to the routers in
`n8nclone.api.app`, so a new route is protected without a line of its own; the open routes
are `/api/health`, `/api/auth/*`, `/docs` and `/openapi.json`. Webhooks and `/e/<key>` have
their own authentication; `POST /api/events` also takes an event key (`require_sender`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import HTTPException, Request

from n8nclone.api.deps import ServicesDep
from n8nclone.auth import Accounts
from n8nclone.services import Services
from n8nclone.store.event_keys import EventKeyStore

SESSION_COOKIE = "n8nclone_session"
LOGIN_HINT = ("log in (POST /api/auth/login) or send an API key as "
              "'Authorization: Bearer <key>' (`n8nclone api-key create`)")


@dataclass(frozen=True)
class Caller:
    """Who made a request: `kind` is session, api_key or event_key; `name` the user's
    email or the key's name."""

    kind: str
    name: str


def accounts(services: Services) -> Accounts:
    return Accounts(services.db, services.settings.session_days)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _identify(services: Services, session_token: str | None, bearer: str | None,
              event_keys: bool) -> Caller | None:
    """One trip to a thread: the session, else the API key, else (if allowed) the event
    key."""
    book = accounts(services)
    user = book.session_user(session_token)
    if user is not None:
        return Caller("session", user.email)
    if bearer:
        api_key = book.verify_api_key(bearer)
        if api_key is not None:
            return Caller("api_key", api_key.name)
        if event_keys:
            event_key = EventKeyStore(services.db).verify(bearer)
            if event_key is not None:
                return Caller("event_key", event_key.name)
    return None


def _refusal(request: Request, bearer: str | None, what: str) -> HTTPException:
    if bearer:
        detail = f"the {what} is not valid (unknown or revoked)"
    elif request.cookies.get(SESSION_COOKIE):
        detail = "the session has expired or was ended: log in again"
    else:
        detail = f"authentication required: {LOGIN_HINT}"
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def _caller(request: Request, services: Services, *, event_keys: bool) -> Caller:
    bearer = bearer_token(request)
    caller = await asyncio.to_thread(_identify, services, request.cookies.get(SESSION_COOKIE),
                                     bearer, event_keys)
    if caller is None:
        raise _refusal(request, bearer, "API key or event key" if event_keys else "API key")
    request.state.caller = caller
    return caller


async def require_access(request: Request, services: ServicesDep) -> Caller:
    """A session or an API key, else 401."""
    return await _caller(request, services, event_keys=False)


async def require_sender(request: Request, services: ServicesDep) -> Caller:
    """`POST /api/events`: a session, an API key or an event key, else 401."""
    return await _caller(request, services, event_keys=True)
