"""`n8nclone event-key ...` and `n8nclone send-event` as real processes, on SQLite and
PostgreSQL (embedded default: no REDIS_URL): a key is printed once, listed masked and
revoked by delete; send-event stores the event and executes the runs it starts or resumes
before it exits; bad input gets a message and exit status 2."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from n8nclone.nodes.registry import default_registry
from n8nclone.services import build_services
from n8nclone.store.db import get_database
from n8nclone.store.event_queries import EventQueries
from n8nclone.store.workflows import WorkflowStore
from n8nclone.worker.runtime import WorkerRuntime
from n8nclone.workflows import save_workflow
from tests.conftest import make_env, make_settings, wait_for_status
from tests.utils.api_server import ApiServer
from tests.utils.processes import failed_cleanly as fails_cleanly
from tests.utils.processes import run_cli
from tests.utils.processes import run_cli_many as cli_many
from tests.utils.processes import succeeded as ok
from tests.utils.runs import save_and_start


@pytest.fixture
def env(database_url, tmp_path) -> dict[str, str]:
    return make_env(database_url, tmp_path)


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env)




def events(env: dict) -> EventQueries:
    return EventQueries(get_database(env["DATABASE_URL"]))


def seed(env: dict, workflow: dict) -> None:
    save_workflow(WorkflowStore(get_database(env["DATABASE_URL"])), default_registry(),
                  workflow)


# -- event keys ---------------------------------------------------------------------------


def test_a_key_is_shown_once_listed_masked_and_revoked_by_delete(env, embedded):
    # when a key is created
    created = cli(env, "event-key", "create", "--name", "ci")

    # expect the key alone on stdout, and a warning that it is shown only once
    key = ok(created).strip()
    assert len(key) >= 40 and "\n" not in key and "shown only this once" in created.stderr
    # and the list to show its name and first 4 characters, never the key
    listed = ok(cli(env, "event-key", "list"))
    assert "ci" in listed and f"{key[:4]}…" in listed and key not in listed

    # and the key to open /e/<key>, until it is deleted
    server = ApiServer(embedded).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.post(f"/e/{key}", json={"name": "app/ping"}).status_code == 200
            assert "deleted" in ok(cli(env, "event-key", "delete", "ci"))
            refused = http.post(f"/e/{key}", json={"name": "app/ping"})
            assert refused.status_code == 401 and refused.json()["status"] == 401
    finally:
        server.stop()
    assert "no event keys yet" in ok(cli(env, "event-key", "list"))


def test_key_names_are_unique_generated_by_default_and_deletes_must_name_a_key(env):
    ok(cli(env, "event-key", "create", "--name", "ci"))
    taken, unnamed, missing, empty = cli_many(
        env, ("event-key", "create", "--name", "ci"), ("event-key", "create"),
        ("event-key", "delete", "nope"), ("event-key", "create", "--name", ""))
    fails_cleanly(taken, "'ci' already exists")
    ok(unnamed)
    fails_cleanly(missing, "no event key named 'nope'")
    fails_cleanly(empty, "must not be empty")
    names = ok(cli(env, "event-key", "list"))
    assert "ci" in names and "key-" in names


# -- send-event ---------------------------------------------------------------------------


def test_send_event_prints_the_id_of_the_stored_event(env):
    # when an event is sent, twice with the same --id
    first, plain = cli_many(env, ("send-event", "order/created", "--data", '{"total": 250}',
                                  "--id", "o-1"),
                            ("send-event", "ping"))
    again = cli(env, "send-event", "order/created", "--data", '{"total": 1}', "--id", "o-1")

    # expect each to print its event id; the repeated --id gives the first event's id
    event_id = ok(first).strip()
    assert ok(again).strip() == event_id
    stored = events(env).get_event(event_id)
    assert stored["name"] == "order/created" and stored["data"] == {"total": 250}
    assert stored["external_id"] == "o-1"
    assert events(env).get_event(ok(plain).strip())["data"] == {}
    assert events(env).count() == 2


def test_send_event_bad_input_exits_2_with_a_message(env):
    bad_json, empty_name = cli_many(env, ("send-event", "x", "--data", "{nope"),
                                    ("send-event", ""))
    fails_cleanly(bad_json, "--data is not valid JSON")
    fails_cleanly(empty_name, "event name")
    assert events(env).count() == 0


def test_send_event_executes_the_runs_it_starts_before_it_exits(env):
    # given an active workflow triggered by order/* events (and no worker running)
    seed(env, {"name": "on-order", "nodes": [
        {"key": "on", "type": "trigger.event", "params": {"event": "order/*"}},
        {"key": "note", "type": "data.set",
         "params": {"values": {"total": "{{ trigger.data.total }}"}}}],
        "edges": [{"from": "on", "to": "note"}]})

    # when a matching event is sent from the command line
    event_id = ok(cli(env, "send-event", "order/paid", "--data", '{"total": 9}')).strip()

    # expect the run it started to have finished already
    (link,) = events(env).get_event(event_id)["runs"]["started"]
    assert link["status"] == "succeeded", link


def test_send_event_executes_the_run_it_resumes_before_it_exits(env, tmp_path):
    # given a run parked on a wait.event step, and no worker running any more
    services = build_services(make_settings(env["DATABASE_URL"], tmp_path))
    runtime = WorkerRuntime(services, sweep=False).start()
    _, run_id = save_and_start(services, {"name": "approve", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "wait", "type": "wait.event",
         "params": {"event": "approval", "match_field": "data.order",
                    "match_value": "{{ trigger.order }}", "timeout": "1h"}}],
        "edges": [{"from": "start", "to": "wait"}]}, {"order": 7})
    try:
        wait_for_status(services, run_id, ("waiting",))
    finally:
        runtime.stop()

    # when the approval is sent from the command line
    data = json.dumps({"order": 7})
    event_id = ok(cli(env, "send-event", "approval", "--data", data)).strip()

    # expect the run to have been resumed and finished by the command itself
    assert services.runs.run_status(run_id) == "succeeded"
    assert [r["id"] for r in events(env).get_event(event_id)["runs"]["resumed"]] == [run_id]
