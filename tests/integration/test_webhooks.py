"""Webhooks over real HTTP (uvicorn on 127.0.0.1) bound to embedded services, on SQLite and
PostgreSQL: every response mode, auth, lookups (404, 405, inactive, test URL), body limits
and parsing, the trigger input, exclusive paths; and, with Redis, a web process answering
from runs that worker processes execute."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from n8nclone.services import Services, build_services
from n8nclone.triggers import webhook_answer
from n8nclone.worker.runtime import WorkerRuntime
from tests.conftest import make_settings
from tests.utils.api_server import ApiServer
from tests.utils.http_server import Reply
from tests.utils.redis_workers import redis_services_fixture, workers_fixture  # noqa: F401
from tests.utils.runs import wait_until

TERMINAL = ("succeeded", "failed", "cancelled")
SECRET = "s3cret-value-never-shown"


def hook_workflow(name: str = "hooked", *, path: str = "orders", method: str = "POST",
                  active: bool = True, then: list[dict] | None = None,
                  edges: list[dict] | None = None, **hook_params) -> dict:
    """A webhook trigger followed by `then` (default: a data.set echoing the input)."""
    then = then if then is not None else [
        {"key": "out", "type": "data.set",
         "params": {"values": {"seen": "{{ trigger.body }}", "query": "{{ trigger.query }}"}}}]
    if edges is None:
        keys = ["hook"] + [n["key"] for n in then]
        edges = [{"from": a, "to": b} for a, b in zip(keys, keys[1:], strict=False)]
    return {"name": name, "active": active,
            "nodes": [{"key": "hook", "type": "trigger.webhook",
                       "params": {"path": path, "method": method} | hook_params}, *then],
            "edges": edges}


def data_set(key: str, values: dict) -> dict:
    return {"key": key, "type": "data.set", "params": {"values": values}}


def respond(key: str = "answer", status=201, headers=None, body=None) -> dict:
    return {"key": key, "type": "webhook.respond",
            "params": {"status": status, "headers": headers or {}, "body": body}}


@pytest.fixture
def served(embedded) -> Iterator[tuple[httpx.Client, Services]]:
    """A client of the app served over HTTP, and the services behind it."""
    yield from _serve(embedded)


def _serve(services: Services) -> Iterator[tuple[httpx.Client, Services]]:
    server = ApiServer(services).start()
    with httpx.Client(base_url=server.url, timeout=30, auth=server.auth) as client:
        yield client, services
    server.stop()


@pytest.fixture
def api(served) -> httpx.Client:
    return served[0]


@pytest.fixture
def app_with(database_url, tmp_path) -> Iterator[Callable[..., Iterator]]:
    """Serve embedded services built with extra settings: `for api, services in
    app_with(N8NCLONE_X="1"): ...` (one pass)."""
    runtimes = []

    def serve(**env: str) -> Iterator[tuple[httpx.Client, Services]]:
        services = build_services(make_settings(database_url, tmp_path, **env))
        runtimes.append(WorkerRuntime(services).start())
        yield from _serve(services)

    yield serve
    for runtime in runtimes:
        runtime.stop()


def create(api: httpx.Client, workflow: dict) -> dict:
    response = api.post("/api/workflows", json=workflow)
    assert response.status_code == 201, response.text
    return response.json()


def poll(api: httpx.Client, run_id: str, statuses=TERMINAL) -> dict:
    def current():
        run = api.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in statuses else None
    return wait_until(current, f"run {run_id} to be {'/'.join(statuses)}")


def assert_refused(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail
    return response.json()


def only_run(api: httpx.Client) -> dict:
    items = api.get("/api/runs").json()["items"]
    assert len(items) == 1, items
    return poll(api, items[0]["id"])


# -- response modes -----------------------------------------------------------------------


def test_immediately_answers_202_with_the_run_and_the_run_gets_the_call(api):
    # given an active workflow with a webhook answering immediately
    create(api, hook_workflow(response_mode="immediately"))

    # when the webhook is called with JSON, a query and a header
    response = api.post("/webhook/orders?source=shop&tag=a&tag=b", json={"id": 7},
                        headers={"X-Shop": "north"})

    # expect 202 with the run id and its status URL, and a run whose input is the call
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["status"] == "queued" and started["url"] == f"/api/runs/{started['id']}"
    assert response.headers["location"] == started["url"]
    run = poll(api, started["id"])
    assert run["status"] == "succeeded" and run["trigger_type"] == "webhook"
    trigger = run["input"]
    assert trigger["method"] == "POST" and trigger["path"] == "orders"
    assert trigger["query"] == {"source": "shop", "tag": ["a", "b"]}
    assert trigger["headers"]["x-shop"] == "north"
    assert trigger["headers"]["content-type"] == "application/json"
    assert trigger["body"] == {"id": 7}
    assert run["output"] == {"seen": {"id": 7}, "query": {"source": "shop", "tag": ["a", "b"]}}


def test_last_node_answers_200_with_the_last_nodes_output(api):
    # given a webhook answering with the last node's output, after a branch
    create(api, hook_workflow(response_mode="last_node", then=[
        {"key": "check", "type": "flow.if",
         "params": {"condition": "{{ trigger.body.total > 100 }}"}},
        data_set("big", {"size": "big", "id": "{{ trigger.body.id }}"}),
        data_set("small", {"size": "small"}),
    ], edges=[{"from": "hook", "to": "check"},
              {"from": "check", "port": "true", "to": "big"},
              {"from": "check", "port": "false", "to": "small"}]))

    # when called twice, once for each branch
    big = api.post("/webhook/orders", json={"id": 1, "total": 250})
    small = api.post("/webhook/orders", json={"id": 2, "total": 5})

    # expect 200 with the output of the branch's last node
    assert big.status_code == 200, big.text
    assert big.json() == {"size": "big", "id": 1}
    assert small.status_code == 200 and small.json() == {"size": "small"}


def test_last_node_answers_500_with_the_error_when_the_run_fails(api):
    # given a webhook whose workflow fails (an undefined name in a template)
    create(api, hook_workflow(response_mode="last_node", then=[
        data_set("out", {"x": "{{ trigger.body.missing }}"})]))

    # when called
    response = api.post("/webhook/orders", json={"id": 1})

    # expect 500 naming the node and the error, with the run to look at
    assert response.status_code == 500, response.text
    body = response.json()
    assert "the workflow run failed" in body["detail"] and "node 'out'" in body["detail"]
    assert "missing" in body["detail"]
    assert body["status"] == "failed" and body["error"]["node"] == "out"
    assert body["url"] == f"/api/runs/{body['id']}"
    assert api.get(body["url"]).json()["status"] == "failed"


def test_last_node_answers_202_when_the_run_takes_longer_than_the_wait(api, http_server):
    # given a webhook waiting at most 0.3 s for a run that takes much longer
    release = threading.Event()
    http_server.script("/slow", Reply(stall=release))
    create(api, hook_workflow(response_mode="last_node", wait_seconds=0.3, then=[
        {"key": "slow", "type": "http.request", "params": {"url": f"{http_server.url}/slow"}}]))

    # when called
    started = time.monotonic()
    response = api.post("/webhook/orders", json={})
    waited = time.monotonic() - started

    # expect 202 with the run id after about the wait, the run still going, then finishing
    assert response.status_code == 202, response.text
    assert 0.3 <= waited < 5
    body = response.json()
    assert body["status"] == "running" and body["url"] == f"/api/runs/{body['id']}"
    assert api.get(body["url"]).json()["status"] not in TERMINAL
    release.set()
    assert poll(api, body["id"])["status"] == "succeeded"


def test_the_wait_limit_defaults_to_the_setting(app_with, http_server):
    # given the setting N8NCLONE_WEBHOOK_WAIT_SECONDS at 0.3 and no per-webhook limit
    release = threading.Event()
    http_server.script("/slow", Reply(stall=release))
    for api, _ in app_with(N8NCLONE_WEBHOOK_WAIT_SECONDS="0.3"):
        create(api, hook_workflow(response_mode="last_node", then=[
            {"key": "slow", "type": "http.request", "params": {"url": f"{http_server.url}/slow"}}]))

        # when called
        response = api.post("/webhook/orders", json={})

        # expect 202 (the run is still stalled)
        assert response.status_code == 202, response.text
        release.set()
        poll(api, response.json()["id"])


def test_respond_node_answers_as_soon_as_its_step_succeeds_and_the_run_goes_on(api, http_server):
    # given webhook -> data.set -> webhook.respond -> a call that stalls
    release = threading.Event()
    http_server.script("/after", Reply(stall=release))
    create(api, hook_workflow(response_mode="respond_node", then=[
        data_set("shape", {"order": "{{ trigger.body.id }}"}),
        respond(status=201, headers={"X-Order": "{{ trigger.body.id }}"},
                body={"accepted": "{{ steps.shape.output.order }}"}),
        {"key": "after", "type": "http.request", "params": {"url": f"{http_server.url}/after"}},
    ]))

    # when called
    response = api.post("/webhook/orders", json={"id": 42})

    # expect the node's status, headers and JSON body while the run still waits on its call
    assert response.status_code == 201, response.text
    assert response.headers["x-order"] == "42"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"accepted": 42}
    run = only_run_now(api)
    assert run["status"] not in TERMINAL
    release.set()
    assert poll(api, run["id"])["status"] == "succeeded"


def only_run_now(api: httpx.Client) -> dict:
    items = api.get("/api/runs").json()["items"]
    assert len(items) == 1, items
    return items[0]


def test_respond_node_sends_text_as_text_and_a_chosen_content_type(api):
    # given two webhooks answering with text, one with its own content-type
    create(api, hook_workflow("text", path="text", response_mode="respond_node",
                              then=[respond(status=200, body="hello {{ trigger.body.name }}")]))
    create(api, hook_workflow("csv", path="csv", response_mode="respond_node", then=[
        respond(status=200, headers={"Content-Type": "text/csv"}, body="a,b\n1,2\n")]))

    # when each is called
    text = api.post("/webhook/text", json={"name": "Ada"})
    csv = api.post("/webhook/csv")

    # expect the text with text/plain, and the chosen content-type
    assert text.status_code == 200 and text.text == "hello Ada"
    assert text.headers["content-type"].startswith("text/plain")
    assert csv.text == "a,b\n1,2\n" and csv.headers["content-type"] == "text/csv"


def test_respond_node_mode_without_a_respond_step_answers_like_last_node(api):
    # given a respond_node webhook whose respond node sits on the branch not taken
    create(api, hook_workflow(response_mode="respond_node", then=[
        {"key": "check", "type": "flow.if", "params": {"condition": "{{ trigger.body.ok }}"}},
        respond(status=201, body={"ok": True}),
        {"key": "other", "type": "data.set", "params": {"values": {"ok": False}}},
    ], edges=[{"from": "hook", "to": "check"},
              {"from": "check", "port": "true", "to": "answer"},
              {"from": "check", "port": "false", "to": "other"}]))

    # when called down each branch
    taken = api.post("/webhook/orders", json={"ok": True})
    not_taken = api.post("/webhook/orders", json={"ok": False})

    # expect the node's answer, and else the last node's output
    assert taken.status_code == 201 and taken.json() == {"ok": True}
    assert not_taken.status_code == 200 and not_taken.json() == {"ok": False}


def test_a_run_cancelled_while_its_webhook_waits_answers_500(api, http_server):
    # given a last_node webhook whose run stalls on a call
    release = threading.Event()
    http_server.script("/slow", Reply(stall=release))
    create(api, hook_workflow(response_mode="last_node", then=[
        {"key": "slow", "type": "http.request", "params": {"url": f"{http_server.url}/slow"}}]))

    # when the run is cancelled (through the API, not the engine) while the call waits
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(api.post, "/webhook/orders", json={})
        run = wait_until(lambda: api.get("/api/runs").json()["items"], "the run to start")[0]
        api.post(f"/api/runs/{run['id']}/cancel")
        response = answer.result(timeout=30)
        release.set()

    # expect 500 saying the run was cancelled
    assert response.status_code == 500, response.text
    assert response.json()["detail"] == "the workflow run was cancelled"


def test_a_duplicate_call_under_an_idempotency_key_answers_with_the_first_run(api):
    # given a last_node webhook whose runs are idempotent by the body's id
    workflow = hook_workflow(response_mode="last_node")
    workflow["settings"] = {"idempotency_key": "{{ trigger.body.id }}"}
    create(api, workflow)

    # when called twice with the same id (the second after the first run ended)
    first = api.post("/webhook/orders", json={"id": 1})
    second = api.post("/webhook/orders", json={"id": 1})

    # expect the same answer twice from one run
    assert first.status_code == second.status_code == 200, second.text
    assert first.json() == second.json() == {"seen": {"id": 1}, "query": {}}
    assert len(api.get("/api/runs").json()["items"]) == 1


# -- authentication -----------------------------------------------------------------------


def test_header_secret_right_wrong_and_missing(api):
    # given a webhook guarded by a secret header
    create(api, hook_workflow(response_mode="last_node", auth="header",
                              header_name="X-Hook-Token", secret=SECRET))

    # when called with the right secret, a wrong one, and none
    right = api.post("/webhook/orders", json={"id": 1}, headers={"x-hook-token": SECRET})
    wrong = api.post("/webhook/orders", json={"id": 1}, headers={"X-Hook-Token": "guess"})
    missing = api.post("/webhook/orders", json={"id": 1})

    # expect 200 once, 401 twice, and only one run
    assert right.status_code == 200, right.text
    assert_refused(wrong, 401, "X-Hook-Token")
    assert_refused(missing, 401, "X-Hook-Token")
    run = only_run(api)
    # and the secret is nowhere: not in the answers, the run (input, steps) or the history
    assert "x-hook-token" not in run["input"]["headers"]
    assert run["steps"][0]["input"]["secret"] == "********"
    for text in (right.text, wrong.text, missing.text, json.dumps(run),
                 api.get("/api/runs").text):
        assert SECRET not in text


def test_basic_auth_right_wrong_and_missing(api):
    # given a webhook guarded by basic auth
    create(api, hook_workflow(response_mode="last_node", auth="basic", user="ada",
                              password=SECRET))

    # when called with the right credentials, a wrong password, a wrong user, and none
    right = api.post("/webhook/orders", json={"id": 1}, auth=("ada", SECRET))
    wrong_password = api.post("/webhook/orders", json={"id": 1}, auth=("ada", "guess"))
    wrong_user = api.post("/webhook/orders", json={"id": 1}, auth=("bob", SECRET))
    garbled = api.post("/webhook/orders", headers={"Authorization": "Basic %%%"})
    missing = api.post("/webhook/orders", json={"id": 1})

    # expect 200 once and 401 with a basic challenge otherwise
    assert right.status_code == 200, right.text
    for response in (wrong_password, wrong_user, garbled, missing):
        assert_refused(response, 401, "basic")
        assert response.headers["www-authenticate"].startswith("Basic")
    run = only_run(api)
    assert "authorization" not in run["input"]["headers"]
    assert run["steps"][0]["input"]["password"] == "********"
    assert SECRET not in json.dumps(run)


def test_auth_without_its_secret_is_refused_at_save(api):
    # given a webhook asking for a header secret but giving none
    workflow = hook_workflow(auth="header")

    # when saved
    response = api.post("/api/workflows", json=workflow)

    # expect 422 naming what is missing
    assert response.status_code == 422, response.text
    assert "secret" in response.json()["detail"]


def test_credentials_are_checked_before_the_body_is_read(api):
    # given a webhook guarded by a secret header
    create(api, hook_workflow(auth="header", secret=SECRET))

    # when called with no token and a broken JSON body
    response = api.post("/webhook/orders", content=b"{oops",
                        headers={"content-type": "application/json"})

    # expect 401 and no run
    assert_refused(response, 401)
    assert api.get("/api/runs").json()["items"] == []


# -- finding the workflow -----------------------------------------------------------------


def test_unknown_path_is_404(api):
    # given a webhook at orders
    create(api, hook_workflow())

    # when another path is called
    response = api.post("/webhook/nothing/here", json={})

    # expect 404 JSON
    assert_refused(response, 404, "nothing/here")


def test_another_method_on_a_known_path_is_405(api):
    # given a POST webhook
    create(api, hook_workflow(method="POST"))

    # when called with GET
    response = api.get("/webhook/orders")

    # expect 405 saying which method it takes
    assert_refused(response, 405)
    assert response.headers["allow"] == "POST"


def test_inactive_workflow_is_404_on_the_production_url(api):
    # given an inactive workflow with a webhook
    create(api, hook_workflow(active=False))

    # when its production URL is called
    response = api.post("/webhook/orders", json={})

    # expect 404 saying it is not active, and no run
    assert_refused(response, 404, "not active")
    assert api.get("/api/runs").json()["items"] == []


def test_the_test_url_runs_the_latest_version_even_inactive(api):
    # given an inactive workflow saved twice, the second version answering differently
    create(api, hook_workflow(active=False, response_mode="last_node"))
    api.put("/api/workflows/hooked", json=hook_workflow(active=False, response_mode="last_node",
                                                        then=[{"key": "v2", "type": "data.set",
                                                               "params": {"values": {"v": 2}}}]))

    # when its test URL is called (and the production URL)
    response = api.post("/webhook-test/orders", json={})
    production = api.post("/webhook/orders", json={})

    # expect the latest version's answer, a run marked as a test; production still 404
    assert response.status_code == 200, response.text
    assert response.json() == {"v": 2}
    assert only_run(api)["trigger_type"] == "webhook_test"
    assert_refused(production, 404, "not active")
    assert_refused(api.post("/webhook-test/elsewhere"), 404)


def test_the_production_url_runs_the_current_version_of_the_active_workflow(api):
    # given an active workflow saved twice
    create(api, hook_workflow(response_mode="last_node"))
    api.put("/api/workflows/hooked", json=hook_workflow(
        response_mode="last_node", then=[{"key": "v2", "type": "data.set",
                                          "params": {"values": {"v": 2}}}]))

    # when called
    response = api.post("/webhook/orders", json={})

    # expect the current version's answer
    assert response.status_code == 200 and response.json() == {"v": 2}


def test_deactivating_and_activating_the_workflow(api):
    # given an active webhook workflow
    create(api, hook_workflow(response_mode="last_node"))

    # when deactivated, then activated again
    api.post("/api/workflows/hooked/deactivate")
    while_inactive = api.post("/webhook/orders", json={})
    api.post("/api/workflows/hooked/activate")
    while_active = api.post("/webhook/orders", json={})

    # expect 404 then 200
    assert_refused(while_inactive, 404, "not active")
    assert while_active.status_code == 200


def test_two_active_workflows_may_not_share_a_path_and_method(api):
    # given an active webhook at POST orders
    create(api, hook_workflow("first"))

    # when a second active workflow claims POST orders, another GET orders, a third is
    # saved inactive with POST orders and then activated
    clash = api.post("/api/workflows", json=hook_workflow("second"))
    other_method = api.post("/api/workflows", json=hook_workflow("by-get", method="GET"))
    inactive = api.post("/api/workflows", json=hook_workflow("third", active=False))
    activate = api.post("/api/workflows/third/activate")

    # expect 422 for the clash and the activation; the other method and inactive one saved
    assert clash.status_code == 422, clash.text
    assert "POST orders" in clash.json()["detail"]
    assert other_method.status_code == 201 and inactive.status_code == 201
    assert activate.status_code == 422, activate.text
    # and each method reaches its own workflow
    assert api.get("/webhook/orders").status_code == 202
    assert api.post("/webhook/orders", json={}).status_code == 202


def test_the_path_must_be_a_plain_path(api):
    # given webhooks with a template path and a path with ".."
    for path in ("{{ trigger.x }}", "a/../b", "/"):
        # when saved
        response = api.post("/api/workflows", json=hook_workflow(path=path))

        # expect 422 naming the parameter
        assert response.status_code == 422, (path, response.text)
        assert "path" in response.json()["detail"]


def test_slashes_around_the_path_do_not_matter(api):
    # given a webhook saved with slashes around and inside its path
    create(api, hook_workflow(path="/shop//orders/", response_mode="last_node"))

    # when called with the plain path
    response = api.post("/webhook/shop/orders", json={"id": 3})

    # expect it found
    assert response.status_code == 200 and response.json()["seen"] == {"id": 3}


# -- bodies -------------------------------------------------------------------------------


@pytest.fixture
def small_limit(app_with) -> Iterator[tuple[httpx.Client, Services]]:
    """The app with N8NCLONE_WEBHOOK_MAX_BODY at 1000 bytes."""
    yield from app_with(N8NCLONE_WEBHOOK_MAX_BODY="1000")


def test_a_body_over_the_limit_is_413(small_limit):
    api, _ = small_limit
    create(api, hook_workflow())

    # when a body of 1000 bytes, one of 1001 with a Content-Length, and one of 5000 sent in
    # chunks without a length are posted
    at_limit = api.post("/webhook/orders", content=b"x" * 1000)
    declared = api.post("/webhook/orders", content=b"x" * 1001)

    def chunks():
        for _ in range(5):
            yield b"y" * 1000
    chunked = api.post("/webhook/orders", content=chunks())

    # expect the first accepted, the others 413, and only one run
    assert at_limit.status_code == 202, at_limit.text
    assert_refused(declared, 413, "1000 bytes")
    assert "content-length" not in chunked.request.headers
    assert_refused(chunked, 413, "1000 bytes")
    assert len(api.get("/api/runs").json()["items"]) == 1


def test_malformed_json_is_400(api):
    # given a webhook
    create(api, hook_workflow())

    # when called with a broken JSON body
    response = api.post("/webhook/orders", content=b'{"id": 1,',
                        headers={"content-type": "application/json"})

    # expect 400 saying so, and no run
    assert_refused(response, 400, "not valid JSON")
    assert api.get("/api/runs").json()["items"] == []


def test_form_bodies_become_objects(api):
    # given a webhook answering with its input's body
    create(api, hook_workflow(response_mode="last_node", then=[
        {"key": "out", "type": "data.set", "params": {"values": {"body": "{{ trigger.body }}"}}}]))

    # when called with an urlencoded form and a multipart form with a file
    form = api.post("/webhook/orders", data={"name": "Ada", "tag": ["x", "y"], "empty": ""})
    multipart = api.post("/webhook/orders", data={"name": "Ada"},
                         files={"doc": ("a.txt", b"file body", "text/plain")})

    # expect the fields (repeated ones as lists) and the file with its content
    assert form.status_code == 200, form.text
    assert form.json()["body"] == {"name": "Ada", "tag": ["x", "y"], "empty": ""}
    assert multipart.status_code == 200, multipart.text
    body = multipart.json()["body"]
    assert body["name"] == "Ada"
    assert body["doc"] == {"filename": "a.txt", "content_type": "text/plain", "size": 9,
                           "base64": base64.b64encode(b"file body").decode()}


def test_raw_bodies_are_text_or_base64(api):
    # given a webhook answering with its input's body
    create(api, hook_workflow(response_mode="last_node", then=[
        data_set("out", {
            "body": "{{ trigger.body }}",
            "encoding": "{{ trigger.body_encoding if 'body_encoding' in trigger else 'text' }}"})]))

    # when called with text, with bytes that are not text, and with no body
    text = api.post("/webhook/orders", content="plain text ✓".encode(),
                    headers={"content-type": "text/plain"})
    binary = api.post("/webhook/orders", content=b"\xff\x00\xfe",
                      headers={"content-type": "application/octet-stream"})
    empty = api.post("/webhook/orders")

    # expect text as text, bytes as base64, nothing as null
    assert text.json() == {"body": "plain text ✓", "encoding": "text"}
    assert binary.json() == {"body": base64.b64encode(b"\xff\x00\xfe").decode(),
                             "encoding": "base64"}
    assert empty.json() == {"body": None, "encoding": "text"}


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_every_method_can_have_a_webhook(api, method):
    # given a webhook for `method`
    create(api, hook_workflow(method=method, response_mode="last_node", then=[
        {"key": "out", "type": "data.set", "params": {"values": {
            "method": "{{ trigger.method }}", "q": "{{ trigger.query }}"}}}]))

    # when called with that method
    response = api.request(method, "/webhook/orders?id=9")

    # expect the run to have seen it
    assert response.status_code == 200, response.text
    assert response.json() == {"method": method, "q": {"id": "9"}}


# -- scale-out: runs executed by worker processes ----------------------------------------


@pytest.mark.redis
def test_with_redis_workers_the_web_process_answers_from_their_runs(redis_services, workers,
                                                                    monkeypatch):
    # given a web process that only enqueues (REDIS_URL), one worker process, and database
    # reads too rare to find a run's end in time: only the workers' news can
    monkeypatch.setattr(webhook_answer, "POLL_SECONDS", 60)
    workers.start(threads=2)
    for api, services in _serve(redis_services):
        create(api, hook_workflow("last", path="last", response_mode="last_node"))
        create(api, hook_workflow("respond", path="respond", response_mode="respond_node",
                                  then=[respond(status=201, body={"id": "{{ trigger.body.id }}"}),
                                        {"key": "more", "type": "data.set",
                                         "params": {"values": {}}}]))

        create(api, hook_workflow("large", path="large", response_mode="last_node",
                                  then=[data_set("out", {"x": "{{ 'x' * 100000 }}"})]))
        create(api, hook_workflow("failing", path="failing", response_mode="last_node",
                                  then=[data_set("out", {"x": "{{ trigger.nothing }}"})]))

        # when the webhooks are called, a few times each
        answers = [(api.post("/webhook/last", json={"id": i}),
                    api.post("/webhook/respond", json={"id": i})) for i in range(5)]
        large = api.post("/webhook/large")
        failing = api.post("/webhook/failing")

        # expect every answer from the workers' runs (a large output or an error read from
        # the database once the news came)
        for i, (last, responded) in enumerate(answers):
            assert last.status_code == 200, (last.text, workers.output())
            assert last.json()["seen"] == {"id": i}
            assert responded.status_code == 201 and responded.json() == {"id": i}
        assert large.status_code == 200 and large.json() == {"x": "x" * 100000}
        assert failing.status_code == 500 and "nothing" in failing.json()["detail"]
        assert services.run_waiters.watching() == 0


def test_webhook_secrets_are_masked_by_the_api_and_kept_on_a_masked_save(embedded):
    # given a webhook protected by a header secret, saved through the API
    server = ApiServer(embedded).start()
    try:
        workflow = {"name": "guarded-secret", "nodes": [
            {"key": "hook", "type": "trigger.webhook",
             "params": {"path": "guarded-secret", "auth": "header", "secret": "s3cr3t-value"}},
            {"key": "shape", "type": "data.set", "params": {"values": {"ok": True}}}],
            "edges": [{"from": "hook", "to": "shape"}]}
        created = httpx.post(f"{server.url}/api/workflows", json=workflow, timeout=10,
                             auth=server.auth)
        assert created.status_code == 201

        # when it is read back and saved again unchanged (the secret masked)
        read = httpx.get(f"{server.url}/api/workflows/guarded-secret", timeout=10,
                         auth=server.auth).json()
        saved = httpx.put(f"{server.url}/api/workflows/guarded-secret", json=read["workflow"],
                          timeout=10, auth=server.auth)

        # expect the secret never in an answer, and still the one that opens the webhook
        assert "s3cr3t-value" not in created.text + str(read) + saved.text
        assert read["workflow"]["nodes"][0]["params"]["secret"] == "********"
        assert saved.status_code == 200
        ok = httpx.post(f"{server.url}/webhook/guarded-secret", json={},
                        headers={"X-Webhook-Secret": "s3cr3t-value"}, timeout=10)
        wrong = httpx.post(f"{server.url}/webhook/guarded-secret", json={},
                           headers={"X-Webhook-Secret": "********"}, timeout=10)
        assert ok.status_code in (200, 202) and wrong.status_code == 401
    finally:
        server.stop()
