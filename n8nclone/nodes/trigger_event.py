"""`trigger.event`: started by a matching event (a name, or a prefix such as `order/*`)."""

from __future__ import annotations

from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param
from n8nclone.triggers.registration import Registration


def name_matches(pattern: str, name: str) -> bool:
    """Exact, or a prefix wildcard: `order/*` matches `order/paid`."""
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return pattern == name


class EventTrigger(NodeType):
    type = "trigger.event"
    label = "Event trigger"
    group = "trigger"
    is_trigger = True
    description = "Starts the workflow for each matching event. Outputs the event."
    params = (
        Param("event", "string", required=True,
              help="Event name, or a prefix wildcard such as order/*."),
        Param("if", "string", help="Only events for which this expression over `event` "
                                   "is true (no braces), e.g. event.data.total > 100."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        return ctx.trigger

    @classmethod
    def registration(cls, params: dict) -> Registration | None:
        return Registration(kind=cls.type, key=str(params["event"]), config=params)


NODE_TYPE = EventTrigger
