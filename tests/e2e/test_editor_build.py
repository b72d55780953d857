"""Building a workflow in the editor, in a real browser.

Given a logged-in user and a workflow holding only a manual trigger, when the trigger is
deleted, webhook -> http.request -> flow.if -> data.set are dragged from the palette and
connected (the `true` port of the if to data.set), their forms filled and Save pressed,
expect that graph saved, unchanged after a reload; once activated, its production webhook
URL starts a run; the Run button runs a changed draft and paints its nodes; a node left
without a required parameter shows its problem on the canvas and in the list.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import PREFERRED_PORT, RunningApp, launch, pick_port, wait_until_healthy
from tests.e2e.test_editor import drag, log_in, node
from tests.utils.browser import TIMEOUT_MS, chromium, screenshot_on_failure
from tests.utils.http_server import Reply, ScriptedServer

pytestmark = pytest.mark.e2e

BUILD_PORT = PREFERRED_PORT  # one port for every e2e test: one cached frontend build
HOOK_PATH = "build-e2e"

START = {
    "name": "Build e2e",
    "active": False,
    "nodes": [{"key": "start", "type": "trigger.manual", "position": [0, 0]}],
    "edges": [],
}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return {**os.environ, "N8NCLONE_DATA_DIR": tempfile.mkdtemp(prefix="n8nclone-build-")}


@pytest.fixture(scope="module")
def app(env: dict[str, str]) -> Iterator[RunningApp]:
    running = launch(env, port=pick_port(BUILD_PORT))
    wait_until_healthy(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def services(env: dict[str, str]):
    from n8nclone.config import load_settings
    from n8nclone.services import build_services

    return build_services(load_settings(env))


@pytest.fixture
def upstream() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    server.script("/hello", Reply(body={"hello": "world"}))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page():
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1500, "height": 950},
                                      permissions=["clipboard-read", "clipboard-write"])
        browser_page = context.new_page()
        browser_page.set_default_timeout(TIMEOUT_MS)
        yield browser_page


def drop_from_palette(page, type_name: str, x: float, y: float) -> None:
    """HTML5 drag of a palette item onto the canvas at (x, y) relative to the canvas."""
    page.locator(f'.palette-item[data-node-type="{type_name}"]').drag_to(
        page.locator("#canvas"), target_position={"x": x, "y": y})


def connect(page, source: str, target: str, port: str = "main") -> None:
    handle = node(page, source).locator(f'.react-flow__handle.source[data-handleid="{port}"]')
    box = node(page, target).locator(".react-flow__handle.target").bounding_box()
    drag(page, handle, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def fill_param(page, name: str, value: str) -> None:
    """Type into a parameter's input and leave it (the form reports on leaving)."""
    field = page.locator(f"#param-{name}")
    field.fill(value)
    field.press("Tab")


def open_node(page, key: str) -> None:
    node(page, key).click()
    page.locator("#node-key").wait_for(state="visible")
    page.wait_for_function(
        f"document.querySelector('#node-key') && "
        f"document.querySelector('#node-key').value === '{key}'")


def edges_of(spec: dict) -> set[tuple[str, str, str]]:
    return {(e["from"], e.get("port", "main"), e["to"]) for e in spec["edges"]}


def wait_for(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_build_save_activate_and_run_a_workflow(app: RunningApp, services, page, upstream,
                                               tmp_path: Path) -> None:
    from n8nclone.workflows import save_workflow

    workflow_id = save_workflow(services.workflows, services.registry, START).id
    log_in(page, services, app.base_url)
    with screenshot_on_failure(page, tmp_path, "editor-build"):
        build_and_save(app, services, page, upstream, workflow_id)
        activate_and_call(app, services, page, upstream, workflow_id)
        run_a_draft(app, services, page, workflow_id)
        show_a_problem(services, page, workflow_id)


def build_and_save(app, services, page, upstream, workflow_id: int) -> None:
    page.goto(f"{app.base_url}/workflows/{workflow_id}")
    node(page, "start").wait_for(state="visible")

    # The manual trigger goes (select, Delete key); four nodes are dragged in.
    node(page, "start").click()
    page.keyboard.press("Delete")
    node(page, "start").wait_for(state="detached")
    for type_name, x, y in (("trigger.webhook", 350, 80), ("http.request", 350, 220),
                            ("flow.if", 350, 360), ("data.set", 250, 520)):
        drop_from_palette(page, type_name, x, y)
    for key in ("webhook_1", "request_1", "if_1", "set_1"):
        node(page, key).wait_for(state="visible")
    assert page.locator("#unsaved").is_visible()

    connect(page, "webhook_1", "request_1")
    connect(page, "request_1", "if_1")
    connect(page, "if_1", "set_1", port="true")
    page.wait_for_function("document.querySelectorAll('.react-flow__edge').length === 3")

    # The forms: required marks, then the values.
    open_node(page, "webhook_1")
    assert page.locator('.param-field[data-param="path"] .required-mark').count() == 1
    fill_param(page, "path", HOOK_PATH)
    open_node(page, "request_1")
    fill_param(page, "url", upstream.url + "/hello")
    page.locator("#node-retries").fill("2")
    page.locator("#node-retries").press("Tab")
    open_node(page, "if_1")
    fill_param(page, "condition", "{{ steps.request_1.output.status == 200 }}")
    open_node(page, "set_1")
    fill_param(page, "values", '{"ok": true, "said": "{{ steps.request_1.output.body.hello }}"}')
    page.wait_for_function("!document.querySelector('.n8n-node-problem')")

    # Settings in their dialog.
    page.locator("#open-settings").click()
    page.locator("#settings-retries").fill("1")
    page.locator("#settings-timeout").fill("5m")
    page.locator("#settings-save").click()
    page.locator("#settings-save").wait_for(state="detached")

    page.locator("#save-workflow").click()
    page.get_by_text("Saved version 2").wait_for(state="visible")
    saved = services.workflows.get(workflow_id)
    nodes = {n["key"]: n for n in saved.spec["nodes"]}
    assert {k: n["type"] for k, n in nodes.items()} == {
        "webhook_1": "trigger.webhook", "request_1": "http.request", "if_1": "flow.if",
        "set_1": "data.set"}
    assert nodes["webhook_1"]["params"] == {"path": HOOK_PATH}
    assert nodes["request_1"]["params"] == {"url": upstream.url + "/hello"}
    assert nodes["request_1"]["retries"] == 2
    assert nodes["if_1"]["params"] == {"condition": "{{ steps.request_1.output.status == 200 }}"}
    assert nodes["set_1"]["params"] == {
        "values": {"ok": True, "said": "{{ steps.request_1.output.body.hello }}"}}
    assert edges_of(saved.spec) == {("webhook_1", "main", "request_1"),
                                    ("request_1", "main", "if_1"), ("if_1", "true", "set_1")}
    assert saved.spec["settings"] == {"retries": 1, "timeout": "5m"}

    # After a reload: the same nodes, edges and parameters.
    page.reload()
    for key in nodes:
        node(page, key).wait_for(state="visible")
    page.wait_for_function("document.querySelectorAll('.react-flow__edge').length === 3")
    assert page.locator("#workflow-version").inner_text() == "v2"
    open_node(page, "request_1")
    assert page.locator("#param-url").input_value() == upstream.url + "/hello"
    assert page.locator("#node-retries").input_value() == "2"
    open_node(page, "set_1")
    assert '"said"' in page.locator("#param-values").input_value()


def activate_and_call(app, services, page, upstream, workflow_id: int) -> None:
    production = page.locator("#webhook-production-url")
    assert production.inner_text() == f"{app.base_url}/webhook/{HOOK_PATH}"
    assert page.locator("#webhook-test-url").inner_text() == (
        f"{app.base_url}/webhook-test/{HOOK_PATH}")
    page.locator("#copy-production-url").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{app.base_url}/webhook/{HOOK_PATH}"

    assert httpx.post(f"{app.base_url}/webhook/{HOOK_PATH}", json={}).status_code == 404
    page.locator("#workflow-active").click()
    page.get_by_text("Activated").wait_for(state="visible")
    assert services.workflows.get(workflow_id).active

    hits = upstream.hits["/hello"]
    response = httpx.post(f"{app.base_url}/webhook/{HOOK_PATH}", json={"n": 1}, timeout=10)
    assert response.status_code == 202, response.text

    def finished():
        runs = services.run_queries.list_runs(workflow_id=workflow_id)["items"]
        return [r for r in runs if r["status"] == "succeeded"]

    (run,) = wait_for(finished, "the webhook's run to succeed")
    assert upstream.hits["/hello"] == hits + 1

    # The webhook's run is in the history; its page shows each step's output.
    page.goto(f"{app.base_url}/runs")
    row = page.locator(f'.run-row[data-run-id="{run["id"]}"]')
    row.wait_for(state="visible")
    assert "webhook" in row.inner_text()
    row.locator(".run-link").click()
    page.wait_for_url(f"**/runs/{run['id']}")
    page.locator("#run-status", has_text="succeeded").wait_for(state="visible")
    output = page.locator('.step-card[data-step="request_1"] .step-output')
    output.locator(".json-summary").click()
    output.locator(".json-text").wait_for(state="visible")
    assert '"hello"' in output.locator(".json-text").inner_text()
    page.goto(f"{app.base_url}/workflows/{workflow_id}")
    node(page, "set_1").wait_for(state="visible")


def run_a_draft(app, services, page, workflow_id: int) -> None:
    # A changed draft: Run saves it (version 3) and paints every node as the run goes.
    open_node(page, "set_1")
    fill_param(page, "values", '{"ok": "yes", "said": "{{ steps.request_1.output.body.hello }}"}')
    page.locator("#unsaved").wait_for(state="visible")
    page.locator("#run-workflow").click()
    page.get_by_text("Saved version 3").wait_for(state="visible")
    for key in ("webhook_1", "request_1", "if_1", "set_1"):
        node(page, key).locator('.n8n-node[data-status="succeeded"]').wait_for(state="attached")
    page.locator("#run-status", has_text="succeeded").wait_for(state="visible")
    assert services.workflows.get(workflow_id).version == 3

    # A painted node opens its output; the run has its own page.
    open_node(page, "set_1")
    output = page.locator("#step-output")
    output.wait_for(state="visible")
    assert '"yes"' in output.inner_text() and '"world"' in output.inner_text()
    href = page.locator("#open-run").get_attribute("href")
    run_id = href.rsplit("/", 1)[-1]
    run = services.run_queries.get_run(run_id)
    assert run["trigger_type"] == "editor" and run["status"] == "succeeded"


def show_a_problem(services, page, workflow_id: int) -> None:
    # A required parameter emptied: the node shows the problem, the list names it, and
    # Save refuses.
    open_node(page, "request_1")
    fill_param(page, "url", "")
    problem = node(page, "request_1").locator('.n8n-node[data-problem="true"]')
    problem.wait_for(state="visible")
    assert "url" in (problem.get_attribute("title") or "")
    assert "missing required parameter 'url'" in page.locator("#problems").inner_text()
    assert page.locator("#node-problem").is_visible()
    page.locator("#save-workflow").click()
    page.get_by_text("Not saved").first.wait_for(state="visible")
    assert services.workflows.get(workflow_id).version == 3

    # The panel's Delete button removes the selected node and its edges.
    page.locator("#delete-selected").click()
    node(page, "request_1").wait_for(state="detached")
    page.wait_for_function("document.querySelectorAll('.react-flow__edge').length === 1")
    assert page.locator("#problems").inner_text().count("not connected") >= 1
