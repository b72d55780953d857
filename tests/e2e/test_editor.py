"""The workflow editor in a real browser: the canvas shows a workflow, edits are saved.

Given a workflow saved through the API (or the store when the API wants a login),
when the editor page is opened in Chromium, a node dragged, a node added from the
palette, an edge drawn and Save pressed, expect a new version with that position,
node and edge, still shown after a reload.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import PREFERRED_PORT, RunningApp, launch, pick_port, wait_until_healthy
from tests.utils.browser import TIMEOUT_MS, chromium, screenshot_on_failure
from tests.utils.browser import log_in as browser_session

pytestmark = pytest.mark.e2e

# Not the other e2e tests' port: each port keeps its own cached frontend build.
EDITOR_PORT = PREFERRED_PORT  # one port for every e2e test: one cached frontend build

WORKFLOW = {
    "name": "Editor e2e",
    "active": False,
    "nodes": [
        {"key": "start", "type": "trigger.manual", "position": [0, 0]},
        {"key": "check", "type": "flow.if", "position": [0, 150],
         "params": {"condition": "{{ trigger.total > 100 }}"}},
        {"key": "big", "type": "data.set", "position": [-150, 300],
         "params": {"values": {"size": "big"}}},
    ],
    "edges": [
        {"from": "start", "to": "check"},
        {"from": "check", "port": "true", "to": "big"},
    ],
}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The app's environment: a fresh data dir (the test reads the same database)."""
    return {**os.environ, "N8NCLONE_DATA_DIR": tempfile.mkdtemp(prefix="n8nclone-editor-")}


@pytest.fixture(scope="module")
def app(env: dict[str, str]) -> Iterator[RunningApp]:
    running = launch(env, port=pick_port(EDITOR_PORT))
    wait_until_healthy(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def services(env: dict[str, str]):
    from n8nclone.config import load_settings
    from n8nclone.services import build_services

    return build_services(load_settings(env))


def create_workflow(app: RunningApp, services) -> int:
    """POST the workflow; when the API asks for a login, save it through the store."""
    response = httpx.post(app.base_url + "/api/workflows", json=WORKFLOW, timeout=10)
    if response.status_code in (401, 403):
        from n8nclone.workflows import save_workflow

        return save_workflow(services.workflows, services.registry, WORKFLOW).id
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def page():
    with chromium() as browser:
        browser_page = browser.new_page(viewport={"width": 1400, "height": 900})
        browser_page.set_default_timeout(TIMEOUT_MS)
        yield browser_page


def node(page, key: str):
    return page.locator(f'.react-flow__node[data-id="{key}"]')


def zoom_of(page) -> float:
    transform = page.locator(".react-flow__viewport").get_attribute("style") or ""
    found = re.search(r"scale\(([0-9.]+)\)", transform)
    return float(found.group(1)) if found else 1.0


def drag(page, source, target_x: float, target_y: float) -> None:
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target_x, target_y, steps=12)
    page.mouse.up()


def log_in(page, services, base_url: str) -> None:
    """A user and a session cookie in the browser (the editor wants a login)."""
    from n8nclone.auth import Accounts

    accounts = Accounts(services.db)
    user = accounts.create_user(f"editor-{os.getpid()}@example.com", "correct horse battery")
    browser_session(page.context, accounts, user, base_url)


def test_editor_shows_edits_and_saves_a_workflow(app: RunningApp, services, page,
                                                  tmp_path: Path) -> None:
    workflow_id = create_workflow(app, services)
    log_in(page, services, app.base_url)
    with screenshot_on_failure(page, tmp_path, "editor"):
        check_editor(app, services, page, workflow_id)


def check_editor(app: RunningApp, services, page, workflow_id: int) -> None:
    page.goto(f"{app.base_url}/workflows/{workflow_id}")
    for key in ("start", "check", "big"):
        node(page, key).wait_for(state="visible")
    assert page.locator(".react-flow__edge").count() == 2
    assert node(page, "check").locator('.react-flow__handle[data-handleid="true"]').count() == 1
    assert node(page, "check").locator('.react-flow__handle[data-handleid="false"]').count() == 1
    assert "flow.if" in node(page, "check").inner_text()

    # Drag `big` right and down.
    zoom = zoom_of(page)
    box = node(page, "big").bounding_box()
    dx, dy = 160, 60
    drag(page, node(page, "big"),
         box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
    after = node(page, "big").bounding_box()
    # React Flow swallows the first few pixels of a drag: expect what the screen shows.
    shown_dx, shown_dy = (after["x"] - box["x"]) / zoom, (after["y"] - box["y"]) / zoom
    assert shown_dx > dx / 2 and shown_dy > dy / 2, (box, after)

    # Add a flow.merge from the palette, then connect check's `false` port to it.
    page.locator('.palette-item[data-node-type="flow.merge"]').click()
    node(page, "merge_1").wait_for(state="visible")
    false_port = node(page, "check").locator('.react-flow__handle[data-handleid="false"]')
    target = node(page, "merge_1").locator(".react-flow__handle.target").bounding_box()
    drag(page, false_port, target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    page.wait_for_function("document.querySelectorAll('.react-flow__edge').length === 3")

    page.locator("#save-workflow").click()
    page.get_by_text("Saved version 2").wait_for(state="visible")

    saved = services.workflows.get(workflow_id)
    assert saved.version == 2
    nodes = {n["key"]: n for n in saved.spec["nodes"]}
    assert nodes["merge_1"]["type"] == "flow.merge"
    assert nodes["check"]["params"] == {"condition": "{{ trigger.total > 100 }}"}  # kept
    moved_x, moved_y = nodes["big"]["position"]
    assert moved_x == pytest.approx(-150 + shown_dx, abs=2), (shown_dx, nodes["big"])
    assert moved_y == pytest.approx(300 + shown_dy, abs=2), (shown_dy, nodes["big"])
    edges = {(e["from"], e.get("port", "main"), e["to"]) for e in saved.spec["edges"]}
    assert edges == {("start", "main", "check"), ("check", "true", "big"),
                     ("check", "false", "merge_1")}

    # After a reload the canvas shows the saved version.
    page.reload()
    node(page, "merge_1").wait_for(state="visible")
    page.wait_for_function("document.querySelectorAll('.react-flow__edge').length === 3")
    assert page.locator("#workflow-version").inner_text() == "v2"

    # A second trigger is refused with the problem shown, and nothing is saved.
    page.locator('.palette-item[data-node-type="trigger.manual"]').click()
    node(page, "manual_1").wait_for(state="visible")
    page.locator("#save-workflow").click()
    page.locator("#problems").wait_for(state="visible")
    assert "trigger" in page.locator("#problems").inner_text().lower()
    assert services.workflows.get(workflow_id).version == 2

    # Deleting the extra trigger (select, Backspace) makes the workflow valid again.
    node(page, "manual_1").click()
    page.keyboard.press("Backspace")
    node(page, "manual_1").wait_for(state="detached")
    page.locator("#save-workflow").click()
    page.get_by_text("Saved version 3").wait_for(state="visible")
    assert page.locator("#problems").count() == 0
    assert "manual_1" not in {n["key"] for n in services.workflows.get(workflow_id).spec["nodes"]}

    # The list page links to the editor.
    page.goto(f"{app.base_url}/workflows")
    link = page.locator(".workflow-link", has_text="Editor e2e")
    link.wait_for(state="visible")
    assert page.locator("#workflow-table").get_by_text("trigger.manual").count() == 1
    link.click()
    page.wait_for_url(f"**/workflows/{workflow_id}")
    node(page, "merge_1").wait_for(state="visible")
