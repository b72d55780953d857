"""`wait.sleep`: sleeps for a duration or until a time, holding no worker thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from n8nclone.durations import parse_duration
from n8nclone.engine.directives import SleepUntil
from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param
from n8nclone.store.clock import utcnow


def parse_time(value) -> datetime:
    """An ISO 8601 time (UTC when it has no offset) or epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise NonRetriableError(f"until: {value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Sleep(NodeType):
    type = "wait.sleep"
    label = "Sleep"
    group = "wait"
    description = ("Pauses the run for a duration or until a time. The run is stored, not "
                   "held in memory: it survives restarts and costs no worker while asleep.")
    params = (
        Param("duration", "duration", help="How long, e.g. 30s, 5m, 1h, 2d."),
        Param("until", "string", help="Or until this time: ISO 8601 (UTC if no offset) or "
                                      "epoch seconds, e.g. {{ trigger.body.remind_at }}."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        duration, until = params.get("duration"), params.get("until")
        if (duration in (None, "")) == (until in (None, "")):
            raise NonRetriableError("give either a duration or an until time")
        if until not in (None, ""):
            return SleepUntil(parse_time(until))
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise NonRetriableError(f"duration: {exc}") from None
        return SleepUntil(utcnow() + timedelta(seconds=seconds))


NODE_TYPE = Sleep
