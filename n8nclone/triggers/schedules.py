"""The scheduler: starts a run of each active scheduled workflow at each tick of its cron.

It runs as a thread of `n8nclone up` and as `n8nclone scheduler`; any number may run at
once. The database decides who fires a tick (see store/schedules.py), so each tick starts
exactly one run. The scheduler keeps no state of its own: what fired is in the database,
so after downtime the most recent missed tick of each workflow fires once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from n8nclone.engine.executor import Dispatcher
from n8nclone.engine.start import start_run
from n8nclone.errors import UserInputError
from n8nclone.store.clock import utcnow
from n8nclone.store.runs import RunStore
from n8nclone.store.schedules import TRIGGER_TYPE, ClaimedTick, ScheduledWorkflow, ScheduleStore
from n8nclone.triggers.schedule_cron import DEFAULT_TIMEZONE, CronSchedule

if TYPE_CHECKING:
    from n8nclone.services import Services

log = logging.getLogger("n8nclone.scheduler")

TICK_RETENTION = timedelta(days=7)  # fired ticks kept (each workflow's last one always)
PRUNE_EVERY = 3600.0  # seconds between prunes of old ticks
# A claimed tick still without a run after this long lost its scheduler: take it over.
# Far longer than the one short transaction start_run needs, so a slow scheduler is not
# mistaken for a dead one.
TAKE_OVER_AFTER = timedelta(seconds=60)


class NoDispatch:
    """A dispatcher that sends nothing: `n8nclone scheduler` without REDIS_URL has nobody
    to send to, so its runs wait queued in the database for `n8nclone up`'s sweep."""

    def send(self, run_id: str, delay: float = 0.0) -> None:
        return None


class Scheduler(threading.Thread):
    """Each pass fires the due tick of every scheduled workflow, then sleeps until the next
    tick or `interval` seconds, whichever is sooner. `now` is injectable for tests."""

    def __init__(self, store: ScheduleStore, runs: RunStore, dispatcher: Dispatcher, *,
                 interval: float = 1.0, now: Callable[[], datetime] = utcnow):
        super().__init__(name="n8nclone-scheduler", daemon=True)
        self.store, self.runs, self.dispatcher = store, runs, dispatcher
        self.interval, self.now = interval, now
        self.next_due: datetime | None = None
        self._stop_event = threading.Event()
        self._schedules: dict[tuple[str, str], CronSchedule] = {}
        self._settings: dict[int, dict] = {}  # version id -> plan settings (immutable)
        self._last_prune = float("-inf")
        self._failing: set[tuple[int, int]] = set()  # (workflow, version) already logged

    # -- one pass ------------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Start the runs of every due tick (and of ticks whose scheduler died); return
        their ids."""
        now = self.now()
        started: list[str] = []
        upcoming: list[datetime] = []
        for scheduled in self.store.scheduled_workflows():
            try:
                schedule = self._schedule(scheduled)
                due = schedule.due(scheduled.since, now)
                if due is not None:
                    started += self._fire(scheduled, schedule, due, now)
                upcoming.append(schedule.next_after(now))
                self._failing.discard((scheduled.workflow_id, scheduled.version_id))
            except Exception:  # noqa: BLE001  one broken schedule must not stop the others
                self._log_failure(scheduled)
        for claimed in self.store.take_over_unstarted(now - TAKE_OVER_AFTER, now):
            log.warning("workflow %d: tick %s was claimed but not started; starting it",
                        claimed.workflow_id, claimed.tick_at.isoformat())
            try:
                started += self._start(claimed, taken_over=True)
            except Exception:  # noqa: BLE001  taken over again after TAKE_OVER_AFTER
                log.exception("workflow %d: tick %s failed to start", claimed.workflow_id,
                              claimed.tick_at.isoformat())
        self.next_due = min(upcoming, default=None)
        self._prune_now_and_then(now)
        return started

    def _fire(self, scheduled: ScheduledWorkflow, schedule: CronSchedule, due: datetime,
              now: datetime) -> list[str]:
        claimed = self.store.claim_tick(
            scheduled, due, now=now, input={"scheduled_at": due.isoformat(),
                                             "timezone": schedule.timezone,
                                             "cron": schedule.cron})
        return self._start(claimed) if claimed else []  # None: another scheduler has it

    def _start(self, tick: ClaimedTick, *, taken_over: bool = False) -> list[str]:
        run_id = self.store.run_started_for(tick) if taken_over else None
        if run_id is None:
            try:
                run_id = start_run(self.runs, self.dispatcher, workflow_id=tick.workflow_id,
                                   version_id=tick.version_id,
                                   plan_settings=self._plan_settings(tick.version_id),
                                   input=tick.input, trigger_type=TRIGGER_TYPE)
            except UserInputError as exc:  # a flow-control setting that cannot be evaluated
                log.error("workflow %d: tick %s started no run: %s", tick.workflow_id,
                          tick.tick_at.isoformat(), exc)
                self.store.record_error(tick.id, str(exc))
                return []
        self.store.record_run(tick.id, run_id)
        log.info("workflow %d: tick %s started run %s", tick.workflow_id,
                 tick.tick_at.isoformat(), run_id)
        return [run_id]

    def _log_failure(self, scheduled: ScheduledWorkflow) -> None:
        # Once until it works again, not once a second: the next pass likely fails alike.
        key = (scheduled.workflow_id, scheduled.version_id)
        if key not in self._failing:
            self._failing.add(key)
            log.exception("schedule of workflow %d failed; trying again every pass",
                          scheduled.workflow_id)

    def _schedule(self, scheduled: ScheduledWorkflow) -> CronSchedule:
        key = (scheduled.cron, scheduled.config.get("timezone") or DEFAULT_TIMEZONE)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = self._schedules[key] = CronSchedule(*key)
        return schedule

    def _plan_settings(self, version_id: int) -> dict:
        if version_id not in self._settings:
            self._settings[version_id] = self.store.plan_settings(version_id)
        return self._settings[version_id]

    def _prune_now_and_then(self, now: datetime) -> None:
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            self._last_prune = time.monotonic()
            self.store.prune(now - TICK_RETENTION)

    # -- the thread ----------------------------------------------------------------------

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001  a database hiccup must not kill the loop
                log.exception("scheduler pass failed; trying again in %.1f s", self.interval)
            self._stop_event.wait(self.seconds_to_sleep())

    def seconds_to_sleep(self) -> float:
        """Until the next tick (a little after it), at most `interval`."""
        if self.next_due is None:
            return self.interval
        until_due = (self.next_due - self.now()).total_seconds() + 0.005
        return max(0.0, min(self.interval, until_due))

    def stop(self) -> None:
        self._stop_event.set()


def build_scheduler(services: Services, *, dispatch: bool = True) -> Scheduler:
    """A scheduler on `services`' database. `dispatch=False`: start runs without sending
    them (nobody would receive them; the sweep of `n8nclone up` picks them up)."""
    return Scheduler(ScheduleStore(services.db), services.runs,
                     services.dispatcher if dispatch else NoDispatch(),
                     interval=services.settings.scheduler_interval)
