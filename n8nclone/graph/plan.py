"""Graph -> plan: build the networkx DiGraph of a workflow, validate it, order it.

Pure: no I/O. What the plan needs to know about node types comes in through
`Catalog` (the node registry satisfies it), so this layer knows no node type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx

from n8nclone.graph.problems import Problem, WorkflowInvalid
from n8nclone.graph.spec import WorkflowSpec


class ParamInfo(Protocol):
    name: str

    def check_literal(self, value: Any) -> str | None: ...


class TypeInfo(Protocol):
    is_trigger: bool
    outputs: tuple[str, ...]
    params: tuple[ParamInfo, ...]


class Catalog(Protocol):
    def get(self, type_name: str) -> TypeInfo | None: ...


@dataclass(frozen=True)
class PlanNode:
    key: str
    type: str
    params: dict[str, Any]
    retries: int | None = None


@dataclass(frozen=True)
class Plan:
    """A validated workflow in execution order. Serializable; stored on each version."""

    order: tuple[str, ...]
    nodes: dict[str, PlanNode]
    incoming: dict[str, tuple[tuple[str, str], ...]]  # target -> ((source, port), ...)
    trigger: str
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "order": list(self.order),
            "trigger": self.trigger,
            "settings": self.settings,
            "nodes": [
                {"key": n.key, "type": n.type, "params": n.params, "retries": n.retries}
                for n in (self.nodes[k] for k in self.order)
            ],
            "incoming": {k: [list(e) for e in v] for k, v in self.incoming.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        nodes = {n["key"]: PlanNode(n["key"], n["type"], n["params"], n.get("retries"))
                 for n in data["nodes"]}
        incoming = {k: tuple((s, p) for s, p in v) for k, v in data["incoming"].items()}
        return cls(order=tuple(data["order"]), nodes=nodes, incoming=incoming,
                   trigger=data["trigger"], settings=data.get("settings", {}))


def build_graph(spec: WorkflowSpec) -> nx.MultiDiGraph:
    """The workflow as a graph: nodes carry their spec, edges their port."""
    graph = nx.MultiDiGraph()
    for index, node in enumerate(spec.nodes):
        graph.add_node(node.key, spec=node, index=index)
    for edge in spec.edges:
        if edge.source in graph and edge.target in graph:
            graph.add_edge(edge.source, edge.target, port=edge.port)
    return graph


def validate(spec: WorkflowSpec, catalog: Catalog) -> list[Problem]:
    """Every problem with `spec`, each a readable message naming its node."""
    problems: list[Problem] = []
    problems += _node_problems(spec, catalog)
    problems += _edge_problems(spec, catalog)
    graph = build_graph(spec)
    problems += _cycle_problems(graph)
    problems += _trigger_problems(spec, catalog, graph)
    return problems


def build_plan(spec: WorkflowSpec, catalog: Catalog) -> Plan:
    """Validate and order `spec`; raise WorkflowInvalid with every problem."""
    problems = validate(spec, catalog)
    if problems:
        raise WorkflowInvalid(problems)
    graph = build_graph(spec)
    order = tuple(nx.lexicographical_topological_sort(
        graph, key=lambda key: graph.nodes[key]["index"]))
    incoming = {key: tuple((e.source, e.port) for e in spec.edges if e.target == key)
                for key in order}
    trigger = next(n.key for n in spec.nodes if catalog.get(n.type).is_trigger)
    nodes = {n.key: PlanNode(n.key, n.type, n.params, n.retries) for n in spec.nodes}
    settings = spec.settings.model_dump(mode="json", exclude_none=True, by_alias=True)
    return Plan(order=order, nodes=nodes, incoming=incoming, trigger=trigger, settings=settings)


def _node_problems(spec: WorkflowSpec, catalog: Catalog) -> Iterable[Problem]:
    seen: set[str] = set()
    for node in spec.nodes:
        if node.key in seen:
            yield Problem(f"node '{node.key}': the key is used by more than one node", node.key)
        seen.add(node.key)
        info = catalog.get(node.type)
        if info is None:
            yield Problem(f"node '{node.key}': unknown node type '{node.type}'", node.key, "type")
            continue
        known = {p.name for p in info.params}
        for name in node.params:
            if name not in known:
                yield Problem(f"node '{node.key}' ({node.type}): unknown parameter '{name}'",
                              node.key, f"params.{name}")
        for param in info.params:
            message = param.check_literal(node.params.get(param.name))
            if message:
                yield Problem(f"node '{node.key}' ({node.type}): {message}", node.key,
                              f"params.{param.name}")


def _edge_problems(spec: WorkflowSpec, catalog: Catalog) -> Iterable[Problem]:
    types = {n.key: n.type for n in spec.nodes}
    seen: set[tuple[str, str, str]] = set()
    for edge in spec.edges:
        label = f"edge {edge.source} -> {edge.target}"
        for end in (edge.source, edge.target):
            if end not in types:
                yield Problem(f"{label}: no node has the key '{end}'", end)
        if edge.source not in types or edge.target not in types:
            continue
        if (edge.source, edge.port, edge.target) in seen:
            yield Problem(f"{label}: the edge appears twice", edge.source)
        seen.add((edge.source, edge.port, edge.target))
        if edge.source == edge.target:
            continue  # reported as a cycle
        source_info, target_info = catalog.get(types[edge.source]), catalog.get(types[edge.target])
        if source_info and edge.port not in source_info.outputs:
            ports = ", ".join(source_info.outputs)
            yield Problem(f"{label}: node '{edge.source}' ({types[edge.source]}) has no port "
                          f"'{edge.port}' (ports: {ports})", edge.source, "port")
        if target_info and target_info.is_trigger:
            yield Problem(f"{label}: trigger node '{edge.target}' cannot have inputs",
                          edge.target)


def _cycle_problems(graph: nx.MultiDiGraph) -> Iterable[Problem]:
    for component in nx.strongly_connected_components(graph):
        members = sorted(component, key=lambda k: graph.nodes[k]["index"])
        if len(members) == 1 and not graph.has_edge(members[0], members[0]):
            continue
        cycle = [u for u, _v, *_ in nx.find_cycle(graph.subgraph(members), source=members[0])]
        path = " -> ".join(cycle + [cycle[0]])
        yield Problem(f"cycle: {path} (nodes {', '.join(members)})", members[0])


def _trigger_problems(spec: WorkflowSpec, catalog: Catalog,
                      graph: nx.MultiDiGraph) -> Iterable[Problem]:
    triggers = [n.key for n in spec.nodes if (info := catalog.get(n.type)) and info.is_trigger]
    if not triggers:
        yield Problem("the workflow has no trigger node (add one, e.g. trigger.manual)")
        return
    if len(triggers) > 1:
        for key in triggers[1:]:
            yield Problem(f"node '{key}': a workflow has exactly one trigger, "
                          f"and '{triggers[0]}' is already one", key)
        return
    reachable = nx.descendants(graph, triggers[0]) | {triggers[0]}
    for node in spec.nodes:
        if node.key not in reachable and node.key in graph:
            yield Problem(f"node '{node.key}' is not connected to the trigger "
                          f"'{triggers[0]}'", node.key)
