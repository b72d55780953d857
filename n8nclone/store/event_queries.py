"""Reads for the event history: keyset-paginated event lists, one event with the runs it
started, resumed and cancelled, and what `send-event` waits for."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from n8nclone.store.db import Database
from n8nclone.store.models import Event, Run, Wait, Workflow
from n8nclone.store.run_queries import decode_cursor, encode_cursor

EVENT = Event.__table__
RUN = Run.__table__
WAIT = Wait.__table__
WF = Workflow.__table__

_SUMMARY = (EVENT.c.id, EVENT.c.external_id, EVENT.c.name, EVENT.c.ts, EVENT.c.received_at)
_RUN_LINK = (RUN.c.id, RUN.c.workflow_id, WF.c.name.label("workflow"), RUN.c.status,
             RUN.c.started_at)
# Ingestion starts an event's runs right after storing it, in the same call; runs are found
# in this window after the event's arrival by the event id their input carries.
STARTED_WINDOW = timedelta(minutes=5)
WAIT_OUTCOME = {"step": "resumed", "cancel": "cancelled"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _event_summary(row) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("ts", "received_at"):
        data[key] = _iso(data[key])
    return data


def _run_link(row) -> dict[str, Any]:
    link = {key: row._mapping[key] for key in ("id", "workflow_id", "workflow", "status")}
    return link | {"started_at": _iso(row.started_at)}


class EventQueries:
    def __init__(self, db: Database):
        self.db = db

    def list_events(self, *, name: str | None = None, limit: int = 50,
                    cursor: str | None = None) -> dict[str, Any]:
        """Newest first by (received_at, id), without the data (which may be large)."""
        query = select(*_SUMMARY)
        if name:
            query = query.where(EVENT.c.name == name)
        if cursor:
            received_at, event_id = decode_cursor(cursor)
            query = query.where(or_(EVENT.c.received_at < received_at,
                                    and_(EVENT.c.received_at == received_at,
                                         EVENT.c.id < event_id)))
        query = query.order_by(EVENT.c.received_at.desc(), EVENT.c.id.desc()).limit(limit + 1)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last.received_at.isoformat(), last.id)
        return {"items": [_event_summary(r) for r in rows[:limit]], "next_cursor": next_cursor}

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """One event with its data and the runs it `started`, `resumed` and `cancelled`."""
        with self.db.read() as conn:
            row = conn.execute(select(*_SUMMARY, EVENT.c.data)
                               .where(EVENT.c.id == event_id)).first()
            if row is None:
                return None
            event = _event_summary(row)
            event["runs"] = {"started": self._started(conn, row), "resumed": [],
                             "cancelled": []}
            for link in conn.execute(
                    select(*_RUN_LINK, WAIT.c.kind).join(RUN, RUN.c.id == WAIT.c.run_id)
                    .join(WF, WF.c.id == RUN.c.workflow_id)
                    .where(WAIT.c.event_id == event_id).order_by(WAIT.c.id)):
                outcome = WAIT_OUTCOME.get(link.kind)
                if outcome:
                    event["runs"][outcome].append(_run_link(link))
        return event

    @staticmethod
    def _started(conn, event_row) -> list[dict[str, Any]]:
        reference = event_row.external_id or event_row.id  # the id a run's input carries
        rows = conn.execute(
            select(*_RUN_LINK).join(WF, WF.c.id == RUN.c.workflow_id)
            .where(RUN.c.started_at >= event_row.received_at,
                   RUN.c.started_at <= event_row.received_at + STARTED_WINDOW,
                   RUN.c.trigger_type == "event",
                   RUN.c.input["id"].as_string() == reference)
            .order_by(RUN.c.started_at, RUN.c.id))
        return [_run_link(r) for r in rows]

    def count(self, name: str | None = None) -> int:
        """How many events are stored (under `name`, when given)."""
        query = select(func.count()).select_from(EVENT)
        if name:
            query = query.where(EVENT.c.name == name)
        with self.db.read() as conn:
            return conn.execute(query).scalar_one()

    def runs_to_execute(self, event_ids: list[str], references: list[str],
                        since: datetime) -> list[str]:
        """Runs that events just sent (stored as `event_ids`, carried in runs' input as
        `references`) started at or after `since`, or resumed."""
        with self.db.read() as conn:
            fresh = conn.execute(select(EVENT.c.id).where(  # not repeats of older events
                EVENT.c.id.in_(event_ids), EVENT.c.received_at >= since)).scalars().all()
            if not fresh:
                return []
            started = conn.execute(select(RUN.c.id).where(
                RUN.c.started_at >= since, RUN.c.trigger_type == "event",
                RUN.c.input["id"].as_string().in_(references))).scalars().all()
            resumed = conn.execute(select(WAIT.c.run_id).where(
                WAIT.c.event_id.in_(fresh), WAIT.c.kind == "step")).scalars().all()
        return list(dict.fromkeys([*started, *resumed]))

    def run_progress(self, run_id: str) -> tuple[str, datetime] | None:
        """A run's status and when it last changed."""
        with self.db.read() as conn:
            row = conn.execute(select(RUN.c.status, RUN.c.updated_at)
                               .where(RUN.c.id == run_id)).first()
        return (row.status, row.updated_at) if row else None

