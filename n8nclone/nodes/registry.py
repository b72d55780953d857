"""The catalogue of node types. Built-ins are registered here; plug-ins through the
`n8nclone.nodes` entry point group (each entry point names a NodeType subclass)."""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from n8nclone.nodes.base import GROUPS, NodeType


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[NodeType]] = {}

    def register(self, node_type: type[NodeType]) -> type[NodeType]:
        name = getattr(node_type, "type", None)
        if not name:
            raise ValueError(f"{node_type.__name__} has no `type` name")
        if name in self._types and self._types[name] is not node_type:
            raise ValueError(f"node type {name!r} is registered twice")
        if node_type.group not in GROUPS:
            raise ValueError(f"node type {name!r}: unknown group {node_type.group!r}")
        self._types[name] = node_type
        return node_type

    def get(self, name: str) -> type[NodeType] | None:
        return self._types.get(name)

    def all(self) -> list[type[NodeType]]:
        return sorted(self._types.values(), key=lambda t: (GROUPS.index(t.group), t.type))

    def __contains__(self, name: str) -> bool:
        return name in self._types


@functools.lru_cache(maxsize=1)
def default_registry() -> NodeRegistry:
    """The built-in node types plus installed plug-ins."""
    from n8nclone.nodes import (
        ai_prompt,
        data_set,
        event_send,
        flow_if,
        flow_merge,
        http_request,
        trigger_event,
        trigger_manual,
        trigger_schedule,
        trigger_webhook,
        wait_event,
        wait_sleep,
        webhook_respond,
    )

    registry = NodeRegistry()
    for module in (trigger_manual, trigger_schedule, data_set, flow_if, flow_merge,
                   http_request, trigger_webhook, webhook_respond, trigger_event, wait_sleep,
                   wait_event, event_send, ai_prompt):
        registry.register(module.NODE_TYPE)
    for entry in entry_points(group="n8nclone.nodes"):
        registry.register(entry.load())
    return registry
