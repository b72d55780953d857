"""`ai.prompt`: one LLM call through litellm, recording tokens, cost and latency.

Retries are the engine's (litellm and the OpenAI SDK are told not to retry): rate limits,
timeouts, connection failures and 5xx are retriable (a Retry-After is honoured); a refused
API key, a bad request, an unknown model and a content-policy refusal fail at once. With a
`json_schema` the reply must be a JSON value valid against it; a reply that is not is
retried like a flaky call, so the last attempt's error names the validation problem.

litellm is imported on the first call (it takes seconds), never at module import.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from datetime import datetime
from typing import Any

from n8nclone.durations import parse_duration
from n8nclone.engine.errors import NonRetriableError, RetryAfterError
from n8nclone.nodes.base import NodeContext, NodeType, Usage
from n8nclone.nodes.http_request import parse_retry_after
from n8nclone.nodes.schema import Param

CREDENTIAL_TYPE = "llm_api_key"
# Output tokens assumed by the budget check when `max_tokens` is unset (capped at the
# model's own maximum): a call could write more, so set max_tokens for a strict bound.
DEFAULT_OUTPUT_TOKENS = 4096
_FENCE = re.compile(r"^```[a-zA-Z]*\s*(.*?)\s*```$", re.DOTALL)
# litellm's exception text starts with class names: "litellm.RateLimitError: RateLimitError:
# OpenAIException - <the provider's message>"
_LITELLM_PREFIX = re.compile(r"^(litellm\.\w+: |\w+Error: |\w+Exception - )")

_litellm: Any = None
_litellm_lock = threading.Lock()


class ModelCallError(RuntimeError):
    """A provider failure worth retrying (5xx, 429 without Retry-After, malformed reply)."""


class StructuredOutputError(ValueError):
    """The reply is not JSON valid against `json_schema` (retriable: models vary)."""


def load_litellm() -> Any:
    """litellm, imported once and kept quiet (no debug banners, no telemetry, its loggers
    at WARNING unless LITELLM_LOG says otherwise, the local price map instead of a
    download)."""
    global _litellm
    with _litellm_lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            if hasattr(litellm, "telemetry"):
                litellm.telemetry = False
            if not os.environ.get("LITELLM_LOG"):
                # at the app's DEBUG level these would log every request of every call
                for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai"):
                    if logging.getLogger(name).level == logging.NOTSET:
                        logging.getLogger(name).setLevel(logging.WARNING)
            _litellm = litellm
        return _litellm


class AiPrompt(NodeType):
    type = "ai.prompt"
    label = "AI prompt"
    group = "ai"
    waits_on_io = True
    description = ("Sends one prompt to an LLM (any litellm model) and outputs its reply, "
                   "or a JSON object checked against a schema. Records tokens and cost.")
    params = (
        Param("model", "string", required=True,
              help="A litellm model, e.g. openai/gpt-4o-mini, anthropic/claude-sonnet-4-5, "
                   "gemini/gemini-2.5-flash."),
        Param("api_base", "string",
              help="Base URL of an OpenAI-compatible server (use an openai/<name> model), "
                   "e.g. http://127.0.0.1:8000/v1."),
        Param("credential", "string",
              help="Name of a stored credential of type llm_api_key. Empty: the provider's "
                   "environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY ...)."),
        Param("system", "text", help="System prompt."),
        Param("prompt", "text", required=True,
              help="The prompt, e.g. Summarize: {{ steps.fetch.output.body }}"),
        Param("temperature", "number", help="Sampling temperature; empty: the model's default."),
        Param("max_tokens", "integer", help="Most tokens the reply may have."),
        Param("json_schema", "json",
              help="A JSON Schema: the reply must be JSON valid against it (output `object`)."),
        Param("timeout", "duration", default=60, help="Seconds (or e.g. 2m) to wait for a reply."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        model = _model(params.get("model"))
        api_base = str(params.get("api_base") or "").strip() or None
        schema = _schema(params.get("json_schema"))
        temperature = _number(params.get("temperature"), "temperature", float)
        max_tokens = _number(params.get("max_tokens"), "max_tokens", int)
        if max_tokens is not None and max_tokens < 1:
            raise NonRetriableError("max_tokens must be at least 1")
        try:
            timeout = parse_duration(params.get("timeout") or 60)
        except ValueError as exc:
            raise NonRetriableError(f"timeout: {exc}") from None
        api_key = _api_key(ctx, params.get("credential"))
        messages = _messages(params.get("system"), params.get("prompt"), schema)

        litellm = load_litellm()
        mock = params.get("mock_response")  # test hook; undeclared, so no saved workflow has it
        if api_key is None and mock is None:
            _check_key_in_environment(litellm, model)
        if ctx.budget_left_usd is not None:
            _check_budget(litellm, model, messages, max_tokens, ctx.budget_left_usd)

        kwargs: dict[str, Any] = {"model": model, "messages": messages, "timeout": timeout,
                                  "num_retries": 0, "max_retries": 0}
        for name, value in (("api_base", api_base), ("api_key", api_key),
                            ("temperature", temperature), ("max_tokens", max_tokens)):
            if value is not None:
                kwargs[name] = value
        if schema is not None:
            response_format = _response_format(litellm, model, api_base, schema)
            if response_format is not None:
                kwargs["response_format"] = response_format
        if mock is not None:  # litellm answers without a request
            kwargs["mock_response"] = mock

        started = time.perf_counter()
        try:
            response = litellm.completion(**kwargs)
        except Exception as exc:  # noqa: BLE001  mapped to the engine's retry semantics
            secrets = {*ctx.revealed, *([api_key] if api_key else [])}
            raise _call_error(litellm, exc, model, api_base, timeout, secrets) from None
        latency_ms = round((time.perf_counter() - started) * 1000, 1)

        usage = _usage(response)
        cost = _cost(litellm, response)
        ctx.report_usage(Usage(model=model, cost_usd=cost, latency_ms=latency_ms, **usage))
        text = _reply_text(response)
        output: dict[str, Any] = {"model": model, "usage": usage, "cost_usd": cost,
                                  "latency_ms": latency_ms}
        if schema is None:
            return {"text": text, **output}
        return {"object": _parse_reply(text, schema), **output}


# -- parameters ------------------------------------------------------------------------


def _model(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise NonRetriableError("model is required, e.g. openai/gpt-4o-mini")
    return value.strip()


def _number(value, name: str, kind: type) -> Any:
    """A number parameter (a template may render it as text); None when empty."""
    if value is None or value == "":
        return None
    what = "a number" if kind is float else "an integer"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if kind is int:
            if not number.is_integer():
                raise ValueError
            number = int(number)
    except (TypeError, ValueError, OverflowError):
        raise NonRetriableError(f"{name} must be {what}, got {value!r}") from None
    return number


def _schema(value) -> dict | None:
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise NonRetriableError(f"json_schema is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise NonRetriableError("json_schema must be a JSON Schema object")
    import jsonschema

    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as exc:
        raise NonRetriableError(f"json_schema is not a valid JSON Schema: {exc.message}") from None
    return value


def _api_key(ctx: NodeContext, name) -> str | None:
    """The API key of the named credential; None (no credential) lets litellm use the
    provider's environment variable."""
    if name is None or str(name).strip() == "":
        return None
    credential = ctx.credential(str(name).strip())
    if credential.type != CREDENTIAL_TYPE:
        raise NonRetriableError(f"credential '{credential.name}' is of type "
                                f"'{credential.type}'; ai.prompt needs one of type "
                                f"'{CREDENTIAL_TYPE}'")
    key = credential.data.get("value")
    if not key:
        raise NonRetriableError(f"credential '{credential.name}' has no API key (value)")
    return key


def _messages(system, prompt, schema: dict | None) -> list[dict]:
    prompt_text = _as_text(prompt)
    if not prompt_text.strip():
        raise NonRetriableError("prompt is empty")
    system_text = _as_text(system).strip()
    if schema is not None:
        instruction = ("Answer with JSON only (no prose, no code fences): one value valid "
                       f"against this JSON Schema:\n{json.dumps(schema)}")
        system_text = f"{system_text}\n\n{instruction}" if system_text else instruction
    messages = [{"role": "system", "content": system_text}] if system_text else []
    return [*messages, {"role": "user", "content": prompt_text}]


def _as_text(value) -> str:
    """A templated parameter as text (a whole-value template may render to an object)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _response_format(litellm, model: str, api_base: str | None, schema: dict) -> dict | None:
    """What to ask the provider for: its native JSON Schema mode where litellm supports one
    (not for an OpenAI-compatible `api_base`: many such servers only know json_object),
    else plain JSON mode, else nothing (the system instruction alone). Both modes make
    the reply an object, so a schema of another root type relies on the instruction."""
    if schema.get("type") != "object":
        return None
    try:
        if api_base is None and litellm.supports_response_schema(model=model):
            return {"type": "json_schema",
                    "json_schema": {"name": "output", "schema": schema, "strict": False}}
        if api_base is not None or "response_format" in (
                litellm.get_supported_openai_params(model=model) or ()):
            return {"type": "json_object"}
    except Exception:  # noqa: BLE001  an unknown model: no capability data
        return {"type": "json_object"} if api_base is not None else None
    return None


# -- before the call -----------------------------------------------------------------------


def _check_key_in_environment(litellm, model: str) -> None:
    """Fail at once (not after retries) when no credential is named and the provider's
    API key variable is not set either. Providers whose auth is not an API key variable
    (AWS, Vertex, local servers) are not checked."""
    try:
        found = litellm.validate_environment(model=model)
    except Exception:  # noqa: BLE001  unknown provider: the call itself will say
        return
    missing = found.get("missing_keys") or []
    if found.get("keys_in_environment") or not missing:
        return
    if all(name.endswith("_API_KEY") for name in missing):
        raise NonRetriableError(
            f"no API key for {model}: name a credential of type {CREDENTIAL_TYPE} or set "
            f"{' or '.join(missing)} in the worker's environment (a server that needs no "
            f"key: store a credential with any value)")


def max_cost_usd(litellm, model: str, messages: list[dict], max_tokens: int | None
                 ) -> float | None:
    """The most this call can cost: its prompt tokens plus `max_tokens` (else
    DEFAULT_OUTPUT_TOKENS) at the model's prices. None when litellm does not price it."""
    try:
        prompt_tokens = litellm.token_counter(model=model, messages=messages)
        output_tokens = max_tokens
        if output_tokens is None:
            try:
                limit = litellm.get_model_info(model).get("max_output_tokens")
            except Exception:  # noqa: BLE001
                limit = None
            output_tokens = min(DEFAULT_OUTPUT_TOKENS, limit or DEFAULT_OUTPUT_TOKENS)
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=output_tokens)
    except Exception:  # noqa: BLE001  not in litellm's price map
        return None
    return float(prompt_cost) + float(completion_cost)


def _check_budget(litellm, model: str, messages: list[dict], max_tokens: int | None,
                  left: float) -> None:
    """Refuse a call that could take the run past its budget. A model litellm does not
    price cannot be checked, so it passes (its cost is recorded as unknown)."""
    estimate = max_cost_usd(litellm, model, messages, max_tokens)
    if estimate is not None and estimate > left:
        raise NonRetriableError(
            f"this call may cost up to {_usd(estimate)} but the run has {_usd(max(left, 0))} "
            f"left of its budget (lower max_tokens or raise the workflow's budget_usd)")


def _usd(amount: float) -> str:
    return f"${amount:.4f}" if amount >= 0.01 else f"${amount:.6f}"


# -- after the call ------------------------------------------------------------------------


def _usage(response) -> dict[str, int]:
    usage = getattr(response, "usage", None)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    total = int(getattr(usage, "total_tokens", 0) or 0) or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _cost(litellm, response) -> float | None:
    """The call's price from litellm's price map; None for a model it does not price."""
    try:
        cost = litellm.completion_cost(completion_response=response)
    except Exception:  # noqa: BLE001  ModelNotMappedError and friends
        return None
    return None if cost is None else float(cost)


def _reply_text(response) -> str:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        raise ModelCallError("the provider's reply has no message") from None
    return content or ""


def _parse_reply(text: str, schema: dict) -> Any:
    """The reply as JSON valid against `schema`, or a retriable StructuredOutputError."""
    import jsonschema

    fenced = _FENCE.match(text.strip())
    candidate = fenced.group(1) if fenced else text
    try:
        value = json.loads(candidate)
    except ValueError as exc:
        raise StructuredOutputError(
            f"the reply is not JSON ({exc}): {_snippet(text)}") from None
    validator = jsonschema.validators.validator_for(schema)(schema)
    problem = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if problem is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                        for p in problem.absolute_path)
        raise StructuredOutputError(
            f"the reply does not match json_schema at ${where}: {problem.message}")
    return value


def _snippet(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# -- errors --------------------------------------------------------------------------------


def _call_error(litellm, exc: Exception, model: str, api_base: str | None, timeout: float,
                secrets: set[str]) -> Exception:
    """A litellm exception as the engine's retry semantics, its text without secrets."""
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    detail = _provider_message(exc, secrets)
    if isinstance(exc, litellm.Timeout):
        return TimeoutError(f"{model} did not answer within {timeout:g} s")
    if isinstance(exc, litellm.RateLimitError) or status == 429:
        return _retry_later(exc, f"rate limited by the provider (429): {detail}")
    if _connection_failed(exc):
        where = api_base or "the provider"
        return ConnectionError(f"cannot reach {where}: {detail}")
    if isinstance(exc, litellm.AuthenticationError) or status == 401:
        return NonRetriableError(f"the provider refused the API key (401): {detail}")
    if isinstance(exc, litellm.PermissionDeniedError) or status == 403:
        return NonRetriableError(f"the provider denied access (403): {detail}")
    if isinstance(exc, litellm.NotFoundError) or status == 404:
        return NonRetriableError(f"the provider does not know model {model!r} or its "
                                 f"endpoint (404): {detail}")
    if isinstance(exc, litellm.ContentPolicyViolationError):
        return NonRetriableError(f"the provider refused the prompt (content policy): {detail}")
    if isinstance(exc, litellm.ContextWindowExceededError):
        return NonRetriableError(f"the prompt does not fit {model}'s context window: {detail}")
    if isinstance(exc, litellm.BadRequestError) or (
            status is not None and 400 <= status < 500 and status not in (408, 409)):
        return NonRetriableError(f"the provider rejected the request ({status or 400}): "
                                 f"{detail}")
    if status is not None and status >= 500:
        return _retry_later(exc, f"the provider failed ({status}): {detail}")
    return ModelCallError(f"the model call failed ({type(exc).__name__}): {detail}")


def _provider_message(exc: Exception, secrets: set[str]) -> str:
    text = str(exc)
    while (stripped := _LITELLM_PREFIX.sub("", text, count=1)) != text:
        text = stripped
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text if len(text) <= 500 else text[:500] + "..."


def _retry_later(exc: Exception, message: str) -> Exception:
    """RetryAfterError when the response says when (Retry-After, retry-after-ms), else a
    plain retriable error (the engine's backoff)."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    retry_after: float | datetime | None = None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            retry_after = float(millis) / 1000
        except ValueError:
            retry_after = None
    if retry_after is None:
        retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None:
        return ModelCallError(message)
    when = (f"{retry_after:g} s" if isinstance(retry_after, float)
            else retry_after.isoformat())
    return RetryAfterError(f"{message} (retry after {when})", retry_after)


def _connection_failed(exc: BaseException) -> bool:
    """True when the cause chain shows the provider could not be reached (litellm reports
    some of these as a 500)."""
    import httpx
    import openai

    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 10:
        if isinstance(cause, (httpx.ConnectError, ConnectionError)) or (
                isinstance(cause, openai.APIConnectionError)
                and not isinstance(cause, openai.APITimeoutError)):
            return True
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return False


NODE_TYPE = AiPrompt
