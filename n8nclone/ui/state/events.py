"""State of the events page: recent events (live), one expanded with its data and runs,
and a form that sends a test event through the same ingestion as the event API.

The list refreshes every POLL_SECONDS from a background task started by the page's load.
It ends when the user leaves the page (Reflex also cancels a page's on-load chain on
navigation) or closes the tab, and when a newer task of the same tab replaces it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import reflex as rx

from n8nclone.ui.state.auth import AuthState

EVENTS_ROUTE = "/events"
PAGE_SIZE = 25
MAX_SHOWN = 500  # the refresh reloads at most this many of the newest events
POLL_SECONDS = 2.0
DATA_SHOWN_CHARS = 20_000  # an event's data can be large: the page shows its start
OUTCOMES = ("started", "resumed", "cancelled")
log = logging.getLogger("n8nclone.ui.events")


def _services():
    from n8nclone.services import get_services

    return get_services()


def _queries():
    from n8nclone.store.event_queries import EventQueries

    return EventQueries(_services().db)


def _short_time(iso: str | None) -> str:
    return iso[:23].replace("T", " ") if iso else ""


def event_row(summary: dict[str, Any]) -> dict[str, Any]:
    return {"id": summary["id"], "name": summary["name"],
            "external_id": summary.get("external_id") or "",
            "received": _short_time(summary.get("received_at"))}


def run_links(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs an event started, resumed and cancelled, as one list for the page."""
    links = []
    for outcome in OUTCOMES:
        for run in event.get("runs", {}).get(outcome, []):
            links.append({"outcome": outcome, "id": run["id"], "href": f"/runs/{run['id']}",
                          "workflow": run.get("workflow") or "", "status": run["status"],
                          "started": _short_time(run.get("started_at"))})
    return links


def data_text(data: Any) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if len(text) > DATA_SHOWN_CHARS:
        return text[:DATA_SHOWN_CHARS] + f"\n... ({len(text) - DATA_SHOWN_CHARS} more characters)"
    return text


def _list(limit: int, cursor: str | None = None) -> tuple[list[dict[str, Any]], str]:
    page = _queries().list_events(limit=limit, cursor=cursor)
    return [event_row(e) for e in page["items"]], page["next_cursor"] or ""


def _detail(event_id: str) -> tuple[str, list[dict[str, Any]]] | None:
    event = _queries().get_event(event_id)
    if event is None:
        return None
    return data_text(event.get("data")), run_links(event)


def _send(name: str, data: Any) -> str:
    from n8nclone.api.events import parse_event
    from n8nclone.triggers.events import ingest_events

    event = parse_event({"name": name, "data": data})  # the API's checks (ValueError)
    return ingest_events(_services(), [event])[0]


def _client_connected(token: str) -> bool:
    """Whether the browser tab behind `token` still has its websocket open."""
    from n8nclone.ui.app import app  # imported already: it is the app being served

    namespace = app.event_namespace
    return namespace is None or token in namespace.token_to_sid


class EventsState(rx.State):
    """Recent events, the expanded one and the test-event form."""

    events: list[dict[str, Any]] = []
    next_cursor: str = ""
    loaded: bool = False
    loading_more: bool = False

    expanded: str = ""
    detail_data: str = ""
    detail_runs: list[dict[str, Any]] = []

    send_name: str = ""
    send_data: str = "{}"
    sending: bool = False
    sent_id: str = ""
    sent_runs: list[dict[str, Any]] = []

    poll_id: str = ""

    async def _allowed(self) -> bool:
        """Events arrive over the websocket: only for a client whose session was checked."""
        auth = await self.get_state(AuthState)
        return bool(auth.email)

    @rx.event
    async def load(self):
        if not await self._allowed():
            return
        self.events, self.next_cursor = await asyncio.to_thread(_list, PAGE_SIZE)
        self.loaded = True
        if self.expanded:
            await self._load_detail()

    @rx.event
    async def more(self):
        if not self.next_cursor or not await self._allowed():
            return
        self.loading_more = True
        yield
        try:
            older, self.next_cursor = await asyncio.to_thread(_list, PAGE_SIZE, self.next_cursor)
        finally:
            self.loading_more = False
        seen = {e["id"] for e in self.events}
        self.events = [*self.events, *[e for e in older if e["id"] not in seen]]

    @rx.event
    async def toggle(self, event_id: str):
        """Expand an event (its data and runs), or fold it back."""
        if self.expanded == event_id:
            self.expanded = ""
            return
        if not await self._allowed():
            return
        self.expanded, self.detail_data, self.detail_runs = event_id, "", []
        await self._load_detail()

    async def _load_detail(self) -> None:
        found = await asyncio.to_thread(_detail, self.expanded)
        if found is None:
            self.detail_data, self.detail_runs = "(the event is gone)", []
        else:
            self.detail_data, self.detail_runs = found

    # -- live refresh ----------------------------------------------------------------------

    @rx.event(background=True)
    async def poll(self):
        """Reload the newest events (and the expanded one) while the page is open."""
        poll_id = uuid.uuid4().hex
        async with self:
            self.poll_id = poll_id  # an older task of this tab sees it and ends
            token = self.router.session.client_token
        while True:
            await asyncio.sleep(POLL_SECONDS)
            if not _client_connected(token):
                log.debug("events refresh stopped: the tab is closed")
                return
            async with self:
                if self.poll_id != poll_id:
                    return
                left = self.router.url.path.rstrip("/") != EVENTS_ROUTE
                if left or not (await self.get_state(AuthState)).email:
                    log.debug("events refresh stopped: the user left the page")
                    return
                shown = len(self.events)
                count = min(max(shown, PAGE_SIZE), MAX_SHOWN)
                expanded, sent_id = self.expanded, self.sent_id
            events, cursor = await asyncio.to_thread(_list, count)
            detail = await asyncio.to_thread(_detail, expanded) if expanded else None
            sent = await asyncio.to_thread(_detail, sent_id) if sent_id else None
            async with self:
                # "More" may have grown the list meanwhile: then this round is stale.
                if len(self.events) == shown and events != self.events:
                    self.events, self.next_cursor = events, cursor
                if detail is not None and expanded == self.expanded:
                    if detail != (self.detail_data, self.detail_runs):
                        self.detail_data, self.detail_runs = detail
                if sent is not None and sent_id == self.sent_id and sent[1] != self.sent_runs:
                    self.sent_runs = sent[1]

    # -- sending a test event --------------------------------------------------------------

    @rx.event
    def set_send_name(self, value: str):
        self.send_name = value

    @rx.event
    def set_send_data(self, value: str):
        self.send_data = value

    @rx.event
    async def send(self):
        """Send the form's event; show its id and the runs it started."""
        if not await self._allowed():
            return
        name = self.send_name.strip()
        if not name:
            yield rx.toast.error("Give the event a name")
            return
        try:
            data = json.loads(self.send_data) if self.send_data.strip() else {}
        except json.JSONDecodeError as error:
            yield rx.toast.error(f"Not sent: the data is not valid JSON: {error.msg} "
                                 f"(line {error.lineno}, column {error.colno})", duration=10000)
            return
        self.sending = True
        yield
        try:
            event_id = await asyncio.to_thread(_send, name, data)
        except ValueError as error:  # the API's checks, and UserInputError
            yield rx.toast.error(f"Not sent: {error}", duration=10000)
            return
        finally:
            self.sending = False
        found = await asyncio.to_thread(_detail, event_id)
        self.sent_id, self.sent_runs = event_id, found[1] if found else []
        self.events, self.next_cursor = await asyncio.to_thread(
            _list, min(max(len(self.events), PAGE_SIZE), MAX_SHOWN))
        self.expanded = event_id
        await self._load_detail()
        started = sum(1 for r in self.sent_runs if r["outcome"] == "started")
        yield rx.toast.success(f"Sent {name}: {started} run{'s' if started != 1 else ''} "
                               "started")
