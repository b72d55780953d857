"""Rerun (every step anew) and retry (from the failed step on) of finished runs, on the
embedded default (SQLite and PostgreSQL): through the engine's control functions, the HTTP
API and the command line. Steps call a real local HTTP server that counts its hits."""

from __future__ import annotations

import json

import pytest

from n8nclone.engine.control import RunNotFinished, cancel_run, rerun_run, retry_run
from n8nclone.store.db import get_database
from n8nclone.store.run_queries import RunQueries
from tests.conftest import make_env, wait_for_status
from tests.utils.http_server import Reply
from tests.utils.processes import run_cli
from tests.utils.runs import http_node, save_and_start, steps_by_key, wait_until

UNKNOWN_RUN = "0000000000000000000000000000dead"


def three_steps(name: str, base_url: str) -> dict:
    """start -> fetch (GET /fetch) -> shape (data.set) -> send (POST /send), with an
    idempotency key and a concurrency key (neither may block a rerun or a retry)."""
    return {
        "name": name,
        "settings": {"idempotency_key": "{{ trigger.order }}",
                     "concurrency": {"limit": 2, "key": "{{ trigger.user }}"}},
        "nodes": [
            {"key": "start", "type": "trigger.manual"},
            http_node("fetch", base_url + "/fetch"),
            {"key": "shape", "type": "data.set",
             "params": {"values": {"n": "{{ steps.fetch.output.body.n }}",
                                   "order": "{{ trigger.order }}"}}},
            http_node("send", base_url + "/send", params={
                "method": "POST", "url": base_url + "/send", "timeout": 60,
                "body_type": "json", "json": {"n": "{{ steps.shape.output.n }}"}}),
        ],
        "edges": [{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "shape"},
                  {"from": "shape", "to": "send"}],
    }


def failed_run(services, http_server, name: str = "three") -> str:
    """A run of `three_steps` whose last step got a 404 (fetch answered {"n": 1})."""
    http_server.script("/fetch", Reply(200, {"n": 1}))
    http_server.script("/send", Reply(404, {"error": "no such hook"}))
    _, run_id = save_and_start(services, three_steps(name, http_server.url),
                               {"order": "A-1", "user": "ada"})
    assert wait_for_status(services, run_id) == "failed"
    return run_id


def one_step(name: str, url: str) -> dict:
    return {"name": name, "nodes": [{"key": "start", "type": "trigger.manual"},
                                    http_node("fetch", url)],
            "edges": [{"from": "start", "to": "fetch"}]}


# -- engine ---------------------------------------------------------------------------------


def test_retry_keeps_the_steps_that_succeeded_and_executes_from_the_failed_one(
        embedded, http_server):
    # given a run whose last step failed with a 404
    old_id = failed_run(embedded, http_server)
    old = steps_by_key(embedded.run_queries.get_run(old_id))
    assert old["send"]["status"] == "failed"
    # and a fixed hook; the first call would now answer something else
    http_server.script("/send", Reply(200, {"ok": True}))
    http_server.script("/fetch", Reply(200, {"n": 2}))

    # when the run is retried
    new_id = retry_run(embedded.runs, embedded.dispatcher, old_id)

    # expect a new run (the idempotency key does not return the old one) that succeeds
    assert new_id not in (None, old_id)
    assert wait_for_status(embedded, new_id) == "succeeded"
    run = embedded.run_queries.get_run(new_id)
    assert run["rerun_of"] == old_id and run["trigger_type"] == "retry"
    assert run["input"] == {"order": "A-1", "user": "ada"}
    # and the steps that had succeeded were not executed again: their old checkpoints
    assert http_server.hits["/fetch"] == 1 and http_server.hits["/send"] == 2
    steps = steps_by_key(run)
    for key in ("start", "fetch", "shape"):
        for field in ("status", "output", "port", "attempts", "started_at", "ended_at",
                      "attempt_history", "input"):
            assert steps[key][field] == old[key][field], (key, field)
    assert steps["fetch"]["output"]["body"] == {"n": 1}
    # and the failed step ran anew, from its first attempt, on the kept outputs
    assert steps["send"]["status"] == "succeeded" and steps["send"]["attempts"] == 1
    assert json.loads(http_server.requests[-1]["body"]) == {"n": 1}
    assert [s["key"] for s in run["steps"]] == ["start", "fetch", "shape", "send"]
    assert run["step_count"] == 4
    # and the concurrency key is kept
    assert embedded.runs.concurrency_key_of(new_id) == embedded.runs.concurrency_key_of(old_id)
    # and the old run is as it was
    assert embedded.run_queries.get_run(old_id)["status"] == "failed"


def test_rerun_executes_every_step_again_with_the_same_or_a_new_input(embedded, http_server):
    # given a run whose last step failed, then a fixed hook
    old_id = failed_run(embedded, http_server)
    http_server.script("/send", Reply(200, {"ok": True}))
    http_server.script("/fetch", Reply(200, {"n": 2}))

    # when it is rerun with a new input, and rerun with its own
    new_input_id = rerun_run(embedded.runs, embedded.dispatcher, old_id,
                             input={"order": "B-2", "user": "bo"})
    assert wait_for_status(embedded, new_input_id) == "succeeded"
    same_input_id = rerun_run(embedded.runs, embedded.dispatcher, old_id)
    assert wait_for_status(embedded, same_input_id) == "succeeded"

    # expect every step executed again in both (not memoized from the old run)
    assert http_server.hits["/fetch"] == 3 and http_server.hits["/send"] == 3
    new_input = embedded.run_queries.get_run(new_input_id)
    assert new_input["input"] == {"order": "B-2", "user": "bo"}
    assert new_input["trigger_type"] == "rerun" and new_input["rerun_of"] == old_id
    assert new_input["output"]["status"] == 200
    assert steps_by_key(new_input)["shape"]["output"] == {"n": 2, "order": "B-2"}
    same_input = embedded.run_queries.get_run(same_input_id)
    assert same_input["input"] == {"order": "A-1", "user": "ada"}  # the idempotency key too
    assert steps_by_key(same_input)["fetch"]["output"]["body"] == {"n": 2}
    assert same_input_id not in (old_id, new_input_id)
    # and a rerun may start again a run that succeeded
    again = rerun_run(embedded.runs, embedded.dispatcher, same_input_id)
    assert wait_for_status(embedded, again) == "succeeded"
    assert embedded.run_queries.get_run(again)["rerun_of"] == same_input_id
    # and the list shows where a run came from
    items = {i["id"]: i for i in embedded.run_queries.list_runs()["items"]}
    assert items[again]["rerun_of"] == same_input_id and items[old_id]["rerun_of"] is None


def test_an_active_run_is_neither_rerun_nor_retried_but_a_cancelled_one_is(
        embedded, http_server):
    # given a run whose step waits an hour to retry
    http_server.script("/later", Reply(503, headers={"retry-after": "3600"}))
    _, run_id = save_and_start(embedded, one_step("later", http_server.url + "/later"))
    assert wait_for_status(embedded, run_id, ("retrying",)) == "retrying"

    # when it is retried or rerun while active: a clear error, and no new run
    for start_again in (retry_run, rerun_run):
        with pytest.raises(RunNotFinished, match="still retrying"):
            start_again(embedded.runs, embedded.dispatcher, run_id)
    assert len(embedded.run_queries.list_runs()["items"]) == 1
    # and an unknown run is None
    assert retry_run(embedded.runs, embedded.dispatcher, UNKNOWN_RUN) is None
    assert rerun_run(embedded.runs, embedded.dispatcher, UNKNOWN_RUN) is None

    # when it is cancelled, the server fixed, and the run retried
    assert cancel_run(embedded.runs, embedded.dispatcher, run_id) == "cancelled"
    http_server.script("/later", Reply(200, {"ok": True}))
    new_id = retry_run(embedded.runs, embedded.dispatcher, run_id)

    # expect the cancelled step executed again and the trigger step kept
    assert wait_for_status(embedded, new_id) == "succeeded"
    steps = steps_by_key(embedded.run_queries.get_run(new_id))
    old = steps_by_key(embedded.run_queries.get_run(run_id))
    assert steps["start"]["started_at"] == old["start"]["started_at"]
    assert steps["fetch"]["status"] == "succeeded" and steps["fetch"]["attempts"] == 1
    # and a run that succeeded has nothing to retry from
    with pytest.raises(RunNotFinished, match="succeeded"):
        retry_run(embedded.runs, embedded.dispatcher, new_id)


# -- HTTP API -------------------------------------------------------------------------------


def test_rerun_and_retry_over_http(api, embedded, http_server):
    # given a run whose last step failed, then a fixed hook
    old_id = failed_run(embedded, http_server, "over-http")
    http_server.script("/send", Reply(200, {"ok": True}))

    # when it is retried, and rerun with new data, over HTTP
    retried = api.post(f"/api/runs/{old_id}/retry")
    rerun = api.post(f"/api/runs/{old_id}/rerun", json={"data": {"order": "C-3", "user": "cy"}})

    # expect two new queued runs, created (201), with where to read them
    for response in (retried, rerun):
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "status", "url"} and body["status"] == "queued"
        assert body["url"] == f"/api/runs/{body['id']}"
    retried_run = wait_until(lambda: _finished(api, retried.json()["url"]), "the retry")
    rerun_as_run = wait_until(lambda: _finished(api, rerun.json()["url"]), "the rerun")
    assert retried_run["status"] == "succeeded" and retried_run["rerun_of"] == old_id
    assert rerun_as_run["rerun_of"] == old_id
    assert rerun_as_run["input"] == {"order": "C-3", "user": "cy"}
    assert http_server.hits["/fetch"] == 2  # once by the old run, once by the rerun
    # and a rerun without a body keeps the old input
    plain = api.post(f"/api/runs/{old_id}/rerun")
    assert plain.status_code == 201, plain.text
    assert api.get(plain.json()["url"]).json()["input"] == {"order": "A-1", "user": "ada"}
    # and the run list carries rerun_of
    items = {i["id"]: i for i in api.get("/api/runs").json()["items"]}
    assert items[retried.json()["id"]]["rerun_of"] == old_id

    # when a succeeded run is retried, and an unknown run is retried or rerun
    succeeded = api.post(f"/api/runs/{retried_run['id']}/retry")
    unknown = [api.post(f"/api/runs/{UNKNOWN_RUN}/{action}") for action in ("retry", "rerun")]

    # expect 409 with a clear message, and 404s
    assert succeeded.status_code == 409, succeeded.text
    assert "succeeded" in succeeded.json()["detail"]
    assert [r.status_code for r in unknown] == [404, 404]


def test_an_active_run_gets_409_over_http(api, embedded, http_server):
    # given a run whose step waits an hour to retry
    http_server.script("/later", Reply(503, headers={"retry-after": "3600"}))
    _, run_id = save_and_start(embedded, one_step("later-http", http_server.url + "/later"))
    assert wait_for_status(embedded, run_id, ("retrying",)) == "retrying"

    # when it is retried or rerun
    responses = [api.post(f"/api/runs/{run_id}/{action}") for action in ("retry", "rerun")]

    # expect 409, saying the run is still active
    for response in responses:
        assert response.status_code == 409, response.text
        assert "still retrying" in response.json()["detail"]


def _finished(api, url: str) -> dict | None:
    run = api.get(url).json()
    return run if run["status"] in ("succeeded", "failed", "cancelled") else None


# -- command line ---------------------------------------------------------------------------


def test_retry_and_rerun_from_the_command_line(sqlite_url, tmp_path, http_server):
    # given (in the test's own database) a run whose last step failed, then a fixed hook
    env = make_env(sqlite_url, tmp_path)
    http_server.script("/fetch", Reply(200, {"n": 1}))
    http_server.script("/send", Reply(404, {"error": "no such hook"}))
    queries = RunQueries(get_database(sqlite_url))
    path = tmp_path / "three.json"
    path.write_text(json.dumps(three_steps("three", http_server.url)))
    assert run_cli("workflow", "import", str(path), env=env).returncode == 0
    failed = run_cli("run", "three", "--data", '{"order": "A-1", "user": "ada"}', "--json",
                     env=env)
    old_id = json.loads(failed.stdout)["id"]
    assert queries.get_run(old_id)["status"] == "failed"
    http_server.script("/send", Reply(200, {"ok": True}))

    # when it is retried, waiting, and rerun with new data
    retried = run_cli("retry", old_id, "--wait", env=env)
    rerun = run_cli("rerun", old_id, "--data", '{"order": "B-2", "user": "bo"}', "--json",
                    env=env)

    # expect the retry to print the step table of a succeeded run and exit 0
    assert retried.returncode == 0, retried.stderr
    assert "Traceback" not in retried.stderr
    last_line = retried.stdout.strip().splitlines()[-1]
    word, retried_id, status = last_line.split()[:3]
    assert (word, status) == ("run", "succeeded"), retried.stdout
    assert queries.get_run(retried_id)["rerun_of"] == old_id
    assert http_server.hits["/fetch"] == 2  # the first run and the rerun; not the retry
    # and the rerun executed with its new input
    assert rerun.returncode == 0, rerun.stderr
    rerun_as_run = json.loads(rerun.stdout)
    assert rerun_as_run["status"] == "succeeded" and rerun_as_run["rerun_of"] == old_id
    assert rerun_as_run["input"] == {"order": "B-2", "user": "bo"}

    # when a succeeded run is retried, and an unknown run is rerun
    succeeded = run_cli("retry", retried_id, env=env)
    unknown = run_cli("rerun", UNKNOWN_RUN, env=env)

    # expect clear errors, exit 2, no traceback
    for result, fragment in ((succeeded, "succeeded"), (unknown, UNKNOWN_RUN)):
        assert result.returncode == 2, result.stdout + result.stderr
        assert fragment in result.stderr and "Traceback" not in result.stderr
