"""What a step's metered calls consumed, as the store keeps it: one sum per attempt."""

from __future__ import annotations

from collections.abc import Sequence

from n8nclone.nodes.base import Usage
from n8nclone.store.runs import StepUsage


def step_usage(usages: Sequence[Usage]) -> StepUsage | None:
    """The sum of an attempt's reported usage (None when it reported none). The model is
    the last call's; the cost is unknown (None) only when no call had a known price."""
    if not usages:
        return None
    costs = [u.cost_usd for u in usages if u.cost_usd is not None]
    return StepUsage(
        model=usages[-1].model,
        prompt_tokens=sum(u.prompt_tokens for u in usages),
        completion_tokens=sum(u.completion_tokens for u in usages),
        total_tokens=sum(u.total_tokens for u in usages),
        cost_usd=sum(costs) if costs else None,
        latency_ms=sum(u.latency_ms or 0.0 for u in usages))
