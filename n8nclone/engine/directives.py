"""What a node returns to make its step wait (Inngest's step.sleep / step.waitForEvent).

A directive is returned, never raised, so no `except Exception` in a node can swallow it.
The engine records the wait and ends the actor call (no thread is held); the step completes
when its time comes or its event arrives, without running the node again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SleepUntil:
    """Complete the step at `until` (aware UTC). Its output is `{"slept_until": ISO}`."""

    until: datetime


@dataclass(frozen=True)
class WaitForEvent:
    """Complete the step with the first event named `event` for which `event.<match_field>`
    equals `match_value` (when a field is given) and the expression `condition` over `event`
    is true (when given). At `expires_at` the step completes with output None, or fails when
    `fail_on_timeout`."""

    event: str
    expires_at: datetime
    match_field: str | None = None
    match_value: Any = None
    condition: str | None = None
    fail_on_timeout: bool = False
