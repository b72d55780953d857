"""Scale-out: this test process enqueues to Redis, separate `n8nclone worker` processes execute.

Runs on SQLite and PostgreSQL (the `database_url` fixture), each test in its own Redis
namespace. Nothing in this process executes a run: the services here have no worker.
"""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from tests.conftest import wait_for_status
from tests.utils.http_server import Reply
from tests.utils.redis_workers import (  # noqa: F401
    LeaseOwnerSampler,
    redis_services_fixture,
    save,
    start,
    steps_by_key,
    wait_until,
    workers_fixture,
)
from tests.utils.workflows import chain, http_chain

pytestmark = pytest.mark.redis


def _assert_each_step_ran_once(services, run_id: str) -> None:
    for key, step in steps_by_key(services, run_id).items():
        if step["status"] == "skipped":
            assert step["attempts"] == 0 and step["attempt_history"] == [], (key, step)
            continue
        assert step["status"] == "succeeded", (key, step)
        assert step["attempts"] == 1, (key, step["attempts"])
        assert [a["number"] for a in step["attempt_history"]] == [1], (key, step)


def test_a_run_started_here_is_executed_by_a_separate_worker(redis_services, workers):
    record = save(redis_services, chain("scale-out chain", 3))
    workers.start()

    run_id = start(redis_services, record, {"x": 1})

    assert wait_for_status(redis_services, run_id, timeout=20) == "succeeded", workers.output()
    run = redis_services.run_queries.get_run(run_id)
    assert [s["key"] for s in run["steps"]] == ["start", "step0", "step1", "step2"]
    assert run["output"] == {"index": 2, "seen": {"x": 1}}
    _assert_each_step_ran_once(redis_services, run_id)


def test_a_branching_workflow_runs_on_a_worker(redis_services, workers):
    record = save(redis_services, {
        "name": "branching",
        "nodes": [
            {"key": "start", "type": "trigger.manual"},
            {"key": "check", "type": "flow.if",
             "params": {"condition": "{{ trigger.total > 100 }}"}},
            {"key": "big", "type": "data.set", "params": {"values": {"size": "big"}}},
            {"key": "small", "type": "data.set", "params": {"values": {"size": "small"}}},
            {"key": "after_small", "type": "data.set", "params": {"values": {"done": True}}},
        ],
        "edges": [
            {"from": "start", "to": "check"},
            {"from": "check", "port": "true", "to": "big"},
            {"from": "check", "port": "false", "to": "small"},
            {"from": "small", "to": "after_small"},
        ],
    })
    workers.start()

    large = start(redis_services, record, {"total": 150})
    little = start(redis_services, record, {"total": 5})

    for run_id in (large, little):
        assert wait_for_status(redis_services, run_id, timeout=20) == "succeeded", \
            workers.output()
    steps = steps_by_key(redis_services, large)
    assert steps["check"]["port"] == "true"
    assert steps["big"]["status"] == "succeeded" and steps["big"]["output"] == {"size": "big"}
    assert steps["small"]["status"] == "skipped"
    assert steps["after_small"]["status"] == "skipped"
    steps = steps_by_key(redis_services, little)
    assert steps["check"]["port"] == "false"
    assert steps["big"]["status"] == "skipped"
    assert steps["small"]["output"] == {"size": "small"}
    assert steps["after_small"]["output"] == {"done": True}
    _assert_each_step_ran_once(redis_services, large)
    _assert_each_step_ran_once(redis_services, little)


def test_a_chain_of_http_calls_runs_on_a_worker(redis_services, workers,
                                                 http_server):
    http_server.script("/one", Reply(body={"n": 1}))
    http_server.script("/two", Reply(body={"n": 2}))
    http_server.script("/three", Reply(body={"n": 3}))
    record = save(redis_services, http_chain(
        "http chain", [f"{http_server.url}/one", f"{http_server.url}/two",
                       f"{http_server.url}/three"]))
    workers.start()

    run_id = start(redis_services, record)

    assert wait_for_status(redis_services, run_id, timeout=20) == "succeeded", workers.output()
    assert [(r["method"], r["path"]) for r in http_server.requests] == [
        ("GET", "/one"), ("GET", "/two"), ("GET", "/three")]
    steps = steps_by_key(redis_services, run_id)
    assert [steps[f"call{i}"]["output"]["body"] for i in range(3)] == [
        {"n": 1}, {"n": 2}, {"n": 3}]
    assert redis_services.run_queries.get_run(run_id)["output"]["status"] == 200
    _assert_each_step_ran_once(redis_services, run_id)


def test_two_workers_share_many_runs_and_no_step_runs_twice(redis_services, workers,
                                                            http_server):
    runs = 40
    # A small delay per call keeps runs in flight long enough for both workers (and their
    # sweeps) to see them at the same time.
    http_server.script("/a", Reply(delay=0.02))
    http_server.script("/b", Reply(delay=0.02))
    record = save(redis_services, http_chain(
        "shared", [f"{http_server.url}/a", f"{http_server.url}/b"]))
    pids = {workers.start(threads=4).pid, workers.start(threads=4).pid}

    with LeaseOwnerSampler(redis_services) as lease_owners:
        run_ids = [start(redis_services, record, {"i": i}) for i in range(runs)]
        for run_id in run_ids:
            assert wait_for_status(redis_services, run_id, timeout=40) == "succeeded", \
                workers.output()
    assert lease_owners.pids == pids  # both workers took part
    for run_id in run_ids:
        _assert_each_step_ran_once(redis_services, run_id)
    assert http_server.hits["/a"] == runs
    assert http_server.hits["/b"] == runs


def test_a_retry_backoff_holds_no_worker_thread(redis_services, workers,
                                                http_server):
    http_server.script("/flaky", Reply(status=500, body={"error": "boom"}),
                       Reply(status=500, body={"error": "boom"}), Reply(body={"ok": True}))
    flaky = save(redis_services, http_chain("flaky", [f"{http_server.url}/flaky"], retries=3))
    quick = save(redis_services, chain("quick", 2))
    # One worker thread, and backoffs of about 1 s then 2 s.
    workers.start(threads=1, N8NCLONE_RETRY_BACKOFF_BASE="1", N8NCLONE_RETRY_BACKOFF_CAP="10")

    waiting = start(redis_services, flaky)
    assert wait_for_status(redis_services, waiting, ("retrying",), timeout=20) == "retrying", \
        workers.output()
    other = start(redis_services, quick, {"y": 2})

    # The single thread is free while the first run waits out its backoff.
    assert wait_for_status(redis_services, other, timeout=20) == "succeeded", workers.output()
    assert http_server.hits["/flaky"] == 1
    assert redis_services.runs.run_status(waiting) == "retrying"

    assert wait_for_status(redis_services, waiting, timeout=20) == "succeeded", workers.output()
    assert http_server.hits["/flaky"] == 3
    step = steps_by_key(redis_services, waiting)["call0"]
    assert step["attempts"] == 3
    assert [a["status"] for a in step["attempt_history"]] == ["failed", "failed", "succeeded"]
    other_ended = datetime.fromisoformat(redis_services.run_queries.get_run(other)["ended_at"])
    assert other_ended < datetime.fromisoformat(step["attempt_history"][1]["started_at"])
    _assert_each_step_ran_once(redis_services, other)


def test_a_duplicate_message_for_a_run_the_same_worker_is_executing_runs_no_step_twice(
        redis_services, workers, http_server):
    """A backlog longer than the sweep grace makes the sweep re-send queued runs, so one worker
    process can hold two messages for one run; its threads share one lease owner, and the
    second thread must not drive the run while the first one still does."""
    busy = threading.Event()
    http_server.script("/busy", Reply(stall=busy))
    http_server.script("/slow", Reply(delay=0.5, body={"slow": True}))
    blocker = save(redis_services, http_chain("blocker", [f"{http_server.url}/busy"]))
    slow = save(redis_services, http_chain("slow", [f"{http_server.url}/slow"]))
    workers.start(threads=2)
    try:
        blocked = [start(redis_services, blocker) for _ in range(2)]  # both threads busy
        wait_until(lambda: http_server.hits["/busy"] == 2, 20, "both threads are busy",
                   workers.output)
        run_id = start(redis_services, slow)
        first_sent = _enqueued_at(redis_services, run_id)
        # Still queued after the grace: the sweep sends a second message for it.
        wait_until(lambda: _enqueued_at(redis_services, run_id) != first_sent, 20,
                   "the sweep re-sent the queued run", workers.output)
        assert redis_services.runs.run_status(run_id) == "queued"
    finally:
        busy.set()  # both threads free up and take the two messages at once

    for other in (*blocked, run_id):
        assert wait_for_status(redis_services, other, timeout=20) == "succeeded", \
            workers.output()
    assert http_server.hits["/slow"] == 1
    _assert_each_step_ran_once(redis_services, run_id)


def _enqueued_at(services, run_id: str):
    from sqlalchemy import select

    from n8nclone.store.models import Run

    with services.db.read() as conn:
        return conn.execute(select(Run.__table__.c.enqueued_at)
                            .where(Run.__table__.c.id == run_id)).scalar()
