"""Event ingestion: store an event once, then start, resume and cancel the runs it concerns.

One event (1) starts every active workflow whose `trigger.event` matches its name (exact,
or a prefix such as `order/*`) and `if`; (2) completes the `wait.event` steps waiting for
it; (3) cancels runs whose workflow's cancel-on rule it matches. An event whose `id` was
seen in the last 24 hours is not processed again: its stored id is returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from n8nclone.engine.control import cancel_run
from n8nclone.engine.start import RunNotStarted, start_run
from n8nclone.errors import UserInputError
from n8nclone.expressions import ExpressionError, evaluate
from n8nclone.nodes.flow_if import truthy
from n8nclone.nodes.trigger_event import name_matches
from n8nclone.store.clock import new_id, utcnow
from n8nclone.store.models import Event
from n8nclone.store.waits import WaitRow

if TYPE_CHECKING:
    from n8nclone.services import Services

EVENT = Event.__table__
DEDUPE_WINDOW = timedelta(hours=24)
log = logging.getLogger("n8nclone.events")


@dataclass(frozen=True)
class EventIn:
    name: str
    data: Any = None
    id: str | None = None
    ts: datetime | None = None


class BadEvent(UserInputError):
    pass


def ingest_events(services: Services, events: list[EventIn]) -> list[str]:
    """Store and act on `events`; returns their stored ids, in order."""
    ids = []
    for event in events:
        if not isinstance(event.name, str) or not event.name.strip():
            raise BadEvent("an event needs a name")
        stored_id, stored = _store(services, event)
        ids.append(stored_id)
        if stored is not None:
            _act_on(services, stored_id, stored)
    return ids


def _store(services: Services, event: EventIn) -> tuple[str, dict | None]:
    """Insert the event unless its id was seen lately. Returns (id, event dict if new)."""
    now = utcnow()
    with services.db.write() as conn:
        if event.id is not None:
            seen = conn.execute(select(EVENT.c.id).where(
                EVENT.c.external_id == event.id,
                EVENT.c.received_at > now - DEDUPE_WINDOW).limit(1)).scalar()
            if seen:
                return seen, None
        event_id = new_id()
        ts = event.ts or now
        data = {} if event.data is None else event.data
        conn.execute(insert(EVENT).values(id=event_id, external_id=event.id, name=event.name,
                                          data=data, ts=ts, received_at=now))
    return event_id, {"id": event.id or event_id, "name": event.name, "data": data,
                      "ts": ts.isoformat()}


def _act_on(services: Services, event_id: str, event: dict) -> None:
    _start_triggered_runs(services, event)
    waits = services.executor.waits
    for wait in waits.candidates(event):
        if not _condition_holds(wait.condition, event):
            continue
        if not waits.resolve(wait.id, event_id):
            continue  # another event got there first
        _wake_or_cancel(services, wait)


def _start_triggered_runs(services: Services, event: dict) -> None:
    for reg in services.triggers.find("trigger.event"):
        if not name_matches(reg.key, event["name"]):
            continue
        if not _condition_holds(reg.config.get("if"), event):
            continue
        plan = services.executor.plan_for(reg.version_id)
        try:
            start_run(services.runs, services.dispatcher, workflow_id=reg.workflow_id,
                      version_id=reg.version_id, plan_settings=plan.settings, input=event,
                      trigger_type="event")
        except RunNotStarted as exc:
            log.warning("event %s: workflow %s not started: %s", event["name"],
                        reg.workflow_id, exc)


def _wake_or_cancel(services: Services, wait: WaitRow) -> None:
    if wait.kind == "cancel":
        cancel_run(services.runs, services.dispatcher, wait.run_id)
        return
    services.runs.request_wake(wait.run_id)
    services.dispatcher.send(wait.run_id)


def _condition_holds(condition: str | None, event: dict) -> bool:
    if not condition:
        return True
    try:
        return truthy(evaluate(condition, {"event": event}))
    except ExpressionError as exc:
        log.warning("event %s: condition %r failed: %s", event["name"], condition, exc)
        return False
