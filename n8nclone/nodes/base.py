"""The node contract: a type name, a parameter schema, and `execute(ctx, params)`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from n8nclone.nodes.schema import Param
from n8nclone.triggers.registration import Registration

GROUPS = ("trigger", "ai", "http", "flow", "data", "wait")


@dataclass(frozen=True)
class Routed:
    """An output sent out of one named port (e.g. `flow.if` choosing `true`)."""

    output: Any
    port: str


@dataclass
class NodeContext:
    """What a node may know about the run it works in. Nodes never touch the database."""

    run_id: str
    workflow_id: int
    node_key: str
    attempt: int
    trigger: Any
    inputs: dict[str, Any] = field(default_factory=dict)  # live predecessor key -> output
    # Emits events ([{"name", "data", "id"?}] -> their ids); None where events are not wired.
    send_events: Callable[[list[dict]], list[str]] | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("n8nclone.node"))

    @property
    def input(self) -> Any:
        """The single predecessor's output, or a dict by key when there are several."""
        if len(self.inputs) == 1:
            return next(iter(self.inputs.values()))
        return dict(self.inputs) if self.inputs else None


class NodeType:
    """Base class of every node type. Subclasses set the class attributes and `execute`."""

    type: ClassVar[str]
    label: ClassVar[str]
    group: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ("main",)
    is_trigger: ClassVar[bool] = False
    # True when `execute` waits on the outside world (network, disk). The engine then lets
    # other runs' steps proceed meanwhile; pure computations keep the engine's turn.
    waits_on_io: ClassVar[bool] = False

    def execute(self, ctx: NodeContext, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    @classmethod
    def registration(cls, params: dict[str, Any]) -> Registration | None:
        """For trigger types: how an active workflow is found (webhook path, event name,
        schedule). None: only started by hand (CLI, API, Run button)."""
        return None

    @classmethod
    def param(cls, name: str) -> Param | None:
        return next((p for p in cls.params if p.name == name), None)

    @classmethod
    def with_defaults(cls, params: dict[str, Any]) -> dict[str, Any]:
        """`params` completed with the schema's defaults."""
        merged = {p.name: p.default for p in cls.params}
        merged.update(params)
        return merged

    @classmethod
    def describe(cls) -> dict:
        """The JSON description the editor renders (palette entry and form)."""
        return {
            "type": cls.type,
            "label": cls.label,
            "group": cls.group,
            "description": cls.description,
            "params": [p.describe() for p in cls.params],
            "outputs": list(cls.outputs),
            "is_trigger": cls.is_trigger,
        }
