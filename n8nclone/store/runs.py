"""Run and step-checkpoint storage: the narrow interface the engine depends on.

Hot-path writes use SQLAlchemy Core statements (no ORM unit of work): a chain
step costs one short transaction (finish the last step, start the next).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update

from n8nclone.store.clock import new_id, utcnow
from n8nclone.store.db import Database
from n8nclone.store.hot import HotStatement
from n8nclone.store.models import Run, Step, StepAttempt, Wait, WorkflowVersion
from n8nclone.store.waits import WAIT_INSERT_KEYS

RUN = Run.__table__
STEP = Step.__table__
ATTEMPT = StepAttempt.__table__
WAIT = Wait.__table__

ACTIVE_STATUSES = ("queued", "running", "retrying", "sleeping", "waiting")
STARTED_STATUSES = ("running", "retrying", "sleeping", "waiting")  # hold a concurrency slot
PARKED_STATUSES = ("retrying", "sleeping", "waiting")  # released until a time or an event
IDEMPOTENCY_WINDOW = timedelta(hours=24)
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class LeasedRun:
    id: str
    workflow_id: int
    version_id: int
    status: str
    input: Any
    deadline_at: datetime | None
    wake_at: datetime | None
    wake_seq: int
    concurrency_key: str | None = None
    fresh: bool = False  # never worked on before (it was queued): it has no steps yet


@dataclass
class StepRecord:
    """What the executor keeps in memory about a step (its output is loaded lazily)."""

    status: str
    port: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    started_at: datetime | None = None


@dataclass
class StepStart:
    key: str
    type: str
    attempt: int
    input: Any


@dataclass(frozen=True)
class StepUsage:
    """What one attempt's metered calls consumed (added to the step's totals)."""

    model: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None
    latency_ms: float = 0.0


@dataclass
class StepFinish:
    key: str
    attempt: int
    status: str  # succeeded, failed, retrying, cancelled
    started_at: datetime
    output: Any = None
    port: str | None = None
    error: dict | None = None
    next_attempt_at: datetime | None = None
    ended_at: datetime = field(default_factory=utcnow)
    ends_attempt: bool = True  # False: the step was not executing (e.g. waiting to retry)
    wait: dict | None = None  # a wait row to record with it (store.waits.wait_values)
    usage: StepUsage | None = None  # what the attempt consumed (LLM tokens and cost)


_STEP_INSERT_KEYS = ("run_id", "node_key", "node_type", "status", "attempts", "input",
                     "started_at", "ended_at")
_ATTEMPT_INSERT_KEYS = ("run_id", "node_key", "number", "status", "error", "started_at",
                        "ended_at")


class _Checkpoint:
    """Statements of the checkpoint transaction, built once (see store/hot.py)."""

    # FOR UPDATE (PostgreSQL; SQLite's write lock does the same): nobody takes the lease or
    # cancels the run between this read and the writes of the same transaction.
    run_status = HotStatement(
        select(RUN.c.status)
        .where(RUN.c.id == bindparam("b_run"), RUN.c.lease_owner == bindparam("b_owner"))
        .with_for_update())
    touch_run = HotStatement(
        update(RUN).where(RUN.c.id == bindparam("b_run"))
        .values(updated_at=bindparam("now"),
                step_count=select(func.count()).where(STEP.c.run_id == RUN.c.id)
                .scalar_subquery()))
    finish_step = HotStatement(
        update(STEP)
        .where(STEP.c.run_id == bindparam("b_run"), STEP.c.node_key == bindparam("b_key"))
        .values(status=bindparam("status"), output=bindparam("output"),
                output_port=bindparam("output_port"), error=bindparam("error"),
                ended_at=bindparam("ended_at"), next_attempt_at=bindparam("next_attempt_at")))
    retry_step = HotStatement(
        update(STEP)
        .where(STEP.c.run_id == bindparam("b_run"), STEP.c.node_key == bindparam("b_key"))
        .values(status="running", attempts=bindparam("attempts"), input=bindparam("input"),
                error=None, started_at=bindparam("started_at"), ended_at=None,
                next_attempt_at=None))
    # Usage adds up over a step's attempts; an unknown cost (null) leaves the sum as it is.
    add_usage = HotStatement(
        update(STEP)
        .where(STEP.c.run_id == bindparam("b_run"), STEP.c.node_key == bindparam("b_key"))
        .values(model=func.coalesce(bindparam("model"), STEP.c.model),
                prompt_tokens=func.coalesce(STEP.c.prompt_tokens + bindparam("pt"),
                                            bindparam("pt")),
                completion_tokens=func.coalesce(STEP.c.completion_tokens + bindparam("ct"),
                                                bindparam("ct")),
                total_tokens=func.coalesce(STEP.c.total_tokens + bindparam("tt"),
                                           bindparam("tt")),
                cost_usd=func.coalesce(STEP.c.cost_usd + bindparam("cost"), STEP.c.cost_usd,
                                       bindparam("cost")),
                latency_ms=func.coalesce(STEP.c.latency_ms + bindparam("ms"),
                                         bindparam("ms"))))
    add_step = HotStatement(insert(STEP), _STEP_INSERT_KEYS)
    add_attempt = HotStatement(insert(ATTEMPT), _ATTEMPT_INSERT_KEYS)
    add_wait = HotStatement(insert(WAIT), WAIT_INSERT_KEYS)


def _one_of(column, values):
    """`column IN values` with plain binds: HotStatements cannot expand IN lists."""
    return or_(*(column == value for value in values))


def _none_of(column, values):
    return and_(*(column != value for value in values))


_RUN_INSERT_KEYS = ("id", "workflow_id", "version_id", "status", "trigger_type", "input",
                    "started_at", "updated_at", "deadline_at", "enqueued_at", "wake_seq",
                    "step_count", "idempotency_key", "concurrency_key", "concurrency_limit")
_STEP_COUNT = select(func.count()).where(STEP.c.run_id == RUN.c.id).scalar_subquery()
_HELD_BY_US = (RUN.c.id == bindparam("b_run"), RUN.c.lease_owner == bindparam("b_owner"),
               RUN.c.wake_seq == bindparam("b_seq"), _none_of(RUN.c.status, TERMINAL_STATUSES))


class _Lifecycle:
    """Statements of a run's life outside its steps: create, lease, release (store/hot.py)."""

    find_idempotent = HotStatement(
        select(RUN.c.id).where(RUN.c.idempotency_key == bindparam("b_key"),
                               RUN.c.started_at > bindparam("b_since"))
        .order_by(RUN.c.started_at).limit(1))
    add_run = HotStatement(insert(RUN), _RUN_INSERT_KEYS)
    run_head = HotStatement(
        select(RUN.c.status, RUN.c.concurrency_key, RUN.c.concurrency_limit, RUN.c.started_at,
               RUN.c.step_count)
        .where(RUN.c.id == bindparam("b_run")).with_for_update())
    take_lease = HotStatement(
        update(RUN)
        .where(RUN.c.id == bindparam("b_run"), _one_of(RUN.c.status, ACTIVE_STATUSES),
               or_(RUN.c.lease_owner.is_(None), RUN.c.lease_expires_at < bindparam("b_now")))
        .values(lease_owner=bindparam("owner"), lease_expires_at=bindparam("until"),
                status="running", updated_at=bindparam("b_now"))
        .returning(RUN.c.id, RUN.c.workflow_id, RUN.c.version_id, RUN.c.status, RUN.c.input,
                   RUN.c.deadline_at, RUN.c.wake_at, RUN.c.wake_seq, RUN.c.concurrency_key))
    slots_taken = HotStatement(
        select(func.count()).where(RUN.c.concurrency_key == bindparam("b_key"),
                                   _one_of(RUN.c.status, STARTED_STATUSES)))
    older_queued = HotStatement(
        select(RUN.c.id).where(
            RUN.c.concurrency_key == bindparam("b_key"), RUN.c.status == "queued",
            RUN.c.id != bindparam("b_run"),
            or_(RUN.c.started_at < bindparam("b_started"),
                and_(RUN.c.started_at == bindparam("b_started"),
                     RUN.c.id < bindparam("b_run")))).limit(1))
    finish_run = HotStatement(
        update(RUN).where(*_HELD_BY_US)
        .values(status=bindparam("status"), lease_owner=None, lease_expires_at=None,
                wake_at=None, updated_at=bindparam("updated_at"),
                ended_at=bindparam("ended_at"), output=bindparam("output"),
                error=bindparam("error"), step_count=_STEP_COUNT))
    park_run = HotStatement(
        update(RUN).where(*_HELD_BY_US)
        .values(status=bindparam("status"), lease_owner=None, lease_expires_at=None,
                wake_at=bindparam("wake_at"), updated_at=bindparam("updated_at"),
                enqueued_at=func.coalesce(bindparam("b_enqueued",
                                                   type_=RUN.c.enqueued_at.type),
                                          RUN.c.enqueued_at),
                step_count=_STEP_COUNT))
    drop_waits = HotStatement(
        update(WAIT).where(WAIT.c.run_id == bindparam("b_run"), WAIT.c.status == "waiting")
        .values(status="dropped"))
    drop_lease = HotStatement(
        update(RUN).where(RUN.c.id == bindparam("b_run"), RUN.c.lease_owner == bindparam("b_owner"))
        .values(lease_owner=None, lease_expires_at=None).returning(RUN.c.status))


# What a retry copies from the run it retries: the steps that need not run again.
_KEPT_STEP_STATUSES = ("succeeded", "skipped")
# Usage (tokens, cost) stays with the run that made the calls: a retry spent nothing on the
# steps it copies, and a workflow's totals must not count those calls twice.
_USAGE_COLUMNS = ("model", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
                  "latency_ms")
_STEP_COPY_COLUMNS = [c.name for c in STEP.columns
                      if c.name not in ("id", "run_id", *_USAGE_COLUMNS)]
_ATTEMPT_COPY_COLUMNS = [c.name for c in ATTEMPT.columns if c.name not in ("id", "run_id")]
_KEPT_STEP = (STEP.c.run_id == bindparam("b_from"), _one_of(STEP.c.status, _KEPT_STEP_STATUSES))


class _Rerun:
    """Statements that start a run again from an earlier one (rerun and retry)."""

    source = select(RUN.c.workflow_id, RUN.c.version_id, RUN.c.status, RUN.c.input)
    copy_steps = HotStatement(
        insert(STEP).from_select(
            ["run_id", *_STEP_COPY_COLUMNS],
            select(bindparam("b_to", type_=STEP.c.run_id.type),
                   *(STEP.c[name] for name in _STEP_COPY_COLUMNS))
            .where(*_KEPT_STEP).order_by(STEP.c.id)))  # the order they were reached
    copy_attempts = HotStatement(
        insert(ATTEMPT).from_select(
            ["run_id", *_ATTEMPT_COPY_COLUMNS],
            select(bindparam("b_to", type_=ATTEMPT.c.run_id.type),
                   *(ATTEMPT.c[name] for name in _ATTEMPT_COPY_COLUMNS))
            .where(ATTEMPT.c.run_id == bindparam("b_from"),
                   ATTEMPT.c.node_key.in_(select(STEP.c.node_key).where(*_KEPT_STEP)))
            .order_by(ATTEMPT.c.id)))
    link_run = HotStatement(
        update(RUN).where(RUN.c.id == bindparam("b_run"))
        .values(rerun_of=bindparam("rerun_of"), step_count=bindparam("step_count")))


@dataclass(frozen=True)
class RerunSource:
    """What a rerun or retry of a run needs to know about it."""

    workflow_id: int
    version_id: int
    status: str
    input: Any


def copy_finished_steps(conn, from_run: str, to_run: str) -> int:
    """Copy the steps of `from_run` that succeeded or were skipped into `to_run` (outputs,
    ports, attempts with their history, timestamps; not usage), so its executor memoizes them.
    Runs inside the caller's transaction; returns the number of steps copied."""
    params = {"b_from": from_run, "b_to": to_run}
    copied = _Rerun.copy_steps.rowcount(conn, params)
    if copied:
        _Rerun.copy_attempts.rowcount(conn, params)
    return copied


class LeaseLost(RuntimeError):
    """Another worker holds the run now; this one must stop without writing."""


class RunStore:
    def __init__(self, db: Database):
        self.db = db

    # -- creating and reading runs -------------------------------------------------

    def create_run(self, *, workflow_id: int, version_id: int, input: Any, trigger_type: str,
                   timeout_seconds: float | None = None, idempotency_key: str | None = None,
                   concurrency_key: str | None = None, concurrency_limit: int | None = None,
                   cancel_waits: list[dict] = (), rerun_of: str | None = None,
                   copy_steps: bool = False) -> tuple[str, bool]:
        """Record a queued run. Returns (run id, created); with an idempotency key already
        used in the last 24 h, the existing run's id and False.

        `rerun_of`: the run this one starts again; with `copy_steps` (a retry) its succeeded
        and skipped steps are copied in, in the same transaction."""
        now = utcnow()
        run_id = new_id()
        deadline = now + timedelta(seconds=timeout_seconds) if timeout_seconds else None
        with self.db.hot_write() as conn:
            if idempotency_key is not None:
                existing = _Lifecycle.find_idempotent.scalar(conn, {
                    "b_key": idempotency_key, "b_since": now - IDEMPOTENCY_WINDOW})
                if existing:
                    return existing, False
            _Lifecycle.add_run.rowcount(conn, dict(
                id=run_id, workflow_id=workflow_id, version_id=version_id, status="queued",
                trigger_type=trigger_type, input=input, started_at=now, updated_at=now,
                deadline_at=deadline, enqueued_at=now, wake_seq=0, step_count=0,
                idempotency_key=idempotency_key, concurrency_key=concurrency_key,
                concurrency_limit=concurrency_limit))
            if cancel_waits:
                _Checkpoint.add_wait.rowcount(conn, [dict(w, run_id=run_id)
                                                     for w in cancel_waits])
            if rerun_of is not None:
                copied = copy_finished_steps(conn, rerun_of, run_id) if copy_steps else 0
                _Rerun.link_run.rowcount(conn, {"b_run": run_id, "rerun_of": rerun_of,
                                                "step_count": copied})
        return run_id, True

    def rerun_source(self, run_id: str) -> RerunSource | None:
        """The workflow version, status and input of a run (None: no such run)."""
        with self.db.read() as conn:
            row = conn.execute(_Rerun.source.where(RUN.c.id == run_id)).first()
        return RerunSource(*row) if row is not None else None

    def load_plan_data(self, version_id: int) -> dict:
        with self.db.read() as conn:
            plan = conn.execute(select(WorkflowVersion.__table__.c.plan)
                                .where(WorkflowVersion.__table__.c.id == version_id)).scalar_one()
        return plan

    def run_status(self, run_id: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(RUN.c.status).where(RUN.c.id == run_id)).scalar()

    # -- leases ------------------------------------------------------------------------

    def acquire_lease(self, run_id: str, owner: str, ttl: float) -> LeasedRun | None:
        """Take the run if it is active and nobody holds a live lease on it.
        `owner` is a token of this one attempt to work on the run (see Executor)."""
        now = utcnow()
        with self.db.hot_write() as conn:
            head = _Lifecycle.run_head.first(conn, {"b_run": run_id})
            if head is None:
                return None
            status, concurrency_key, concurrency_limit, started_at, step_count = head
            if status == "queued" and concurrency_key is not None and not self._slot_free(
                    conn, run_id, concurrency_key, concurrency_limit, started_at):
                return None  # stays queued; a finishing run of its key sends it again
            row = _Lifecycle.take_lease.first(conn, {
                "b_run": run_id, "b_now": now, "owner": owner,
                "until": now + timedelta(seconds=ttl)})
        # A retry starts queued with the steps it copied: those must be loaded.
        fresh = status == "queued" and not step_count
        return LeasedRun(*row, fresh=fresh) if row else None

    def _slot_free(self, conn, run_id: str, key: str, limit: int | None,
                   started_at: datetime) -> bool:
        """May this queued run start under its concurrency limit? Only the oldest queued run
        of a key may take a free slot, so runs start in the order they were triggered."""
        if not self.db.is_sqlite:  # SQLite's write lock already serializes this check
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
        busy = _Lifecycle.slots_taken.scalar(conn, {"b_key": key})
        if busy >= (limit or 1):
            return False
        older = _Lifecycle.older_queued.scalar(conn, {"b_key": key, "b_run": run_id,
                                                      "b_started": started_at})
        return older is None

    def next_queued(self, concurrency_key: str) -> str | None:
        """The oldest run waiting for a slot of `concurrency_key`."""
        with self.db.read() as conn:
            return conn.execute(select(RUN.c.id).where(
                RUN.c.concurrency_key == concurrency_key, RUN.c.status == "queued")
                .order_by(RUN.c.started_at, RUN.c.id).limit(1)).scalar()

    def concurrency_key_of(self, run_id: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(RUN.c.concurrency_key)
                                .where(RUN.c.id == run_id)).scalar()

    def renew_leases(self, owners: list[str], ttl: float) -> int:
        """Extend the leases held by `owners` (one statement for all of them)."""
        if not owners:
            return 0
        now = utcnow()
        with self.db.write() as conn:
            result = conn.execute(update(RUN).where(RUN.c.lease_owner.in_(owners))
                                  .values(lease_expires_at=now + timedelta(seconds=ttl)))
        return result.rowcount

    def release(self, run_id: str, owner: str, *, status: str, wake_seq: int,
                wake_at: datetime | None = None, message_due: bool = False,
                output: Any = None, error: dict | None = None,
                finished: Iterable[StepFinish] = ()) -> str | None:
        """Record the last `finished` steps and give the run back with its new status, in one
        transaction. Returns the status the run is left in (`status`, or e.g. "cancelled"
        when it was cancelled meanwhile); None when someone asked for another look
        (wake_seq moved): the caller should take the lease again and look.

        `message_due`: the caller sends a delayed message for `wake_at`; otherwise the sweep
        sends one once `wake_at` has come. Raises LeaseLost when another worker holds the run
        (nothing is written then)."""
        now = utcnow()
        where = {"b_run": run_id, "b_owner": owner, "b_seq": wake_seq}
        finished = list(finished)
        with self.db.hot_write() as conn:
            if finished:
                if _Checkpoint.run_status.scalar(conn, {"b_run": run_id, "b_owner": owner}) is None:
                    raise LeaseLost(run_id)
                self._record_finished(conn, run_id, finished)
            if status in TERMINAL_STATUSES:
                released = _Lifecycle.finish_run.rowcount(conn, where | {
                    "status": status, "updated_at": now, "ended_at": now, "output": output,
                    "error": error})
                if released:  # a finished run waits for nothing
                    _Lifecycle.drop_waits.rowcount(conn, {"b_run": run_id})
            else:
                enqueued = (wake_at if message_due else now) if wake_at is not None else None
                released = _Lifecycle.park_run.rowcount(conn, where | {
                    "status": status, "updated_at": now, "wake_at": wake_at,
                    "b_enqueued": enqueued})
            if released:
                return status
            # Cancelled meanwhile, or wake_seq moved: drop our lease either way.
            current = _Lifecycle.drop_lease.scalar(conn, {"b_run": run_id, "b_owner": owner})
        if current is None:
            raise LeaseLost(run_id)
        return current if current in TERMINAL_STATUSES else None

    # -- steps -------------------------------------------------------------------------

    def load_steps(self, run_id: str) -> dict[str, StepRecord]:
        with self.db.read() as conn:
            rows = conn.execute(select(STEP.c.node_key, STEP.c.status, STEP.c.output_port,
                                       STEP.c.attempts, STEP.c.next_attempt_at,
                                       STEP.c.started_at)
                                .where(STEP.c.run_id == run_id)).all()
        return {r[0]: StepRecord(r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def run_cost(self, run_id: str) -> float:
        """What the run's steps have cost so far (USD, known prices only)."""
        with self.db.read() as conn:
            return conn.execute(select(func.coalesce(func.sum(STEP.c.cost_usd), 0.0))
                                .where(STEP.c.run_id == run_id)).scalar() or 0.0

    def load_output(self, run_id: str, key: str) -> Any:
        with self.db.read() as conn:
            return conn.execute(select(STEP.c.output).where(STEP.c.run_id == run_id,
                                                            STEP.c.node_key == key)).scalar()

    def checkpoint(self, run_id: str, owner: str, *, finished: Iterable[StepFinish] = (),
                   started: Iterable[StepStart] = (), skipped: Iterable[tuple[str, str]] = (),
                   touch: bool = True) -> str:
        """Record finished steps, then (if the run is still ours and running) the skipped and
        newly started ones, in one transaction. Returns the run's status as far as known.

        Every call reads the run's status under the lease (how a cancel is noticed at the
        next step boundary); with `touch` it also refreshes the run's step count and
        updated_at for the history pages. Raises LeaseLost when another worker took the run.
        """
        now = utcnow()
        finished, started, skipped = list(finished), list(started), list(skipped)
        with self.db.hot_write() as conn:
            status = _Checkpoint.run_status.scalar(conn, {"b_run": run_id, "b_owner": owner})
            if status is None:
                raise LeaseLost(run_id)
            if touch:
                _Checkpoint.touch_run.rowcount(conn, {"b_run": run_id, "now": now})
            if finished:
                self._record_finished(conn, run_id, finished)
            if status != "running":
                return status
            first_tries = [{"run_id": run_id, "node_key": s.key, "node_type": s.type,
                            "status": "running", "attempts": 1, "input": s.input,
                            "started_at": now, "ended_at": None}
                           for s in started if s.attempt == 1]
            first_tries += [{"run_id": run_id, "node_key": key, "node_type": type_,
                             "status": "skipped", "attempts": 0, "input": None,
                             "started_at": now, "ended_at": now} for key, type_ in skipped]
            if first_tries:
                _Checkpoint.add_step.rowcount(conn, first_tries)
            retries = [{"b_run": run_id, "b_key": s.key, "attempts": s.attempt, "input": s.input,
                        "started_at": now} for s in started if s.attempt > 1]
            if retries:
                _Checkpoint.retry_step.rowcount(conn, retries)
        return status

    @staticmethod
    def _record_finished(conn, run_id: str, finished: list[StepFinish]) -> None:
        """Write the end (or the wait) of each step in `finished`, with its attempt row."""
        updated = _Checkpoint.finish_step.rowcount(conn, [
            {"b_run": run_id, "b_key": f.key, "status": f.status,
             "output": f.output, "output_port": f.port, "error": f.error,
             "ended_at": None if f.status in ("sleeping", "waiting") else f.ended_at,
             "next_attempt_at": f.next_attempt_at}
            for f in finished])
        if updated != len(finished):
            raise RuntimeError(f"run {run_id}: a finished step has no checkpoint row")
        used = [{"b_run": run_id, "b_key": f.key, "model": f.usage.model,
                 "pt": f.usage.prompt_tokens, "ct": f.usage.completion_tokens,
                 "tt": f.usage.total_tokens, "cost": f.usage.cost_usd, "ms": f.usage.latency_ms}
                for f in finished if f.usage is not None]
        if used:
            _Checkpoint.add_usage.rowcount(conn, used)
        attempts = [
            {"run_id": run_id, "node_key": f.key, "number": f.attempt,
             "status": "failed" if f.status in ("failed", "retrying", "cancelled")
             else "succeeded",
             "error": f.error, "started_at": f.started_at, "ended_at": f.ended_at}
            for f in finished if f.ends_attempt]
        if attempts:
            _Checkpoint.add_attempt.rowcount(conn, attempts)
        waits = [f.wait for f in finished if f.wait]
        if waits:
            _Checkpoint.add_wait.rowcount(conn, waits)

    # -- control -----------------------------------------------------------------------

    def cancel(self, run_id: str) -> str | None:
        """Cancel an active run. Returns its status afterwards (None: no such run)."""
        now = utcnow()
        with self.db.write() as conn:
            conn.execute(update(RUN).where(RUN.c.id == run_id,
                                           RUN.c.status.not_in(TERMINAL_STATUSES))
                         .values(status="cancelled", ended_at=now, updated_at=now,
                                 wake_at=None, wake_seq=RUN.c.wake_seq + 1,
                                 error={"type": "Cancelled", "message": "the run was cancelled"}))
            _Lifecycle.drop_waits.rowcount(conn, {"b_run": run_id})
            conn.execute(update(STEP).where(STEP.c.run_id == run_id,
                                            STEP.c.status.in_(("sleeping", "waiting")))
                         .values(status="cancelled", ended_at=now, next_attempt_at=None))
            conn.execute(update(STEP).where(STEP.c.run_id == run_id,
                                            STEP.c.status.in_(("retrying", "running")),
                                            STEP.c.run_id.in_(select(RUN.c.id).where(
                                                RUN.c.id == run_id,
                                                RUN.c.lease_owner.is_(None))))
                         .values(status="cancelled", ended_at=now, next_attempt_at=None))
            return conn.execute(select(RUN.c.status).where(RUN.c.id == run_id)).scalar()

    def due_for_sweep(self, *, grace: float, limit: int = 500) -> list[str]:
        """Active runs nobody works on whose message may be lost: not sent for `grace`
        seconds (a delayed message counts as sent at its due time), or past their deadline."""
        now = utcnow()
        no_live_lease = or_(RUN.c.lease_owner.is_(None), RUN.c.lease_expires_at < now)
        not_sent_lately = or_(RUN.c.enqueued_at.is_(None),
                              RUN.c.enqueued_at < now - timedelta(seconds=grace))
        due = or_(
            and_(not_sent_lately, or_(RUN.c.wake_at.is_(None), RUN.c.wake_at <= now)),
            RUN.c.deadline_at <= now)
        with self.db.read() as conn:
            rows = conn.execute(
                select(RUN.c.id).where(RUN.c.status.in_(ACTIVE_STATUSES), no_live_lease, due)
                .order_by(RUN.c.started_at).limit(limit)).all()
        return [r[0] for r in rows]

    def claim_due_wakes(self, within: float = 0.0,
                        limit: int = 1000) -> list[tuple[str, datetime]]:
        """Parked runs whose wake time comes in the next `within` seconds (or has come) and
        for which no message was sent: marked as sent for their wake time, and returned
        with it. Each run is claimed by one caller, however many look."""
        now = utcnow()
        due = (_one_of(RUN.c.status, PARKED_STATUSES),
               RUN.c.wake_at <= now + timedelta(seconds=within), RUN.c.lease_owner.is_(None),
               or_(RUN.c.enqueued_at.is_(None), RUN.c.enqueued_at < RUN.c.wake_at))
        with self.db.read() as conn:  # the common case, nothing due, takes no write lock
            run_ids = list(conn.execute(select(RUN.c.id).where(*due)
                                        .order_by(RUN.c.wake_at).limit(limit)).scalars())
        if not run_ids:
            return []
        with self.db.write() as conn:  # the conditions again: another sweeper may have won
            return [tuple(row) for row in conn.execute(
                update(RUN).where(RUN.c.id.in_(run_ids), *due)
                .values(enqueued_at=RUN.c.wake_at).returning(RUN.c.id, RUN.c.wake_at))]

    def mark_enqueued(self, run_ids: list[str]) -> None:
        if not run_ids:
            return
        with self.db.write() as conn:
            conn.execute(update(RUN).where(RUN.c.id.in_(run_ids)).values(enqueued_at=utcnow()))

    def request_wake(self, run_id: str) -> None:
        """Ask whoever holds the run (or the next worker) to look at it again. Its wake time
        becomes now, so the sweep resends it if the message that follows is lost."""
        now = utcnow()
        with self.db.write() as conn:
            conn.execute(update(RUN).where(RUN.c.id == run_id,
                                           RUN.c.status.not_in(TERMINAL_STATUSES))
                         .values(wake_seq=RUN.c.wake_seq + 1, enqueued_at=now, wake_at=now))

    def delete_runs_of_workflow(self, conn, workflow_id: int) -> None:
        run_ids = select(RUN.c.id).where(RUN.c.workflow_id == workflow_id)
        conn.execute(delete(ATTEMPT).where(ATTEMPT.c.run_id.in_(run_ids)))
        conn.execute(delete(STEP).where(STEP.c.run_id.in_(run_ids)))
        conn.execute(delete(RUN).where(RUN.c.workflow_id == workflow_id))

    def count_by_status(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(select(RUN.c.status, func.count()).group_by(RUN.c.status)).all()
        return dict(rows)
