"""`trigger.webhook` (parameters, registration, secrets) and `webhook.respond` (the answer
it sets, and how that answer becomes an HTTP reply)."""

from __future__ import annotations

import json

import pytest

from n8nclone.engine.errors import NonRetriableError
from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.nodes.base import NodeContext
from n8nclone.nodes.registry import default_registry
from n8nclone.nodes.trigger_webhook import MASK, WebhookTrigger, normalize_path
from n8nclone.nodes.webhook_respond import WebhookRespond
from n8nclone.triggers.webhook_reply import node_reply
from n8nclone.workflows import problems_of, registrations_of


def context(trigger=None) -> NodeContext:
    return NodeContext(run_id="r1", workflow_id=1, node_key="node", attempt=1, trigger=trigger)


def respond(**params) -> dict:
    return WebhookRespond().execute(context(), WebhookRespond.with_defaults(params))


def workflow(**hook_params) -> dict:
    return {"name": "w", "nodes": [
        {"key": "hook", "type": "trigger.webhook", "params": {"path": "orders"} | hook_params},
        {"key": "answer", "type": "webhook.respond"}],
        "edges": [{"from": "hook", "to": "answer"}]}


def problems(**hook_params) -> list[str]:
    return [p.message for p in problems_of(workflow(**hook_params), default_registry())]


# -- trigger.webhook ---------------------------------------------------------------------


def test_both_types_are_in_the_catalogue():
    registry = default_registry()
    assert registry.get("trigger.webhook") is WebhookTrigger
    assert registry.get("trigger.webhook").is_trigger
    assert registry.get("webhook.respond") is WebhookRespond


def test_the_trigger_outputs_the_call():
    # given a run whose input is a webhook call
    call = {"method": "POST", "path": "orders", "query": {}, "headers": {}, "body": {"id": 1}}

    # when the trigger step runs
    output = WebhookTrigger().execute(context(call), WebhookTrigger.with_defaults({}))

    # expect the call itself
    assert output == call


def test_registration_is_exclusive_by_method_and_normalized_path():
    # given a webhook with a lower-case method and slashes around its path
    params = WebhookTrigger.with_defaults({"path": "/shop//orders/", "method": "put"})

    # when registered
    registration = WebhookTrigger.registration(params)

    # expect one exclusive key per method and path
    assert registration.kind == "trigger.webhook"
    assert registration.key == "PUT shop/orders"
    assert registration.exclusive is True


def test_registrations_of_a_plan_name_the_trigger_node():
    from n8nclone.workflows import check_workflow

    _, plan = check_workflow(workflow(), default_registry())
    [registration] = registrations_of(plan, default_registry())
    assert registration.node_key == "hook" and registration.key == "POST orders"


def test_defaults():
    params = WebhookTrigger.with_defaults({"path": "x"})
    assert params["method"] == "POST" and params["response_mode"] == "immediately"
    assert params["auth"] == "none" and params["header_name"] == "X-Webhook-Secret"
    assert params["wait_seconds"] is None


def test_secrets_are_masked_in_what_the_engine_records_and_registers():
    # given a webhook with a header secret and a basic password
    saved = {"path": "x", "auth": "header", "secret": "s3cret", "password": "pw"}

    # when completed with defaults (what the step records) and registered
    recorded = WebhookTrigger.with_defaults(saved)
    registered = WebhookTrigger.registration(recorded)

    # expect the secrets masked there, and only the auth check's copy holding them
    assert recorded["secret"] == MASK and recorded["password"] == MASK
    assert "s3cret" not in json.dumps(registered.config)
    assert WebhookTrigger.with_secrets(saved)["secret"] == "s3cret"
    # and an absent secret stays absent (not masked into looking set)
    assert WebhookTrigger.with_defaults({"path": "x"})["secret"] is None


@pytest.mark.parametrize("params, missing", [
    ({"auth": "header"}, "secret"),
    ({"auth": "header", "header_name": "", "secret": "s"}, "header_name"),
    ({"auth": "basic", "user": "ada"}, "password"),
    ({"auth": "basic", "password": "pw"}, "user"),
])
def test_auth_without_its_credentials_is_refused(params, missing):
    # given auth asked for but a credential missing
    completed = WebhookTrigger.with_defaults({"path": "x"} | params)

    # when registered (which saving does)
    # expect a validation error naming the parameter
    with pytest.raises(WorkflowInvalid, match=missing):
        WebhookTrigger.registration(completed)


def test_a_valid_webhook_has_no_problems():
    assert problems(method="GET", response_mode="last_node", wait_seconds=5) == []


@pytest.mark.parametrize("params, words", [
    ({"path": "{{ trigger.x }}"}, "'path' cannot be a template"),
    ({"path": "a/../b"}, "'path' must be a URL path"),
    ({"path": "a b"}, "'path' must be a URL path"),
    ({"path": "/"}, "missing required parameter 'path'"),
    ({"path": ""}, "missing required parameter 'path'"),
    ({"method": "HEAD"}, "'method' must be one of GET, POST, PUT, PATCH, DELETE"),
    ({"method": "{{ trigger.m }}"}, "'method' cannot be a template"),
    ({"response_mode": "later"}, "'response_mode' must be one of"),
    ({"wait_seconds": -1}, "'wait_seconds' must be at least 0"),
    ({"wait_seconds": "soon"}, "'wait_seconds' must be a number"),
    ({"auth": "token"}, "'auth' must be one of none, header, basic"),
    ({"auth": "header", "header_name": "X Token", "secret": "s"},
     "'header_name' must be an HTTP header name"),
])
def test_bad_parameters_are_problems_at_save(params, words):
    found = problems(**params)
    assert any(words in message for message in found), found


def test_normalize_path():
    assert normalize_path(" /a//b/ ") == "a/b"
    assert normalize_path("/") == ""


def test_the_editor_shows_credentials_only_for_their_auth():
    described = {p["name"]: p for p in WebhookTrigger.describe()["params"]}
    assert described["secret"]["show_if"] == {"auth": ["header"]}
    assert described["password"]["show_if"] == {"auth": ["basic"]}
    assert described["method"]["options"] == ["GET", "POST", "PUT", "PATCH", "DELETE"]


# -- webhook.respond ---------------------------------------------------------------------


def test_respond_outputs_the_answer():
    assert respond(status=201, headers={"X-Id": 7}, body={"ok": True}) == {
        "status": 201, "headers": {"X-Id": "7"}, "body": {"ok": True}}


def test_respond_defaults_to_200_without_a_body():
    assert respond() == {"status": 200, "headers": {}, "body": None}


def test_respond_takes_a_status_rendered_as_text():
    assert respond(status="202")["status"] == 202


@pytest.mark.parametrize("status", [99, 600, 101, "abc", True, 20.5])
def test_respond_refuses_a_status_out_of_range(status):
    with pytest.raises(NonRetriableError, match="status"):
        respond(status=status)


@pytest.mark.parametrize("headers, words", [
    ({"Bad Name": "x"}, "header name"),
    ({"X-A": "one\r\nSet-Cookie: evil=1"}, "line breaks"),
    (["X-A"], "headers must be an object"),
])
def test_respond_refuses_headers_that_would_break_the_message(headers, words):
    with pytest.raises(NonRetriableError, match=words):
        respond(headers=headers)


def test_respond_leaves_framing_headers_to_the_server():
    headers = respond(headers={"Content-Length": "1", "Transfer-Encoding": "chunked",
                               "X-Kept": "yes"})["headers"]
    assert headers == {"X-Kept": "yes"}


# -- the answer as an HTTP reply ---------------------------------------------------------


def test_reply_of_an_object_is_json():
    reply = node_reply({"status": 201, "headers": {"X-Id": "7"}, "body": {"ok": True}})
    assert reply.status == 201
    assert json.loads(reply.content) == {"ok": True}
    assert reply.headers == {"X-Id": "7", "content-type": "application/json"}


def test_reply_of_text_is_text_unless_the_headers_say_otherwise():
    assert node_reply({"status": 200, "body": "hi"}).headers["content-type"].startswith(
        "text/plain")
    reply = node_reply({"status": 200, "headers": {"Content-Type": "text/html"},
                        "body": "<b>hi</b>"})
    assert reply.content == b"<b>hi</b>" and reply.headers == {"Content-Type": "text/html"}


def test_reply_without_a_body_is_empty():
    reply = node_reply({"status": 204, "headers": {}, "body": None})
    assert reply.status == 204 and reply.content == b"" and reply.headers == {}


def test_reply_survives_text_that_is_not_valid_unicode():
    # given a body holding a lone surrogate (JSON can carry one: "\ud800")
    # expect a reply, not an encoding error
    assert node_reply({"status": 200, "body": "a\ud800"}).content == b"a?"
    assert json.loads(node_reply({"status": 200, "body": {"x": "\ud800"}}).content) == {
        "x": "\ud800"}
