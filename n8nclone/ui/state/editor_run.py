"""Running the editor's draft: the run input, starting a run and painting it as it goes.

A state mixin of `EditorState` (it needs the draft: `workflow_id`, `dirty`, `spec_nodes`,
`_save` and `_route_workflow_id`). While a run started here is active a background task
re-reads it every `POLL_SECONDS`, until it finishes, another run starts or the page is left.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import reflex as rx

from n8nclone.errors import UserInputError
from n8nclone.ui.editor.run_paint import TERMINAL_RUN_STATUSES, step_paint

POLL_SECONDS = 0.5  # how often a run started here is re-read while it is active
WATCH_LIMIT_SECONDS = 3600.0  # a run still waiting after this is left to the run page


def _services():
    from n8nclone.services import get_services

    return get_services()


def start_draft_run(services: Any, workflow_id: int, data: Any) -> str | None:
    """Start a run of the workflow's saved version with `data` as input: its id, or None
    when the workflow no longer exists. Blocking: call it in a thread."""
    from n8nclone.engine.start import start_run

    record = services.workflows.get(workflow_id)
    if record is None:
        return None
    return start_run(services.runs, services.dispatcher, workflow_id=record.id,
                     version_id=record.version_id, plan_settings=record.plan.get("settings", {}),
                     input=data, trigger_type="editor")


class DraftRunState(rx.State, mixin=True):
    """The run input dialog and the last run started from the editor."""

    run_input: str = ""
    run_input_open: bool = False
    run_input_error: str = ""
    run_id: str = ""
    run_status: str = ""
    starting_run: bool = False
    step_status: dict[str, str] = {}
    step_details: dict[str, dict[str, Any]] = {}

    @rx.var
    def run_active(self) -> bool:
        return bool(self.run_id) and self.run_status not in TERMINAL_RUN_STATUSES

    def _forget_run(self) -> None:
        self.run_id, self.run_status, self.step_status, self.step_details = "", "", {}, {}

    @rx.event
    def open_run_input(self, open_: bool = True):
        self.run_input_open, self.run_input_error = bool(open_), ""

    @rx.event
    def set_run_input(self, form: dict[str, Any]):
        text = str(form.get("run_input") or "").strip() or "null"
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            self.run_input_error = f"not valid JSON: {error.msg} (line {error.lineno})"
            return
        self.run_input, self.run_input_open, self.run_input_error = text, False, ""

    @rx.event
    async def run(self):
        """Run the draft (saved first when changed) and paint its nodes as it goes."""
        if not self.workflow_id or self.starting_run:
            return
        try:
            data = json.loads(self.run_input.strip() or "null")
        except json.JSONDecodeError:
            self.run_input_open = True
            yield rx.toast.error("The run input is not valid JSON")
            return
        self.starting_run = True
        yield
        try:
            if self.dirty:
                record, problem = await self._save()
                if record is None:
                    yield rx.toast.error(f"Not run: {problem}", duration=10000)
                    return
                yield rx.toast.success(f"Saved version {record.version}")
            run_id = await asyncio.to_thread(start_draft_run, _services(), self.workflow_id,
                                             data)
            if run_id is None:
                yield rx.toast.error("the workflow no longer exists")
                return
        except UserInputError as error:
            yield rx.toast.error(f"Not run: {error}", duration=10000)
            return
        finally:
            self.starting_run = False
        self.run_id, self.run_status = run_id, "queued"
        self.step_status = {n["key"]: "queued" for n in self.spec_nodes}
        self.step_details = {}
        yield type(self).watch_run  # the concrete state's handler, not the mixin's

    @rx.event(background=True)
    async def watch_run(self):
        """Re-read the run every POLL_SECONDS while it is active and this page shows it."""
        async with self:
            run_id, route = self.run_id, self._route_workflow_id()
        services, started = _services(), time.monotonic()
        while run_id and time.monotonic() - started < WATCH_LIMIT_SECONDS:
            run = await asyncio.to_thread(services.run_queries.get_run, run_id)
            async with self:
                if self.run_id != run_id or self._route_workflow_id() != route:
                    return  # another run started here, or the user left
                if run is None:
                    self.run_status = "cancelled"
                    return
                status, details = step_paint(run, [n["key"] for n in self.spec_nodes])
                if status != self.step_status:
                    self.step_status = status
                if details != self.step_details:
                    self.step_details = details
                self.run_status = run["status"]
            if run["status"] in TERMINAL_RUN_STATUSES:
                return
            await asyncio.sleep(POLL_SECONDS)
