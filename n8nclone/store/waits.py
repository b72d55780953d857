"""Runs waiting for events: wait.event steps and cancel-on rules.

An event is matched by name, then by `match_key` (the waited-for field and its value,
encoded once when the wait is created), so thousands of waits cost an index lookup per
event, not a scan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text, update

from n8nclone.store.clock import utcnow
from n8nclone.store.db import Database
from n8nclone.store.models import Event, Wait

WAIT = Wait.__table__
EVENT = Event.__table__


def match_key(field: str | None, value: Any) -> str | None:
    """How a waited-for field and value are stored and looked up."""
    if field is None:
        return None
    return f"{field}={json.dumps(value, sort_keys=True, default=str)}"


def field_value(event: dict, path: str) -> Any:
    """`event` at a dotted path such as `data.order_id` (None when absent)."""
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _not_expired():
    """An event after a wait's timeout must not complete it, even before a worker noticed."""
    return or_(WAIT.c.expires_at.is_(None), WAIT.c.expires_at > utcnow())


@dataclass(frozen=True)
class WaitRow:
    id: int
    run_id: str
    node_key: str | None
    kind: str
    condition: str | None
    status: str
    event_id: str | None
    expires_at: datetime | None
    fail_on_timeout: bool


WAIT_INSERT_KEYS = ("run_id", "node_key", "kind", "event_name", "match_field", "match_key",
                    "condition", "expires_at", "fail_on_timeout", "status", "created_at")


def wait_values(*, run_id: str, node_key: str | None, kind: str, event: str,
                match_field: str | None, match_value: Any, condition: str | None,
                expires_at: datetime | None, fail_on_timeout: bool = False) -> dict:
    """The row of a new wait (inserted by the caller's transaction)."""
    return dict(run_id=run_id, node_key=node_key, kind=kind, event_name=event,
                match_field=match_field, match_key=match_key(match_field, match_value),
                condition=condition, expires_at=expires_at, fail_on_timeout=fail_on_timeout,
                status="waiting", created_at=utcnow())


# The fields open waits for an event match on: a handful of distinct values among possibly
# thousands of waits. Each step of this recursive query seeks the next distinct field in
# the index ix_wait_event_field instead of reading every open wait.
_WAITED_FIELDS = text("""
    WITH RECURSIVE fields(field) AS (
        SELECT MIN(match_field) FROM wait
        WHERE event_name = :name AND status = 'waiting' AND match_field IS NOT NULL
        UNION ALL
        SELECT (SELECT MIN(match_field) FROM wait
                WHERE event_name = :name AND status = 'waiting' AND match_field > fields.field)
        FROM fields WHERE fields.field IS NOT NULL
    )
    SELECT field FROM fields WHERE field IS NOT NULL""")
_ANY_UNMATCHED = text("""
    SELECT 1 FROM wait
    WHERE event_name = :name AND status = 'waiting' AND match_field IS NULL LIMIT 1""")


class WaitStore:
    def __init__(self, db: Database):
        self.db = db

    def candidates(self, event: dict) -> list[WaitRow]:
        """Open waits this event may satisfy (its `condition`, if any, is still to check)."""
        name = event["name"]
        with self.db.read() as conn:
            fields = [f for (f,) in conn.execute(_WAITED_FIELDS, {"name": name})]
            if conn.execute(_ANY_UNMATCHED, {"name": name}).first() is not None:
                fields.append(None)
            keys = [match_key(f, field_value(event, f)) for f in fields if f is not None]
            query = select(WAIT.c.id, WAIT.c.run_id, WAIT.c.node_key, WAIT.c.kind,
                           WAIT.c.condition, WAIT.c.status, WAIT.c.event_id, WAIT.c.expires_at,
                           WAIT.c.fail_on_timeout
                           ).where(WAIT.c.event_name == name, WAIT.c.status == "waiting",
                                   _not_expired())
            matched = [WaitRow(*r) for r in conn.execute(query.where(WAIT.c.match_key.in_(keys)))
                       ] if keys else []
            if None in fields:
                matched += [WaitRow(*r) for r in conn.execute(
                    query.where(WAIT.c.match_key.is_(None)))]
        return matched

    def resolve(self, wait_id: int, event_id: str) -> bool:
        """Mark the wait matched by `event_id`; False when something else resolved it first."""
        with self.db.write() as conn:
            return conn.execute(update(WAIT).where(WAIT.c.id == wait_id,
                                                   WAIT.c.status == "waiting", _not_expired())
                                .values(status="matched", event_id=event_id)).rowcount == 1

    def of_run(self, run_id: str) -> dict[str, WaitRow]:
        """The step waits of a run, by node key (the newest per step)."""
        with self.db.read() as conn:
            rows = conn.execute(select(WAIT.c.id, WAIT.c.run_id, WAIT.c.node_key, WAIT.c.kind,
                                       WAIT.c.condition, WAIT.c.status, WAIT.c.event_id,
                                       WAIT.c.expires_at, WAIT.c.fail_on_timeout)
                                .where(WAIT.c.run_id == run_id, WAIT.c.kind == "step")
                                .order_by(WAIT.c.id)).all()
        return {r.node_key: WaitRow(*r) for r in rows}

    def event(self, event_id: str) -> dict | None:
        with self.db.read() as conn:
            row = conn.execute(select(EVENT.c.id, EVENT.c.name, EVENT.c.data, EVENT.c.ts,
                                      EVENT.c.external_id)
                               .where(EVENT.c.id == event_id)).first()
        return event_dict(row) if row else None

    def expire(self, wait_id: int) -> None:
        """The wait timed out: no event may complete it any more."""
        with self.db.write() as conn:
            conn.execute(update(WAIT).where(WAIT.c.id == wait_id, WAIT.c.status == "waiting")
                         .values(status="expired"))



def event_dict(row) -> dict:
    """An event as expressions and outputs see it."""
    return {"id": row.external_id or row.id, "name": row.name, "data": row.data,
            "ts": row.ts.isoformat() if row.ts else None}
