"""State of the workflow editor page: the loaded workflow file, edited on the canvas.

The state holds the workflow file's `nodes`, `edges` and `settings` as saved (secret
parameters masked: `save_workflow` puts the saved values back); the canvas sees them
converted to React Flow's shape, with each node's validation problem and last-run status.
The side panel's form is generated from the node type's parameter schema. Store calls
run in a thread (`asyncio.to_thread`): a blocking handler would stall every user of
this process.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from typing import Any
from urllib.parse import unquote

import reflex as rx
from pydantic import ValidationError

from n8nclone.errors import UserInputError
from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.graph.spec import KEY_PATTERN, SettingsSpec

NEW_NODE_SPACING = 120  # vertical gap below the lowest node for a node added from the palette
POLL_SECONDS = 0.5  # how often a run started here is re-read while it is active
WATCH_LIMIT_SECONDS = 3600.0  # a run still waiting after this is left to the run page
OUTPUT_SHOWN_CHARS = 4000  # of a step's output or error in the side panel
TERMINAL_RUN_STATUSES = ("succeeded", "failed", "cancelled")


# -- the workflow file as React Flow sees it --------------------------------------------------


def node_id_of_edge(edge: dict) -> str:
    """The canvas id of a workflow-file edge (unique: one edge per source port and target)."""
    return f"{edge['from']}:{edge.get('port', 'main')}->{edge['to']}"


def flow_node(node: dict, describe: dict[str, dict], problem: str = "",
              status: str = "") -> dict[str, Any]:
    """A workflow-file node as a React Flow node of our `n8n` type."""
    info = describe.get(node["type"], {})
    x, y = node.get("position") or (0, 0)
    data: dict[str, Any] = {
        "label": node.get("name") or node["key"],
        "type": node["type"],
        "outputs": info.get("outputs", ["main"]),
        "is_trigger": bool(info.get("is_trigger", False)),
    }
    if problem:
        data["problem"] = problem
    if status:
        data["status"] = status
    return {"id": node["key"], "type": "n8n", "position": {"x": x, "y": y}, "data": data}


def flow_edge(edge: dict) -> dict[str, Any]:
    """A workflow-file edge as a React Flow edge (the port is the source handle)."""
    port = edge.get("port", "main")
    shaped: dict[str, Any] = {
        "id": node_id_of_edge(edge),
        "source": edge["from"],
        "target": edge["to"],
        "sourceHandle": port,
        "targetHandle": "in",
    }
    if port != "main":
        shaped["label"] = port
    return shaped


def new_node_key(type_name: str, taken: set[str]) -> str:
    """A key for a new node of `type_name`: its last name part plus the first free number."""
    base = "".join(c if c.isalnum() else "_" for c in type_name.rsplit(".", 1)[-1]) or "node"
    if not (base[0].isalpha() or base[0] == "_"):
        base = "n_" + base
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def rename_in_edges(edges: list[dict], old: str, new: str) -> list[dict]:
    """The edges with node key `old` replaced by `new` at either end."""
    return [{**e, "from": new if e["from"] == old else e["from"],
             "to": new if e["to"] == old else e["to"]} for e in edges]


# -- the parameter form ----------------------------------------------------------------------


def param_text(param: dict, value: Any) -> str:
    """What a text-like input shows for a parameter's saved value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if param["type"] == "json" or isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value).lower() if isinstance(value, bool) else str(value)


def param_visible(param: dict, params: dict) -> bool:
    """Whether `show_if` lets the parameter show, given the node's other values."""
    conditions = (param.get("show_if") or {}).items()
    return all(params.get(other) in values for other, values in conditions)


def form_fields(type_info: dict, params: dict, errors: dict[str, str],
                key_prefix: str) -> list[dict[str, Any]]:
    """The parameter form of a node: one entry per visible parameter of its type."""
    merged = {p["name"]: p.get("default") for p in type_info.get("params", [])}
    merged.update(params)
    fields = []
    for param in type_info.get("params", []):
        if not param_visible(param, merged):
            continue
        name, default = param["name"], param.get("default")
        value = params.get(name)
        placeholder = ("" if default in (None, "", {}, [])
                       else f"default: {param_text(param, default)}")
        fields.append({
            "name": name,
            "type": param["type"],
            "label": param.get("label") or name,
            "required": bool(param.get("required")),
            "help": param.get("help") or "",
            "options": list(param.get("options") or []),
            "secret": bool(param.get("secret")),
            "text": param_text(param, value),
            "choice": str(value if value is not None else (default or "")),
            "checked": bool(value if value is not None else default),
            "placeholder": placeholder,
            "error": errors.get(name, ""),
            "key": f"{key_prefix}:{name}",
        })
    return fields


def parse_param(param: dict, raw: Any) -> tuple[bool, Any, str]:
    """A form input as a parameter value: (keep it, the value, a problem). An empty input
    removes the parameter (its default applies); `{{ }}` is accepted anywhere (checked when
    the step runs)."""
    kind = param["type"]
    if kind == "boolean":
        return True, bool(raw), ""
    text = "" if raw is None else str(raw)
    if text.strip() == "":
        return False, None, ""
    if kind == "json":
        try:
            return True, json.loads(text), ""
        except json.JSONDecodeError as error:
            if "{{" in text:
                return True, text, ""  # one template giving the whole value
            return True, None, f"not valid JSON: {error.msg} (line {error.lineno})"
    if "{{" in text:
        return True, text, ""
    if kind == "integer":
        try:
            return True, int(text.strip()), ""
        except ValueError:
            return True, None, "must be a whole number (or a {{ }} expression)"
    if kind == "number":
        try:
            number = float(text.strip())
        except ValueError:
            return True, None, "must be a number (or a {{ }} expression)"
        return True, int(number) if number.is_integer() and "." not in text else number, ""
    if kind == "duration" and re.fullmatch(r"\s*\d+(\.\d+)?\s*", text):
        number = float(text)
        return True, int(number) if number.is_integer() else number, ""
    if kind == "options" and param.get("options") and text not in param["options"]:
        return True, None, f"must be one of {', '.join(param['options'])}"
    return True, text, ""


# -- workflow settings -------------------------------------------------------------------------


def settings_form_values(settings: dict) -> dict[str, str]:
    """The settings dialog's inputs (text) for a workflow's `settings`."""
    concurrency = settings.get("concurrency") or {}
    rules = settings.get("cancel_on") or []
    rule = rules[0] if rules else {}

    def text(value: Any) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    return {
        "retries": text(settings.get("retries")),
        "timeout": text(settings.get("timeout")),
        "concurrency_limit": text(concurrency.get("limit")),
        "concurrency_key": text(concurrency.get("key")),
        "idempotency_key": text(settings.get("idempotency_key")),
        "cancel_event": text(rule.get("event")),
        "cancel_match": text(rule.get("match")),
        "cancel_value": text(rule.get("value")),
        "budget_usd": text(settings.get("budget_usd")),
        "more_cancel_rules": str(max(len(rules) - 1, 0)),
    }


def settings_from_form(form: dict[str, Any], current: dict) -> dict:
    """The workflow's `settings` from the dialog's inputs (other settings and further
    cancel-on rules kept); ValueError with every problem."""
    settings = copy.deepcopy(current)

    def value(name: str) -> str:
        return str(form.get(name) or "").strip()

    def number(name: str, kind: type) -> Any:
        text = value(name)
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise ValueError(f"{name.replace('_', ' ')}: must be a number") from None

    problems = []
    for name, found in (("retries", lambda: number("retries", int)),
                        ("timeout", lambda: _duration_value(value("timeout"))),
                        ("idempotency_key", lambda: value("idempotency_key") or None),
                        ("budget_usd", lambda: number("budget_usd", float))):
        try:
            settings[name] = found()
        except ValueError as error:
            problems.append(str(error))
    try:
        limit = number("concurrency_limit", int)
        settings["concurrency"] = ({"limit": limit, "key": value("concurrency_key") or None}
                                   if limit is not None else None)
        if limit is None and value("concurrency_key"):
            problems.append("concurrency: a key needs a limit")
    except ValueError as error:
        problems.append(str(error))
    rules = list(settings.get("cancel_on") or [])
    first = dict(rules[0]) if rules else {}
    if value("cancel_event"):
        first.update(event=value("cancel_event"), match=value("cancel_match") or None)
        first.pop("value", None)
        if value("cancel_value"):
            first["value"] = value("cancel_value")
        rules = [first, *rules[1:]]
    else:
        rules = rules[1:]
    settings["cancel_on"] = rules or None
    if problems:
        raise ValueError("; ".join(problems))
    try:
        checked = SettingsSpec.model_validate({k: v for k, v in settings.items() if v is not None})
    except ValidationError as error:
        raise ValueError("; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())) from None
    return checked.model_dump(mode="json", by_alias=True, exclude_none=True)


def _duration_value(text: str) -> Any:
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


# -- a run, painted on the nodes -----------------------------------------------------------------


def shown_json(value: Any) -> str:
    """A step's output or error as indented JSON, cut to what the panel shows."""
    if value is None:
        return ""
    text = json.dumps(value, indent=2, default=str)
    if len(text) > OUTPUT_SHOWN_CHARS:
        return text[:OUTPUT_SHOWN_CHARS] + f"\n... ({len(text)} characters, cut)"
    return text


def step_paint(run: dict, node_keys: list[str]) -> tuple[dict[str, str], dict[str, dict]]:
    """Each node's status in `run` (nodes not reached yet are `queued` while the run is
    active), and what the panel shows of each step."""
    status: dict[str, str] = {}
    details: dict[str, dict] = {}
    for step in run.get("steps", []):
        status[step["key"]] = step["status"]
        details[step["key"]] = {"status": step["status"], "attempts": step.get("attempts") or 0,
                                "output": shown_json(step.get("output")),
                                "error": shown_json(step.get("error"))}
    if run.get("status") not in TERMINAL_RUN_STATUSES:
        for key in node_keys:
            status.setdefault(key, "queued")
    return status, details


def _services():
    from n8nclone.services import get_services

    return get_services()


def _node_catalogue() -> list[dict]:
    return [node_type.describe() for node_type in _services().registry.all()]


def _problems(spec: dict) -> list:
    from n8nclone.workflows import problems_of

    return problems_of(spec, _services().registry)


class EditorState(rx.State):
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
    run_input: str = ""
    run_input_open: bool = False
    run_input_error: str = ""
    run_id: str = ""
    run_status: str = ""
    starting_run: bool = False
    step_status: dict[str, str] = {}
    step_details: dict[str, dict[str, Any]] = {}

    # -- what the page shows ---------------------------------------------------------------

    @rx.var
    def flow_nodes(self) -> list[dict[str, Any]]:
        describe = {entry["type"]: entry for entry in self.catalogue}
        return [flow_node(node, describe, self.node_problems.get(node["key"], ""),
                          self.step_status.get(node["key"], ""))
                for node in self.spec_nodes]

    @rx.var
    def flow_edges(self) -> list[dict[str, Any]]:
        return [flow_edge(edge) for edge in self.spec_edges]

    @rx.var
    def palette(self) -> list[dict[str, Any]]:
        """Node types grouped by `group`, in the catalogue's order."""
        groups: list[dict[str, Any]] = []
        for entry in self.catalogue:
            if not groups or groups[-1]["group"] != entry["group"]:
                groups.append({"group": entry["group"], "types": []})
            groups[-1]["types"].append(
                {"type": entry["type"], "label": entry.get("label") or entry["type"]})
        return groups

    @rx.var
    def selected_type(self) -> dict[str, Any]:
        node = next((n for n in self.spec_nodes if n["key"] == self.selected), None)
        if node is None:
            return {}
        info = next((e for e in self.catalogue if e["type"] == node["type"]), {})
        return {"type": node["type"], "label": info.get("label", node["type"]),
                "description": info.get("description", ""),
                "retries": "" if node.get("retries") is None else str(node["retries"]),
                "problem": self.node_problems.get(node["key"], "")}

    @rx.var
    def selected_fields(self) -> list[dict[str, Any]]:
        node = next((n for n in self.spec_nodes if n["key"] == self.selected), None)
        if node is None:
            return []
        info = next((e for e in self.catalogue if e["type"] == node["type"]), {})
        return form_fields(info, node.get("params") or {}, self.param_errors,
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
        hook = next((n for n in self.spec_nodes if n["type"] == "trigger.webhook"), None)
        path = str((hook or {}).get("params", {}).get("path") or "").strip("/")
        if not path:
            return {}
        return {"production": f"{self.origin}/webhook/{path}",
                "test": f"{self.origin}/webhook-test/{path}"}

    @rx.var
    def settings_values(self) -> dict[str, str]:
        return settings_form_values(self.spec.get("settings") or {})

    @rx.var
    def run_active(self) -> bool:
        return bool(self.run_id) and self.run_status not in TERMINAL_RUN_STATUSES

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
        self.run_id, self.run_status, self.step_status, self.step_details = "", "", {}, {}
        self.settings_open = self.run_input_open = False
        if record is None:
            self.not_found, self.loaded = True, True
            self.workflow_id, self.name, self.spec = 0, "", {}
            self.spec_nodes, self.spec_edges = [], []
            return
        self._show(record)
        self.run_input = self._default_run_input()
        self.not_found, self.loaded = False, True

    def _show(self, record) -> None:
        from n8nclone.workflows import mask_secrets

        spec = mask_secrets(record.spec, _services().registry)  # the browser never sees them
        self.workflow_id, self.name, self.version = record.id, record.name, record.version
        self.active = bool(record.active)
        self.spec = copy.deepcopy(spec)
        self.spec_nodes = copy.deepcopy(spec.get("nodes", []))
        self.spec_edges = copy.deepcopy(spec.get("edges", []))
        self.param_errors, self.key_error, self.retries_error = {}, "", ""
        self.form_version += 1
        self._check()

    def _default_run_input(self) -> str:
        trigger = next((n for n in self.spec_nodes if n["type"] == "trigger.manual"), None)
        sample = (trigger or {}).get("params", {}).get("sample_data")
        return json.dumps(sample if sample is not None else {}, indent=2)

    # -- editing -----------------------------------------------------------------------------

    def _check(self) -> None:
        """Validate the draft: the problem list, and each node's first problem."""
        problems = _problems(self.edited_spec())
        self.problems = [str(p) for p in problems]
        self._mark_nodes(problems)

    def _mark_nodes(self, problems: list) -> None:
        by_node: dict[str, str] = {}
        for problem in problems:
            if problem.node and problem.node not in by_node:
                by_node[problem.node] = str(problem)
        self.node_problems = by_node

    def _changed(self) -> None:
        self.dirty = True
        self._check()

    def _node(self, key: str) -> dict[str, Any]:
        return next((n for n in self.spec_nodes if n["key"] == key), {})

    def _replace_node(self, key: str, **changes: Any) -> None:
        self.spec_nodes = [{**n, **changes} if n["key"] == key else n for n in self.spec_nodes]

    @rx.event
    def move_nodes(self, moved: list[dict[str, Any]]):
        """Drag stop: store the nodes' new positions."""
        where = {m["id"]: [m["x"], m["y"]] for m in moved if "id" in m}
        nodes = []
        for node in self.spec_nodes:
            if node["key"] in where and list(node.get("position") or []) != where[node["key"]]:
                node = {**node, "position": where[node["key"]]}
                self.dirty = True
            nodes.append(node)
        self.spec_nodes = nodes

    @rx.event
    def connect(self, connection: dict[str, Any]):
        """A new edge drawn from a source port to a target node."""
        edge = {"from": connection["source"], "to": connection["target"],
                "port": connection.get("sourceHandle") or "main"}
        if edge["from"] == edge["to"]:
            return
        if any(node_id_of_edge(e) == node_id_of_edge(edge) for e in self.spec_edges):
            return
        if edge["port"] == "main":
            del edge["port"]  # the file's default
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
        self.spec_nodes = [n for n in self.spec_nodes if n["key"] not in gone]
        self.spec_edges = [e for e in self.spec_edges
                           if e["from"] not in gone and e["to"] not in gone]
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
            self.param_errors, self.key_error, self.retries_error = {}, "", ""
        self.selected, self.selected_edge = key, ""

    @rx.event
    def select_edge(self, edge_id: str):
        self.selected, self.selected_edge = "", edge_id

    @rx.event
    def clear_selection(self):
        self.selected, self.selected_edge = "", ""

    def _add(self, type_name: str, position: list[int]) -> None:
        key = new_node_key(type_name, {n["key"] for n in self.spec_nodes})
        self.spec_nodes = [*self.spec_nodes,
                           {"key": key, "type": type_name, "params": {}, "position": position}]
        self.selected, self.selected_edge = key, ""
        self.param_errors, self.key_error, self.retries_error = {}, "", ""
        self._changed()

    @rx.event
    def add_node(self, type_name: str):
        """Palette click: a node of `type_name` below the lowest node, with a fresh key."""
        positions = [n.get("position") or [0, 0] for n in self.spec_nodes]
        lowest = max(positions, key=lambda p: p[1], default=None)
        self._add(type_name, [lowest[0], lowest[1] + NEW_NODE_SPACING] if lowest else [0, 0])

    @rx.event
    def drop_node(self, type_name: str, x: int, y: int):
        """A palette item dropped on the canvas at (x, y) in flow coordinates."""
        if type_name in {entry["type"] for entry in self.catalogue}:
            self._add(type_name, [int(x), int(y)])

    def _param_schema(self, name: str) -> dict | None:
        node = self._node(self.selected)
        info = next((e for e in self.catalogue if node and e["type"] == node["type"]), {})
        return next((p for p in info.get("params", []) if p["name"] == name), None)

    @rx.event
    def set_param(self, name: str, raw: Any):
        """A form input left (or a switch / select changed): the parameter's new value."""
        param = self._param_schema(name)
        if param is None:
            return
        keep, value, error = parse_param(param, raw)
        errors = {k: v for k, v in self.param_errors.items() if k != name}
        if error:
            self.param_errors = {**errors, name: error}
            return
        self.param_errors = errors
        params = dict(self._node(self.selected).get("params") or {})
        if keep:
            if params.get(name) == value and name in params:
                return
            params[name] = value
        elif name in params:
            del params[name]
        else:
            return
        self._replace_node(self.selected, params=params)
        self._changed()

    @rx.event
    def rename_node(self, new_key: str):
        """The key input left: rename the node (unique, a valid key); its edges follow."""
        old, new_key = self.selected, str(new_key or "").strip()
        if not old or new_key == old:
            self.key_error = ""
            return
        if not re.match(KEY_PATTERN, new_key):
            self.key_error = "a key starts with a letter or _ and holds only letters, digits and _"
            return
        if any(n["key"] == new_key for n in self.spec_nodes):
            self.key_error = f"another node has the key {new_key!r}"
            return
        self.key_error = ""
        self._replace_node(old, key=new_key)
        self.spec_edges = rename_in_edges(self.spec_edges, old, new_key)
        self.step_status = {new_key if k == old else k: v for k, v in self.step_status.items()}
        self.step_details = {new_key if k == old else k: v for k, v in self.step_details.items()}
        self.selected = new_key
        self._changed()

    @rx.event
    def set_retries(self, raw: str):
        """The node's retries override; empty: the workflow's default."""
        text = str(raw or "").strip()
        node = self._node(self.selected)
        if not node:
            return
        if not text:
            retries = None
        elif text.isdigit() and int(text) <= 50:
            retries = int(text)
        else:
            self.retries_error = "a whole number from 0 to 50, or empty for the workflow's default"
            return
        self.retries_error = ""
        if node.get("retries") == retries:
            return
        changed = {k: v for k, v in node.items() if k != "retries"}
        if retries is not None:
            changed["retries"] = retries
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
            self._mark_nodes(invalid.problems)
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

    # -- running the draft -----------------------------------------------------------------

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
        from n8nclone.engine.start import start_run

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
            services, workflow_id = _services(), self.workflow_id
            record = await asyncio.to_thread(services.workflows.get, workflow_id)
            if record is None:
                yield rx.toast.error("the workflow no longer exists")
                return
            run_id = await asyncio.to_thread(
                lambda: start_run(services.runs, services.dispatcher, workflow_id=record.id,
                                  version_id=record.version_id,
                                  plan_settings=record.plan.get("settings", {}),
                                  input=data, trigger_type="editor"))
        except UserInputError as error:
            yield rx.toast.error(f"Not run: {error}", duration=10000)
            return
        finally:
            self.starting_run = False
        self.run_id, self.run_status = run_id, "queued"
        self.step_status = {n["key"]: "queued" for n in self.spec_nodes}
        self.step_details = {}
        yield EditorState.watch_run

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
