"""Edits to the draft's nodes and edges: keys, renames, moves, deletions, retries."""

from __future__ import annotations

import json
import re
from typing import Any

from n8nclone.graph.spec import KEY_PATTERN
from n8nclone.ui.editor.canvas import node_id_of_edge

NEW_NODE_SPACING = 120  # vertical gap below the lowest node for a node added from the palette
MAX_NODE_RETRIES = 50


def find_node(nodes: list[dict], key: str) -> dict[str, Any]:
    """The node with `key`, or {}."""
    return next((n for n in nodes if n["key"] == key), {})


def type_info(catalogue: list[dict], type_name: str) -> dict[str, Any]:
    """The catalogue's description of a node type, or {}."""
    return next((e for e in catalogue if e["type"] == type_name), {})


def node_summary(node: dict, info: dict, problem: str) -> dict[str, Any]:
    """What the side panel's header shows of a node ({} without one)."""
    if not node:
        return {}
    return {"type": node["type"], "label": info.get("label", node["type"]),
            "description": info.get("description", ""),
            "retries": "" if node.get("retries") is None else str(node["retries"]),
            "problem": problem}


def replace_node(nodes: list[dict], key: str, **changes: Any) -> list[dict]:
    """The nodes with `changes` applied to the one with `key`."""
    return [{**n, **changes} if n["key"] == key else n for n in nodes]


def new_node_key(type_name: str, taken: set[str]) -> str:
    """A key for a new node of `type_name`: its last name part plus the first free number."""
    base = "".join(c if c.isalnum() else "_" for c in type_name.rsplit(".", 1)[-1]) or "node"
    if not (base[0].isalpha() or base[0] == "_"):
        base = "n_" + base
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def position_below(nodes: list[dict]) -> list[int]:
    """Where a palette click puts a new node: below the lowest node, or the origin."""
    positions = [n.get("position") or [0, 0] for n in nodes]
    lowest = max(positions, key=lambda p: p[1], default=None)
    return [lowest[0], lowest[1] + NEW_NODE_SPACING] if lowest else [0, 0]


def moved_nodes(nodes: list[dict], moved: list[dict]) -> tuple[list[dict], bool]:
    """The nodes at the positions a drag left them, and whether any of them moved."""
    where = {m["id"]: [m["x"], m["y"]] for m in moved if "id" in m}
    result, changed = [], False
    for node in nodes:
        if node["key"] in where and list(node.get("position") or []) != where[node["key"]]:
            node = {**node, "position": where[node["key"]]}
            changed = True
        result.append(node)
    return result, changed


def edge_from_connection(connection: dict, edges: list[dict]) -> dict | None:
    """The workflow-file edge for a connection drawn on the canvas; None for a loop onto the
    same node or an edge already there."""
    edge = {"from": connection["source"], "to": connection["target"],
            "port": connection.get("sourceHandle") or "main"}
    if edge["from"] == edge["to"]:
        return None
    if any(node_id_of_edge(e) == node_id_of_edge(edge) for e in edges):
        return None
    if edge["port"] == "main":
        del edge["port"]  # the file's default
    return edge


def without_nodes(nodes: list[dict], edges: list[dict],
                  keys: set[str]) -> tuple[list[dict], list[dict]]:
    """The nodes without `keys`, and the edges without any touching them."""
    return ([n for n in nodes if n["key"] not in keys],
            [e for e in edges if e["from"] not in keys and e["to"] not in keys])


def rename_in_edges(edges: list[dict], old: str, new: str) -> list[dict]:
    """The edges with node key `old` replaced by `new` at either end."""
    return [{**e, "from": new if e["from"] == old else e["from"],
             "to": new if e["to"] == old else e["to"]} for e in edges]


def rename_keys(by_key: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A per-node mapping with the entry of `old` moved to `new`."""
    return {new if k == old else k: v for k, v in by_key.items()}


def key_problem(new_key: str, nodes: list[dict]) -> str:
    """Why `new_key` cannot name a node ("" when it can)."""
    if not re.match(KEY_PATTERN, new_key):
        return "a key starts with a letter or _ and holds only letters, digits and _"
    if any(n["key"] == new_key for n in nodes):
        return f"another node has the key {new_key!r}"
    return ""


def parse_retries(raw: Any) -> tuple[int | None, str]:
    """A node's retries input: (the override or None for the workflow's default, a problem)."""
    text = str(raw or "").strip()
    if not text:
        return None, ""
    if text.isdigit() and int(text) <= MAX_NODE_RETRIES:
        return int(text), ""
    return None, (f"a whole number from 0 to {MAX_NODE_RETRIES}, "
                  "or empty for the workflow's default")


def with_retries(node: dict, retries: int | None) -> dict[str, Any]:
    """The node with its retries override set, or removed for None."""
    changed = {k: v for k, v in node.items() if k != "retries"}
    if retries is not None:
        changed["retries"] = retries
    return changed


def problems_by_node(problems: list) -> dict[str, str]:
    """Each node's first validation problem."""
    by_node: dict[str, str] = {}
    for problem in problems:
        if problem.node and problem.node not in by_node:
            by_node[problem.node] = str(problem)
    return by_node


def webhook_urls(nodes: list[dict], origin: str) -> dict[str, str]:
    """Production and test URLs of the draft's webhook trigger ({} without one)."""
    hook = next((n for n in nodes if n["type"] == "trigger.webhook"), None)
    path = str((hook or {}).get("params", {}).get("path") or "").strip("/")
    if not path:
        return {}
    return {"production": f"{origin}/webhook/{path}", "test": f"{origin}/webhook-test/{path}"}


def default_run_input(nodes: list[dict]) -> str:
    """The Run button's input: the manual trigger's sample data, else {}."""
    trigger = next((n for n in nodes if n["type"] == "trigger.manual"), None)
    sample = (trigger or {}).get("params", {}).get("sample_data")
    return json.dumps(sample if sample is not None else {}, indent=2)
