"""The `n8nclone` command as real processes on the embedded default (a SQLite file in the
test's directory): workflow import/list/export, run, cancel, and bad input (a clear
message on stderr, a non-zero exit, never a traceback).

Each process pays the interpreter's start-up, so independent commands run side by side."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from n8nclone.nodes.registry import default_registry
from n8nclone.store.db import get_database
from n8nclone.store.run_queries import RunQueries
from n8nclone.store.workflows import WorkflowStore
from n8nclone.workflows import save_workflow
from tests.conftest import make_env
from tests.utils.http_server import Reply
from tests.utils.processes import run_cli
from tests.utils.runs import steps_by_key

HELLO = {
    "name": "hello",
    "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "greet", "type": "data.set", "params": {"values": {"hello": "{{ trigger.name }}"}}},
    ],
    "edges": [{"from": "start", "to": "greet"}],
}


@pytest.fixture
def env(sqlite_url, tmp_path) -> dict[str, str]:
    return make_env(sqlite_url, tmp_path)



def write(tmp_path: Path, name: str, content: dict | str) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env)


def cli_many(env: dict, *commands: tuple[str, ...] | tuple[dict, tuple[str, ...]]
             ) -> list[subprocess.CompletedProcess]:
    """Independent commands, run side by side; a command may bring its own env first."""
    def one(command):
        own_env, args = command if isinstance(command[0], dict) else (env, command)
        return run_cli(*args, env=own_env)
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(one, commands))


def seed(env: dict, workflow: dict) -> None:
    """Save a workflow straight into the test's database (setup, not what is tested)."""
    save_workflow(WorkflowStore(get_database(env["DATABASE_URL"])), default_registry(),
                  workflow)


def saved_names(env: dict) -> list[str]:
    return [r.name for r in WorkflowStore(get_database(env["DATABASE_URL"])).list()]


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def fails_cleanly(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Non-zero exit, a message on stderr holding every fragment, no traceback."""
    assert result.returncode != 0, f"exit 0\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in stderr:\n{result.stderr}"
    return result.stderr


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The step table `run --wait` prints, by step key (columns split on 2+ spaces)."""
    lines = stdout.splitlines()
    header = lines[0].split()
    assert header == ["key", "type", "status", "attempts", "duration"], lines[0]
    assert set(lines[1].replace(" ", "")) == {"-"}
    rows = {}
    for line in lines[2:]:
        if not line.strip():
            break
        cells = [c for c in line.split("  ") if c.strip()]
        rows[cells[0].strip()] = [c.strip() for c in cells[1:]]
    return rows


def run_of(env: dict, run_id: str) -> dict:
    return RunQueries(get_database(env["DATABASE_URL"])).get_run(run_id)


# -- workflows ----------------------------------------------------------------------------


def test_import_list_export_round_trip_and_reimport_makes_version_2(env, tmp_path):
    # given a complete workflow file
    workflow = {
        "name": "orders",
        "active": True,
        "settings": {"retries": 2, "timeout": "5m"},
        "nodes": [
            {"key": "start", "type": "trigger.manual", "params": {}, "position": [0.0, 0.0]},
            {"key": "check", "type": "flow.if",
             "params": {"condition": "{{ trigger.total > 100 }}"}, "position": [0.0, 120.0]},
            {"key": "big", "type": "data.set", "params": {"values": {"big": True}},
             "position": [0.0, 240.0], "retries": 1},
        ],
        "edges": [{"from": "start", "to": "check", "port": "main"},
                  {"from": "check", "to": "big", "port": "true"}],
    }

    # when it is imported, listed and exported
    imported = ok(cli(env, "workflow", "import", write(tmp_path, "orders.json", workflow)))
    listed, exported = (ok(r) for r in cli_many(env, ("workflow", "list"),
                                                ("workflow", "export", "orders")))

    # expect version 1, listed, and exported as the very file imported
    assert "imported 'orders'" in imported and "version 1" in imported
    rows = [line.split() for line in listed.splitlines()]
    assert rows[0] == ["id", "name", "active", "version"]
    assert ["1", "orders", "yes", "1"] in rows
    assert json.loads(exported) == workflow

    # when a changed file of the same name is imported
    workflow["nodes"][2]["params"]["values"] = {"big": "yes"}
    again = ok(cli(env, "workflow", "import", write(tmp_path, "orders2.json", workflow)))
    listed, exported = (ok(r) for r in cli_many(env, ("workflow", "list"),
                                                ("workflow", "export", "orders")))

    # expect version 2 of the same workflow, exported as changed
    assert "version 2" in again
    assert ["1", "orders", "yes", "2"] in [line.split() for line in listed.splitlines()]
    assert json.loads(exported) == workflow


# -- runs ---------------------------------------------------------------------------------


def test_run_wait_prints_the_step_table_and_json_prints_the_run(env, tmp_path):
    # given a saved workflow
    seed(env, HELLO)

    # when it is run with input, waiting, once as a table and once as JSON
    table, as_json = cli_many(env, ("run", "hello", "--data", '{"name": "Ada"}', "--wait"),
                              ("run", "hello", "--data", '{"name": "Bo"}', "--wait", "--json"))

    # expect the step table (key, type, status, attempts, duration) and exit 0
    rows = table_rows(ok(table))
    assert rows["start"][:3] == ["trigger.manual", "succeeded", "1"]
    assert rows["greet"][:3] == ["data.set", "succeeded", "1"]
    assert all(r[3].endswith(" ms") for r in rows.values())
    assert " succeeded" in table.stdout.splitlines()[-1]
    # and the run with its steps as JSON
    run = json.loads(ok(as_json))
    assert run["status"] == "succeeded" and run["output"] == {"hello": "Bo"}
    assert [s["key"] for s in run["steps"]] == ["start", "greet"]
    assert steps_by_key(run)["greet"]["attempt_history"][0]["status"] == "succeeded"
    assert run["trigger_type"] == "cli"


def test_a_failing_run_exits_non_zero_and_says_why(env, tmp_path, http_server):
    # given a workflow whose HTTP step gets a 404
    http_server.script("/gone", Reply(404, {"error": "gone"}))
    workflow = {"name": "gone", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "fetch", "type": "http.request", "params": {"url": http_server.url + "/gone"}}],
        "edges": [{"from": "start", "to": "fetch"}]}
    seed(env, workflow)

    # when it is run, waiting
    result = cli(env, "run", "gone", "--wait")

    # expect a non-zero exit, the failed step in the table, and the reason on stderr
    fails_cleanly(result, "fetch", "404")
    assert table_rows(result.stdout)["fetch"][:3] == ["http.request", "failed", "1"]
    assert http_server.hits["/gone"] == 1


def test_cancel_a_run_waiting_to_retry(env, tmp_path, http_server):
    # given a run (started without --wait) whose step waits an hour to retry
    http_server.script("/later", Reply(503, headers={"retry-after": "3600"}))
    workflow = {"name": "later", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "fetch", "type": "http.request", "params": {"url": http_server.url + "/later"}}],
        "edges": [{"from": "start", "to": "fetch"}]}
    seed(env, workflow)
    started = ok(cli(env, "run", "later")).split()
    assert started[0] == "run" and started[2] == "retrying", started
    run_id = started[1]

    # when it is cancelled, and a run id that does not exist is cancelled
    cancelled, unknown = cli_many(env, ("cancel", run_id),
                                  ("cancel", "0000000000000000000000000000dead"))

    # expect the run and its step cancelled, and a clear error for the unknown id
    assert ok(cancelled).strip() == f"run {run_id} cancelled"
    run = run_of(env, run_id)
    assert run["status"] == "cancelled"
    assert steps_by_key(run)["fetch"]["status"] == "cancelled"
    fails_cleanly(unknown, "no run", "0000000000000000000000000000dead")


# -- bad input ----------------------------------------------------------------------------


def test_bad_workflow_files_fail_with_a_clear_message(env, tmp_path):
    # given a file that is not JSON, one with a cycle, one with an unknown type, none at all
    cyclic = json.loads(json.dumps(HELLO)) | {"name": "cyclic"}
    cyclic["nodes"] += [{"key": "a", "type": "data.set", "params": {"values": {}}},
                        {"key": "b", "type": "data.set", "params": {"values": {}}}]
    cyclic["edges"] += [{"from": "greet", "to": "a"}, {"from": "a", "to": "b"},
                        {"from": "b", "to": "a"}]
    misspelt = json.loads(json.dumps(HELLO)) | {"name": "misspelt"}
    misspelt["nodes"][1]["type"] = "data.sett"
    files = {
        "broken": write(tmp_path, "broken.json", '{"name": "broken", "nodes": ['),
        "cyclic": write(tmp_path, "cyclic.json", cyclic),
        "misspelt": write(tmp_path, "misspelt.json", misspelt),
        "missing": str(tmp_path / "missing.json"),
    }

    # when each is imported
    broken, cycle, unknown_type, missing = cli_many(
        env, *(("workflow", "import", path) for path in files.values()))

    # expect a non-zero exit and a message that says what is wrong, without a traceback
    fails_cleanly(broken, "broken.json", "not valid JSON", "line 1")
    fails_cleanly(cycle, "cycle", "a -> b")
    fails_cleanly(unknown_type, "greet", "data.sett")
    fails_cleanly(missing, "missing.json")
    # and nothing was saved
    assert saved_names(env) == []


def test_bad_run_requests_fail_with_a_clear_message(env, tmp_path):
    # given a workflow whose template uses an undefined name
    bad_template = json.loads(json.dumps(HELLO)) | {"name": "bad-template"}
    bad_template["nodes"][1]["params"]["values"] = {"hello": "{{ customer.name }}"}
    seed(env, bad_template)

    # when it is run, an unknown workflow is run or exported, and --data is not JSON
    template, unknown, unknown_export, bad_data = cli_many(
        env, ("run", "bad-template", "--wait"), ("run", "no-such-workflow", "--wait"),
        ("workflow", "export", "no-such-workflow"),
        ("run", "bad-template", "--data", "{name: Ada}", "--wait"))

    # expect non-zero exits with messages naming what is wrong
    fails_cleanly(template, "greet", "values.hello", "customer")
    assert table_rows(template.stdout)["greet"][:3] == ["data.set", "failed", "1"]
    fails_cleanly(unknown, "no workflow named 'no-such-workflow'")
    fails_cleanly(unknown_export, "no workflow named 'no-such-workflow'")
    fails_cleanly(bad_data, "--data", "not valid JSON")


def test_unreadable_files_and_an_unreachable_database_fail_with_a_clear_message(env, tmp_path):
    # given a workflow file that is not UTF-8 text, an export target in a missing folder,
    # a database URL nobody answers on, and a SQLite file under a regular file
    seed(env, HELLO)
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{"name": "caf\xe9", "nodes": []}')
    (tmp_path / "a-file").write_text("")
    nowhere = dict(env, DATABASE_URL="postgresql://postgres:secret@127.0.0.1:1/none")
    under_a_file = dict(env, DATABASE_URL=f"sqlite:///{tmp_path}/a-file/n8n.db")

    # when each is used
    not_text, no_folder, no_database, no_folder_for_db = cli_many(
        env, ("workflow", "import", str(latin1)),
        ("workflow", "export", "hello", "-o", str(tmp_path / "missing" / "hello.json")),
        (nowhere, ("workflow", "list")), (under_a_file, ("workflow", "list")))

    # expect a non-zero exit and a message naming the file or the database, no traceback
    fails_cleanly(not_text, "latin1.json", "UTF-8")
    fails_cleanly(no_folder, "missing/hello.json")
    stderr = fails_cleanly(no_database, "database", "127.0.0.1:1")
    assert "secret" not in stderr
    fails_cleanly(no_folder_for_db, "database", "a-file")
