"""State of the workflow list page: the list, and its actions (new, rename, duplicate,
(de)activate, export, delete, import).

Every action calls the same functions as the API (`n8nclone.workflows`, the workflow
store) in a thread, then reloads the list; a refused action is a toast with the reason.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from typing import Any

import reflex as rx

from n8nclone.errors import UserInputError
from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.ui.state.auth import AuthState

MAX_IMPORT_BYTES = 1024 * 1024
STATUS_COLORS = {"succeeded": "green", "failed": "red", "cancelled": "gray",
                 "running": "blue", "queued": "blue", "sleeping": "amber", "waiting": "amber"}


def _services():
    from n8nclone.services import get_services

    return get_services()


def _short_time(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else ""


def workflow_row(record, runs: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the list shows of one workflow (`runs`: its entry of `runs_by_workflow`)."""
    nodes = record.spec.get("nodes", [])
    trigger = next((n["type"] for n in nodes if n["type"].startswith("trigger.")), "")
    last = (runs or {}).get("last_run") or {}
    return {
        "id": record.id,
        "name": record.name,
        "trigger": trigger,
        "active": record.active,
        "version": record.version,
        "nodes": len(nodes),
        "updated": record.updated_at.strftime("%Y-%m-%d %H:%M"),
        "href": f"/workflows/{record.id}",
        "runs": (runs or {}).get("runs", 0),
        "last_status": last.get("status", ""),
        "last_color": STATUS_COLORS.get(last.get("status", ""), "gray"),
        "last_started": _short_time(last.get("started_at")),
        "last_href": f"/runs/{last['id']}" if last else "",
    }


def _list_workflows() -> list[dict[str, Any]]:
    services = _services()
    runs = services.run_queries.runs_by_workflow()
    return [workflow_row(r, runs.get(r.id)) for r in services.workflows.list()]


def _file_of(record) -> dict[str, Any]:
    """The record's workflow file with its current active flag (a toggle does not save a
    version, so the stored file may say otherwise)."""
    spec = copy.deepcopy(record.spec)
    spec["active"] = record.active
    return spec


def _free_copy_name(name: str) -> str:
    store = _services().workflows
    candidate, number = f"{name} (copy)", 2
    while store.find(candidate) is not None:
        candidate, number = f"{name} (copy {number})", number + 1
    return candidate


def _get(workflow_id: int):
    record = _services().workflows.get(workflow_id)
    if record is None:
        raise UserInputError("the workflow no longer exists")
    return record


def _rename(workflow_id: int, name: str):
    from n8nclone.workflows import save_workflow

    services = _services()
    spec = _file_of(_get(workflow_id))
    spec["name"] = name
    return save_workflow(services.workflows, services.registry, spec, workflow_id)


def _duplicate(workflow_id: int):
    from n8nclone.workflows import save_workflow

    services = _services()
    spec = _file_of(_get(workflow_id))
    spec["name"] = _free_copy_name(spec["name"])
    spec["active"] = False  # so its trigger does not clash with the original's
    return save_workflow(services.workflows, services.registry, spec)


def _set_active(workflow_id: int, active: bool):
    from n8nclone.workflows import set_workflow_active

    services = _services()
    record = set_workflow_active(services.workflows, services.registry, workflow_id, active)
    if record is None:
        raise UserInputError("the workflow no longer exists")
    return record


def _export(workflow_id: int) -> tuple[str, str]:
    """(file name, JSON text) of the workflow file, secrets masked as the API shows them."""
    from n8nclone.workflows import mask_secrets

    record = _get(workflow_id)
    text = json.dumps(mask_secrets(_file_of(record), _services().registry), indent=2)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", record.name).strip("-") or "workflow"
    return f"{slug}.json", text + "\n"


def _delete(workflow_id: int) -> bool:
    services = _services()
    return services.workflows.delete(workflow_id, services.runs)


def new_workflow_file(name: str) -> dict[str, Any]:
    """A fresh workflow: just a manual trigger, inactive until its owner says otherwise."""
    return {"name": name, "active": False,
            "nodes": [{"key": "start", "type": "trigger.manual", "position": [0, 0]}],
            "edges": []}


def _create(data: Any):
    from n8nclone.workflows import save_workflow

    services = _services()
    return save_workflow(services.workflows, services.registry, data)


def refusal(error: UserInputError) -> list[str]:
    """The readable lines of a refused save: every problem, or the one reason."""
    if isinstance(error, WorkflowInvalid):
        return [str(p) for p in error.problems]
    return [str(error)]


class WorkflowListState(rx.State):
    """Every workflow, by name, and the dialogs of the list's actions."""

    rows: list[dict[str, Any]] = []
    loaded: bool = False
    busy: bool = False

    new_open: bool = False
    new_name: str = ""

    rename_open: bool = False
    rename_id: int = 0
    rename_name: str = ""

    delete_open: bool = False
    delete_id: int = 0
    delete_name: str = ""

    import_open: bool = False
    import_text: str = ""
    import_problems: list[str] = []

    async def _allowed(self) -> bool:
        """Actions arrive over the websocket: only for a client whose session was checked."""
        auth = await self.get_state(AuthState)
        return bool(auth.email)

    async def _reload(self) -> None:
        self.rows = await asyncio.to_thread(_list_workflows)
        self.loaded = True

    @rx.event
    async def load(self):
        if not await self._allowed():
            return
        await self._reload()

    # -- (de)activate, duplicate, export ---------------------------------------------------

    @rx.event
    async def set_active(self, workflow_id: int, active: bool):
        if not await self._allowed():
            return
        try:
            record = await asyncio.to_thread(_set_active, int(workflow_id), bool(active))
        except UserInputError as error:
            await self._reload()
            yield rx.toast.error(f"Not {'activated' if active else 'deactivated'}: {error}",
                                 duration=10000)
            return
        await self._reload()
        yield rx.toast.success(f"{record.name} is {'active' if record.active else 'inactive'}")

    @rx.event
    async def duplicate(self, workflow_id: int):
        if not await self._allowed():
            return
        try:
            record = await asyncio.to_thread(_duplicate, int(workflow_id))
        except UserInputError as error:
            yield rx.toast.error(f"Not duplicated: {'; '.join(refusal(error))}", duration=10000)
            return
        await self._reload()
        yield rx.toast.success(f"Created {record.name} (inactive)")

    @rx.event
    async def export(self, workflow_id: int):
        if not await self._allowed():
            return
        try:
            filename, text = await asyncio.to_thread(_export, int(workflow_id))
        except UserInputError as error:
            yield rx.toast.error(str(error))
            return
        yield rx.download(data=text, filename=filename, mime_type="application/json")

    # -- new -------------------------------------------------------------------------------

    @rx.event
    def open_new(self):
        self.new_open, self.new_name = True, ""

    @rx.event
    def set_new_open(self, value: bool):
        self.new_open = value

    @rx.event
    def set_new_name(self, value: str):
        self.new_name = value

    @rx.event
    async def create(self):
        """Create a workflow with just a manual trigger, then open it in the editor."""
        if not await self._allowed():
            return
        name = self.new_name.strip()
        if not name:
            yield rx.toast.error("Give the workflow a name")
            return
        try:
            record = await asyncio.to_thread(_create, new_workflow_file(name))
        except UserInputError as error:
            yield rx.toast.error(f"Not created: {'; '.join(refusal(error))}", duration=10000)
            return
        self.new_open = False
        yield rx.redirect(f"/workflows/{record.id}")

    # -- rename ----------------------------------------------------------------------------

    @rx.event
    def open_rename(self, workflow_id: int, name: str):
        self.rename_id, self.rename_name, self.rename_open = int(workflow_id), name, True

    @rx.event
    def set_rename_open(self, value: bool):
        self.rename_open = value

    @rx.event
    def set_rename_name(self, value: str):
        self.rename_name = value

    @rx.event
    async def rename(self):
        if not await self._allowed():
            return
        name = self.rename_name.strip()
        if not name:
            yield rx.toast.error("The name must not be empty")
            return
        try:
            record = await asyncio.to_thread(_rename, self.rename_id, name)
        except UserInputError as error:
            yield rx.toast.error(f"Not renamed: {'; '.join(refusal(error))}", duration=10000)
            return
        self.rename_open = False
        await self._reload()
        yield rx.toast.success(f"Renamed to {record.name} (version {record.version})")

    # -- delete ----------------------------------------------------------------------------

    @rx.event
    def ask_delete(self, workflow_id: int, name: str):
        self.delete_id, self.delete_name, self.delete_open = int(workflow_id), name, True

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = value

    @rx.event
    async def delete(self):
        if not await self._allowed():
            return
        name = self.delete_name
        self.busy = True
        yield
        try:
            deleted = await asyncio.to_thread(_delete, self.delete_id)
        finally:
            self.busy = False
        self.delete_open = False
        await self._reload()
        yield (rx.toast.success(f"Deleted {name}") if deleted
               else rx.toast.info(f"{name} was already gone"))

    # -- import ----------------------------------------------------------------------------

    @rx.event
    def open_import(self):
        self.import_open, self.import_text, self.import_problems = True, "", []

    @rx.event
    def set_import_open(self, value: bool):
        self.import_open = value

    @rx.event
    def set_import_text(self, value: str):
        self.import_text = value

    @rx.event
    async def import_pasted(self):
        """Save the pasted workflow file as a new workflow."""
        if not await self._allowed():
            return
        async for event in self._import(self.import_text):
            yield event

    @rx.event
    async def import_files(self, files: list[rx.UploadFile]):
        """Save an uploaded workflow file (.json) as a new workflow."""
        if not await self._allowed() or not files:
            return
        raw = await files[0].read()
        if len(raw) > MAX_IMPORT_BYTES:
            self.import_problems = ["the file is larger than 1 MiB"]
            yield rx.toast.error("Not imported: the file is larger than 1 MiB")
            return
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            self.import_problems = ["the file is not UTF-8 text"]
            yield rx.toast.error("Not imported: the file is not UTF-8 text")
            return
        self.import_text = text
        async for event in self._import(text):
            yield event

    async def _import(self, text: str):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            self.import_problems = [f"not valid JSON: {error.msg} (line {error.lineno}, "
                                    f"column {error.colno})"]
            yield rx.toast.error(f"Not imported: {self.import_problems[0]}", duration=10000)
            return
        try:
            record = await asyncio.to_thread(_create, data)
        except UserInputError as error:
            self.import_problems = refusal(error)
            yield rx.toast.error("Not imported: " + "; ".join(self.import_problems),
                                 duration=10000)
            return
        self.import_open, self.import_text, self.import_problems = False, "", []
        await self._reload()
        yield rx.toast.success(f"Imported {record.name}")
