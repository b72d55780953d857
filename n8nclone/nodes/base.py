"""The node contract: a type name, a parameter schema, and `execute(ctx, params)`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.schema import Param
from n8nclone.triggers.registration import Registration

GROUPS = ("trigger", "ai", "http", "flow", "data", "wait")


@dataclass(frozen=True)
class Routed:
    """An output sent out of one named port (e.g. `flow.if` choosing `true`)."""

    output: Any
    port: str


@dataclass(frozen=True)
class Usage:
    """What one call to a metered service (an LLM) consumed. A node reports it with
    `ctx.report_usage`; the engine stores it on the step (summed over the step's attempts)
    and the run's totals add it up. `cost_usd` is None when the price is unknown."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None
    latency_ms: float | None = None


SECRET_FIELDS = ("value", "password")  # of a credential's data; the rest (a header's name,
# a user name) are not secret and stay readable in what a step stores


@dataclass(frozen=True)
class Credential:
    """A stored credential, decrypted: its `type` (llm_api_key, http_header, http_basic,
    bearer_token) says which fields `data` holds."""

    name: str
    type: str
    data: dict[str, str]


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
    # Finds a credential by name (decrypted); raises NonRetriableError when there is none or
    # it cannot be decrypted. None where credentials are not wired.
    find_credential: Callable[[str], Credential] | None = None
    # What the run may still spend (the workflow's `budget_usd` minus what its steps cost so
    # far); None when the workflow has no budget.
    budget_left_usd: float | None = None
    usage: list[Usage] = field(default_factory=list)  # what this step reported (report_usage)
    # Secret values this step saw (through `credential`): the engine removes them from the
    # step's output and error before storing them.
    revealed: set[str] = field(default_factory=set)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("n8nclone.node"))

    def credential(self, name: str) -> Credential:
        """The credential called `name`, decrypted; its secret values are noted as revealed."""
        if self.find_credential is None:
            raise NonRetriableError("credentials are not available here")
        found = self.find_credential(name)
        self.revealed.update(v for k, v in found.data.items()
                             if k in SECRET_FIELDS and isinstance(v, str) and v)
        return found

    def report_usage(self, usage: Usage) -> None:
        """Record what a call of this step consumed (tokens, cost, latency)."""
        self.usage.append(usage)

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
