"""The event API: `POST /api/events`, Inngest's `POST /e/<event key>`, and the event history.

Both POST routes take one event `{name, data, id?, ts?}` or a list of them and hand them to
`ingest_events`, which stores them, starts and resumes runs. `/e/<key>` answers the way
Inngest's event API does (`{"ids": [...], "status": 200}`), so Inngest clients can send here.

Authentication: `/e/<key>` always needs a valid event key (401 otherwise). `POST
/api/events` needs a session, an API key or an event key (`Authorization: Bearer <key>`);
the history routes (`history_router`) need a session or an API key like the rest of `/api`
(both applied in `n8nclone.api.app`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from n8nclone.api.access import Caller, require_sender
from n8nclone.api.deps import ServicesDep, not_found
from n8nclone.errors import UserInputError
from n8nclone.services import Services
from n8nclone.store.event_keys import EventKeyStore
from n8nclone.store.event_queries import EventQueries

log = logging.getLogger("n8nclone.api.events")

router = APIRouter(tags=["events"])  # the senders: each route authenticates its own way
history_router = APIRouter(tags=["events"])  # reading events: management API access

_EVENT_SCHEMA = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "data": {"description": "any JSON (default {})"},
        "id": {"type": "string", "description": "the sender's id: a repeat within 24 h is "
               "not processed again"},
        "ts": {"oneOf": [{"type": "string", "format": "date-time"},
                         {"type": "number", "description": "epoch milliseconds"}]},
    },
}
EVENT_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"oneOf": [_EVENT_SCHEMA, {"type": "array", "maxItems": 1000,
                                         "items": _EVENT_SCHEMA}]},
    "example": {"name": "order/created", "data": {"id": 7, "total": 250}, "id": "order-7"},
}}}}


# -- the body ----------------------------------------------------------------------------

MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 1000
NAME_MAX = 200
ID_MAX = 256
FIELDS = {"name", "data", "id", "ts"}
INNGEST_FIELDS = {"user", "v", "meta"}  # sent by Inngest clients: accepted, not stored
MAX_PROBLEMS = 10


class EventBodyError(Exception):
    """A body we cannot take: `status` (400, 413, 422) and a readable message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


async def read_body(request: Request) -> bytes:
    """The raw body, refused (413) past MAX_BODY_BYTES without reading all of it."""
    too_large = EventBodyError(413, f"the body is larger than {MAX_BODY_BYTES} bytes (1 MiB)")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text} is too large")
    return value


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise EventBodyError(400, 'the body is empty: send an event {"name": ..., "data": ...}'
                                  " or a list of them")
    try:
        payload = json.loads(raw, parse_constant=_no_constants, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise EventBodyError(400, f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, "
                                  f"column {exc.colno})") from None
    except UnicodeDecodeError:
        raise EventBodyError(400, "the body is not valid JSON: it is not UTF-8 text") from None
    except ValueError as exc:  # NaN/Infinity, overlong numbers
        raise EventBodyError(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise EventBodyError(400, "the body is not valid JSON we accept: nested too deeply"
                             ) from None
    try:  # "\ud800" parses, but no database or JSON answer can hold it
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise EventBodyError(422, "the body holds text that is not valid Unicode "
                                  "(an unpaired surrogate such as \\ud800)") from None
    except RecursionError:
        raise EventBodyError(400, "the body is not valid JSON we accept: nested too deeply"
                             ) from None
    return payload


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    if len(value) > limit:
        raise ValueError(f"{field} is longer than {limit} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{field} must not hold control characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{field} is not valid Unicode text") from None
    return value


def parse_ts(value: Any) -> datetime | None:
    """An ISO 8601 time (UTC unless it says otherwise) or epoch milliseconds; 0 and null
    mean "now" (Inngest clients send 0)."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                         and value == 0):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("ts is out of range (epoch milliseconds expected)") from None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"ts {value[:40]!r} is not an ISO 8601 time") from None
        try:
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:  # year 1 or 9999 shifted past the calendar by its offset
            raise ValueError("ts is out of range") from None
    raise ValueError("ts must be an ISO 8601 time or epoch milliseconds")


def parse_event(item: Any):
    """One event of the body as an EventIn; ValueError says what is wrong with it."""
    from n8nclone.triggers.events import EventIn

    if not isinstance(item, dict):
        raise ValueError('an event must be an object {"name": ..., "data": ...}')
    unknown = sorted(set(item) - FIELDS - INNGEST_FIELDS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (an event has name, data, id, ts)")
    if "name" not in item:
        raise ValueError("name is required")
    name = _text(item["name"], "name", NAME_MAX)
    if not name.strip():
        raise ValueError("name must not be empty")
    event_id = item.get("id")
    event_id = None if event_id in (None, "") else _text(event_id, "id", ID_MAX)
    data = item.get("data")
    return EventIn(name=name, data={} if data is None else data, id=event_id,
                   ts=parse_ts(item.get("ts")))


def parse_events(raw: bytes) -> list:
    """The body's events, or EventBodyError naming every problem (up to MAX_PROBLEMS)."""
    payload = parse_json(raw)
    single = isinstance(payload, dict)
    if not single and not isinstance(payload, list):
        raise EventBodyError(422, 'the body must be an event {"name": ..., "data": ...} or a '
                                  "list of events")
    items = [payload] if single else payload
    if len(items) > MAX_EVENTS:
        raise EventBodyError(422, f"at most {MAX_EVENTS} events in one request "
                                  f"(got {len(items)})")
    events, problems = [], []
    for index, item in enumerate(items):
        try:
            events.append(parse_event(item))
        except ValueError as exc:
            problems.append(str(exc) if single else f"event {index}: {exc}")
    if problems:
        more = len(problems) - MAX_PROBLEMS
        text = "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise EventBodyError(422, text)
    return events


# -- who may send ------------------------------------------------------------------------


class KeyRejected(Exception):
    """No valid event key where one is needed (401)."""


async def _check_key(services: Services, key: str | None) -> None:
    if not key:
        raise KeyRejected("an event key is required")
    if await asyncio.to_thread(EventKeyStore(services.db).verify, key) is None:
        raise KeyRejected("the event key is not valid (unknown or revoked)")


# -- sending -----------------------------------------------------------------------------


async def _ingest(services: Services, request: Request) -> list[str]:
    from n8nclone.triggers.events import ingest_events  # the engine side of events

    events = parse_events(await read_body(request))
    return await asyncio.to_thread(ingest_events, services, events)


def _error(status: int, message: str, *, inngest: bool = False) -> JSONResponse:
    body: dict[str, Any] = {"detail": message}
    if inngest:  # Inngest clients read `error` and `status`
        body |= {"error": message, "status": status}
    return JSONResponse(status_code=status, content=body)


@router.post("/api/events", status_code=201, openapi_extra=EVENT_BODY_DOC,
             responses={201: {"description": "stored; `ids` in the order sent"}})
async def send_events(request: Request, services: ServicesDep,
                      _sender: Annotated[Caller, Depends(require_sender)]) -> Any:
    """Send one event or a list (at most 1000, 1 MiB). An `id` already seen in the last
    24 h is not processed again: the stored event's id is returned for it."""
    try:
        return {"ids": await _ingest(services, request)}
    except EventBodyError as exc:
        return _error(exc.status, str(exc))


@router.post("/e/{key}", openapi_extra=EVENT_BODY_DOC,
             responses={200: {"description": "`{\"ids\": [...], \"status\": 200}`"},
                        401: {"description": "no valid event key"}})
async def send_events_with_key(key: str, request: Request, services: ServicesDep) -> Any:
    """Inngest's event API: the same body as `POST /api/events`, authenticated by the event
    key in the path (`n8nclone event-key create`)."""
    try:
        await _check_key(services, key)
        return {"ids": await _ingest(services, request), "status": 200}
    except KeyRejected as exc:
        return _error(401, str(exc), inngest=True)
    except EventBodyError as exc:
        return _error(exc.status, str(exc), inngest=True)
    except UserInputError as exc:
        return _error(422, str(exc), inngest=True)
    except Exception:  # the app-wide handler would log the path, and the path is a secret
        log.exception("unexpected error on POST /e/<event key>")
        return _error(500, "internal error (logged)", inngest=True)


@router.post("/e", include_in_schema=False)
@router.post("/e/", include_in_schema=False)
async def send_events_without_key() -> JSONResponse:
    return _error(401, "an event key is required: POST /e/<event key>", inngest=True)


# -- history -----------------------------------------------------------------------------


@history_router.get("/api/events")
async def list_events(services: ServicesDep, name: str | None = None,
                      limit: int = Query(50, ge=1, le=500),
                      cursor: str | None = None) -> dict:
    """Events, newest first (without their data), paginated by keyset: pass `next_cursor`
    back as `cursor`."""
    return await asyncio.to_thread(EventQueries(services.db).list_events, name=name, limit=limit,
                                   cursor=cursor)


@history_router.get("/api/events/{event_id}")
async def read_event(event_id: str, services: ServicesDep) -> dict:
    """One event with its data."""
    event = await asyncio.to_thread(EventQueries(services.db).get_event, event_id)
    if event is None:
        raise not_found(f"event {event_id!r}")
    return event


# -- keys stay out of the logs -----------------------------------------------------------

_KEY_IN_PATH = re.compile(r"(/e/)[^/?#\s\"]+")


class MaskEventKeys(logging.Filter):
    """Access logs print request paths; `/e/<key>` becomes `/e/***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_KEY_IN_PATH.sub(r"\1***", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str) and "/e/" in record.msg:
            record.msg = _KEY_IN_PATH.sub(r"\1***", record.msg)
        return True


def mask_event_keys_in_access_logs() -> None:
    """Install the filter on the servers' access loggers (once)."""
    for name in ("uvicorn.access", "granian.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskEventKeys) for f in logger.filters):
            logger.addFilter(MaskEventKeys())


mask_event_keys_in_access_logs()
