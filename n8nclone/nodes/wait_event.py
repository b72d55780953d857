"""`wait.event`: waits for a matching event, with a timeout, holding no worker thread."""

from __future__ import annotations

from datetime import timedelta

from n8nclone.durations import parse_duration
from n8nclone.engine.directives import WaitForEvent
from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param
from n8nclone.store.clock import utcnow


class WaitEvent(NodeType):
    type = "wait.event"
    label = "Wait for event"
    group = "wait"
    description = ("Pauses the run until a matching event arrives (a human approval, a "
                   "payment) or the timeout passes. Outputs the event, or null on timeout.")
    params = (
        Param("event", "string", required=True, help="Event name, e.g. invoice/paid."),
        Param("match_field", "string",
              help="A field of the event that must equal match_value, e.g. data.order_id."),
        Param("match_value", "string",
              help="The value it must equal, usually from this run: {{ trigger.body.id }}."),
        Param("if", "string", help="An extra condition over `event` (no braces), e.g. "
                                   "event.data.amount > 100."),
        Param("timeout", "duration", default="1d", required=True,
              help="How long to wait, e.g. 30m, 7d."),
        Param("on_timeout", "options", default="continue", options=("continue", "fail"),
              help="continue: output null and go on; fail: fail the step."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        field, value = params.get("match_field") or None, params.get("match_value")
        if field is None and value not in (None, ""):
            raise NonRetriableError("match_value needs a match_field")
        try:
            timeout = parse_duration(params["timeout"])
        except ValueError as exc:
            raise NonRetriableError(f"timeout: {exc}") from None
        return WaitForEvent(event=str(params["event"]),
                            expires_at=utcnow() + timedelta(seconds=timeout),
                            match_field=field, match_value=value if field else None,
                            condition=params.get("if") or None,
                            fail_on_timeout=params["on_timeout"] == "fail")


NODE_TYPE = WaitEvent
