"""The step executor: walks a run's frozen plan, one checkpointed step at a time.

One call of `execute` takes the run's lease, runs every step it can (several
at once when branches are independent, up to the per-run limit), commits each
result before anything that depends on it starts, and gives the run back with
its new status. Nothing in here waits for a retry's backoff: the run is
released as `retrying` and a delayed message (or the sweeper's timer) brings it back.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from n8nclone.engine.directives import SleepUntil, WaitForEvent
from n8nclone.engine.errors import NonRetriableError, error_data
from n8nclone.engine.fair_lock import FairLock
from n8nclone.engine.jsonsafe import json_safe
from n8nclone.engine.retry import RetryPolicy
from n8nclone.engine.secrets import scrub_secrets
from n8nclone.engine.steps_view import StepsView
from n8nclone.engine.usage import step_usage
from n8nclone.expressions import ExpressionError, render_params
from n8nclone.graph.plan import Plan
from n8nclone.graph.progress import is_complete, next_steps
from n8nclone.nodes.base import NodeContext, Routed
from n8nclone.nodes.registry import NodeRegistry
from n8nclone.store.clock import utcnow
from n8nclone.store.runs import (
    TERMINAL_STATUSES,
    LeasedRun,
    LeaseLost,
    RunStore,
    StepFinish,
    StepRecord,
    StepStart,
)
from n8nclone.store.waits import WaitRow, WaitStore, wait_values

log = logging.getLogger("n8nclone.engine")
TOUCH_INTERVAL = 1.0  # seconds between refreshes of a running run's progress (step count)
# Wakes closer than this get a delayed message (precise to the broker's timer); later ones
# are sent by the sweeper's timer (store.runs.claim_due_wakes), so the broker never holds
# many delayed messages: it delivers them late once more are pending than it prefetches.
DELAYED_MESSAGE_HORIZON = timedelta(seconds=5)
WAITING_STATUSES = ("retrying", "sleeping", "waiting")


class Dispatcher(Protocol):
    """Delivers "work on run R" (the broker, seen from the engine)."""

    def send(self, run_id: str, delay: float = 0.0) -> None: ...


class RunObserver(Protocol):
    """Told what the engine committed (e.g. a webhook waiting for its answer). Called on the
    engine's thread after the commit: keep it quick, and never raise."""

    def step_succeeded(self, run_id: str, node_key: str, node_type: str, output: Any) -> None: ...

    def run_released(self, run_id: str, status: str, output: Any) -> None: ...


@dataclass(frozen=True)
class EngineConfig:
    owner: str
    lease_seconds: float = 30.0
    parallel_steps: int = 4
    default_retries: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    # One thread at a time does engine work (everything but waiting on a node's I/O). On an
    # in-process database (SQLite) that is faster than threads trading the GIL at every call.
    serialize_engine_work: bool = False


class WorkerLost(RuntimeError):
    """A step was still marked running when its run was picked up again."""


@dataclass
class _Outcome:
    status: str
    output: Any = None
    error: dict | None = None
    wake_at: datetime | None = None


@dataclass
class _Attempt:
    key: str
    number: int
    started_at: datetime
    inputs: dict[str, Any] = field(default_factory=dict)


class Executor:
    def __init__(self, store: RunStore, registry: NodeRegistry, dispatcher: Dispatcher,
                 config: EngineConfig, *, waits: WaitStore | None = None,
                 event_sink: Callable[[list[dict]], list[str]] | None = None):
        self.store = store
        self.registry = registry
        self.dispatcher = dispatcher
        self.config = config
        self.waits = waits or WaitStore(store.db)
        self.event_sink = event_sink  # how event.send emits events (set by the services)
        # How nodes find credentials by name (set by the services): name -> Credential.
        self.find_credential: Callable[[str], Any] | None = None
        self._plans: dict[int, Plan] = {}
        self._plans_lock = threading.Lock()
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._engine_turn = (FairLock() if config.serialize_engine_work
                             else contextlib.nullcontext())
        self.observers: list[RunObserver] = []

    # -- entry point -------------------------------------------------------------------

    def execute(self, run_id: str) -> str | None:
        """Work on the run until it finishes or must wait. Returns its status, or None
        when the run was not ours to work on (finished, or leased by another worker or
        another thread of this process)."""
        # A token per call, not per process: two threads of one process must not share a run.
        owner = f"{self.config.owner}/{uuid.uuid4().hex[:12]}"
        with self._held_lock:
            self._held.add(owner)
        try:
            with self._engine_turn:
                return self._execute(run_id, owner)
        finally:
            with self._held_lock:
                self._held.discard(owner)

    def _execute(self, run_id: str, owner: str) -> str | None:
        ttl = self.config.lease_seconds
        run = self.store.acquire_lease(run_id, owner, ttl)
        while run is not None:
            driver = _RunDriver(self, run, owner)
            try:
                outcome = driver.drive()
                send_delayed = (outcome.wake_at is not None
                                and outcome.wake_at - utcnow() <= DELAYED_MESSAGE_HORIZON)
                # The last steps' results are committed with the release: one transaction.
                status = self.store.release(
                    run_id, owner, status=outcome.status, wake_seq=run.wake_seq,
                    wake_at=outcome.wake_at, message_due=send_delayed, output=outcome.output,
                    error=outcome.error, finished=driver.unsaved)
            except LeaseLost:
                log.warning("run %s: lease lost to another worker; stopping", run_id)
                return None
            driver.tell_observers(driver.unsaved)
            if status is not None:
                self._released(run, status, outcome, send_delayed)
                return status
            run = self.store.acquire_lease(run_id, owner, ttl)  # asked for a new look
        return None

    def _released(self, run: LeasedRun, status: str, outcome: _Outcome,
                  send_delayed: bool) -> None:
        """What follows a release: the wake-up message, the next run of a concurrency key,
        the observers."""
        if send_delayed and status == outcome.status:
            delay = (outcome.wake_at - utcnow()).total_seconds()
            self.dispatcher.send(run.id, max(0.0, delay))
        if status in TERMINAL_STATUSES and run.concurrency_key is not None:
            next_run = self.store.next_queued(run.concurrency_key)  # its slot is free
            if next_run is not None:
                self.dispatcher.send(next_run)
        output = outcome.output if status == outcome.status else None
        for observer in self.observers:
            observer.run_released(run.id, status, output)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Give up the engine's turn while this thread waits on the outside world."""
        if not self.config.serialize_engine_work:
            yield
            return
        self._engine_turn.release()
        try:
            yield
        finally:
            self._engine_turn.acquire()

    def held_leases(self) -> list[str]:
        """Lease tokens of the runs this process is working on now (the LeaseKeeper renews
        them)."""
        with self._held_lock:
            return list(self._held)

    def plan_for(self, version_id: int) -> Plan:
        """Plans are immutable per version, so they are cached for the process's life."""
        plan = self._plans.get(version_id)
        if plan is None:
            plan = Plan.from_dict(self.store.load_plan_data(version_id))
            with self._plans_lock:
                if len(self._plans) > 1000:
                    self._plans.clear()
                self._plans[version_id] = plan
        return plan


class _RunDriver:
    """The state of one `execute` call for one run."""

    def __init__(self, executor: Executor, run: LeasedRun, owner: str):
        self.ex = executor
        self.run = run
        self.owner = owner
        self.plan = executor.plan_for(run.version_id)
        self.records: dict[str, StepRecord] = (
            {} if run.fresh else executor.store.load_steps(run.id))
        self.waits: dict[str, WaitRow] = (
            executor.waits.of_run(run.id)
            if any(r.status == "waiting" for r in self.records.values()) else {})
        self.outputs: dict[str, Any] = {}
        self.steps = StepsView(self.records, self.outputs,
                               lambda key: executor.store.load_output(run.id, key))
        self.finished: list[StepFinish] = []
        self.unsaved: list[StepFinish] = []  # to commit with the release, once drive returns
        self.failure: dict | None = None
        self.in_flight: dict[Future, _Attempt] = {}
        self.pending: dict[str, tuple[_Attempt, dict]] = {}  # rendered, not yet launched
        self.last_touch = float("-inf")
        self.pool: ThreadPoolExecutor | None = None
        settings = self.plan.settings
        self.parallel = settings.get("parallel") or executor.config.parallel_steps

    # -- main loop ---------------------------------------------------------------------

    def drive(self) -> _Outcome:
        """Run steps until none can start; the outcome to release the run with (the last
        results, in `unsaved`, are committed with the release)."""
        try:
            self._recover_interrupted_steps()
            self._note_earlier_failure()
            while True:
                if self._past_deadline():
                    return self._time_out()
                starts, skipped, early = self._plan_next()
                committed, self.finished = self.finished, []
                if not (starts or skipped or early or self.in_flight):
                    self.unsaved = committed
                    return self._final_outcome()
                status = self.ex.store.checkpoint(
                    self.run.id, self.owner, finished=committed, started=starts,
                    skipped=skipped, touch=self._time_to_touch())
                self.tell_observers(committed)
                if status != "running":
                    self._drain_in_flight()
                    return _Outcome(status)
                self._launch()
                for attempt, exc in early:  # a template that failed: the step fails now
                    self._settle(attempt, None, exc)
                self._collect()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=False)

    def _plan_next(self) -> tuple[list[StepStart], list[tuple[str, str]], list]:
        """Decide what starts now: render its parameters; nothing is executed yet."""
        starts: list[StepStart] = []
        skipped: list[tuple[str, str]] = []
        early: list[tuple[_Attempt, Exception]] = []
        if self.failure is not None:
            return starts, skipped, early
        now = utcnow()
        self._complete_due_waits(now)
        progress = next_steps(self.plan, self.records)
        for key in progress.skipped:
            self.records[key] = StepRecord("skipped")
            skipped.append((key, self.plan.nodes[key].type))
        due_retries = [k for k, r in self.records.items() if r.status == "retrying"
                       and (r.next_attempt_at is None or r.next_attempt_at <= now)]
        capacity = self.parallel - len(self.in_flight)
        for key in (list(progress.ready) + due_retries)[:max(0, capacity)]:
            previous = self.records.get(key)
            attempt = _Attempt(key, (previous.attempts if previous else 0) + 1, now,
                               self._live_inputs(key))
            try:
                params = self._render(key, attempt)
            except (ExpressionError, NonRetriableError) as exc:
                params = None
                early.append((attempt, exc))
            else:
                self.pending[key] = (attempt, params)
            starts.append(StepStart(key, self.plan.nodes[key].type, attempt.number, params))
            self.records[key] = StepRecord("running", attempts=attempt.number, started_at=now)
        return starts, skipped, early

    def _launch(self) -> None:
        jobs = list(self.pending.values())
        self.pending.clear()
        if len(jobs) == 1 and not self.in_flight:
            attempt, params = jobs[0]  # the common chain case: no thread hop
            node_type = self.ex.registry.get(self.plan.nodes[attempt.key].type)
            if node_type.waits_on_io:
                with self.ex.waiting():
                    output, exc, ctx = self._call_node(attempt, params)
            else:
                output, exc, ctx = self._call_node(attempt, params)
            self._settle(attempt, output, exc, ctx)
            return
        for attempt, params in jobs:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=self.parallel,
                                               thread_name_prefix=f"run-{self.run.id[-6:]}")
            self.in_flight[self.pool.submit(self._call_node, attempt, params)] = attempt

    def _collect(self) -> None:
        if not self.in_flight:
            return
        with self.ex.waiting():
            done, _ = wait(list(self.in_flight), timeout=self.ex.config.lease_seconds / 3,
                           return_when=FIRST_COMPLETED)
        for future in done:
            attempt = self.in_flight.pop(future)
            self._settle(attempt, *future.result())

    def _drain_in_flight(self) -> None:
        """Wait for steps still running and record their real results."""
        for future, attempt in list(self.in_flight.items()):
            with self.ex.waiting():
                result = future.result()
            self._settle(attempt, *result)
        self.in_flight.clear()
        if self.finished:
            self.ex.store.checkpoint(self.run.id, self.owner, finished=self.finished)
            self.finished = []

    # -- one step ----------------------------------------------------------------------

    def _render(self, key: str, attempt: _Attempt) -> dict[str, Any]:
        node = self.plan.nodes[key]
        node_type = self.ex.registry.get(node.type)
        if node_type is None:  # saved while a plug-in was installed that is gone now
            raise NonRetriableError(f"node '{key}': node type '{node.type}' is not installed")
        context = {
            "trigger": self.run.input,
            "steps": self.steps,
            "input": NodeContext(self.run.id, self.run.workflow_id, key, attempt.number,
                                 self.run.input, attempt.inputs).input,
            "run": {"id": self.run.id, "workflow_id": self.run.workflow_id,
                    "attempt": attempt.number},
        }
        try:
            return render_params(node_type.with_defaults(node.params), context)
        except ExpressionError as exc:
            raise ExpressionError(exc.param, exc.reason, node=key) from None

    def _call_node(self, attempt: _Attempt, params: dict
                   ) -> tuple[Any, BaseException | None, NodeContext]:
        """Run the node's code; never raises (errors are data)."""
        node = self.plan.nodes[attempt.key]
        node_type = self.ex.registry.get(node.type)
        ctx = NodeContext(run_id=self.run.id, workflow_id=self.run.workflow_id,
                          node_key=attempt.key, attempt=attempt.number, trigger=self.run.input,
                          inputs=attempt.inputs, send_events=self.ex.event_sink,
                          find_credential=self.ex.find_credential,
                          budget_left_usd=self._budget_left())
        try:
            return node_type().execute(ctx, params), None, ctx
        except Exception as exc:  # noqa: BLE001  any node error becomes step data
            return None, exc, ctx

    def _budget_left(self) -> float | None:
        """What the run may still spend under the workflow's budget (None: no budget)."""
        budget = self.plan.settings.get("budget_usd")
        if budget is None:
            return None
        unsaved = sum(f.usage.cost_usd for f in self.finished
                      if f.usage is not None and f.usage.cost_usd is not None)
        return budget - self.ex.store.run_cost(self.run.id) - unsaved

    def _settle(self, attempt: _Attempt, output: Any, exc: BaseException | None,
                ctx: NodeContext | None = None) -> None:
        """Turn a node's result into the checkpoint to commit next."""
        key, now = attempt.key, utcnow()
        record = self.records[key]
        usage = step_usage(ctx.usage) if ctx is not None and ctx.usage else None
        secrets = ctx.revealed if ctx is not None else ()
        if exc is None and isinstance(output, (SleepUntil, WaitForEvent)):
            self._start_waiting(attempt, output, now)
            return
        if exc is None:
            port = None
            if isinstance(output, Routed):
                output, port = output.output, output.port
            try:
                output = scrub_secrets(json_safe(output), secrets)
            except (TypeError, ValueError) as err:
                exc = TypeError(f"the output cannot be stored as JSON: {err}")
            else:
                self.outputs[key] = output
                record.status, record.port = "succeeded", port
                self.finished.append(StepFinish(key, attempt.number, "succeeded",
                                                attempt.started_at, output=output, port=port,
                                                ended_at=now, usage=usage))
                return
        error = scrub_secrets(error_data(exc), secrets) | {"attempt": attempt.number}
        decision = self._policy(key).decide(exc, attempt.number, now)
        if decision.retry:
            record.status, record.next_attempt_at = "retrying", decision.at
            self.finished.append(StepFinish(key, attempt.number, "retrying", attempt.started_at,
                                            error=error, next_attempt_at=decision.at,
                                            ended_at=now, usage=usage))
            return
        record.status = "failed"
        self.finished.append(StepFinish(key, attempt.number, "failed", attempt.started_at,
                                        error=error, ended_at=now, usage=usage))
        if self.failure is None:
            self.failure = error | {"node": key}

    # -- sleeping and waiting for events ------------------------------------------------

    def _start_waiting(self, attempt: _Attempt, directive: SleepUntil | WaitForEvent,
                       now: datetime) -> None:
        """The node asked its step to wait: record it; the run is released when idle."""
        record = self.records[attempt.key]
        if isinstance(directive, SleepUntil):
            record.status, record.next_attempt_at = "sleeping", directive.until
            self.finished.append(StepFinish(attempt.key, attempt.number, "sleeping",
                                            attempt.started_at, ended_at=now,
                                            next_attempt_at=directive.until))
            return
        record.status, record.next_attempt_at = "waiting", directive.expires_at
        wait = wait_values(run_id=self.run.id, node_key=attempt.key, kind="step",
                           event=directive.event, match_field=directive.match_field,
                           match_value=directive.match_value, condition=directive.condition,
                           expires_at=directive.expires_at,
                           fail_on_timeout=directive.fail_on_timeout)
        self.finished.append(StepFinish(attempt.key, attempt.number, "waiting",
                                        attempt.started_at, ended_at=now,
                                        next_attempt_at=directive.expires_at, wait=wait))

    def _complete_due_waits(self, now: datetime) -> None:
        """Finish sleeps whose time came and waits whose event came (or timed out)."""
        for key, record in self.records.items():
            if record.status == "sleeping" and record.next_attempt_at <= now:
                self._finish_waiting(key, {"slept_until": record.next_attempt_at.isoformat()})
            elif record.status == "waiting":
                wait = self.waits.get(key)
                if wait is not None and wait.status == "matched":
                    self._finish_waiting(key, self.ex.waits.event(wait.event_id))
                elif record.next_attempt_at is not None and record.next_attempt_at <= now:
                    if wait is not None:
                        self.ex.waits.expire(wait.id)
                    if wait is not None and wait.fail_on_timeout:
                        error = {"type": "Timeout", "node": key,
                                 "message": f"step '{key}': no matching event before "
                                            f"{record.next_attempt_at.isoformat()}"}
                        record.status = "failed"
                        self.finished.append(StepFinish(key, record.attempts, "failed",
                                                        record.started_at or now, error=error,
                                                        ends_attempt=False))
                        self.failure = self.failure or error
                    else:
                        self._finish_waiting(key, None)

    def _finish_waiting(self, key: str, output: Any) -> None:
        record = self.records[key]
        record.status, record.port, record.next_attempt_at = "succeeded", None, None
        self.outputs[key] = output
        self.finished.append(StepFinish(key, record.attempts, "succeeded",
                                        record.started_at or utcnow(), output=output,
                                        ends_attempt=False))

    def _policy(self, key: str) -> RetryPolicy:
        node = self.plan.nodes[key]
        retries = node.retries
        if retries is None:
            retries = self.plan.settings.get("retries")
        if retries is None:
            retries = self.ex.config.default_retries
        return RetryPolicy(retries=retries, base_seconds=self.ex.config.backoff_base,
                           cap_seconds=self.ex.config.backoff_cap)

    # -- helpers -----------------------------------------------------------------------

    def _live_inputs(self, key: str) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for source, port in self.plan.incoming.get(key, ()):
            record = self.records.get(source)
            if record and record.status == "succeeded" and (record.port or "main") == port:
                inputs[source] = self.steps.output(source)
        return inputs

    def _recover_interrupted_steps(self) -> None:
        """Steps marked running when we took the lease were cut off by a dead worker."""
        for key, record in self.records.items():
            if record.status == "running":
                attempt = _Attempt(key, record.attempts, record.started_at or utcnow())
                exc = WorkerLost("the worker running this step stopped before it finished")
                self._settle(attempt, None, exc)
                if record.status == "retrying":
                    record.next_attempt_at = None  # a lost worker is no reason to wait

    def _note_earlier_failure(self) -> None:
        for key, record in self.records.items():
            if record.status == "failed" and self.failure is None:
                self.failure = {"type": "StepFailed", "message": f"step '{key}' failed",
                                "node": key}

    def tell_observers(self, committed: list[StepFinish]) -> None:
        for observer in self.ex.observers:
            for step in committed:
                if step.status == "succeeded":
                    observer.step_succeeded(self.run.id, step.key,
                                            self.plan.nodes[step.key].type, step.output)

    def _time_to_touch(self) -> bool:
        """Refresh the run row's progress at most every TOUCH_INTERVAL seconds."""
        now = time.monotonic()
        if now - self.last_touch < TOUCH_INTERVAL:
            return False
        self.last_touch = now
        return True

    def _past_deadline(self) -> bool:
        return self.run.deadline_at is not None and utcnow() >= self.run.deadline_at

    def _time_out(self) -> _Outcome:
        timeout = self.plan.settings.get("timeout")
        error = {"type": "Timeout", "message": f"the run passed its timeout of {timeout}"}
        for future, attempt in self.in_flight.items():
            future.cancel()
            self.finished.append(StepFinish(attempt.key, attempt.number, "cancelled",
                                            attempt.started_at, error=error))
        for key, record in self.records.items():
            if record.status in WAITING_STATUSES:
                self.finished.append(StepFinish(key, record.attempts, "cancelled",
                                                record.started_at or utcnow(), error=error,
                                                ends_attempt=False))
        self.in_flight.clear()
        if self.finished:
            self.ex.store.checkpoint(self.run.id, self.owner, finished=self.finished)
        return _Outcome("failed", error=error)

    def _final_outcome(self) -> _Outcome:
        if self.failure is not None:
            return _Outcome("failed", error=self.failure)
        if is_complete(self.plan, self.records):
            last = next((k for k in reversed(self.plan.order)
                         if self.records[k].status == "succeeded"), None)
            return _Outcome("succeeded", output=self.steps.output(last) if last else None)
        waiting = [r for r in self.records.values() if r.status in WAITING_STATUSES]
        if waiting:
            statuses = {r.status for r in waiting}
            status = next(s for s in ("waiting", "sleeping", "retrying") if s in statuses)
            times = [r.next_attempt_at for r in waiting if r.next_attempt_at is not None]
            return _Outcome(status, wake_at=min(times) if times else None)
        return _Outcome("failed", error={"type": "Stuck",
                                         "message": "the run cannot make progress"})
