"""State of the workflow editor page: the loaded workflow file, edited on the canvas.

The state holds the workflow file's `nodes` and `edges` as saved (params,
names and retries untouched); the canvas sees them converted to React Flow's
shape. Store calls run in a thread (`asyncio.to_thread`): a blocking handler
would stall every user of this process.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any
from urllib.parse import unquote

import reflex as rx

from n8nclone.errors import UserInputError
from n8nclone.graph.problems import WorkflowInvalid

NEW_NODE_SPACING = 120  # vertical gap below the lowest node for a node added from the palette


def node_id_of_edge(edge: dict) -> str:
    """The canvas id of a workflow-file edge (unique: one edge per source port and target)."""
    return f"{edge['from']}:{edge.get('port', 'main')}->{edge['to']}"


def flow_node(node: dict, describe: dict[str, dict]) -> dict[str, Any]:
    """A workflow-file node as a React Flow node of our `n8n` type."""
    info = describe.get(node["type"], {})
    x, y = node.get("position") or (0, 0)
    return {
        "id": node["key"],
        "type": "n8n",
        "position": {"x": x, "y": y},
        "data": {
            "label": node.get("name") or node["key"],
            "type": node["type"],
            "outputs": info.get("outputs", ["main"]),
            "is_trigger": bool(info.get("is_trigger", False)),
        },
    }


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


def _services():
    from n8nclone.services import get_services

    return get_services()


def _node_catalogue() -> list[dict]:
    return [node_type.describe() for node_type in _services().registry.all()]


class EditorState(rx.State):
    """The workflow open in the editor."""

    workflow_id: int = 0
    name: str = ""
    version: int = 0
    loaded: bool = False
    not_found: bool = False
    spec: dict[str, Any] = {}
    spec_nodes: list[dict[str, Any]] = []
    spec_edges: list[dict[str, Any]] = []
    catalogue: list[dict[str, Any]] = []
    selected: str = ""
    dirty: bool = False
    problems: list[str] = []
    saving: bool = False

    @rx.var
    def flow_nodes(self) -> list[dict[str, Any]]:
        describe = {entry["type"]: entry for entry in self.catalogue}
        return [flow_node(node, describe) for node in self.spec_nodes]

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
    def selected_node(self) -> dict[str, Any]:
        return next((n for n in self.spec_nodes if n["key"] == self.selected), {})

    @rx.var
    def selected_params(self) -> str:
        import json

        node = next((n for n in self.spec_nodes if n["key"] == self.selected), None)
        return json.dumps(node.get("params", {}), indent=2) if node else ""

    def _route_workflow_id(self) -> str:
        path = str(self.router.url.path or "")
        return unquote(path.rstrip("/").rsplit("/", 1)[-1])

    @rx.event
    async def load(self):
        """Load the workflow named by the route (`/workflows/<id>`)."""
        ref = self._route_workflow_id()
        self.loaded = False
        record = await asyncio.to_thread(lambda: _services().workflows.find(ref))
        if not self.catalogue:
            self.catalogue = await asyncio.to_thread(_node_catalogue)
        self.selected, self.problems, self.dirty = "", [], False
        if record is None:
            self.not_found, self.loaded = True, True
            self.workflow_id, self.name, self.spec = 0, "", {}
            self.spec_nodes, self.spec_edges = [], []
            return
        self._show(record)
        self.not_found, self.loaded = False, True

    def _show(self, record) -> None:
        self.workflow_id, self.name, self.version = record.id, record.name, record.version
        self.spec = copy.deepcopy(record.spec)
        self.spec_nodes = copy.deepcopy(record.spec.get("nodes", []))
        self.spec_edges = copy.deepcopy(record.spec.get("edges", []))

    @rx.event
    def move_nodes(self, moved: list[dict[str, Any]]):
        """Drag stop: store the nodes' new positions."""
        where = {m["id"]: [m["x"], m["y"]] for m in moved if "id" in m}
        nodes = []
        for node in self.spec_nodes:
            if node["key"] in where:
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
        self.dirty = True

    @rx.event
    def delete_nodes(self, keys: list[str]):
        gone = set(keys)
        self.spec_nodes = [n for n in self.spec_nodes if n["key"] not in gone]
        self.spec_edges = [e for e in self.spec_edges
                           if e["from"] not in gone and e["to"] not in gone]
        if self.selected in gone:
            self.selected = ""
        self.dirty = True

    @rx.event
    def delete_edges(self, edge_ids: list[str]):
        gone = set(edge_ids)
        self.spec_edges = [e for e in self.spec_edges if node_id_of_edge(e) not in gone]
        self.dirty = True

    @rx.event
    def select_node(self, key: str):
        self.selected = key

    @rx.event
    def clear_selection(self):
        self.selected = ""

    @rx.event
    def add_node(self, type_name: str):
        """Palette click: a node of `type_name` below the lowest node, with a fresh key."""
        key = new_node_key(type_name, {n["key"] for n in self.spec_nodes})
        positions = [n.get("position") or [0, 0] for n in self.spec_nodes]
        lowest = max(positions, key=lambda p: p[1], default=None)
        position = [lowest[0], lowest[1] + NEW_NODE_SPACING] if lowest else [0, 0]
        self.spec_nodes = [*self.spec_nodes,
                           {"key": key, "type": type_name, "params": {}, "position": position}]
        self.selected = key
        self.dirty = True

    def edited_spec(self) -> dict[str, Any]:
        """The workflow file as edited on the canvas."""
        spec = copy.deepcopy(self.spec)
        spec["nodes"] = copy.deepcopy(self.spec_nodes)
        spec["edges"] = copy.deepcopy(self.spec_edges)
        return spec

    @rx.event
    async def save(self):
        """Save the canvas as a new version; toast the result or every problem."""
        from n8nclone.workflows import save_workflow

        if not self.workflow_id:
            yield rx.toast.error("no workflow loaded")
            return
        spec, workflow_id = self.edited_spec(), self.workflow_id
        services = _services()
        self.saving = True
        yield
        try:
            record = await asyncio.to_thread(
                save_workflow, services.workflows, services.registry, spec, workflow_id)
        except WorkflowInvalid as invalid:
            self.problems = [str(p) for p in invalid.problems]
            yield rx.toast.error(
                "Not saved: " + "; ".join(self.problems), duration=10000)
            return
        except UserInputError as error:
            self.problems = [str(error)]
            yield rx.toast.error(f"Not saved: {error}", duration=10000)
            return
        finally:
            self.saving = False
        self._show(record)
        self.problems, self.dirty = [], False
        yield rx.toast.success(f"Saved version {record.version}")
