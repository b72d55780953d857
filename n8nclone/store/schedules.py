"""Schedule storage: which workflows are scheduled, and the ticks that fired.

Firing a tick is two steps, each one transaction: claim the tick (insert-or-skip on the
unique (workflow_id, tick_at)), then start its run through the engine's `start_run` and
record the run on the tick. Racing schedulers: one claim wins, so one run per tick. A
scheduler dying between the two leaves a claimed tick without a run; after a grace period
another scheduler takes it over, links the run if it was created after all, else starts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from n8nclone.store.db import Database
from n8nclone.store.models import (
    Run,
    ScheduleTick,
    TriggerRegistration,
    Workflow,
    WorkflowVersion,
)

TICK = ScheduleTick.__table__
NEWER = TICK.alias("newer_tick")
REG = TriggerRegistration.__table__
WF = Workflow.__table__
RUN = Run.__table__
VERSION = WorkflowVersion.__table__
TRIGGER_TYPE = "schedule"  # runs' trigger_type
_RUN_SEARCH = 100  # recent scheduled runs of a workflow searched for a taken-over tick's run


@dataclass(frozen=True)
class ScheduledWorkflow:
    """An active workflow's schedule registration, and since when it may fire: its last
    save or (de)activation, or its last fired tick, whichever is later."""

    workflow_id: int
    version_id: int
    node_key: str
    cron: str
    config: dict
    since: datetime


@dataclass(frozen=True)
class ClaimedTick:
    id: int
    workflow_id: int
    version_id: int
    tick_at: datetime
    input: Any
    claimed_at: datetime
    run_id: str | None = None
    error: str | None = None


class ScheduleStore:
    def __init__(self, db: Database, kind: str = "trigger.schedule"):
        self.db = db
        self.kind = kind

    def scheduled_workflows(self) -> list[ScheduledWorkflow]:
        """Every registration of `kind` (only active workflows have one)."""
        last_tick = (select(func.max(TICK.c.tick_at))
                     .where(TICK.c.workflow_id == REG.c.workflow_id).scalar_subquery())
        query = (select(REG.c.workflow_id, REG.c.version_id, REG.c.node_key, REG.c.key,
                        REG.c.config, WF.c.updated_at, last_tick)
                 .join(WF, WF.c.id == REG.c.workflow_id)
                 .where(REG.c.kind == self.kind).order_by(REG.c.id))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [ScheduledWorkflow(wid, vid, node, cron, config or {},
                                  max(updated, last) if last else updated)
                for wid, vid, node, cron, config, updated, last in rows]

    def plan_settings(self, version_id: int) -> dict:
        """The settings of a version's plan (versions never change: callers may cache)."""
        with self.db.read() as conn:
            plan = conn.execute(select(VERSION.c.plan)
                                .where(VERSION.c.id == version_id)).scalar()
        return (plan or {}).get("settings", {})

    # -- firing --------------------------------------------------------------------------

    def claim_tick(self, scheduled: ScheduledWorkflow, tick_at: datetime, *, input: Any,
                   now: datetime) -> ClaimedTick | None:
        """Claim a tick for this scheduler. None when it is claimed already, a later tick
        was, or the registration changed meanwhile (saved, deactivated, deleted)."""
        with self.db.write() as conn:
            if not self._still_due(conn, scheduled, tick_at):
                return None
            tick_id = conn.execute(
                _insert_or_skip(conn).values(
                    workflow_id=scheduled.workflow_id, version_id=scheduled.version_id,
                    tick_at=tick_at, input=input, claimed_at=now)
                .on_conflict_do_nothing(index_elements=["workflow_id", "tick_at"])
                .returning(TICK.c.id)).scalar()
        if tick_id is None:
            return None  # another scheduler claimed it first
        return ClaimedTick(tick_id, scheduled.workflow_id, scheduled.version_id, tick_at,
                           input, now)

    def _still_due(self, conn: Connection, scheduled: ScheduledWorkflow,
                   tick_at: datetime) -> bool:
        registered = conn.execute(select(REG.c.id).where(
            REG.c.workflow_id == scheduled.workflow_id, REG.c.kind == self.kind,
            REG.c.version_id == scheduled.version_id, REG.c.key == scheduled.cron)).first()
        # An equal tick is left to insert-or-skip; a later one makes this one stale.
        later = conn.execute(select(TICK.c.id).where(
            TICK.c.workflow_id == scheduled.workflow_id, TICK.c.tick_at > tick_at)
            .limit(1)).first()
        return registered is not None and later is None

    def record_run(self, tick_id: int, run_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(TICK).where(TICK.c.id == tick_id).values(run_id=run_id))

    def record_error(self, tick_id: int, message: str) -> None:
        """The tick's run could not be started (e.g. a flow-control setting failed to
        evaluate): keep why, and do not try again."""
        with self.db.write() as conn:
            conn.execute(update(TICK).where(TICK.c.id == tick_id).values(error=message))

    # -- taking over ticks whose scheduler died ------------------------------------------

    def take_over_unstarted(self, claimed_before: datetime, now: datetime,
                            limit: int = 100) -> list[ClaimedTick]:
        """Claim again ticks claimed before `claimed_before` that still have no run (nor
        error). Each is taken by one caller: a compare-and-set on its claim time."""
        with self.db.read() as conn:
            rows = conn.execute(select(TICK.c.id).where(
                TICK.c.run_id.is_(None), TICK.c.claimed_at < claimed_before,
                TICK.c.error.is_(None)).order_by(TICK.c.claimed_at).limit(limit)).all()
        taken = []
        for (tick_id,) in rows:
            with self.db.write() as conn:
                row = conn.execute(
                    update(TICK).where(TICK.c.id == tick_id, TICK.c.run_id.is_(None),
                                       TICK.c.error.is_(None),
                                       TICK.c.claimed_at < claimed_before)
                    .values(claimed_at=now)
                    .returning(TICK.c.id, TICK.c.workflow_id, TICK.c.version_id,
                               TICK.c.tick_at, TICK.c.input, TICK.c.claimed_at)).first()
            if row is not None:
                taken.append(ClaimedTick(*row))
        return taken

    def run_started_for(self, tick: ClaimedTick) -> str | None:
        """The run a dead scheduler started for `tick` before it could record it, if any
        (found by its trigger input, which names the tick)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(RUN.c.id, RUN.c.input)
                .where(RUN.c.workflow_id == tick.workflow_id,
                       RUN.c.trigger_type == TRIGGER_TYPE)
                .order_by(RUN.c.started_at.desc(), RUN.c.id.desc()).limit(_RUN_SEARCH)).all()
        return next((run_id for run_id, input in rows if input == tick.input), None)

    # -- reading and housekeeping --------------------------------------------------------

    def ticks(self, workflow_id: int) -> list[ClaimedTick]:
        """The fired ticks of a workflow still kept, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(TICK.c.id, TICK.c.workflow_id, TICK.c.version_id, TICK.c.tick_at,
                       TICK.c.input, TICK.c.claimed_at, TICK.c.run_id, TICK.c.error)
                .where(TICK.c.workflow_id == workflow_id).order_by(TICK.c.tick_at)).all()
        return [ClaimedTick(*row) for row in rows]

    def prune(self, older_than: datetime) -> int:
        """Forget finished ticks fired before `older_than`, except each workflow's last one
        (which is what keeps a tick from firing twice)."""
        newer = exists().where(NEWER.c.workflow_id == TICK.c.workflow_id,
                               NEWER.c.tick_at > TICK.c.tick_at)
        with self.db.write() as conn:
            return conn.execute(delete(TICK).where(
                TICK.c.tick_at < older_than, newer,
                or_(TICK.c.run_id.is_not(None), TICK.c.error.is_not(None)))).rowcount


def _insert_or_skip(conn: Connection):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(TICK)
