"""Restart: runs that sleep and runs that wait for an event survive stopping every process.

Start runs that sleep 3 s and runs that wait for an event; stop every process (web, worker,
scheduler); start them again: the sleepers finish, an event sent after the restart resumes
the waiters, and a waiter whose timeout passed during the downtime finishes with its timeout
branch. Nothing lost, nothing run twice.

Once on the embedded default (`n8nclone up`: web, worker threads, sweep and scheduler in one
process, SQLite file) and once scaled out (`up` as the web process with REDIS_URL, two
`n8nclone worker` processes and an `n8nclone scheduler`, on SQLite and on PostgreSQL); each
stopped gracefully (SIGTERM) and by SIGKILL. Every HTTP call a run makes goes to a scripted
server here that counts hits per run, so a step executed twice shows.

A second test stops only the workers while the web process takes events, and the broker
loses its messages meanwhile: the sweep must still resume the woken waiters, and an event
that came after a wait's timeout must not complete that wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import redis

from n8nclone.store.db import get_database
from n8nclone.store.run_queries import RunQueries
from tests.conftest import REDIS_URL, make_env
from tests.e2e.conftest import pick_port
from tests.utils.app_stack import Api, AppStack
from tests.utils.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
)
from tests.utils.http_server import ScriptedServer

pytestmark = pytest.mark.e2e

RUNS_PER_KIND = 5
SLEEP = 3.0  # seconds (a)
SHORT_TIMEOUT = 2.0  # seconds (c): passes while everything is stopped
EVENT = "approval/granted"
TERMINAL = ("succeeded", "failed", "cancelled")


# -- workflows ----------------------------------------------------------------------------


def sleeper(base_url: str) -> dict:
    """(a) trigger.manual -> wait.sleep 3 s -> http.request."""
    return {"name": "restart-sleeper", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "nap", "type": "wait.sleep", "params": {"duration": f"{SLEEP:g}s"}},
        {"key": "call", "type": "http.request",
         "params": {"url": base_url + "/slept/{{ trigger.id }}", "timeout": 30}}],
        "edges": [{"from": "start", "to": "nap"}, {"from": "nap", "to": "call"}]}


def waiter(base_url: str) -> dict:
    """(b) trigger.manual -> wait.event (this run's approval, 60 s) -> http.request."""
    return {"name": "restart-waiter", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "wait", "type": "wait.event",
         "params": {"event": EVENT, "match_field": "data.id",
                    "match_value": "{{ trigger.id }}", "timeout": "60s"}},
        {"key": "call", "type": "http.request",
         "params": {"url": base_url + "/approved/{{ trigger.id }}", "timeout": 30}}],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "call"}]}


def deadline_waiter(base_url: str) -> dict:
    """(c) like (b) with a 2 s timeout, then flow.if on a timeout: `timed_out` or `approved`."""
    return {"name": "restart-deadline", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "wait", "type": "wait.event",
         "params": {"event": EVENT, "match_field": "data.id",
                    "match_value": "{{ trigger.id }}", "timeout": f"{SHORT_TIMEOUT:g}s"}},
        {"key": "check", "type": "flow.if",
         "params": {"condition": "{{ steps.wait.output is none }}"}},
        {"key": "timed_out", "type": "http.request",
         "params": {"url": base_url + "/timed-out/{{ trigger.id }}", "timeout": 30}},
        {"key": "approved", "type": "http.request",
         "params": {"url": base_url + "/late-approval/{{ trigger.id }}", "timeout": 30}}],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "check"},
                  {"from": "check", "port": "true", "to": "timed_out"},
                  {"from": "check", "port": "false", "to": "approved"}]}


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def namespace(redis_namespace) -> str:
    """A Redis namespace of this test's own (deleted afterwards by `redis_namespace`)."""
    return redis_namespace


def make_stack(mode: str, tmp_path, request, db: str = "sqlite") -> AppStack:
    """The app's processes on a fresh database (a SQLite file, or a PostgreSQL database of
    this test's own); stopped for sure at the end of the test."""
    if db == "postgres":
        if not postgres_available():
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
        name, url = create_postgres_database()
        request.addfinalizer(lambda: drop_postgres_database(name))
    else:
        url = f"sqlite:///{tmp_path / 'n8nclone.db'}"
    if mode == "embedded":
        env = make_env(url, tmp_path)
        stack = AppStack(env, pick_port(), tmp_path)
    else:
        namespace = request.getfixturevalue("namespace")
        env = make_env(url, tmp_path, namespace)
        stack = AppStack(env, pick_port(), tmp_path, workers=2, scheduler=True)
    request.addfinalizer(lambda: stack.stop(hard=True))
    return stack


def history(stack: AppStack) -> RunQueries:
    """The run history read straight from the database file (works while all is down)."""
    return RunQueries(get_database(stack.env["DATABASE_URL"]))


def at(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def start_runs(api: Api, base_url: str) -> dict[str, list[tuple[int, str]]]:
    """RUNS_PER_KIND runs of each workflow, each with an id of its own: {kind: [(id, run)]}.
    Returns once each is parked (sleeping or waiting). The short waiters (c) start last,
    each kind only once the one before is parked, so their 2 s start as late as possible."""
    for workflow in (sleeper(base_url), waiter(base_url), deadline_waiter(base_url)):
        api.create_workflow(workflow)
    started: dict[str, list[tuple[int, str]]] = {}
    for kind, name, offset in (("a", "restart-sleeper", 100), ("b", "restart-waiter", 200),
                               ("c", "restart-deadline", 300)):
        started[kind] = [(offset + i, api.start_run(name, {"id": offset + i}))
                         for i in range(RUNS_PER_KIND)]
        api.runs_until([run_id for _, run_id in started[kind]], parked(kind),
                       f"({kind}) runs parked", timeout=30)
    return started


def parked(kind: str):
    return lambda run: run["status"] == ("sleeping" if kind == "a" else "waiting")


def assert_each_step_ran_once(run: dict) -> None:
    for step in run["steps"]:
        if step["status"] == "skipped":
            assert step["attempts"] == 0 and step["attempt_history"] == [], step
            continue
        assert step["status"] == "succeeded", (run["id"], step["key"], step)
        assert step["attempts"] == 1, (run["id"], step["key"], step["attempt_history"])
        assert [a["number"] for a in step["attempt_history"]] == [1], (run["id"], step["key"])


# -- the restart --------------------------------------------------------------------------


@pytest.mark.parametrize("mode,db,hard", [
    pytest.param("embedded", "sqlite", False, id="embedded-sigterm"),
    pytest.param("embedded", "sqlite", True, id="embedded-sigkill"),
    pytest.param("scaled_out", "sqlite", False, id="redis-workers-sigterm",
                 marks=pytest.mark.redis),
    pytest.param("scaled_out", "sqlite", True, id="redis-workers-sigkill",
                 marks=pytest.mark.redis),
    pytest.param("scaled_out", "postgres", False, id="redis-workers-postgres-sigterm",
                 marks=[pytest.mark.redis, pytest.mark.postgres]),
])
def test_sleepers_and_waiters_survive_a_restart_of_every_process(mode, db, hard, tmp_path,
                                                                  request, http_server):
    # given sleeping runs (a), runs waiting for their approval (b) and runs waiting at most
    # 2 s for theirs (c), on a running app
    stack = make_stack(mode, tmp_path, request, db).start()
    api = Api(stack.base_url, stack.api_key)
    request.addfinalizer(api.close)
    started = start_runs(api, http_server.url)
    ids = {kind: [run_id for _, run_id in pairs] for kind, pairs in started.items()}
    everything = [run_id for pairs in ids.values() for run_id in pairs]

    # when every process is stopped before a sleep ends or a timeout passes
    stack.stop(hard=hard)
    stopped_at = datetime.now().astimezone()
    assert stack.processes() == []
    queries = history(stack)
    before = {run_id: queries.get_run(run_id) for run_id in everything}
    for kind in "abc":
        statuses = {before[r]["status"] for r in ids[kind]}
        assert statuses == {"sleeping" if kind == "a" else "waiting"}, (
            f"({kind}) runs must still be parked when the app stops (a slow stop?): "
            f"{statuses}")
    wakes = [at(before[r]["wake_at"]) for r in ids["a"] + ids["c"]]
    assert http_server.hits == {}  # nothing after the waits ran yet

    # ... and stays down until every sleep and every short timeout has passed (> 3 s)
    down_until = max([*wakes, stopped_at + timedelta(seconds=SLEEP + 0.5)])
    time.sleep(max(0.0, (down_until - datetime.now().astimezone()).total_seconds()) + 0.5)

    # and everything is started again, then the approvals of (b) are sent (and one for
    # nobody)
    stack.start()
    events = [{"name": EVENT, "data": {"id": i}} for i, _ in started["b"]]
    api.send_events([*events, {"name": EVENT, "data": {"id": 999}}])

    # expect every run to succeed
    runs = api.runs_until(everything, lambda run: run["status"] in TERMINAL,
                          "every run finished after the restart", timeout=60,
                          details=stack.output)
    failed = {r["id"]: (r["status"], r["error"]) for r in runs.values()
              if r["status"] != "succeeded"}
    assert failed == {}, stack.output()

    # ... each HTTP call made exactly once, on the branch each run had to take
    expected = {f"/slept/{i}": 1 for i, _ in started["a"]}
    expected |= {f"/approved/{i}": 1 for i, _ in started["b"]}
    expected |= {f"/timed-out/{i}": 1 for i, _ in started["c"]}
    assert dict(http_server.hits) == expected

    # ... no checkpoint executed again (every step: one attempt)
    for run in runs.values():
        assert_each_step_ran_once(run)

    # ... the sleepers woke no earlier than asked, the waiters got their own approval, the
    # short waiters timed out
    for run_id in ids["a"]:
        nap = {s["key"]: s for s in runs[run_id]["steps"]}["nap"]
        slept_until = at(nap["output"]["slept_until"])
        assert slept_until == at(before[run_id]["wake_at"])
        assert at(nap["ended_at"]) >= slept_until
    for i, run_id in started["b"]:
        wait = {s["key"]: s for s in runs[run_id]["steps"]}["wait"]
        assert wait["output"]["name"] == EVENT and wait["output"]["data"] == {"id": i}
    for run_id in ids["c"]:
        steps = {s["key"]: s for s in runs[run_id]["steps"]}
        assert steps["wait"]["output"] is None
        assert steps["check"]["port"] == "true"
        assert steps["timed_out"]["status"] == "succeeded"
        assert steps["approved"]["status"] == "skipped"

    # ... and nothing else was started, nothing logged a traceback
    listed = api.client.get("/api/runs", params={"limit": 500}).json()["items"]
    assert sorted(r["id"] for r in listed) == sorted(everything)
    assert stack.tracebacks() == [], stack.output()


# -- workers down while the web process takes events ------------------------------------


@pytest.mark.redis
def test_events_sent_while_the_workers_are_down_and_redis_lost_its_messages(
        tmp_path, request, http_server, namespace):
    """Scaled out, the web process keeps taking events while every worker is stopped; the
    broker loses its messages meanwhile (Redis restarted without persistence). When workers
    start again: a waiter whose event came resumes (at once: found by the sweep, not at its
    60 s timeout), and a waiter whose timeout passed before its event came times out."""
    # given waiters (b, 60 s) and short waiters (c, 2 s) on a scaled-out app
    stack = make_stack("scaled_out", tmp_path, request).start()
    api = Api(stack.base_url, stack.api_key)
    request.addfinalizer(api.close)
    started = start_runs(api, http_server.url)
    ids = {kind: [run_id for _, run_id in pairs] for kind, pairs in started.items()}
    expires = {run_id: api.run(run_id)["wake_at"] for run_id in ids["c"]}

    # when the workers stop, the short timeouts pass, then every approval arrives (at the
    # web process), and the broker loses every message
    stack.stop_workers()
    time.sleep(SHORT_TIMEOUT + 1.0)
    api.send_events([{"name": EVENT, "data": {"id": i}}
                     for kind in "bc" for i, _ in started[kind]])
    client = redis.Redis.from_url(REDIS_URL)
    lost = list(client.scan_iter(f"{namespace}*"))
    if lost:
        client.delete(*lost)

    # and the workers start again
    stack.start_workers()
    resumed_from = time.monotonic()

    # expect the waiters (b) to finish well before their 60 s timeout
    runs = api.runs_until(ids["b"] + ids["c"], lambda run: run["status"] in TERMINAL,
                          "every waiter finished", timeout=20, details=stack.output)
    assert time.monotonic() - resumed_from < 20
    for i, run_id in started["b"]:
        assert runs[run_id]["status"] == "succeeded"
        wait = {s["key"]: s for s in runs[run_id]["steps"]}["wait"]
        assert wait["output"] is not None and wait["output"]["data"] == {"id": i}

    # ... and the short waiters (c) to take their timeout branch: their event came too late
    for run_id in ids["c"]:
        steps = {s["key"]: s for s in runs[run_id]["steps"]}
        assert steps["wait"]["output"] is None, (
            f"run {run_id}: the wait timed out at {expires[run_id]} but was "
            f"completed by an event that came after: {steps['wait']['output']}")
        assert steps["timed_out"]["status"] == "succeeded"
        assert steps["approved"]["status"] == "skipped"
    assert http_server.hits["/late-approval/300"] == 0
