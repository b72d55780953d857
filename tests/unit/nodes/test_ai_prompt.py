"""`ai.prompt` through litellm's real HTTP path, against an OpenAI-compatible server on
127.0.0.1 (tests/utils/openai_server.py), and once through the real engine."""

from __future__ import annotations

import pytest

from n8nclone.engine.errors import NonRetriableError, RetryAfterError
from n8nclone.nodes.ai_prompt import AiPrompt, ModelCallError, StructuredOutputError, load_litellm
from n8nclone.nodes.base import Credential, NodeContext, Usage
from n8nclone.nodes.registry import default_registry
from tests.utils.openai_server import ChatReply

KEY = "sk-test-4f9c2a7d1e"
PRICED, UNPRICED = "openai/gpt-4o-mini", "openai/house-model-7b"
PERSON = {"type": "object", "required": ["name", "age"],
          "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
CREDENTIALS = {
    "openai": Credential("openai", "llm_api_key", {"value": KEY}),
    "webhook-basic": Credential("webhook-basic", "http_basic", {"user": "u", "password": "p"}),
}


def find_credential(name: str) -> Credential:
    if name not in CREDENTIALS:
        raise NonRetriableError(f"no credential named {name!r}")
    return CREDENTIALS[name]


def context(budget: float | None = None) -> NodeContext:
    return NodeContext(run_id="r1", workflow_id=1, node_key="ask", attempt=1, trigger=None,
                       find_credential=find_credential, budget_left_usd=budget)


def ask(server, ctx: NodeContext | None = None, **params):
    """Execute ai.prompt against `server` (model gpt-4o-mini, the `openai` credential)."""
    ctx = ctx if ctx is not None else context()
    given = {"model": PRICED, "api_base": server.api_base, "credential": "openai",
             "prompt": "Say hello."} | params
    return AiPrompt().execute(ctx, AiPrompt.with_defaults(given))


def expected_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    prompt_cost, completion_cost = load_litellm().cost_per_token(
        model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    return prompt_cost + completion_cost


def raised(server, expected: type[BaseException], ctx: NodeContext | None = None, **params
           ) -> BaseException:
    with pytest.raises(expected) as caught:
        ask(server, ctx, **params)
    return caught.value


# -- replies -------------------------------------------------------------------------------


def test_text_reply_with_usage_cost_and_latency(openai_server):
    # given a server answering a text with known token counts
    openai_server.script(ChatReply(text="Hello, Ada!", prompt_tokens=20, completion_tokens=4))
    ctx = context()

    # when a priced model is asked with a system prompt, temperature and max_tokens
    output = ask(openai_server, ctx, system="Be brief.", prompt="Greet Ada.", temperature=0.2,
                 max_tokens=50)

    # expect the text, the usage, litellm's price and a latency in the output
    cost = expected_cost(PRICED, 20, 4)
    assert cost > 0
    assert output["text"] == "Hello, Ada!"
    assert output["model"] == PRICED
    assert output["usage"] == {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}
    assert output["cost_usd"] == pytest.approx(cost)
    assert 0 < output["latency_ms"] < 30_000
    # and one usage report with the same numbers
    assert ctx.usage == [Usage(model=PRICED, prompt_tokens=20, completion_tokens=4,
                               total_tokens=24, cost_usd=output["cost_usd"],
                               latency_ms=output["latency_ms"])]
    # and the request carried the messages, the settings and the credential's key
    [request] = openai_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    body = request["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Greet Ada."}]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    assert "response_format" not in body
    assert KEY in ctx.revealed  # so the engine scrubs it from anything stored


def test_unpriced_model_records_cost_as_unknown(openai_server):
    # given a model name litellm has no price for
    ctx = context()

    # when it answers
    output = ask(openai_server, ctx, model=UNPRICED)

    # expect the text and tokens, and a cost of None (not a crash)
    assert output["text"] == "Hello from the test server."
    assert output["cost_usd"] is None
    assert output["usage"]["total_tokens"] == 17
    [usage] = ctx.usage
    assert (usage.model, usage.cost_usd, usage.total_tokens) == (UNPRICED, None, 17)
    assert openai_server.requests[0]["body"]["model"] == "house-model-7b"


def test_prompt_rendered_to_an_object_is_sent_as_json(openai_server):
    # when the prompt is an object (a whole-value template such as {{ steps.x.output }})
    ask(openai_server, prompt={"order": 7, "items": ["tea"]})

    # expect it sent as JSON text, with no system message
    assert openai_server.requests[0]["body"]["messages"] == [
        {"role": "user", "content": '{"order": 7, "items": ["tea"]}'}]


def test_mock_response_answers_without_a_request(openai_server):
    # given litellm's mock_response (a test hook, not a savable parameter)
    ctx = context()

    # when the node runs with it and no credential
    output = ask(openai_server, ctx, credential=None, api_base=None, mock_response="mocked")

    # expect litellm's mock answer and its usage, and no request
    assert output["text"] == "mocked"
    assert output["usage"]["total_tokens"] > 0
    assert len(ctx.usage) == 1
    assert openai_server.calls == 0


# -- errors and retries --------------------------------------------------------------------


def test_rate_limit_with_retry_after_then_success(openai_server):
    # given a server answering 429 with Retry-After: 7, then 200
    openai_server.script(ChatReply(status=429, headers={"retry-after": "7"},
                                   error="Rate limit reached for requests"))
    ctx = context()

    # when the node runs (the first attempt)
    error = raised(openai_server, RetryAfterError, ctx)

    # expect a RetryAfterError carrying the delay, one request and no usage
    assert error.retry_after == 7
    assert "rate limited" in str(error) and "429" in str(error)
    assert openai_server.calls == 1
    assert ctx.usage == []
    # and the next attempt (as the engine would make it) succeeds
    assert ask(openai_server)["text"] == "Hello from the test server."
    assert openai_server.calls == 2


def test_rate_limit_with_retry_after_ms(openai_server):
    openai_server.script(ChatReply(status=429, headers={"retry-after-ms": "1500"}))
    assert raised(openai_server, RetryAfterError).retry_after == 1.5


def test_rate_limit_without_retry_after_is_retried_with_backoff(openai_server):
    # given a 429 with no Retry-After
    openai_server.script(ChatReply(status=429))

    # expect a plain retriable error (the engine's backoff), neither fatal nor timed
    error = raised(openai_server, ModelCallError)
    assert not isinstance(error, (NonRetriableError, RetryAfterError))
    assert openai_server.calls == 1  # litellm and the OpenAI SDK did not retry by themselves


def test_server_error_is_retriable(openai_server):
    # given a server failing with 500, then answering
    openai_server.script(ChatReply(status=500, error="upstream exploded"))

    # when the node runs
    error = raised(openai_server, ModelCallError)

    # expect a retriable error naming the status and the server's message
    assert not isinstance(error, NonRetriableError)
    assert "500" in str(error) and "upstream exploded" in str(error)
    assert openai_server.calls == 1
    assert ask(openai_server)["text"] == "Hello from the test server."


def test_unavailable_with_retry_after_is_retried_then(openai_server):
    openai_server.script(ChatReply(status=503, headers={"retry-after": "3"}))
    error = raised(openai_server, RetryAfterError)
    assert error.retry_after == 3 and "503" in str(error)


def test_refused_api_key_fails_at_once_without_the_key_in_the_message(openai_server):
    # given a server refusing the key and echoing it (as some providers do)
    openai_server.script(ChatReply(status=401, error=f"Incorrect API key provided: {KEY}"))

    # when the node runs
    error = raised(openai_server, NonRetriableError)

    # expect a clear, non-retriable error that does not reveal the key
    assert "the provider refused the API key (401)" in str(error)
    assert KEY not in str(error)
    assert "***" in str(error)
    assert openai_server.calls == 1


@pytest.mark.parametrize(("status", "words"), [
    (400, "rejected the request (400)"),
    (403, "denied access (403)"),
    (404, "does not know model"),
    (422, "rejected the request (422)"),
])
def test_client_errors_fail_at_once(openai_server, status, words):
    openai_server.script(ChatReply(status=status, error="nope"))
    error = raised(openai_server, NonRetriableError)
    assert words in str(error) and "nope" in str(error)
    assert openai_server.calls == 1


def test_malformed_json_body_is_retriable(openai_server):
    # given a 200 whose body is not JSON
    openai_server.script(ChatReply(raw="{this is not json"))

    # expect a retriable error, no usage (there was no reply to bill)
    ctx = context()
    error = raised(openai_server, Exception, ctx)
    assert not isinstance(error, NonRetriableError)
    assert ctx.usage == []


def test_timeout_is_retriable(openai_server):
    openai_server.script(ChatReply(delay=1.0))
    error = raised(openai_server, TimeoutError, timeout=0.2)
    assert "did not answer within 0.2 s" in str(error)


def test_unreachable_server_is_retriable():
    class Nowhere:
        api_base = "http://127.0.0.1:1/v1"

    error = raised(Nowhere(), ConnectionError)
    assert "cannot reach http://127.0.0.1:1/v1" in str(error)


# -- structured output ---------------------------------------------------------------------


def test_structured_output_valid(openai_server):
    # given a reply that is JSON valid against the schema
    openai_server.script(ChatReply(text='{"name": "Ada", "age": 36}'))
    ctx = context()

    # when the node asks with json_schema
    output = ask(openai_server, ctx, system="Extract the person.", prompt="Ada, 36",
                 json_schema=PERSON)

    # expect the parsed object instead of text, and the usage
    assert output["object"] == {"name": "Ada", "age": 36}
    assert "text" not in output
    assert len(ctx.usage) == 1
    # and JSON mode asked for, with the schema in the system message
    body = openai_server.requests[0]["body"]
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("Extract the person.")
    assert '"required": ["name", "age"]' in system["content"]


def test_structured_output_in_a_code_fence(openai_server):
    openai_server.script(ChatReply(text='```json\n{"name": "Ada", "age": 36}\n```'))
    assert ask(openai_server, json_schema=PERSON)["object"] == {"name": "Ada", "age": 36}


def test_structured_output_of_another_root_type_relies_on_the_instruction(openai_server):
    # given a schema whose root is an array (JSON mode would force an object)
    openai_server.script(ChatReply(text='["tea", "cake"]'))
    schema = {"type": "array", "items": {"type": "string"}}

    # expect no response_format asked for, and the array parsed
    assert ask(openai_server, json_schema=schema)["object"] == ["tea", "cake"]
    assert "response_format" not in openai_server.requests[0]["body"]


def test_structured_output_not_matching_is_retriable_and_names_the_problem(openai_server):
    # given a JSON reply of the wrong shape
    openai_server.script(ChatReply(text='{"name": "Ada", "age": "thirty-six"}',
                                   prompt_tokens=30, completion_tokens=9))
    ctx = context()

    # when the node runs
    error = raised(openai_server, StructuredOutputError, ctx, json_schema=PERSON)

    # expect a retriable error naming where and what
    assert not isinstance(error, NonRetriableError)
    assert "does not match json_schema at $.age" in str(error)
    assert "'thirty-six' is not of type 'integer'" in str(error)
    # and the call's usage still reported: it was paid for
    [usage] = ctx.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (30, 9, 39)
    assert usage.cost_usd == pytest.approx(expected_cost(PRICED, 30, 9))


def test_structured_output_missing_field(openai_server):
    openai_server.script(ChatReply(text='{"name": "Ada"}'))
    error = raised(openai_server, StructuredOutputError, json_schema=PERSON)
    assert "at $: 'age' is a required property" in str(error)


def test_structured_output_not_json_is_retriable(openai_server):
    openai_server.script(ChatReply(text="Sure! Ada is 36."))
    ctx = context()
    error = raised(openai_server, StructuredOutputError, ctx, json_schema=PERSON)
    assert "the reply is not JSON" in str(error) and "Sure! Ada is 36." in str(error)
    assert len(ctx.usage) == 1


def test_invalid_schema_fails_before_any_request(openai_server):
    error = raised(openai_server, NonRetriableError, json_schema={"type": "no-such-type"})
    assert "json_schema is not a valid JSON Schema" in str(error)
    assert openai_server.calls == 0


# -- credentials ---------------------------------------------------------------------------


def test_credential_of_the_wrong_type_fails_before_any_request(openai_server):
    error = raised(openai_server, NonRetriableError, credential="webhook-basic")
    assert "credential 'webhook-basic' is of type 'http_basic'" in str(error)
    assert "'llm_api_key'" in str(error)
    assert openai_server.calls == 0


def test_unknown_credential_fails_before_any_request(openai_server):
    error = raised(openai_server, NonRetriableError, credential="nope")
    assert "no credential named 'nope'" in str(error)
    assert openai_server.calls == 0


def test_without_a_credential_the_provider_environment_variable_is_used(openai_server,
                                                                        monkeypatch):
    # given no credential, and OPENAI_API_KEY in the environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")

    # when the node runs
    ask(openai_server, credential=None)

    # expect that key sent
    assert openai_server.requests[0]["headers"]["authorization"] == \
        "Bearer sk-from-the-environment"


def test_without_a_credential_or_environment_variable_fails_at_once(openai_server,
                                                                    monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    error = raised(openai_server, NonRetriableError, credential="")
    assert "no API key for openai/gpt-4o-mini" in str(error)
    assert "OPENAI_API_KEY" in str(error)
    assert openai_server.calls == 0


# -- budget --------------------------------------------------------------------------------


def test_budget_too_small_fails_before_any_request(openai_server):
    # given a run with almost nothing left of its budget
    ctx = context(budget=0.0001)

    # when a call that could write 1,000 output tokens of gpt-4o-mini is asked for
    error = raised(openai_server, NonRetriableError, ctx, max_tokens=1000)

    # expect a refusal with the estimate and what is left, and no request
    message = str(error)
    assert "this call may cost up to $0.000" in message
    assert "but the run has $0.000100 left of its budget" in message
    assert openai_server.calls == 0
    assert ctx.usage == []


def test_budget_large_enough_lets_the_call_through(openai_server):
    ctx = context(budget=0.01)
    assert ask(openai_server, ctx, max_tokens=1000)["text"]
    assert openai_server.calls == 1


def test_budget_estimate_uses_default_output_tokens_when_max_tokens_is_unset(openai_server):
    # 4096 output tokens of gpt-4o-mini cost about $0.0025: more than $0.001
    raised(openai_server, NonRetriableError, context(budget=0.001))
    assert openai_server.calls == 0


def test_budget_cannot_check_an_unpriced_model_so_it_passes(openai_server):
    output = ask(openai_server, context(budget=0.000001), model=UNPRICED)
    assert output["cost_usd"] is None
    assert openai_server.calls == 1


# -- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "words"), [
    ({"model": ""}, "model is required"),
    ({"prompt": "  "}, "prompt is empty"),
    ({"max_tokens": "lots"}, "max_tokens must be an integer"),
    ({"max_tokens": 0}, "max_tokens must be at least 1"),
    ({"temperature": "warm"}, "temperature must be a number"),
    ({"timeout": "soon"}, "timeout:"),
    ({"json_schema": "{not json"}, "json_schema is not valid JSON"),
])
def test_bad_parameters_fail_before_any_request(openai_server, params, words):
    error = raised(openai_server, NonRetriableError, **params)
    assert words in str(error)
    assert openai_server.calls == 0


def test_templated_numbers_as_text_are_accepted(openai_server):
    ask(openai_server, temperature="0.5", max_tokens="64", timeout="30s")
    body = openai_server.requests[0]["body"]
    assert (body["temperature"], body["max_tokens"]) == (0.5, 64)


def test_registered_with_its_schema():
    node_type = default_registry().get("ai.prompt")
    assert node_type is AiPrompt
    described = AiPrompt.describe()
    assert described["group"] == "ai"
    names = [p["name"] for p in described["params"]]
    assert names == ["model", "api_base", "credential", "system", "prompt", "temperature",
                     "max_tokens", "json_schema", "timeout"]
    assert {p["name"] for p in described["params"] if p["required"]} == {"model", "prompt"}


# -- through the engine --------------------------------------------------------------------


@pytest.fixture
def engine(sqlite_url, tmp_path):
    from n8nclone.services import build_services
    from n8nclone.worker.runtime import WorkerRuntime
    from tests.conftest import make_settings

    services = build_services(make_settings(sqlite_url, tmp_path))
    runtime = WorkerRuntime(services).start()
    yield services
    runtime.stop()


def prompt_workflow(server, **params) -> dict:
    return {"name": "ask", "settings": {"retries": 2}, "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "ask", "type": "ai.prompt",
         "params": {"model": PRICED, "api_base": server.api_base,
                    "prompt": "Hello {{ trigger.name }}"} | params}],
        "edges": [{"from": "start", "to": "ask"}]}


def test_engine_retries_500_and_429_then_records_usage(engine, openai_server, monkeypatch):
    from tests.conftest import wait_for_status
    from tests.utils.runs import save_and_start, steps_by_key

    # given a server failing with 500, then 429 (Retry-After: 0), then answering
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    openai_server.script(ChatReply(status=500), ChatReply(status=429,
                                                         headers={"retry-after": "0"}))

    # when a run of trigger -> ai.prompt is started
    _, run_id = save_and_start(engine, prompt_workflow(openai_server), {"name": "Ada"})

    # expect it to succeed on the third attempt with the reply and usage stored
    assert wait_for_status(engine, run_id) == "succeeded"
    run = engine.run_queries.get_run(run_id)
    step = steps_by_key(run)["ask"]
    assert step["attempts"] == 3
    assert step["output"]["text"] == "Hello from the test server."
    assert step["usage"]["total_tokens"] == 17
    assert step["usage"]["cost_usd"] == pytest.approx(expected_cost(PRICED, 12, 5))
    assert openai_server.calls == 3
    assert openai_server.requests[-1]["body"]["messages"][-1]["content"] == "Hello Ada"


def test_engine_fails_with_the_validation_error_after_retries(engine, openai_server,
                                                              monkeypatch):
    from tests.conftest import wait_for_status
    from tests.utils.runs import save_and_start, steps_by_key

    # given a server whose replies never match the schema
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    openai_server.default = ChatReply(text='{"name": "Ada"}')

    # when a run asks for structured output
    _, run_id = save_and_start(engine, prompt_workflow(openai_server, json_schema=PERSON),
                               {"name": "Ada"})

    # expect it to fail after every attempt, with the validation error, every call billed
    assert wait_for_status(engine, run_id) == "failed"
    step = steps_by_key(engine.run_queries.get_run(run_id))["ask"]
    assert step["attempts"] == 3, step["error"]
    assert "'age' is a required property" in step["error"]["message"]
    assert step["error"]["type"] == "StructuredOutputError"
    assert step["usage"]["total_tokens"] == 3 * 17
    assert openai_server.calls == 3
