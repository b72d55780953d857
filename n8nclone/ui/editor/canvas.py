"""The workflow file's nodes and edges in React Flow's shape, and the palette."""

from __future__ import annotations

from typing import Any


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


def flow_nodes(nodes: list[dict], catalogue: list[dict], problems: dict[str, str],
               status: dict[str, str]) -> list[dict[str, Any]]:
    """Every node for the canvas, with its first problem and its last-run status."""
    describe = {entry["type"]: entry for entry in catalogue}
    return [flow_node(node, describe, problems.get(node["key"], ""), status.get(node["key"], ""))
            for node in nodes]


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


def palette_groups(catalogue: list[dict]) -> list[dict[str, Any]]:
    """Node types grouped by `group`, in the catalogue's order."""
    groups: list[dict[str, Any]] = []
    for entry in catalogue:
        if not groups or groups[-1]["group"] != entry["group"]:
            groups.append({"group": entry["group"], "types": []})
        groups[-1]["types"].append(
            {"type": entry["type"], "label": entry.get("label") or entry["type"]})
    return groups
