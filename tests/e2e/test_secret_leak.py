"""Secrets never leak: credentials added with the CLI are used by `ai.prompt` and
`http.request` steps of a real `n8nclone up`, and then the secrets are searched for in
everything the app shows or keeps: API answers (runs, workflows, credentials, events),
CLI output, the workflow export, every process log (at DEBUG), and every database table
(the credentials table's ciphertext aside). On SQLite and PostgreSQL.

The providers here are hostile on purpose: the LLM server answers with the API key in its
reply text, then refuses it with the key in its error message, and the HTTP server echoes
the header it got. The engine must mask what a step saw; the secrets must still have
reached the servers (or the test would prove nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import MetaData, select

from n8nclone.store.db import get_database
from tests.conftest import make_env
from tests.e2e.conftest import pick_port
from tests.utils.app_stack import Api, AppStack
from tests.utils.databases import create_postgres_database, drop_postgres_database
from tests.utils.http_server import Reply, ScriptedServer
from tests.utils.openai_server import ChatReply, OpenAIServer
from tests.utils.processes import run_cli

pytestmark = pytest.mark.e2e

LLM_KEY = "sk-leaktest-9f8e7d6c5b4a39281706"
HEADER_SECRET = "hdr-leaktest-0a1b2c3d4e5f6789"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'n8nclone.db'}"
        return
    name, url = create_postgres_database()
    try:
        yield url
    finally:
        from n8nclone.store.db import _databases

        db = _databases.pop(url, None)
        if db is not None:
            db.dispose()
        drop_postgres_database(name)


def workflow(llm: OpenAIServer, http: ScriptedServer) -> dict:
    """ai.prompt (its reply echoes the key) -> http.request with a header credential ->
    ai.prompt refused (401 naming the key)."""
    ai = {"model": "openai/gpt-4o-mini", "api_base": llm.api_base, "credential": "llm",
          "prompt": "Say something about {{ trigger.topic }}"}
    return {"name": "leak-check", "settings": {"retries": 1}, "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "ask", "type": "ai.prompt", "params": ai},
        {"key": "call", "type": "http.request",
         "params": {"url": http.url + "/echo", "credential": "hdr", "method": "POST",
                    "body_type": "json", "json": {"said": "{{ steps.ask.output.text }}"}}},
        {"key": "again", "type": "ai.prompt", "params": ai}],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "call"},
                  {"from": "call", "to": "again"}]}


def database_text(url: str) -> str:
    """Every row of every table as text, but the credentials' ciphertext."""
    db = get_database(url)
    meta = MetaData()
    meta.reflect(db.engine)
    parts = []
    with db.read() as conn:
        for table in meta.sorted_tables:
            columns = [c for c in table.c if not (table.name == "credential"
                                                   and c.name == "ciphertext")]
            for row in conn.execute(select(*columns)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def test_secrets_appear_nowhere_but_on_the_wire(database_url, tmp_path):
    llm, http = OpenAIServer().start(), ScriptedServer().start()
    # hostile providers: a reply and an error that contain the key, an echo of the header
    llm.script(ChatReply(text=f"Your key is {LLM_KEY}, thanks."),
               ChatReply(status=401, error=f"Incorrect API key provided: {LLM_KEY}"))
    http.script("/echo", Reply(body={"you_sent": HEADER_SECRET}))
    env = make_env(database_url, tmp_path, N8NCLONE_LOG_LEVEL="DEBUG")
    outputs = []

    def cli(*args: str, stdin: str | None = None):
        result = run_cli(*args, env=env, stdin=stdin)
        outputs.append(result.stdout + result.stderr)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    cli("migrate")
    # given the credentials, added from standard input
    cli("credential", "add", "llm", "--type", "llm_api_key", "--value", "-", stdin=LLM_KEY)
    cli("credential", "add", "hdr", "--type", "http_header", "--value", "-",
        stdin=f"X-Api-Key: {HEADER_SECRET}\n")
    cli("credential", "list")

    stack = AppStack(env, pick_port(), tmp_path).start()
    api = Api(stack.base_url, stack.api_key)
    try:
        # when a workflow uses them and runs (the last step fails on the refused key)
        created = api.create_workflow(workflow(llm, http))
        run_id = api.start_run("leak-check", {"topic": "cats"})
        run = api.runs_until([run_id], lambda r: r["status"] in ("succeeded", "failed"),
                             "the run to end")[run_id]
        assert run["status"] == "failed", run
        answers = [json.dumps(run)]
        for path in ("/api/workflows", f"/api/workflows/{created['id']}", "/api/credentials",
                     "/api/credentials/llm", f"/api/runs?workflow={created['id']}",
                     f"/api/workflows/{created['id']}/usage", "/api/events"):
            response = api.client.get(path)
            assert response.status_code == 200, (path, response.text)
            answers.append(response.text)
        cli("workflow", "export", "leak-check")
    finally:
        api.close()
        stack.stop()
        llm.stop()
        http.stop()

    # expect the secrets to have been used: the key sent to the LLM, the header to the server
    assert {r["headers"].get("authorization") for r in llm.requests} == {f"Bearer {LLM_KEY}"}
    sent = {k.lower(): v for k, v in http.requests[-1]["headers"].items()}
    assert sent["x-api-key"] == HEADER_SECRET
    # and the masks where the hostile providers put them
    steps = {s["key"]: s for s in run["steps"]}
    assert steps["ask"]["output"]["text"] == "Your key is ***, thanks."
    assert steps["call"]["output"]["body"] == {"you_sent": "***"}
    assert "***" in steps["again"]["error"]["message"]
    # and the secrets nowhere else: API answers, CLI output, logs, database
    logs = "\n".join(log.read_text(errors="replace") for log in stack.logs if log.exists())
    places = {"API answers": "\n".join(answers), "CLI output": "\n".join(outputs),
              "logs": logs, "database": database_text(database_url)}
    for secret in (LLM_KEY, HEADER_SECRET):
        leaked = [place for place, text in places.items() if secret in text]
        assert not leaked, f"{secret[:10]}... found in {leaked}"
    assert "DEBUG" in logs  # the logs searched were the chattiest there are
