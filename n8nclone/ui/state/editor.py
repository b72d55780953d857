"""State of the workflow editor page: the loaded workflow file, edited on the canvas.

The state holds the workflow file's `nodes`, `edges` and `settings` as saved (secret
parameters masked: `save_workflow` puts the saved values back); the canvas sees them
converted to React Flow's shape, with each node's validation problem and last-run status.
The side panel's form is generated from the node type's parameter schema. The draft's
conversions live in `n8nclone.ui.editor`; running it in `editor_run`. Store calls run in a
thread (`asyncio.to_thread`): a blocking handler would stall every user of this process.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any
from urllib.parse import unquote

import reflex as rx

from n8nclone.errors import UserInputError
from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.ui.editor import draft
from n8nclone.ui.editor.canvas import flow_edge, flow_nodes, node_id_of_edge, palette_groups
from n8nclone.ui.editor.param_form import form_fields, param_schema, parse_param, updated_params
from n8nclone.ui.editor.settings_form import settings_form_values, settings_from_form
from n8nclone.ui.state.editor_run import DraftRunState


def _services():
    from n8nclone.services import get_services

    return get_services()


def _node_catalogue() -> list[dict]:
    return [node_type.describe() for node_type in _services().registry.all()]


def _problems(spec: dict) -> list:
    from n8nclone.workflows import problems_of

    return problems_of(spec, _services().registry)


class EditorState(DraftRunState, rx.State):
    """The workflow open in the editor."""

    workflow_id: int = 0
    name: str = ""
    version: int = 0
    active: bool = False
    loaded: bool = False
    not_found: bool = False
    origin: str = ""
    spec: dict[str, Any] = {}
    spec_nodes: list[dict[str, Any]] = []
    spec_edges: list[dict[str, Any]] = []
    catalogue: list[dict[str, Any]] = []
    selected: str = ""
    selected_edge: str = ""
    dirty: bool = False
    problems: list[str] = []
    node_problems: dict[str, str] = {}
    saving: bool = False
    form_version: int = 0  # bumped to reset the panel's inputs
    param_errors: dict[str, str] = {}
    key_error: str = ""
    retries_error: str = ""
    settings_open: bool = False
    settings_error: str = ""

    # -- what the page shows ---------------------------------------------------------------

    @rx.var
    def flow_nodes(self) -> list[dict[str, Any]]:
        return flow_nodes(self.spec_nodes, self.catalogue, self.node_problems, self.step_status)

    @rx.var
    def flow_edges(self) -> list[dict[str, Any]]:
        return [flow_edge(edge) for edge in self.spec_edges]

    @rx.var
    def palette(self) -> list[dict[str, Any]]:
        """Node types grouped by `group`, in the catalogue's order."""
        return palette_groups(self.catalogue)

    @rx.var
    def selected_type(self) -> dict[str, Any]:
        node = draft.find_node(self.spec_nodes, self.selected)
        info = draft.type_info(self.catalogue, node["type"]) if node else {}
        return draft.node_summary(node, info, self.node_problems.get(self.selected, ""))

    @rx.var
    def selected_fields(self) -> list[dict[str, Any]]:
        node = draft.find_node(self.spec_nodes, self.selected)
        if not node:
            return []
        return form_fields(draft.type_info(self.catalogue, node["type"]),
                           node.get("params") or {}, self.param_errors,
                           f"{self.selected}:{self.form_version}")

    @rx.var
    def form_key(self) -> str:
        """Remounts the panel's uncontrolled inputs when another node is shown."""
        return f"{self.selected}:{self.form_version}"

    @rx.var
    def selected_step(self) -> dict[str, Any]:
        return self.step_details.get(self.selected, {})

    @rx.var
    def webhook_urls(self) -> dict[str, str]:
        """Production and test URLs of the draft's webhook trigger ({} without one)."""
        return draft.webhook_urls(self.spec_nodes, self.origin)

    @rx.var
    def settings_values(self) -> dict[str, str]:
        return settings_form_values(self.spec.get("settings") or {})

    # -- loading ---------------------------------------------------------------------------

    def _route_workflow_id(self) -> str:
        path = str(self.router.url.path or "")
        return unquote(path.rstrip("/").rsplit("/", 1)[-1])

    @rx.event
    async def load(self):
        """Load the workflow named by the route (`/workflows/<id>`)."""
        ref = self._route_workflow_id()
        self.loaded = False
        self.origin = str(self.router.url.origin or "").rstrip("/")
        record = await asyncio.to_thread(lambda: _services().workflows.find(ref))
        if not self.catalogue:
            self.catalogue = await asyncio.to_thread(_node_catalogue)
        self.selected, self.selected_edge, self.dirty = "", "", False
        self._forget_run()
        self.settings_open = self.run_input_open = False
        if record is None:
            self.not_found, self.loaded = True, True
            self.workflow_id, self.name, self.spec = 0, "", {}
            self.spec_nodes, self.spec_edges = [], []
            return
        self._show(record)
        self.run_input = draft.default_run_input(self.spec_nodes)
        self.not_found, self.loaded = False, True

    def _show(self, record) -> None:
        from n8nclone.workflows import mask_secrets

        spec = mask_secrets(record.spec, _services().registry)  # the browser never sees them
        self.workflow_id, self.name, self.version = record.id, record.name, record.version
        self.active = bool(record.active)
        self.spec = copy.deepcopy(spec)
        self.spec_nodes = copy.deepcopy(spec.get("nodes", []))
        self.spec_edges = copy.deepcopy(spec.get("edges", []))
        self._clear_input_errors()
        self.form_version += 1
        self._check()

    # -- editing -----------------------------------------------------------------------------

    def _check(self) -> None:
        """Validate the draft: the problem list, and each node's first problem."""
        problems = _problems(self.edited_spec())
        self.problems = [str(p) for p in problems]
        self.node_problems = draft.problems_by_node(problems)

    def _changed(self) -> None:
        self.dirty = True
        self._check()

    def _clear_input_errors(self) -> None:
        self.param_errors, self.key_error, self.retries_error = {}, "", ""

    @rx.event
    def move_nodes(self, moved: list[dict[str, Any]]):
        """Drag stop: store the nodes' new positions."""
        self.spec_nodes, changed = draft.moved_nodes(self.spec_nodes, moved)
        if changed:
            self.dirty = True  # a move changes no problem: no re-check

    @rx.event
    def connect(self, connection: dict[str, Any]):
        """A new edge drawn from a source port to a target node."""
        edge = draft.edge_from_connection(connection, self.spec_edges)
        if edge is None:
            return
        self.spec_edges = [*self.spec_edges, edge]
        self._changed()

    @rx.event
    def delete_nodes(self, keys: list[str]):
        """Nodes removed on the canvas (Delete or Backspace), with their edges."""
        self._delete_nodes(keys)

    def _delete_nodes(self, keys: list[str]) -> None:
        gone = set(keys)
        if not gone & {n["key"] for n in self.spec_nodes}:
            return
        self.spec_nodes, self.spec_edges = draft.without_nodes(self.spec_nodes, self.spec_edges,
                                                               gone)
        if self.selected in gone:
            self.selected = ""
        self._changed()

    @rx.event
    def delete_edges(self, edge_ids: list[str]):
        """Edges removed on the canvas (Delete or Backspace)."""
        self._delete_edges(edge_ids)

    def _delete_edges(self, edge_ids: list[str]) -> None:
        gone = set(edge_ids)
        if not gone & {node_id_of_edge(e) for e in self.spec_edges}:
            return
        self.spec_edges = [e for e in self.spec_edges if node_id_of_edge(e) not in gone]
        if self.selected_edge in gone:
            self.selected_edge = ""
        self._changed()

    @rx.event
    def delete_selected(self):
        """The panel's Delete button: the selected node (with its edges) or edge."""
        if self.selected:
            self._delete_nodes([self.selected])
        elif self.selected_edge:
            self._delete_edges([self.selected_edge])

    @rx.event
    def select_node(self, key: str):
        if key != self.selected:
            self._clear_input_errors()
        self.selected, self.selected_edge = key, ""

    @rx.event
    def select_edge(self, edge_id: str):
        self.selected, self.selected_edge = "", edge_id

    @rx.event
    def clear_selection(self):
        self.selected, self.selected_edge = "", ""

    def _add(self, type_name: str, position: list[int]) -> None:
        key = draft.new_node_key(type_name, {n["key"] for n in self.spec_nodes})
        self.spec_nodes = [*self.spec_nodes,
                           {"key": key, "type": type_name, "params": {}, "position": position}]
        self.selected, self.selected_edge = key, ""
        self._clear_input_errors()
        self._changed()

    @rx.event
    def add_node(self, type_name: str):
        """Palette click: a node of `type_name` below the lowest node, with a fresh key."""
        self._add(type_name, draft.position_below(self.spec_nodes))

    @rx.event
    def drop_node(self, type_name: str, x: int, y: int):
        """A palette item dropped on the canvas at (x, y) in flow coordinates."""
        if type_name in {entry["type"] for entry in self.catalogue}:
            self._add(type_name, [int(x), int(y)])

    @rx.event
    def set_param(self, name: str, raw: Any):
        """A form input left (or a switch / select changed): the parameter's new value."""
        node = draft.find_node(self.spec_nodes, self.selected)
        info = draft.type_info(self.catalogue, node["type"]) if node else {}
        param = param_schema(info, name)
        if param is None:
            return
        keep, value, error = parse_param(param, raw)
        errors = {k: v for k, v in self.param_errors.items() if k != name}
        if error:
            self.param_errors = {**errors, name: error}
            return
        self.param_errors = errors
        params = updated_params(node.get("params") or {}, name, keep, value)
        if params is None:
            return
        self.spec_nodes = draft.replace_node(self.spec_nodes, self.selected, params=params)
        self._changed()

    @rx.event
    def rename_node(self, new_key: str):
        """The key input left: rename the node (unique, a valid key); its edges follow."""
        old, new_key = self.selected, str(new_key or "").strip()
        if not old or new_key == old:
            self.key_error = ""
            return
        self.key_error = draft.key_problem(new_key, self.spec_nodes)
        if self.key_error:
            return
        self.spec_nodes = draft.replace_node(self.spec_nodes, old, key=new_key)
        self.spec_edges = draft.rename_in_edges(self.spec_edges, old, new_key)
        self.step_status = draft.rename_keys(self.step_status, old, new_key)
        self.step_details = draft.rename_keys(self.step_details, old, new_key)
        self.selected = new_key
        self._changed()

    @rx.event
    def set_retries(self, raw: str):
        """The node's retries override; empty: the workflow's default."""
        node = draft.find_node(self.spec_nodes, self.selected)
        if not node:
            return
        retries, self.retries_error = draft.parse_retries(raw)
        if self.retries_error or node.get("retries") == retries:
            return
        changed = draft.with_retries(node, retries)
        self.spec_nodes = [changed if n["key"] == self.selected else n for n in self.spec_nodes]
        self._changed()

    # -- settings dialog ---------------------------------------------------------------------

    @rx.event
    def open_settings(self, open_: bool = True):
        self.settings_open, self.settings_error = bool(open_), ""

    @rx.event
    def save_settings(self, form: dict[str, Any]):
        try:
            settings = settings_from_form(form, self.spec.get("settings") or {})
        except ValueError as error:
            self.settings_error = str(error)
            return
        self.spec = {**self.spec, "settings": settings}
        self.settings_open, self.settings_error = False, ""
        self._changed()
        return rx.toast.info("Settings changed: Save to keep them")

    # -- saving, activating --------------------------------------------------------------------

    def edited_spec(self) -> dict[str, Any]:
        """The workflow file as edited on the canvas."""
        spec = copy.deepcopy(self.spec)
        spec["nodes"] = copy.deepcopy(self.spec_nodes)
        spec["edges"] = copy.deepcopy(self.spec_edges)
        if self.workflow_id:
            spec["active"] = self.active  # what the toggle set, not what the file said
        return spec

    async def _save(self) -> tuple[Any, str]:
        """Save the draft as a new version: (record, "") or (None, the problem)."""
        from n8nclone.workflows import save_workflow

        spec, workflow_id, services = self.edited_spec(), self.workflow_id, _services()
        try:
            record = await asyncio.to_thread(
                save_workflow, services.workflows, services.registry, spec, workflow_id)
        except WorkflowInvalid as invalid:
            self.problems = [str(p) for p in invalid.problems]
            self.node_problems = draft.problems_by_node(invalid.problems)
            return None, "; ".join(self.problems)
        except UserInputError as error:
            self.problems = [str(error)]
            return None, str(error)
        self._show(record)
        self.dirty = False
        return record, ""

    @rx.event
    async def save(self):
        """Save the canvas as a new version; toast the result or every problem."""
        if not self.workflow_id:
            yield rx.toast.error("no workflow loaded")
            return
        self.saving = True
        yield
        try:
            record, problem = await self._save()
        finally:
            self.saving = False
        if record is None:
            yield rx.toast.error(f"Not saved: {problem}", duration=10000)
            return
        yield rx.toast.success(f"Saved version {record.version}")

    @rx.event
    async def set_active(self, active: bool):
        """Activate (register the saved version's trigger) or deactivate the workflow."""
        from n8nclone.workflows import set_workflow_active

        services, workflow_id = _services(), self.workflow_id
        try:
            record = await asyncio.to_thread(set_workflow_active, services.workflows,
                                             services.registry, workflow_id, bool(active))
        except UserInputError as error:
            yield rx.toast.error(f"Not changed: {error}", duration=10000)
            return
        if record is None:
            yield rx.toast.error("the workflow no longer exists")
            return
        self.active = bool(record.active)
        note = " (the saved version; save to include your changes)" if self.dirty else ""
        yield rx.toast.success(("Activated" if self.active else "Deactivated") + note)
