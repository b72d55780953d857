"""A three-step LLM chain (summarize, keywords of the summary, a structured extraction) run
through the API and the CLI against a local OpenAI-compatible server, through litellm's real
HTTP path: each step's and the run's tokens and cost, the workflow's totals, the key taken
from OPENAI_API_KEY when no credential is named. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from itertools import pairwise

import pytest

from tests.conftest import make_env
from tests.utils.openai_server import ChatReply, OpenAIServer
from tests.utils.processes import run_cli

ENV_KEY = "sk-from-the-environment-000111"
MODEL = "openai/gpt-4o-mini"  # priced in litellm's map
SCHEMA = {"type": "object", "required": ["title", "keywords"],
          "properties": {"title": {"type": "string"},
                         "keywords": {"type": "array", "items": {"type": "string"}}}}


@pytest.fixture
def llm(monkeypatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)  # no credential named: the fallback
    server = OpenAIServer().start()
    server.script(
        ChatReply(text="Cats sleep a lot.", prompt_tokens=40, completion_tokens=6),
        ChatReply(text="cats, sleep", prompt_tokens=20, completion_tokens=4),
        ChatReply(text=json.dumps({"title": "Sleepy cats", "keywords": ["cats", "sleep"]}),
                  prompt_tokens=60, completion_tokens=15))
    yield server
    server.stop()


def chain(server: OpenAIServer) -> dict:
    def ask(key: str, prompt: str, **extra) -> dict:
        return {"key": key, "type": "ai.prompt",
                "params": {"model": MODEL, "api_base": server.api_base, "prompt": prompt,
                           **extra}}

    nodes = [{"key": "start", "type": "trigger.manual"},
             ask("summarize", "Summarize: {{ trigger.text }}"),
             ask("keywords", "Keywords of: {{ steps.summarize.output.text }}"),
             ask("extract", "Title and keywords for: {{ steps.summarize.output.text }} "
                            "({{ steps.keywords.output.text }})", json_schema=SCHEMA)]
    return {"name": "ai-chain", "nodes": nodes,
            "edges": [{"from": a["key"], "to": b["key"]} for a, b in pairwise(nodes)]}


def wait_for_run(api, run_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = api.get(f"/api/runs/{run_id}").json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end")


def test_a_chain_of_prompts_shows_tokens_and_cost_per_step_and_in_total(api, llm):
    # given the chain, saved through the API
    created = api.post("/api/workflows", json=chain(llm))
    assert created.status_code == 201, created.text

    # when it runs
    run_id = api.post("/api/workflows/ai-chain/runs",
                      json={"data": {"text": "A long text about cats."}}).json()["id"]
    run = wait_for_run(api, run_id)

    # expect each prompt built from the step before, sent with the key from the environment
    assert run["status"] == "succeeded", run["error"]
    prompts = [r["body"]["messages"][-1]["content"] for r in llm.requests]
    assert prompts[1] == "Keywords of: Cats sleep a lot."
    assert "(cats, sleep)" in prompts[2]
    assert {r["headers"]["authorization"] for r in llm.requests} == {f"Bearer {ENV_KEY}"}
    # and the structured reply parsed
    steps = {s["key"]: s for s in run["steps"]}
    assert steps["extract"]["output"]["object"] == {"title": "Sleepy cats",
                                                    "keywords": ["cats", "sleep"]}
    # and every step's usage, priced, with the run's totals adding them up
    expected = {"summarize": (40, 6), "keywords": (20, 4), "extract": (60, 15)}
    for key, (prompt, completion) in expected.items():
        usage = steps[key]["usage"]
        assert (usage["model"], usage["prompt_tokens"], usage["completion_tokens"],
                usage["total_tokens"]) == (MODEL, prompt, completion, prompt + completion)
        assert usage["cost_usd"] > 0 and usage["latency_ms"] > 0
        assert steps[key]["output"]["cost_usd"] == pytest.approx(usage["cost_usd"])
    totals = run["usage"]
    assert (totals["metered_steps"], totals["prompt_tokens"], totals["completion_tokens"],
            totals["total_tokens"]) == (3, 120, 25, 145)
    assert totals["cost_usd"] == pytest.approx(sum(s["usage"]["cost_usd"]
                                                   for s in steps.values() if s["usage"]))
    # and the workflow's totals over its runs
    usage = api.get("/api/workflows/ai-chain/usage").json()
    assert (usage["runs"], usage["total_tokens"]) == (1, 145)
    assert usage["cost_usd"] == pytest.approx(totals["cost_usd"])


def test_the_cli_run_table_shows_the_models_tokens_and_cost(embedded, llm, database_url,
                                                             tmp_path):
    # given the chain saved, and the CLI configured like the app, the key in its environment
    env = make_env(database_url, tmp_path, OPENAI_API_KEY=ENV_KEY)
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(chain(llm)))
    assert run_cli("workflow", "import", str(path), env=env).returncode == 0

    # when it runs from the CLI, waiting for the end
    result = run_cli("run", "ai-chain", "--data", '{"text": "cats"}', "--wait", env=env)

    # expect the table with each AI step's model, tokens and cost, and a total line
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["key", "type", "status", "attempts", "duration", "model",
                                "tokens", "cost"]
    summarize = next(line for line in lines if line.startswith("summarize"))
    assert MODEL in summarize and "46 (40 + 6)" in summarize and "$0.0000" in summarize
    assert "AI usage: 145 (120 + 25) tokens, cost $" in result.stdout
