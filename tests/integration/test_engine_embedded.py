"""The engine on the embedded default (in-process broker, worker threads, sweep), on SQLite
and PostgreSQL: branches, parallel steps, retries, timeouts, cancel, memoization and
recovery after a lost worker. Steps that call out go to a real local HTTP server."""

from __future__ import annotations

import threading
from datetime import timedelta
from itertools import pairwise

import pytest

from n8nclone.engine.executor import EngineConfig, Executor
from n8nclone.nodes.registry import NodeRegistry
from n8nclone.store.clock import utcnow
from n8nclone.workflows import save_workflow
from tests.conftest import wait_for_status
from tests.utils.http_server import Reply
from tests.utils.runs import fan_out, http_node, save_and_start, steps_by_key, ts, wait_until


def _chain(name: str, *nodes: dict, **settings) -> dict:
    """trigger.manual `start` -> `nodes` in a line."""
    all_nodes = [{"key": "start", "type": "trigger.manual"}, *nodes]
    edges = [{"from": a["key"], "to": b["key"]} for a, b in pairwise(all_nodes)]
    return {"name": name, "settings": settings, "nodes": all_nodes, "edges": edges}


def _attempt_statuses(step: dict) -> list[str]:
    return [a["status"] for a in step["attempt_history"]]


# -- branches -----------------------------------------------------------------------------


BRANCHY = {
    "name": "branchy",
    "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "check", "type": "flow.if", "params": {"condition": "{{ trigger.amount > 100 }}"}},
        {"key": "big", "type": "data.set", "params": {"values": {"kind": "big"}}},
        {"key": "small", "type": "data.set", "params": {"values": {"kind": "small"}}},
        {"key": "small_note", "type": "data.set",
         "params": {"values": {"note": "{{ input.kind }}"}}},
        {"key": "join", "type": "flow.merge"},
    ],
    "edges": [
        {"from": "start", "to": "check"},
        {"from": "check", "port": "true", "to": "big"},
        {"from": "check", "port": "false", "to": "small"},
        {"from": "small", "to": "small_note"},
        {"from": "big", "to": "join"},
        {"from": "small_note", "to": "join"},
    ],
}


@pytest.mark.parametrize("amount, taken, skipped, merged", [
    (150, ["big"], ["small", "small_note"], {"big": {"kind": "big"}}),
    (5, ["small", "small_note"], ["big"], {"small_note": {"note": "small"}}),
])
def test_the_branch_not_taken_is_skipped_and_merge_gets_only_live_inputs(
        embedded, amount, taken, skipped, merged):
    # given a flow.if routing to two branches that meet again in a flow.merge
    # when a run takes one branch
    _, run_id = save_and_start(embedded, BRANCHY, {"amount": amount})

    # expect the other branch (and what hangs off it) recorded as skipped, never executed
    assert wait_for_status(embedded, run_id) == "succeeded"
    steps = steps_by_key(embedded.run_queries.get_run(run_id))
    assert steps["check"]["port"] == ("true" if amount > 100 else "false")
    for key in taken:
        assert steps[key]["status"] == "succeeded"
    for key in skipped:
        assert steps[key]["status"] == "skipped"
        assert steps[key]["attempts"] == 0 and steps[key]["attempt_history"] == []
        assert steps[key]["output"] is None
    # and the merge combined only its live input
    assert steps["join"]["status"] == "succeeded"
    assert steps["join"]["output"] == merged


# -- parallel branches --------------------------------------------------------------------


def test_independent_branches_run_at_the_same_time(embedded, http_server):
    # given three independent HTTP steps that each take a second to answer
    paths = ["/a", "/b", "/c"]
    for path in paths:
        http_server.script(path, Reply(body={"from": path}, delay=1.0))

    # when a run fans out to all three and merges them
    _, run_id = save_and_start(embedded, fan_out("fan-out", http_server.url, paths))

    # expect the three steps' [started_at, ended_at] intervals to overlap
    assert wait_for_status(embedded, run_id) == "succeeded"
    steps = steps_by_key(embedded.run_queries.get_run(run_id))
    calls = [steps[p.strip("/")] for p in paths]
    latest_start = max(ts(s["started_at"]) for s in calls)
    earliest_end = min(ts(s["ended_at"]) for s in calls)
    assert latest_start < earliest_end, "the steps ran one after another, not side by side"
    # and each step has its own checkpoint with its own output
    for path, step in zip(paths, calls, strict=True):
        assert step["status"] == "succeeded" and step["attempts"] == 1
        assert step["output"]["body"] == {"from": path}
        assert ts(step["ended_at"]) - ts(step["started_at"]) >= timedelta(seconds=1)
    assert steps["join"]["output"] == {p.strip("/"): steps[p.strip("/")]["output"] for p in paths}
    # and the merge started only after all three had finished
    assert ts(steps["join"]["started_at"]) >= max(ts(s["ended_at"]) for s in calls)
    assert all(http_server.hits[p] == 1 for p in paths)


def test_a_per_run_parallel_limit_of_one_runs_branches_one_at_a_time(embedded, http_server):
    # given the same fan-out, with the workflow setting {"parallel": 1}
    paths = ["/a", "/b", "/c"]
    for path in paths:
        http_server.script(path, Reply(body={"from": path}, delay=0.3))

    # when it runs
    _, run_id = save_and_start(embedded, fan_out("one-at-a-time", http_server.url, paths,
                                                 parallel=1))

    # expect no two of the three steps to overlap
    assert wait_for_status(embedded, run_id) == "succeeded"
    steps = steps_by_key(embedded.run_queries.get_run(run_id))
    calls = sorted((steps[p.strip("/")] for p in paths), key=lambda s: ts(s["started_at"]))
    for earlier, later in pairwise(calls):
        assert ts(earlier["ended_at"]) <= ts(later["started_at"]), \
            f"{earlier['key']} and {later['key']} overlapped"
    assert steps["join"]["status"] == "succeeded"


# -- retries ------------------------------------------------------------------------------


def test_a_step_is_retried_until_it_succeeds(embedded, http_server):
    # given a server that fails twice with a 500, then answers
    http_server.script("/flaky", Reply(500, {"error": "boom"}), Reply(500, {"error": "boom"}),
                       Reply(200, {"n": 3}))

    # when a run calls it (default retry policy)
    _, run_id = save_and_start(embedded, _chain("flaky", http_node("fetch", http_server.url
                                                                    + "/flaky")))

    # expect the step to succeed on its third attempt, with every attempt recorded
    assert wait_for_status(embedded, run_id) == "succeeded"
    run = embedded.run_queries.get_run(run_id)
    step = steps_by_key(run)["fetch"]
    assert step["status"] == "succeeded" and step["attempts"] == 3
    assert step["output"]["body"] == {"n": 3}
    history = step["attempt_history"]
    assert [a["number"] for a in history] == [1, 2, 3]
    assert _attempt_statuses(step) == ["failed", "failed", "succeeded"]
    for failed in history[:2]:
        assert "500" in failed["error"]["message"]
    assert history[2]["error"] is None
    assert http_server.hits["/flaky"] == 3
    assert run["error"] is None


def test_a_404_fails_the_run_at_once_naming_the_node(embedded, http_server):
    # given a server that answers 404
    http_server.script("/missing", Reply(404, {"error": "no such thing"}))

    # when a run calls it
    _, run_id = save_and_start(embedded, _chain("not-found", http_node("lookup", http_server.url
                                                                        + "/missing")))

    # expect one attempt only, the step failed, and the run failed naming the node
    assert wait_for_status(embedded, run_id) == "failed"
    run = embedded.run_queries.get_run(run_id)
    step = steps_by_key(run)["lookup"]
    assert step["status"] == "failed" and step["attempts"] == 1
    assert _attempt_statuses(step) == ["failed"]
    assert "404" in step["error"]["message"]
    assert run["error"]["node"] == "lookup"
    assert "404" in run["error"]["message"]
    assert http_server.hits["/missing"] == 1


def test_a_step_fails_once_its_retries_are_used_up(embedded, http_server):
    # given a server that always answers 500, and a node allowed one retry
    http_server.script("/down", Reply(500, {"error": "down"}))
    workflow = _chain("always-down", http_node("fetch", http_server.url + "/down", retries=1))

    # when a run calls it
    _, run_id = save_and_start(embedded, workflow)

    # expect two attempts, both failed, then the run failed
    assert wait_for_status(embedded, run_id) == "failed"
    run = embedded.run_queries.get_run(run_id)
    step = steps_by_key(run)["fetch"]
    assert step["status"] == "failed" and step["attempts"] == 2
    assert _attempt_statuses(step) == ["failed", "failed"]
    assert step["next_attempt_at"] is None
    assert run["error"]["node"] == "fetch"
    assert http_server.hits["/down"] == 2


def test_retry_after_is_honoured(embedded, http_server):
    # given a server that answers 503 with Retry-After: 1, then 200
    http_server.script("/busy", Reply(503, {"error": "busy"}, headers={"retry-after": "1"}),
                       Reply(200, {"ok": "finally"}))

    # when a run calls it
    _, run_id = save_and_start(embedded, _chain("busy", http_node("fetch", http_server.url
                                                                   + "/busy")))

    # expect the second attempt to start no sooner than a second after the first ended
    # (the normal test backoff would retry after ~0.05 s)
    assert wait_for_status(embedded, run_id) == "succeeded"
    step = steps_by_key(embedded.run_queries.get_run(run_id))["fetch"]
    first, second = step["attempt_history"]
    assert first["error"]["type"] == "RetryAfterError"
    assert ts(second["started_at"]) >= ts(first["ended_at"]) + timedelta(seconds=1)
    assert step["output"]["body"] == {"ok": "finally"}


# -- expressions --------------------------------------------------------------------------


def test_an_expression_error_fails_the_step_at_once_naming_node_and_parameter(embedded):
    # given a step whose template uses an undefined name
    workflow = _chain("bad-template", {"key": "greet", "type": "data.set",
                                       "params": {"values": {"hello": "{{ customer.name }}"}}})

    # when a run gets there
    _, run_id = save_and_start(embedded, workflow, {"name": "Ada"})

    # expect the step failed on its first attempt (no retry can fix a template)
    assert wait_for_status(embedded, run_id) == "failed"
    run = embedded.run_queries.get_run(run_id)
    step = steps_by_key(run)["greet"]
    assert step["status"] == "failed" and step["attempts"] == 1
    assert _attempt_statuses(step) == ["failed"]
    # and the error names the node and the parameter
    message = step["error"]["message"]
    assert "greet" in message and "values.hello" in message and "customer" in message
    assert run["error"]["node"] == "greet"
    assert "values.hello" in run["error"]["message"]


def test_a_node_type_no_longer_installed_fails_its_step_with_a_clear_error(embedded):
    # given a saved workflow whose data.set node type is then uninstalled (a removed plug-in)
    workflow = _chain("gone-plugin", {"key": "shape", "type": "data.set",
                                      "params": {"values": {"a": 1}}})
    without_data_set = NodeRegistry()
    without_data_set.register(embedded.registry.get("trigger.manual"))
    embedded.executor.registry = without_data_set

    # when a run reaches that node
    _, run_id = save_and_start(embedded, workflow)

    # expect the step to fail once, saying which type is missing, and the run to fail
    assert wait_for_status(embedded, run_id) == "failed"
    step = steps_by_key(embedded.run_queries.get_run(run_id))["shape"]
    assert step["attempts"] == 1
    assert "node type 'data.set' is not installed" in step["error"]["message"]


# -- timeouts -----------------------------------------------------------------------------


def test_a_run_past_its_timeout_fails_at_the_next_step_boundary(embedded, http_server):
    # given a workflow with a 1 s timeout whose first step stalls past it
    release = threading.Event()
    http_server.script("/slow", Reply(body={"slow": True}, stall=release))
    workflow = _chain("slow", http_node("slow", http_server.url + "/slow"),
                      http_node("after", http_server.url + "/after"), timeout="1s")
    _, run_id = save_and_start(embedded, workflow)
    try:
        wait_until(lambda: http_server.hits["/slow"] == 1, "the slow step to be called")
        run = embedded.run_queries.get_run(run_id)
        deadline = ts(run["deadline_at"])
        wait_until(lambda: utcnow() > deadline, "the run's deadline to pass")
    finally:
        # when the stalled step returns after the deadline
        release.set()

    # expect the run failed with a Timeout error, and the next step never started
    assert wait_for_status(embedded, run_id) == "failed"
    run = embedded.run_queries.get_run(run_id)
    assert run["error"]["type"] == "Timeout"
    assert "1s" in run["error"]["message"]
    assert "after" not in steps_by_key(run)
    assert http_server.hits["/after"] == 0


def test_the_sweep_times_out_a_run_waiting_to_retry(embedded, http_server):
    # given a workflow with a 1 s timeout whose step must wait an hour before retrying
    http_server.script("/later", Reply(503, {"error": "later"}, headers={"retry-after": "3600"}))
    workflow = _chain("waits-too-long", http_node("fetch", http_server.url + "/later"),
                      timeout="1s")

    # when the deadline passes while nothing is working on the run
    _, run_id = save_and_start(embedded, workflow)

    # expect the sweep to find it and fail it with a Timeout error
    assert wait_for_status(embedded, run_id) == "failed"
    run = embedded.run_queries.get_run(run_id)
    assert run["error"]["type"] == "Timeout"
    assert ts(run["ended_at"]) >= ts(run["deadline_at"])
    step = steps_by_key(run)["fetch"]
    assert step["status"] == "cancelled"
    # and the history shows the one attempt that was made (a timeout is not an attempt)
    assert http_server.hits["/later"] == 1
    assert [a["number"] for a in step["attempt_history"]] == [1]


# -- cancel -------------------------------------------------------------------------------


def test_cancelling_a_run_waiting_to_retry_stops_it_for_good(embedded, http_server):
    # given a run whose step waits to retry (Retry-After: an hour)
    http_server.script("/later", Reply(503, {"error": "later"}, headers={"retry-after": "3600"}),
                       Reply(200, {"should": "never be fetched"}))
    _, run_id = save_and_start(embedded, _chain("to-cancel", http_node("fetch", http_server.url
                                                                        + "/later")))
    assert wait_for_status(embedded, run_id, ("retrying",)) == "retrying"
    step = steps_by_key(embedded.run_queries.get_run(run_id))["fetch"]
    assert step["status"] == "retrying"
    assert ts(step["next_attempt_at"]) >= (ts(step["attempt_history"][0]["ended_at"])
                                           + timedelta(seconds=3600))

    # when it is cancelled
    assert embedded.runs.cancel(run_id) == "cancelled"

    # expect the run and its waiting step cancelled
    run = embedded.run_queries.get_run(run_id)
    assert run["status"] == "cancelled" and run["ended_at"] is not None
    assert run["error"]["type"] == "Cancelled"
    assert steps_by_key(run)["fetch"]["status"] == "cancelled"
    # and a later message for the run (the delayed retry, the sweep) does nothing
    assert embedded.executor.execute(run_id) is None
    assert embedded.runs.run_status(run_id) == "cancelled"
    assert http_server.hits["/later"] == 1


def test_cancelling_a_run_while_a_step_runs_starts_nothing_more(embedded, http_server):
    # given a run stalled inside its first HTTP step
    release = threading.Event()
    http_server.script("/slow", Reply(body={"slow": True}, stall=release))
    workflow = _chain("cancel-running", http_node("slow", http_server.url + "/slow"),
                      http_node("after", http_server.url + "/after"))
    _, run_id = save_and_start(embedded, workflow)
    try:
        wait_until(lambda: http_server.hits["/slow"] == 1, "the slow step to be called")

        # when the run is cancelled, then the step returns
        assert embedded.runs.cancel(run_id) == "cancelled"
    finally:
        release.set()

    # expect the worker to stop: the run stays cancelled and the next step never starts
    wait_until(lambda: steps_by_key(embedded.run_queries.get_run(run_id))["slow"]["status"]
               != "running", "the slow step to settle")
    wait_until(lambda: embedded.executor.held_leases() == [], "the worker to let go of the run")
    run = embedded.run_queries.get_run(run_id)
    assert run["status"] == "cancelled"
    assert steps_by_key(run)["slow"]["status"] in ("succeeded", "cancelled")
    assert "after" not in steps_by_key(run)
    assert http_server.hits["/after"] == 0


# -- memoization and recovery -------------------------------------------------------------


def test_executing_a_finished_run_again_does_nothing(embedded, http_server):
    # given a run that succeeded after calling the server once
    _, run_id = save_and_start(embedded, _chain("once", http_node("fetch", http_server.url
                                                                   + "/once")))
    assert wait_for_status(embedded, run_id) == "succeeded"
    before = embedded.run_queries.get_run(run_id)

    # when the executor is asked to work on it again
    result = embedded.executor.execute(run_id)

    # expect nothing to happen: no call, no new attempt, the same history
    assert result is None
    assert http_server.hits["/once"] == 1
    assert embedded.run_queries.get_run(run_id) == before


class _NoDispatch:
    def send(self, run_id: str, delay: float = 0.0) -> None:
        pass


def test_a_run_taken_over_after_its_worker_died_reuses_finished_checkpoints(embedded,
                                                                             http_server):
    # given a run on a worker ("doomed") that finished `first`, then stalled inside `second`
    release = threading.Event()
    http_server.script("/first", Reply(body={"first": 1}))
    http_server.script("/second", Reply(body={"second": "from the dead worker"}, stall=release),
                       Reply(body={"second": "from the new worker"}))
    record = save_workflow(embedded.workflows, embedded.registry, _chain(
        "recover", http_node("first", http_server.url + "/first"),
        http_node("second", http_server.url + "/second")))
    run_id, _ = embedded.runs.create_run(workflow_id=record.id, version_id=record.version_id,
                                         input=None, trigger_type="manual")
    doomed = Executor(embedded.runs, embedded.registry, _NoDispatch(),
                      EngineConfig(owner="doomed-worker", lease_seconds=30))
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(doomed.execute(run_id)))
    thread.start()
    try:
        wait_until(lambda: http_server.hits["/second"] == 1, "the doomed worker to call /second")
        steps = steps_by_key(embedded.run_queries.get_run(run_id))
        assert steps["first"]["status"] == "succeeded"
        assert steps["second"]["status"] == "running"

        # when the doomed worker's lease runs out (it died) and the sweep hands the run over
        assert len(doomed.held_leases()) == 1
        embedded.runs.renew_leases(doomed.held_leases(), -1)

        # expect the run to finish on the embedded worker without calling `first` again
        assert wait_for_status(embedded, run_id) == "succeeded"
    finally:
        release.set()
        thread.join(30)
    run = embedded.run_queries.get_run(run_id)
    steps = steps_by_key(run)
    assert http_server.hits["/first"] == 1
    assert steps["first"]["attempts"] == 1
    assert steps["second"]["attempts"] == 2
    assert _attempt_statuses(steps["second"]) == ["failed", "succeeded"]
    assert steps["second"]["attempt_history"][0]["error"]["type"] == "WorkerLost"
    assert run["output"]["body"] == {"second": "from the new worker"}
    # and the dead worker, when it wakes up, writes nothing
    assert outcome == [None]
    after = embedded.run_queries.get_run(run_id)
    assert after == run
