"""State of the run history page: a filtered, keyset-paginated list of runs, kept live.

The rows come from `RunQueries.list_runs` (the same query as `GET /api/runs`), read in a
thread. While the page is open a background task refreshes them: every `POLL_SECONDS`
while a listed run is active, every `IDLE_POLL_SECONDS` otherwise (so new runs show up).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from n8nclone.store.runs import ACTIVE_STATUSES
from n8nclone.ui.components.timeline import format_duration, status_color
from n8nclone.ui.state.auth import AuthState

PAGE_SIZE = 25
POLL_SECONDS = 2.0
IDLE_POLL_SECONDS = 10.0
RUN_STATUSES = ("queued", "running", "retrying", "sleeping", "waiting", "succeeded", "failed",
                "cancelled")
TIME_PRESETS = {"hour": timedelta(hours=1), "day": timedelta(days=1),
                "week": timedelta(days=7)}
PRESET_LABELS = (("", "Any time"), ("hour", "Last hour"), ("day", "Last 24 hours"),
                 ("week", "Last 7 days"), ("custom", "Between..."))


def _services():
    from n8nclone.services import get_services

    return get_services()


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "-"
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"


def run_row(item: dict[str, Any]) -> dict[str, Any]:
    """What the list shows of one run (`list_runs` item)."""
    return {
        "id": item["id"],
        "href": f"/runs/{item['id']}",
        "workflow": item.get("workflow") or f"#{item['workflow_id']}",
        "workflow_href": f"/workflows/{item['workflow_id']}",
        "status": item["status"],
        "color": status_color(item["status"]),
        "trigger": item.get("trigger_type") or "",
        "started_at": item.get("started_at") or "",
        "duration": format_duration(item.get("duration_ms")) if item.get("ended_at")
        else ("running" if item["status"] in ACTIVE_STATUSES else "-"),
        "steps": item.get("step_count") or 0,
        "tokens": f"{item.get('total_tokens') or 0:,}",
        "cost": format_cost(item.get("cost_usd")),
    }


def parse_local_time(text: str, tz_offset_minutes: int) -> datetime:
    """A `datetime-local` input value (the browser's local time) as an aware UTC time.
    `tz_offset_minutes` is the browser's `Date.getTimezoneOffset()` (UTC minus local)."""
    naive = datetime.fromisoformat(text)
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return (naive + timedelta(minutes=tz_offset_minutes)).replace(tzinfo=UTC)


def time_bounds(preset: str, since: str, until: str, tz_offset_minutes: int,
                now: datetime) -> tuple[datetime | None, datetime | None]:
    """The (started_after, started_before) bounds of a time filter; ValueError when the
    custom times are not times or in the wrong order."""
    if preset in TIME_PRESETS:
        return now - TIME_PRESETS[preset], None
    if preset != "custom":
        return None, None
    after = parse_local_time(since, tz_offset_minutes) if since else None
    before = parse_local_time(until, tz_offset_minutes) if until else None
    if after is not None and before is not None and after > before:
        raise ValueError("'from' is later than 'to'")
    return after, before


def _list_runs(workflow_id: int | None, status: str | None, after: datetime | None,
               before: datetime | None, cursor: str | None) -> dict[str, Any]:
    page = _services().run_queries.list_runs(workflow_id=workflow_id, status=status,
                                             started_after=after, started_before=before,
                                             limit=PAGE_SIZE, cursor=cursor)
    return {"rows": [run_row(item) for item in page["items"]],
            "next_cursor": page["next_cursor"] or ""}


def _workflow_options() -> list[dict[str, str]]:
    return [{"id": str(r.id), "name": r.name} for r in _services().workflows.list()]


def client_connected(token: str) -> bool:
    """Whether the browser tab of `token` still has its websocket (a closed tab does not
    navigate away, so a poller also stops on this)."""
    try:
        from reflex.utils.prerequisites import get_and_validate_app

        namespace = get_and_validate_app().app.event_namespace
    except Exception:  # no app (unit tests): assume the tab is there
        return True
    return namespace is None or token in namespace.token_to_sid


class RunListState(rx.State):
    """The runs on the current page, their filters and the pagination cursor."""

    rows: list[dict[str, Any]] = []
    loaded: bool = False
    loading: bool = False
    error: str = ""
    workflows: list[dict[str, str]] = []
    workflow_filter: str = ""
    status_filter: str = ""
    range_preset: str = ""
    since: str = ""
    until: str = ""
    tz_offset: int = 0  # the browser's getTimezoneOffset(), for the custom range
    cursor: str = ""
    next_cursor: str = ""
    page_number: int = 1
    poll_generation: int = 0
    refreshed_at: str = ""

    @rx.var
    def any_active(self) -> bool:
        return any(row["status"] in ACTIVE_STATUSES for row in self.rows)

    async def _logged_in(self) -> bool:
        return bool((await self.get_state(AuthState)).email)

    def _query_args(self) -> tuple:
        after, before = time_bounds(self.range_preset, self.since, self.until, self.tz_offset,
                                    datetime.now(UTC))
        return (int(self.workflow_filter) if self.workflow_filter else None,
                self.status_filter or None, after, before, self.cursor or None)

    async def _fetch(self) -> None:
        """Read the current page (call inside the state lock or a plain handler)."""
        try:
            args = self._query_args()
        except ValueError as err:
            self.error, self.loading = f"Time range: {err}", False
            return
        self.loading = True
        try:
            page = await asyncio.to_thread(_list_runs, *args)
        except ValueError as err:  # a cursor from an older filter
            self.error, self.loading = str(err), False
            return
        self._apply(page)

    def _apply(self, page: dict[str, Any]) -> None:
        self.rows, self.next_cursor = page["rows"], page["next_cursor"]
        self.error, self.loading, self.loaded = "", False, True
        self.refreshed_at = datetime.now(UTC).strftime("%H:%M:%S UTC")

    @rx.event
    async def load(self):
        """On page load: the workflows for the filter, the first page, then the poller."""
        if not await self._logged_in():
            return None
        self.cursor, self.page_number = "", 1
        self.poll_generation += 1
        self.workflows = await asyncio.to_thread(_workflow_options)
        await self._fetch()
        return [rx.call_script("new Date().getTimezoneOffset()",
                               callback=RunListState.set_tz_offset),
                RunListState.poll]

    @rx.event
    def set_tz_offset(self, offset: Any):
        try:
            self.tz_offset = int(offset)
        except (TypeError, ValueError):
            self.tz_offset = 0

    async def _refilter(self):
        self.cursor, self.page_number = "", 1
        await self._fetch()

    @rx.event
    async def set_workflow_filter(self, value: str):
        self.workflow_filter = value
        await self._refilter()

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value
        await self._refilter()

    @rx.event
    async def set_range_preset(self, value: str):
        self.range_preset = value
        await self._refilter()

    @rx.event
    async def set_since(self, value: str):
        self.since = value
        await self._refilter()

    @rx.event
    async def set_until(self, value: str):
        self.until = value
        await self._refilter()

    @rx.event
    async def clear_filters(self):
        self.workflow_filter = self.status_filter = self.range_preset = ""
        self.since = self.until = ""
        await self._refilter()

    @rx.event
    async def next_page(self):
        if not self.next_cursor:
            return
        self.cursor = self.next_cursor
        self.page_number += 1
        await self._fetch()

    @rx.event
    async def first_page(self):
        await self._refilter()

    def _filter_key(self) -> tuple:
        return (self.workflow_filter, self.status_filter, self.range_preset, self.since,
                self.until, self.tz_offset, self.cursor)

    @rx.event(background=True)
    async def poll(self):
        """Refresh the rows while this page is open in a connected tab."""
        async with self:
            generation = self.poll_generation
            token = self.router.session.client_token
        idle = 0.0
        while True:
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS
            async with self:
                path = str(self.router.url.path or "").rstrip("/")
                if generation != self.poll_generation or path != "/runs":
                    return
                due = self.any_active or idle >= IDLE_POLL_SECONDS
                key = self._filter_key()
                try:
                    args = self._query_args()
                except ValueError:
                    due = False
            if not client_connected(token):
                return
            if not due:
                continue
            idle = 0.0
            try:
                page = await asyncio.to_thread(_list_runs, *args)
            except ValueError:
                continue
            async with self:
                if generation != self.poll_generation:
                    return
                if key == self._filter_key():  # else the user changed filters meanwhile
                    self._apply(page)
