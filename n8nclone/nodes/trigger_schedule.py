"""`trigger.schedule`: started by the scheduler at each tick of a cron expression."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param
from n8nclone.triggers.registration import Registration
from n8nclone.triggers.schedule_cron import (
    DEFAULT_TIMEZONE,
    cron_problem,
    normalize_cron,
    timezone_problem,
)

KIND = "trigger.schedule"


@dataclass(frozen=True)
class CheckedParam(Param):
    """A parameter with a check of its own beyond its type, run at save. Templates are
    not accepted: the value is needed when the workflow is saved, not when a step runs."""

    check: Callable[[Any], str | None] | None = None

    def check_literal(self, value: Any) -> str | None:
        if self.required and (value is None or value == ""):
            return f"missing required parameter '{self.name}'"
        problem = self.check(value) if self.check else None
        return f"parameter '{self.name}': {problem}" if problem else None


class ScheduleTrigger(NodeType):
    type = KIND
    label = "Schedule"
    group = "trigger"
    is_trigger = True
    description = ("Starts the workflow at each tick of a cron expression, in a timezone. "
                   "Outputs {scheduled_at, timezone, cron}.")
    params = (
        CheckedParam("cron", "string", required=True, check=cron_problem,
                     help="5 fields: minute hour day-of-month month day-of-week, "
                          "e.g. '*/15 9-17 * * 1-5'"),
        CheckedParam("timezone", "string", default=DEFAULT_TIMEZONE, check=timezone_problem,
                     help="IANA timezone the cron is read in, e.g. 'Europe/Berlin'"),
    )

    def execute(self, ctx: NodeContext, params: dict) -> Any:
        return ctx.trigger

    @classmethod
    def registration(cls, params: dict[str, Any]) -> Registration:
        """Found by the scheduler through its cron; `config` holds the timezone too."""
        cron = normalize_cron(params["cron"])
        timezone = params.get("timezone") or DEFAULT_TIMEZONE
        return Registration(kind=KIND, key=cron,
                            config={**params, "cron": cron, "timezone": timezone})


NODE_TYPE = ScheduleTrigger
