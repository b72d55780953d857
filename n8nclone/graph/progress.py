"""Which steps of a run may start now, and which are skipped (branch semantics).

An edge from a node is *live* when its source succeeded and chose the edge's
port, *dead* when the source was skipped or chose another port. A node waits
until every incoming edge is resolved; then it runs if any edge is live and is
skipped otherwise. So a `flow.if` routes to one port, nodes reachable only
through the other are skipped, and `flow.merge` runs once all its non-skipped
inputs are done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from n8nclone.graph.plan import Plan

SUCCEEDED = "succeeded"
SKIPPED = "skipped"


class HasStatus(Protocol):
    """What progress needs to know of a step (StepState, or the engine's own records)."""

    status: str
    port: str | None


@dataclass(frozen=True)
class StepState:
    status: str
    port: str | None = None


@dataclass(frozen=True)
class Progress:
    ready: tuple[str, ...]  # may start now, in plan order
    skipped: tuple[str, ...]  # newly resolved as skipped
    live_inputs: Mapping[str, tuple[str, ...]]  # ready key -> predecessors whose output it gets


def next_steps(plan: Plan, states: Mapping[str, HasStatus]) -> Progress:
    """Resolve what can happen next given the states of the steps recorded so far."""
    known: dict[str, HasStatus] = dict(states)
    ready: list[str] = []
    skipped: list[str] = []
    live_inputs: dict[str, tuple[str, ...]] = {}
    for key in plan.order:
        if key in known:
            continue
        edges = plan.incoming.get(key, ())
        if not edges:
            ready.append(key)
            live_inputs[key] = ()
            continue
        live: list[str] = []
        unresolved = False
        for source, port in edges:
            state = known.get(source)
            if state is None or state.status not in (SUCCEEDED, SKIPPED):
                unresolved = True
                break
            if state.status == SUCCEEDED and (state.port or "main") == port:
                live.append(source)
        if unresolved:
            continue
        if live:
            ready.append(key)
            live_inputs[key] = tuple(dict.fromkeys(live))
        else:
            skipped.append(key)
            known[key] = StepState(SKIPPED)  # so skipping cascades in this same pass
    return Progress(ready=tuple(ready), skipped=tuple(skipped), live_inputs=live_inputs)


def is_complete(plan: Plan, states: Mapping[str, HasStatus]) -> bool:
    """True when every node succeeded or was skipped."""
    return all(
        (s := states.get(k)) is not None and s.status in (SUCCEEDED, SKIPPED) for k in plan.order
    )
