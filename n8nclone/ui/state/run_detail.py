"""State of the run page: one run's header, timeline and step cards, kept live; cancel,
retry from the failed step and rerun.

The run comes from `RunQueries.get_run` (as `GET /api/runs/{id}`); control goes through
`n8nclone.engine.control`, like the API and the CLI. While the run is active a background
task re-reads it every `POLL_SECONDS`, until it finishes or the page is left.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import reflex as rx

from n8nclone.errors import UserInputError
from n8nclone.store.runs import ACTIVE_STATUSES
from n8nclone.ui.components.json_view import json_text
from n8nclone.ui.components.timeline import format_duration, status_color, timeline_rows
from n8nclone.ui.state.auth import AuthState
from n8nclone.ui.state.runs import client_connected, format_cost

POLL_SECONDS = 1.5


def _services():
    from n8nclone.services import get_services

    return get_services()


def _error_text(error: Any) -> str:
    if not error:
        return ""
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
        if message:
            return f"{kind}: {message}" if kind else str(message)
    return json.dumps(error, default=str)


def step_card(step: dict[str, Any]) -> dict[str, Any]:
    """What a step's card shows: status, attempts with errors, input/output, AI usage."""
    input_text, input_note = json_text(step.get("input"))
    output_text, output_note = json_text(step.get("output"))
    usage = step.get("usage") or {}
    return {
        "key": step["key"],
        "type": step.get("type") or "",
        "status": step.get("status") or "",
        "color": status_color(step.get("status")),
        "attempt_count": step.get("attempts") or 0,
        "duration": format_duration(step.get("duration_ms")),
        "port": step.get("port") or "",
        "error": _error_text(step.get("error")),
        "attempts": [{
            "number": a.get("number"),
            "status": a.get("status") or "",
            "color": status_color(a.get("status")),
            "duration": format_duration(a.get("duration_ms")),
            "started_at": a.get("started_at") or "",
            "error": _error_text(a.get("error")),
        } for a in step.get("attempt_history") or []],
        "input_text": input_text, "input_note": input_note,
        "output_text": output_text, "output_note": output_note,
        "has_usage": bool(usage),
        "model": usage.get("model") or "",
        "tokens": (f"{usage.get('total_tokens') or 0:,} ({usage.get('prompt_tokens') or 0:,} in, "
                   f"{usage.get('completion_tokens') or 0:,} out)") if usage else "",
        "cost": format_cost(usage.get("cost_usd")) if usage else "",
        "latency": format_duration(usage.get("latency_ms")) if usage else "",
    }


def run_header(run: dict[str, Any]) -> dict[str, Any]:
    usage = run.get("usage") or {}
    return {
        "id": run["id"],
        "workflow": run.get("workflow") or f"#{run['workflow_id']}",
        "workflow_href": f"/workflows/{run['workflow_id']}",
        "status": run["status"],
        "color": status_color(run["status"]),
        "trigger": run.get("trigger_type") or "",
        "started_at": run.get("started_at") or "",
        "duration": format_duration(run.get("duration_ms")) if run.get("ended_at")
        else "running",
        "tokens": f"{usage.get('total_tokens') or 0:,}",
        "cost": format_cost(usage.get("cost_usd")),
        "error": _error_text(run.get("error")),
        "rerun_of": run.get("rerun_of") or "",
    }


def run_view(run_id: str) -> dict[str, Any] | None:
    """Everything the page shows of a run (None: no such run)."""
    run = _services().run_queries.get_run(run_id)
    if run is None:
        return None
    layout = timeline_rows(run, datetime.now(UTC))
    return {"header": run_header(run), "rows": layout["rows"], "span": layout["span"],
            "steps": [step_card(step) for step in run.get("steps") or []],
            "input": json.dumps(run.get("input"), indent=2, default=str)}


def _control():
    from n8nclone.engine import control

    return control


class RunDetailState(rx.State):
    """The run named by the route (`/runs/<id>`)."""

    current_run_id: str = ""
    loaded: bool = False
    not_found: bool = False
    header: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    span: str = ""
    steps: list[dict[str, Any]] = []
    rerun_input: str = ""
    busy: bool = False
    poll_generation: int = 0

    @rx.var
    def active(self) -> bool:
        return self.header.get("status") in ACTIVE_STATUSES

    @rx.var
    def can_retry(self) -> bool:
        return self.header.get("status") in ("failed", "cancelled")

    def _route_run_id(self) -> str:
        path = str(self.router.url.path or "")
        return unquote(path.rstrip("/").rsplit("/", 1)[-1])

    def _show(self, view: dict[str, Any] | None) -> None:
        self.loaded = True
        if view is None:
            self.not_found, self.header, self.rows, self.steps = True, {}, [], []
            return
        self.not_found = False
        self.header, self.rows, self.span = view["header"], view["rows"], view["span"]
        self.steps = view["steps"]

    @rx.event
    async def load(self):
        """On page load: read the run, then keep it live while it is active."""
        if not (await self.get_state(AuthState)).email:
            return None
        run_id = self._route_run_id()
        if run_id != self.current_run_id:
            self.loaded, self.header, self.rows, self.steps = False, {}, [], []
        self.current_run_id = run_id
        self.poll_generation += 1
        view = await asyncio.to_thread(run_view, run_id)
        self._show(view)
        self.rerun_input = view["input"] if view else ""
        return RunDetailState.poll

    @rx.event(background=True)
    async def poll(self):
        """Re-read the run while it is active and its page is open in a connected tab."""
        async with self:
            generation, run_id = self.poll_generation, self.current_run_id
            token = self.router.session.client_token
            active = self.active
        while active:
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                if (generation != self.poll_generation
                        or self._route_run_id() != run_id):
                    return
            if not client_connected(token):
                return
            view = await asyncio.to_thread(run_view, run_id)
            async with self:
                if generation != self.poll_generation:
                    return
                self._show(view)
                active = self.active

    @rx.event
    def set_rerun_input(self, value: str):
        self.rerun_input = value

    @rx.event
    async def cancel(self):
        if not (await self.get_state(AuthState)).email or self.busy:
            return
        self.busy = True
        yield
        services = _services()
        try:
            status = await asyncio.to_thread(_control().cancel_run, services.runs,
                                             services.dispatcher, self.current_run_id)
        finally:
            self.busy = False
        self._show(await asyncio.to_thread(run_view, self.current_run_id))
        if status is None:
            yield rx.toast.error("No such run")
        elif status == "cancelled":
            yield rx.toast.success("Run cancelled")
        else:
            yield rx.toast.info(f"The run is {status}: nothing to cancel")

    async def _start_again(self, kind: str, **kwargs: Any):
        """Retry or rerun; on success, go to the new run."""
        control = _control()
        name = f"{kind}_run"
        start = getattr(control, name, None)
        if start is None:
            yield rx.toast.error(f"{kind.capitalize()} is not available in this version "
                                 f"(n8nclone.engine.control.{name} is missing)")
            return
        self.busy = True
        yield
        services = _services()
        try:
            new_id = await asyncio.to_thread(start, services.runs, services.dispatcher,
                                             self.current_run_id, **kwargs)
        except UserInputError as err:
            yield rx.toast.error(str(err), duration=8000)
            return
        finally:
            self.busy = False
        if new_id is None:
            yield rx.toast.error("No such run")
            return
        yield rx.toast.success(f"Started run {new_id}")
        yield rx.redirect(f"/runs/{new_id}")

    @rx.event
    async def retry(self):
        if not (await self.get_state(AuthState)).email or self.busy:
            return
        async for update in self._start_again("retry"):
            yield update

    @rx.event
    async def rerun(self):
        if not (await self.get_state(AuthState)).email or self.busy:
            return
        text = self.rerun_input.strip()
        kwargs: dict[str, Any] = {}
        if text:
            try:
                kwargs["input"] = json.loads(text)
            except json.JSONDecodeError as err:
                yield rx.toast.error(f"The input is not valid JSON: {err}", duration=8000)
                return
        async for update in self._start_again("rerun", **kwargs):
            yield update
