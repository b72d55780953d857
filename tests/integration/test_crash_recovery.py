"""The database is the source of truth (DESIGN rule 1): killing a worker or losing its message
delays a run, never loses it, and never repeats a checkpointed step.

Real `n8nclone worker` processes on Redis, on SQLite and PostgreSQL. Fast test timings:
a 2 s lease, a sweep every 0.2 s, a 1 s sweep grace.
"""

from __future__ import annotations

import threading

import pytest

from tests.conftest import wait_for_status
from tests.utils.http_server import Reply
from tests.utils.processes import kill
from tests.utils.redis_workers import (  # noqa: F401
    queue_keys,
    redis_client,
    redis_services_fixture,
    save,
    start,
    steps_by_key,
    wait_until,
    workers_fixture,
)
from tests.utils.workflows import chain, http_chain

pytestmark = pytest.mark.redis


def test_a_worker_killed_mid_step_loses_nothing_and_repeats_no_checkpointed_step(
        redis_services, workers, http_server):
    stall = threading.Event()
    http_server.script("/first", Reply(body={"n": 1}))
    http_server.script("/stall", Reply(stall=stall, body={"n": "stalled"}), Reply(body={"n": 2}))
    http_server.script("/third", Reply(body={"n": 3}))
    record = save(redis_services, http_chain(
        "crash", [f"{http_server.url}/first", f"{http_server.url}/stall",
                  f"{http_server.url}/third"]))
    doomed = workers.start()
    try:
        run_id = start(redis_services, record)
        wait_until(lambda: http_server.hits["/stall"] == 1, 20, "the worker reached /stall",
                   workers.output)

        kill(doomed)  # kill -9 of the worker's process group, mid-step
    finally:
        stall.set()  # the stalled request answers into a dead socket
    assert redis_services.runs.run_status(run_id) == "running"
    workers.start()

    # The dead worker's lease expires (2 s), the new worker's sweep re-sends the run.
    assert wait_for_status(redis_services, run_id, timeout=30) == "succeeded", workers.output()
    assert dict(http_server.hits) == {"/first": 1, "/stall": 2, "/third": 1}
    steps = steps_by_key(redis_services, run_id)
    assert list(steps) == ["start", "call0", "call1", "call2"]
    expected_attempts = {"start": 1, "call0": 1, "call1": 2, "call2": 1}
    for key, step in steps.items():
        assert step["status"] == "succeeded", (key, step)
        assert step["attempts"] == expected_attempts[key], (key, step["attempts"])
        assert [a["number"] for a in step["attempt_history"]] == \
            list(range(1, expected_attempts[key] + 1)), (key, step["attempt_history"])
    assert [a["status"] for a in steps["call0"]["attempt_history"]] == ["succeeded"]
    lost, retried = steps["call1"]["attempt_history"]
    assert lost["status"] == "failed"
    assert lost["error"]["type"] == "WorkerLost"
    assert "worker" in lost["error"]["message"] and "stopped" in lost["error"]["message"]
    assert retried["status"] == "succeeded"
    assert steps["call1"]["output"]["body"] == {"n": 2}
    assert steps["call2"]["output"]["body"] == {"n": 3}


def test_a_lost_message_is_recovered_by_the_sweep(redis_services, redis_namespace,
                                                  workers):
    record = save(redis_services, chain("lost message", 2))
    client = redis_client()
    queue, messages = queue_keys(redis_namespace)

    run_id = start(redis_services, record, {"z": 3})  # no worker yet: the message waits

    keys = {k.decode() for k in client.scan_iter(f"{redis_namespace}*")}
    assert {queue, messages} <= keys, keys
    assert client.llen(queue) == 1 and client.hlen(messages) == 1
    [body] = client.hvals(messages)
    assert run_id.encode() in body  # the "work on run R" message, and nothing else
    assert client.delete(queue, messages) == 2
    assert not [k for k in client.scan_iter(f"{redis_namespace}*") if b".msgs" in k]
    assert redis_services.runs.run_status(run_id) == "queued"

    workers.start()

    assert wait_for_status(redis_services, run_id, timeout=20) == "succeeded", workers.output()
    run = redis_services.run_queries.get_run(run_id)
    assert run["output"] == {"index": 1, "seen": {"z": 3}}
    assert all(s["attempts"] == 1 for s in run["steps"])
