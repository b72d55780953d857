"""Reads for the run history: one run with its steps, and keyset-paginated run lists."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from n8nclone.store.db import Database
from n8nclone.store.models import Run, Step, StepAttempt, Workflow

RUN = Run.__table__
STEP = Step.__table__
ATTEMPT = StepAttempt.__table__
WF = Workflow.__table__

_RUN_COLUMNS = (RUN.c.id, RUN.c.workflow_id, WF.c.name.label("workflow"), RUN.c.version_id,
                RUN.c.status, RUN.c.trigger_type, RUN.c.started_at, RUN.c.ended_at,
                RUN.c.updated_at, RUN.c.step_count, RUN.c.error, RUN.c.wake_at,
                RUN.c.rerun_of)


_USAGE_SUMS = (func.count(STEP.c.model).label("metered_steps"),
               func.sum(STEP.c.prompt_tokens).label("prompt_tokens"),
               func.sum(STEP.c.completion_tokens).label("completion_tokens"),
               func.sum(STEP.c.total_tokens).label("total_tokens"),
               func.sum(STEP.c.cost_usd).label("cost_usd"),
               func.sum(STEP.c.latency_ms).label("latency_ms"))


def _usage_totals(row) -> dict[str, Any]:
    """Sums over steps; zero tokens (and cost null) when no step made a metered call."""
    data = dict(row._mapping)
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        data[key] = int(data[key] or 0)
    data["latency_ms"] = float(data["latency_ms"] or 0.0)
    return data


def _page_usage(conn, run_ids: list[str]) -> dict[str, tuple[int, float | None]]:
    """(total tokens, cost) of each of a page's runs, from one GROUP BY over their steps.
    Tokens are 0 and cost None (no known price) for runs without metered calls."""
    if not run_ids:
        return {}
    rows = conn.execute(select(STEP.c.run_id, func.sum(STEP.c.total_tokens),
                               func.sum(STEP.c.cost_usd))
                        .where(STEP.c.run_id.in_(run_ids))
                        .group_by(STEP.c.run_id)).all()
    return {run_id: (int(tokens or 0), cost) for run_id, tokens, cost in rows}


class BadCursor(ValueError):
    pass


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _duration_ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


def _run_summary(row) -> dict[str, Any]:
    data = dict(row._mapping)
    data["duration_ms"] = _duration_ms(data["started_at"], data["ended_at"])
    for key in ("started_at", "ended_at", "updated_at", "wake_at"):
        data[key] = _iso(data[key])
    return data


def encode_cursor(started_at: str, run_id: str) -> str:
    return base64.urlsafe_b64encode(f"{started_at}|{run_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        started_at, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        when = datetime.fromisoformat(started_at)
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("the cursor is not one this API returned") from None
    if when.tzinfo is None:
        raise BadCursor("the cursor is not one this API returned")
    return when, run_id


class RunQueries:
    def __init__(self, db: Database):
        self.db = db

    def list_runs(self, *, workflow_id: int | None = None, status: str | None = None,
                  started_after: datetime | None = None, started_before: datetime | None = None,
                  limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        """Newest first, paginated by keyset (started_at, id): no OFFSET scans.

        `started_after` (inclusive) and `started_before` (exclusive) bound started_at; both
        are aware datetimes. Each item carries its run's `total_tokens` and `cost_usd`."""
        query = select(*_RUN_COLUMNS).join(WF, WF.c.id == RUN.c.workflow_id)
        if workflow_id is not None:
            query = query.where(RUN.c.workflow_id == workflow_id)
        if status:
            query = query.where(RUN.c.status == status)
        if started_after is not None:
            query = query.where(RUN.c.started_at >= started_after)
        if started_before is not None:
            query = query.where(RUN.c.started_at < started_before)
        if cursor:
            started_at, run_id = decode_cursor(cursor)
            # The plain bound lets the index seek to the cursor: behind an OR alone, SQLite
            # scans the index from the newest run and skips every earlier page.
            query = query.where(RUN.c.started_at <= started_at,
                                or_(RUN.c.started_at < started_at,
                                    and_(RUN.c.started_at == started_at, RUN.c.id < run_id)))
        query = query.order_by(RUN.c.started_at.desc(), RUN.c.id.desc()).limit(limit + 1)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
            usage = _page_usage(conn, [r.id for r in rows[:limit]])
        items = []
        for row in rows[:limit]:
            item = _run_summary(row)
            item["total_tokens"], item["cost_usd"] = usage.get(row.id, (0, None))
            items.append(item)
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last.started_at.isoformat(), last.id)
        return {"items": items, "next_cursor": next_cursor}

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """A run with its steps (in execution order) and every attempt of each step."""
        with self.db.read() as conn:
            row = conn.execute(select(*_RUN_COLUMNS, RUN.c.input, RUN.c.output,
                                      RUN.c.deadline_at)
                               .join(WF, WF.c.id == RUN.c.workflow_id)
                               .where(RUN.c.id == run_id)).first()
            if row is None:
                return None
            steps = conn.execute(select(STEP).where(STEP.c.run_id == run_id)
                                 .order_by(STEP.c.id)).all()  # the order they were reached
            attempts = conn.execute(select(ATTEMPT).where(ATTEMPT.c.run_id == run_id)
                                    .order_by(ATTEMPT.c.node_key, ATTEMPT.c.number)).all()
            usage = conn.execute(select(*_USAGE_SUMS).where(STEP.c.run_id == run_id)).one()
        run = _run_summary(row)
        run["deadline_at"] = _iso(run["deadline_at"])
        by_step: dict[str, list] = {}
        for a in attempts:
            by_step.setdefault(a.node_key, []).append({
                "number": a.number, "status": a.status, "error": a.error,
                "started_at": _iso(a.started_at), "ended_at": _iso(a.ended_at),
                "duration_ms": _duration_ms(a.started_at, a.ended_at)})
        run["steps"] = [{
            "key": s.node_key, "type": s.node_type, "status": s.status, "attempts": s.attempts,
            "input": s.input, "output": s.output, "port": s.output_port, "error": s.error,
            "started_at": _iso(s.started_at), "ended_at": _iso(s.ended_at),
            "next_attempt_at": _iso(s.next_attempt_at),
            "duration_ms": _duration_ms(s.started_at, s.ended_at),
            "attempt_history": by_step.get(s.node_key, []),
            "usage": None if s.model is None else {
                "model": s.model, "prompt_tokens": s.prompt_tokens,
                "completion_tokens": s.completion_tokens, "total_tokens": s.total_tokens,
                "cost_usd": s.cost_usd, "latency_ms": s.latency_ms},
        } for s in steps]
        run["usage"] = _usage_totals(usage)
        return run

    def workflow_usage(self, workflow_id: int) -> dict[str, Any]:
        """Usage summed over every run of a workflow, with the number of runs."""
        with self.db.read() as conn:
            runs = conn.execute(select(func.count()).where(RUN.c.workflow_id == workflow_id)
                                ).scalar()
            usage = conn.execute(select(*_USAGE_SUMS).join(RUN, RUN.c.id == STEP.c.run_id)
                                 .where(RUN.c.workflow_id == workflow_id)).one()
        return {"runs": runs, **_usage_totals(usage)}

    def runs_by_workflow(self) -> dict[int, dict[str, Any]]:
        """Per workflow with runs: how many it has and its latest run (id, status,
        started_at). One GROUP BY and one join on ix_run_workflow_started, whatever the
        number of workflows (the workflow list shows these on every row)."""
        latest = (select(RUN.c.workflow_id, func.count().label("runs"),
                         func.max(RUN.c.started_at).label("started_at"))
                  .group_by(RUN.c.workflow_id).subquery())
        query = (select(latest.c.workflow_id, latest.c.runs, RUN.c.id, RUN.c.status,
                        RUN.c.started_at)
                 .join(RUN, and_(RUN.c.workflow_id == latest.c.workflow_id,
                                 RUN.c.started_at == latest.c.started_at))
                 .order_by(RUN.c.id))  # runs started at the same instant: the last id wins
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return {row.workflow_id: {"runs": row.runs, "last_run": {
            "id": row.id, "status": row.status, "started_at": _iso(row.started_at)}}
            for row in rows}
