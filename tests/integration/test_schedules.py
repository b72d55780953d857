"""The scheduler on SQLite and PostgreSQL: ticks start runs (once per tick, however many
schedulers race), a missed tick fires once after downtime, inactive workflows stay quiet,
a scheduler dying mid-tick loses nothing, and `n8nclone scheduler` as a real process.

The scheduler's clock is injected, so a test moves time instead of waiting for it."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from n8nclone.engine.start import start_run
from n8nclone.services import Services, build_services
from n8nclone.store.db import Database
from n8nclone.store.models import Run, TriggerRegistration, Workflow
from n8nclone.store.runs import RunStore
from n8nclone.store.schedules import ScheduleStore
from n8nclone.triggers.schedules import TAKE_OVER_AFTER, Scheduler
from n8nclone.worker.runtime import WorkerRuntime
from n8nclone.workflows import save_workflow, set_workflow_active
from tests.conftest import make_env, make_settings, wait_for_status
from tests.utils.processes import N8NCLONE, PROJECT, kill
from tests.utils.runs import steps_by_key, wait_until

RUN = Run.__table__
REG = TriggerRegistration.__table__
WF = Workflow.__table__
MINUTE = timedelta(minutes=1)


class Clock:
    """A settable clock for a scheduler."""

    def __init__(self, now: datetime):
        self.value = now

    def __call__(self) -> datetime:
        return self.value


class RecordingDispatcher:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, run_id: str, delay: float = 0.0) -> None:
        self.sent.append(run_id)


@pytest.fixture
def services(database_url, tmp_path) -> Services:
    """Services on the test's database; nothing executes runs (they stay queued)."""
    return build_services(make_settings(database_url, tmp_path))


def scheduled(name: str, cron: str = "* * * * *", timezone: str | None = None,
              active: bool = True, **settings) -> dict:
    params = {"cron": cron} if timezone is None else {"cron": cron, "timezone": timezone}
    return {"name": name, "active": active, "settings": settings,
            "nodes": [{"key": "clock", "type": "trigger.schedule", "params": params},
                      {"key": "note", "type": "data.set",
                       "params": {"values": {"at": "{{ trigger.scheduled_at }}"}}}],
            "edges": [{"from": "clock", "to": "note"}]}


def make_scheduler(services: Services, clock: Clock, db: Database | None = None) -> Scheduler:
    db = db or services.db
    return Scheduler(ScheduleStore(db), RunStore(db), RecordingDispatcher(), now=clock)


def next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + MINUTE


def next_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def scheduled_runs(services: Services, workflow_id: int) -> list[dict]:
    """The workflow's runs (trigger type, input), oldest first."""
    with services.db.read() as conn:
        rows = conn.execute(select(RUN.c.id, RUN.c.trigger_type, RUN.c.input, RUN.c.deadline_at,
                                   RUN.c.started_at)
                            .where(RUN.c.workflow_id == workflow_id)
                            .order_by(RUN.c.started_at, RUN.c.id)).all()
    return [dict(row._mapping) for row in rows]


def ticks_of(services: Services, workflow_id: int) -> list[str]:
    return [r["input"]["scheduled_at"] for r in scheduled_runs(services, workflow_id)]


# -- firing ------------------------------------------------------------------------------------


def test_a_tick_starts_one_run_that_executes_with_the_tick_as_input(database_url, tmp_path):
    # given a running embedded worker and a workflow scheduled every minute
    services = build_services(make_settings(database_url, tmp_path))
    runtime = WorkerRuntime(services).start()
    try:
        record = save_workflow(services.workflows, services.registry, scheduled("every minute"))
        clock = Clock(next_minute(record.updated_at) + timedelta(seconds=1))
        scheduler = Scheduler(ScheduleStore(services.db), services.runs, services.dispatcher,
                              now=clock)

        # when the scheduler passes twice just after the next minute starts
        first, again = scheduler.tick(), scheduler.tick()

        # expect one run, started by the schedule, that succeeds with the tick as its input
        assert len(first) == 1 and again == []
        assert wait_for_status(services, first[0]) == "succeeded"
        run = services.run_queries.get_run(first[0])
        tick = next_minute(record.updated_at)
        expected = {"scheduled_at": tick.isoformat(), "timezone": "UTC", "cron": "* * * * *"}
        assert run["trigger_type"] == "schedule"
        assert run["input"] == expected
        steps = steps_by_key(run)
        assert steps["clock"]["output"] == expected
        assert steps["note"]["output"] == {"at": tick.isoformat()}
    finally:
        runtime.stop()


def test_the_first_tick_is_the_next_one_after_activation(services):
    # given a workflow saved (and so activated) now
    record = save_workflow(services.workflows, services.registry, scheduled("fresh"))
    clock = Clock(record.updated_at)
    scheduler = make_scheduler(services, clock)

    # when the scheduler passes at the saving time and just before the next minute
    assert scheduler.tick() == []
    clock.value = next_minute(record.updated_at) - timedelta(microseconds=1)
    assert scheduler.tick() == []

    # expect the next minute to be the first tick (the current one is not backfilled)
    assert scheduler.next_due == next_minute(record.updated_at)
    clock.value = next_minute(record.updated_at)
    assert len(scheduler.tick()) == 1
    assert ticks_of(services, record.id) == [next_minute(record.updated_at).isoformat()]


def test_after_downtime_the_most_recent_missed_tick_fires_once(services):
    # given an every-minute workflow that fired once
    record = save_workflow(services.workflows, services.registry, scheduled("missed"))
    first = next_minute(record.updated_at)
    clock = Clock(first + timedelta(seconds=2))
    assert len(make_scheduler(services, clock).tick()) == 1

    # when schedulers come back 10 minutes (ten ticks) later, and pass again and again
    clock.value = first + 10 * MINUTE + timedelta(seconds=30)
    restarted = make_scheduler(services, clock)
    started = [run for _ in range(3) for run in restarted.tick()]

    # expect one run for the last missed tick, none for the nine before it
    assert len(started) == 1
    assert ticks_of(services, record.id) == [first.isoformat(),
                                             (first + 10 * MINUTE).isoformat()]


def test_ticks_follow_the_timezone_and_runs_get_the_workflow_timeout(services):
    # given a workflow at 09:00 in Berlin with a 10 minute timeout
    record = save_workflow(services.workflows, services.registry,
                           scheduled("berlin", "0 9 * * *", "Europe/Berlin", timeout="10m"))
    berlin = ZoneInfo("Europe/Berlin")
    local = record.updated_at.astimezone(berlin)
    nine = local.replace(hour=9, minute=0, second=0, microsecond=0)
    if nine <= local:
        nine = (local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)

    # when the clock reaches 09:00 Berlin time
    assert make_scheduler(services, Clock(nine - timedelta(seconds=1))).tick() == []
    assert len(make_scheduler(services, Clock(nine)).tick()) == 1

    # expect the run's input to name the local time, and a deadline 10 minutes out
    [run] = scheduled_runs(services, record.id)
    assert run["input"] == {"scheduled_at": nine.isoformat(), "timezone": "Europe/Berlin",
                            "cron": "0 9 * * *"}
    assert run["deadline_at"] - run["started_at"] == timedelta(minutes=10)


def test_inactive_workflows_do_not_fire(services):
    # given one inactive scheduled workflow and one active one deactivated later
    idle = save_workflow(services.workflows, services.registry,
                         scheduled("idle", active=False))
    busy = save_workflow(services.workflows, services.registry, scheduled("busy"))
    start = next_minute(max(idle.updated_at, busy.updated_at))
    clock = Clock(start + timedelta(seconds=1))
    scheduler = make_scheduler(services, clock)
    assert len(scheduler.tick()) == 1  # busy's tick

    # when busy is deactivated and hours pass
    set_workflow_active(services.workflows, services.registry, busy.id, False)
    clock.value = start + timedelta(hours=5)

    # expect no run of either
    assert scheduler.tick() == []
    assert scheduled_runs(services, idle.id) == []
    assert len(scheduled_runs(services, busy.id)) == 1


def test_reactivation_does_not_backfill(services):
    # given a workflow deactivated, then activated again (its activation time is `since`)
    record = save_workflow(services.workflows, services.registry, scheduled("sleepy"))
    set_workflow_active(services.workflows, services.registry, record.id, False)
    reactivated = set_workflow_active(services.workflows, services.registry, record.id, True)

    # when the scheduler passes at the moment of reactivation
    # expect nothing (the ticks while inactive are not made up), then the next minute fires
    assert make_scheduler(services, Clock(reactivated.updated_at)).tick() == []
    later = Clock(next_minute(reactivated.updated_at))
    assert len(make_scheduler(services, later).tick()) == 1


def test_deleting_a_scheduled_workflow_deletes_its_ticks(services):
    # given a workflow that fired
    record = save_workflow(services.workflows, services.registry, scheduled("doomed"))
    make_scheduler(services, Clock(next_minute(record.updated_at))).tick()
    store = ScheduleStore(services.db)
    assert len(store.ticks(record.id)) == 1

    # when it is deleted
    assert services.workflows.delete(record.id, services.runs)

    # expect its ticks gone too, and nothing left to schedule
    assert store.ticks(record.id) == []
    assert store.scheduled_workflows() == []


def test_a_broken_schedule_does_not_stop_the_others(services, caplog):
    # given two scheduled workflows, one of whose registrations holds a cron that no longer
    # parses (e.g. saved by an older version)
    broken = save_workflow(services.workflows, services.registry, scheduled("broken"))
    fine = save_workflow(services.workflows, services.registry, scheduled("fine"))
    with services.db.write() as conn:
        conn.execute(update(REG).where(REG.c.workflow_id == broken.id).values(key="61 * * * *"))
    clock = Clock(next_minute(fine.updated_at))
    scheduler = make_scheduler(services, clock)

    # when the scheduler passes, twice
    started = scheduler.tick()
    clock.value += MINUTE
    started += scheduler.tick()

    # expect the fine one to fire each time, and the broken one logged once
    assert len(started) == 2 and len(scheduled_runs(services, fine.id)) == 2
    assert scheduled_runs(services, broken.id) == []
    failures = [r for r in caplog.records if f"workflow {broken.id} failed" in r.getMessage()]
    assert len(failures) == 1


# -- two schedulers -------------------------------------------------------------------------


def test_two_racing_schedulers_start_exactly_one_run_per_tick(services, database_url):
    # given three every-minute workflows and two schedulers, each on its own connections
    records = [save_workflow(services.workflows, services.registry, scheduled(f"race {i}"))
               for i in range(3)]
    first = next_minute(max(r.updated_at for r in records))
    ticks = 12
    databases = [Database(database_url), Database(database_url)]
    clocks = [Clock(first), Clock(first)]
    schedulers = [make_scheduler(services, c, db) for c, db in zip(clocks, databases,
                                                                    strict=True)]
    started: list[list[str]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def race(index: int) -> None:
        try:
            for i in range(ticks):
                clocks[index].value = first + i * MINUTE + timedelta(milliseconds=10)
                barrier.wait(timeout=30)  # both pass at the same moment, for the same tick
                started[index] += schedulers[index].tick()
        except BaseException as exc:  # noqa: BLE001  reported by the test thread
            errors.append(exc)
            barrier.abort()

    # when both pass at the same moments, tick after tick
    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for db in databases:
            db.dispose()

    # expect one run per workflow and tick, started by one scheduler or the other
    assert errors == []
    assert len(started[0]) + len(started[1]) == 3 * ticks
    assert not set(started[0]) & set(started[1])
    expected = [(first + i * MINUTE).isoformat() for i in range(ticks)]
    for record in records:
        fired = ticks_of(services, record.id)
        assert sorted(fired) == expected, Counter(fired).most_common(3)


# -- a scheduler dying mid-tick ------------------------------------------------------------------


def test_a_tick_claimed_by_a_dead_scheduler_is_started_by_another(services):
    # given an hourly tick claimed by a scheduler that died before it started the run
    record = save_workflow(services.workflows, services.registry,
                           scheduled("orphan", "0 * * * *"))
    store = ScheduleStore(services.db)
    tick = next_hour(record.updated_at)
    [entry] = store.scheduled_workflows()
    claimed = store.claim_tick(entry, tick, input={"scheduled_at": tick.isoformat(),
                                                   "timezone": "UTC", "cron": "0 * * * *"},
                               now=tick)
    assert claimed is not None

    # when another scheduler passes soon after, then after the take-over delay
    clock = Clock(tick + timedelta(seconds=5))
    survivor = make_scheduler(services, clock)
    soon = survivor.tick()
    clock.value = tick + TAKE_OVER_AFTER + timedelta(seconds=1)
    late = survivor.tick() + survivor.tick()

    # expect the tick not lost: one run for it, after the delay (not twice)
    assert soon == [] and len(late) == 1
    assert ticks_of(services, record.id) == [tick.isoformat()]
    assert [t.run_id for t in store.ticks(record.id)] == late


def test_a_run_started_but_not_recorded_is_linked_not_started_again(services):
    # given a scheduler that claimed a tick and started its run, then died before recording
    record = save_workflow(services.workflows, services.registry,
                           scheduled("half done", "0 * * * *"))
    store = ScheduleStore(services.db)
    tick = next_hour(record.updated_at)
    tick_input = {"scheduled_at": tick.isoformat(), "timezone": "UTC", "cron": "0 * * * *"}
    [entry] = store.scheduled_workflows()
    store.claim_tick(entry, tick, input=tick_input, now=tick)
    run_id = start_run(services.runs, RecordingDispatcher(), workflow_id=record.id,
                       version_id=record.version_id, plan_settings={}, input=tick_input,
                       trigger_type="schedule")

    # when another scheduler takes the tick over
    survivor = make_scheduler(services, Clock(tick + TAKE_OVER_AFTER + timedelta(seconds=1)))
    survivor.tick()

    # expect the existing run recorded on the tick, and no second run
    assert [r["id"] for r in scheduled_runs(services, record.id)] == [run_id]
    assert [t.run_id for t in store.ticks(record.id)] == [run_id]


def test_old_ticks_are_pruned_but_each_workflows_last_tick_is_kept(services):
    # given a workflow with ticks a day apart
    record = save_workflow(services.workflows, services.registry, scheduled("pruned"))
    store = ScheduleStore(services.db)
    first = next_minute(record.updated_at)
    for day in range(3):
        make_scheduler(services, Clock(first + timedelta(days=day))).tick()
    assert len(store.ticks(record.id)) == 3

    # when ticks older than the last are pruned
    removed = store.prune(first + timedelta(days=30))

    # expect only the last tick kept, and nothing fired again for it
    assert removed == 2
    assert [t.tick_at for t in store.ticks(record.id)] == [first + timedelta(days=2)]
    assert make_scheduler(services, Clock(first + timedelta(days=2, seconds=30))).tick() == []


# -- `n8nclone scheduler` -----------------------------------------------------------------------


def start_scheduler(env: dict[str, str], log_path) -> subprocess.Popen:
    """A real `n8nclone scheduler` process; returns once it says it is ready."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([*N8NCLONE, "scheduler"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=PROJECT, start_new_session=True)
    try:
        wait_until(lambda: b"scheduler ready" in log_path.read_bytes() or proc.poll() is not None,
                   "the scheduler to start")
        assert proc.poll() is None, log_path.read_text()
    except BaseException:
        kill(proc)
        raise
    return proc


def save_overdue(services: Services, name: str):
    """An every-minute workflow saved two minutes ago, as after downtime: its latest minute
    is due at once, so a test need not wait for the clock's next minute."""
    record = save_workflow(services.workflows, services.registry, scheduled(name))
    with services.db.write() as conn:
        conn.execute(update(WF).where(WF.c.id == record.id)
                     .values(updated_at=record.updated_at - 2 * MINUTE))
    return record


def assert_one_run_for_the_latest_minute(runs: list[dict]) -> None:
    assert len(runs) == 1 and runs[0]["trigger_type"] == "schedule"
    scheduled_at = datetime.fromisoformat(runs[0]["input"]["scheduled_at"])
    assert runs[0]["started_at"] - MINUTE < scheduled_at <= runs[0]["started_at"]


def test_the_scheduler_command_starts_runs(database_url, tmp_path):
    # given `n8nclone scheduler` on the embedded default (no Redis) and an overdue workflow
    proc = start_scheduler(make_env(database_url, tmp_path, N8NCLONE_SCHEDULER_INTERVAL="0.1"),
                           tmp_path / "scheduler.log")
    try:
        services = build_services(make_settings(database_url, tmp_path))
        record = save_overdue(services, "cli")

        # when the scheduler process notices it
        runs = wait_until(lambda: scheduled_runs(services, record.id), "a scheduled run", 20)

        # expect one queued run for the latest minute, which a worker (here an embedded one,
        # whose sweep finds runs nobody was sent) then executes
        assert_one_run_for_the_latest_minute(runs)
        runtime = WorkerRuntime(services).start()
        try:
            assert wait_for_status(services, runs[0]["id"]) == "succeeded"
        finally:
            runtime.stop()
        assert len(scheduled_runs(services, record.id)) == 1

        # and the process stops cleanly on SIGTERM
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        kill(proc)


@pytest.mark.redis
def test_the_scheduler_command_sends_runs_to_redis_workers(database_url, tmp_path,
                                                           redis_namespace):
    # given `n8nclone scheduler` with REDIS_URL, and a worker on the same Redis that does
    # not sweep (so only the scheduler's message can bring it the run)
    env = make_env(database_url, tmp_path, redis_namespace, N8NCLONE_SCHEDULER_INTERVAL="0.1")
    proc = start_scheduler(env, tmp_path / "scheduler.log")
    services = build_services(make_settings(database_url, tmp_path, redis_namespace))
    runtime = WorkerRuntime(services, sweep=False).start()
    try:
        # when a workflow is due
        record = save_overdue(services, "cli redis")

        # expect its run executed by the worker, through the scheduler's message
        runs = wait_until(lambda: scheduled_runs(services, record.id), "a scheduled run", 20)
        assert_one_run_for_the_latest_minute(runs)
        assert wait_for_status(services, runs[0]["id"], timeout=20) == "succeeded"
    finally:
        runtime.stop()
        services.broker.close()
        kill(proc)


def test_a_tick_whose_settings_cannot_be_evaluated_starts_no_run_and_keeps_why(services):
    # given a workflow whose idempotency key cannot be rendered from a tick's input
    record = save_workflow(services.workflows, services.registry,
                           scheduled("unkeyed", "0 * * * *",
                                     idempotency_key="{{ trigger.nope.deeper }}"))
    tick = next_hour(record.updated_at)
    clock = Clock(tick)
    scheduler = make_scheduler(services, clock)

    # when its tick comes, and the scheduler passes again past the take-over delay
    started = scheduler.tick()
    clock.value = tick + TAKE_OVER_AFTER + timedelta(seconds=1)
    started += scheduler.tick()

    # expect no run, and the reason kept on the tick (which is not tried again)
    assert started == []
    assert scheduled_runs(services, record.id) == []
    [fired] = ScheduleStore(services.db).ticks(record.id)
    assert fired.run_id is None and "idempotency_key" in fired.error
