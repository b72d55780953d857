"""`event.send`: emits events. Their ids derive from the run and the node, so a retried
step does not emit twice (an id seen in the last 24 h is not processed again)."""

from __future__ import annotations

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param


class SendEvent(NodeType):
    type = "event.send"
    label = "Send event"
    group = "data"
    description = "Emits one or more events (which may start or resume other runs)."
    waits_on_io = True
    params = (
        Param("events", "json", required=True,
              help='One event {"name": ..., "data": {...}} or a list of them.'),
    )

    def execute(self, ctx: NodeContext, params: dict):
        events = params["events"]
        events = [events] if isinstance(events, dict) else events
        if not isinstance(events, list) or not events:
            raise NonRetriableError("events must be an event object or a non-empty list")
        prepared = []
        for index, event in enumerate(events):
            if not isinstance(event, dict) or not isinstance(event.get("name"), str) \
                    or not event["name"]:
                raise NonRetriableError(f"events[{index}] needs a name")
            prepared.append({"name": event["name"], "data": event.get("data", {}),
                             "id": f"{ctx.run_id}:{ctx.node_key}:{index}"})
        if ctx.send_events is None:
            raise NonRetriableError("events cannot be sent from here")
        return {"ids": ctx.send_events(prepared)}


NODE_TYPE = SendEvent
