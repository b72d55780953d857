"""What the engine records of metered calls (tokens, cost, latency summed over attempts, run
and workflow totals, the run's budget), and how it keeps a step's credentials out of what it
stores. On the embedded default, SQLite and PostgreSQL, with a test node type that reports
usage the way `ai.prompt` does."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any, ClassVar

import pytest

from n8nclone.engine.control import retry_run
from n8nclone.engine.errors import NonRetriableError
from n8nclone.engine.start import start_run
from n8nclone.nodes.base import Credential, NodeContext, NodeType, Usage
from n8nclone.nodes.schema import Param
from tests.conftest import wait_for_status
from tests.utils.runs import save_and_start, steps_by_key

SECRET = "sk-test-5ecret-value-0123456789"


class Metered(NodeType):
    """Reports `tokens` tokens costing `cost` per attempt; fails the first `fail_first`
    attempts; with `leak`, reads credential "key" and puts its secret in its output or
    error; with `min_budget`, refuses to run when the run has less left."""

    type = "test.metered"
    label = "Metered"
    group = "ai"
    params: ClassVar = (Param("tokens", "integer", default=10), Param("cost", "number"),
                        Param("fail_first", "integer", default=0),
                        Param("leak", "options", options=("", "output", "error"), default=""),
                        Param("min_budget", "number"))

    def execute(self, ctx: NodeContext, params: dict[str, Any]) -> Any:
        if params["min_budget"] is not None and ctx.budget_left_usd is not None \
                and ctx.budget_left_usd < params["min_budget"]:
            raise NonRetriableError(f"over budget: {ctx.budget_left_usd:.4f} left")
        ctx.report_usage(Usage(model="test/model", prompt_tokens=params["tokens"] - 2,
                               completion_tokens=2, total_tokens=params["tokens"],
                               cost_usd=params["cost"], latency_ms=5.0))
        secret = ctx.credential("key").data["value"] if params["leak"] else ""
        if params["leak"] == "error":
            raise NonRetriableError(f"the provider refused key {secret}")
        if ctx.attempt <= params["fail_first"]:
            raise RuntimeError("flaky provider")
        return {"budget_left": ctx.budget_left_usd, "echo": f"used {secret}"}


@pytest.fixture
def metered(embedded):
    embedded.registry.register(Metered)
    embedded.executor.find_credential = lambda name: Credential(name, "llm_api_key",
                                                                {"value": SECRET})
    return embedded


def chain(name: str, *nodes: dict, **settings: Any) -> dict:
    nodes = ({"key": "start", "type": "trigger.manual"}, *nodes)
    return {"name": name, "settings": {"retries": 2, **settings}, "nodes": list(nodes),
            "edges": [{"from": a["key"], "to": b["key"]} for a, b in pairwise(nodes)]}


def metered_node(key: str, **params: Any) -> dict:
    return {"key": key, "type": "test.metered", "params": params}


def test_usage_adds_up_over_attempts_steps_runs_and_the_workflow(metered):
    # given a chain of two metered steps, the first failing once (its tokens were spent)
    workflow = chain("usage", metered_node("first", tokens=10, cost=0.001, fail_first=1),
                     metered_node("second", tokens=30, cost=0.002))

    # when it runs twice
    record, run_id = save_and_start(metered, workflow)
    other_id = start_run(metered.runs, metered.dispatcher, workflow_id=record.id,
                         version_id=record.version_id, plan_settings=record.plan["settings"])
    assert wait_for_status(metered, run_id) == wait_for_status(metered, other_id) == "succeeded"

    # expect each step's usage summed over its attempts
    run = metered.run_queries.get_run(run_id)
    steps = steps_by_key(run)
    assert steps["first"]["attempts"] == 2
    assert steps["first"]["usage"] == {"model": "test/model", "prompt_tokens": 16,
                                       "completion_tokens": 4, "total_tokens": 20,
                                       "cost_usd": pytest.approx(0.002), "latency_ms": 10.0}
    assert steps["second"]["usage"]["total_tokens"] == 30
    assert steps["start"]["usage"] is None
    # and the run's and the workflow's totals
    assert run["usage"] == {"metered_steps": 2, "prompt_tokens": 44, "completion_tokens": 6,
                            "total_tokens": 50, "cost_usd": pytest.approx(0.004),
                            "latency_ms": 15.0}
    totals = metered.run_queries.workflow_usage(record.id)
    assert (totals["runs"], totals["total_tokens"]) == (2, 100)
    assert totals["cost_usd"] == pytest.approx(0.008)


def test_an_unknown_price_keeps_the_cost_null_but_counts_the_tokens(metered):
    workflow = chain("unpriced", metered_node("call", tokens=12))
    _, run_id = save_and_start(metered, workflow)
    assert wait_for_status(metered, run_id) == "succeeded"

    run = metered.run_queries.get_run(run_id)
    assert steps_by_key(run)["call"]["usage"]["cost_usd"] is None
    assert run["usage"]["total_tokens"] == 12 and run["usage"]["cost_usd"] is None


def test_a_step_sees_what_is_left_of_the_runs_budget(metered):
    # given a budget of $0.005 and calls of $0.002 that need $0.0015 left to start
    workflow = chain("budget", *(metered_node(f"call{i}", cost=0.002, min_budget=0.0015)
                                 for i in range(4)), budget_usd=0.005)

    # when it runs
    _, run_id = save_and_start(metered, workflow)

    # expect two calls to pass, the third to see $0.001 left and fail before spending
    assert wait_for_status(metered, run_id) == "failed"
    steps = steps_by_key(metered.run_queries.get_run(run_id))
    assert steps["call0"]["output"]["budget_left"] == pytest.approx(0.005)
    assert steps["call1"]["output"]["budget_left"] == pytest.approx(0.003)
    assert steps["call2"]["status"] == "failed" and steps["call2"]["usage"] is None
    assert "over budget: 0.0010 left" in steps["call2"]["error"]["message"]
    assert "call3" not in steps


@pytest.mark.parametrize("leak", ["output", "error"])
def test_a_credential_a_step_saw_is_masked_in_what_is_stored(metered, leak):
    # given a step that puts its credential's secret in its output, or its error
    _, run_id = save_and_start(metered, chain(f"leak-{leak}", metered_node("call", leak=leak)))
    wait_for_status(metered, run_id)

    # expect the secret nowhere in the run, its steps and attempts: masked as ***
    run = metered.run_queries.get_run(run_id)
    assert SECRET not in json.dumps(run)
    step = steps_by_key(run)["call"]
    if leak == "output":
        assert step["output"]["echo"] == "used ***"
    else:
        assert step["error"]["message"] == "the provider refused key ***"
        assert run["error"]["message"] == "the provider refused key ***"


def test_a_retry_does_not_count_the_calls_of_the_steps_it_copies(metered):
    # given a run whose first metered step succeeded and whose second failed
    workflow = chain("retry-usage", metered_node("first", tokens=10, cost=0.001),
                     metered_node("second", tokens=5, cost=0.002, leak="error"))
    record, run_id = save_and_start(metered, workflow)
    assert wait_for_status(metered, run_id) == "failed"

    # when it is retried from the failed step
    retry_id = retry_run(metered.runs, metered.dispatcher, run_id)
    assert wait_for_status(metered, retry_id) == "failed"

    # expect the copied step without usage (the retry made no call for it), and the
    # workflow's totals counting the first step's call once
    steps = steps_by_key(metered.run_queries.get_run(retry_id))
    assert steps["first"]["status"] == "succeeded" and steps["first"]["usage"] is None
    assert steps["second"]["usage"]["total_tokens"] == 5
    totals = metered.run_queries.workflow_usage(record.id)
    assert totals["total_tokens"] == 10 + 5 + 5
    assert totals["cost_usd"] == pytest.approx(0.001 + 0.002 + 0.002)
