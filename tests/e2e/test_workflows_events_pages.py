"""The workflow list's actions and the events page in a real browser.

Given a running app and a logged-in browser (session cookie), when a workflow is created
with New workflow, renamed, duplicated, (de)activated, exported, deleted and imported from
the list, expect the store to follow each step and the download to be the workflow file.
Given an active workflow with an event trigger (created through the API with an API key),
when a test event is sent from /events, expect the event listed with the run it started,
and its link to open that run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import PREFERRED_PORT, RunningApp, launch, pick_port, wait_until_healthy
from tests.utils.browser import TIMEOUT_MS, chromium, log_in, screenshot_on_failure

pytestmark = pytest.mark.e2e

PORT = PREFERRED_PORT  # one port for every e2e test: one cached frontend build
EMAIL, PASSWORD = "pages@example.test", "correct horse battery"

EVENT_WORKFLOW = {
    "name": "On signup",
    "active": True,
    "nodes": [
        {"key": "signup", "type": "trigger.event", "params": {"event": "user/signup"},
         "position": [0, 0]},
        {"key": "greet", "type": "data.set",
         "params": {"values": {"hello": "{{ trigger.data.email }}"}}, "position": [0, 150]},
    ],
    "edges": [{"from": "signup", "to": "greet"}],
}
IMPORTED = {
    "name": "Imported by paste",
    "active": False,
    "nodes": [{"key": "start", "type": "trigger.manual", "position": [0, 0]}],
    "edges": [],
}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The app's environment: a fresh data dir (the test reads the same database)."""
    return {**os.environ, "N8NCLONE_DATA_DIR": tempfile.mkdtemp(prefix="n8nclone-pages-")}


@pytest.fixture(scope="module")
def app(env: dict[str, str]) -> Iterator[RunningApp]:
    running = launch(env, port=pick_port(PORT))
    wait_until_healthy(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def services(env: dict[str, str], app: RunningApp):
    from n8nclone.config import load_settings
    from n8nclone.services import build_services

    return build_services(load_settings(env))  # after the app migrated the database


@pytest.fixture(scope="module")
def accounts(services):
    from n8nclone.auth import Accounts

    return Accounts(services.db)


@pytest.fixture
def page(app: RunningApp, accounts):
    """A Chromium page logged in by the session cookie."""
    user = accounts.authenticate(EMAIL, PASSWORD) or accounts.create_user(EMAIL, PASSWORD)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900},
                                      accept_downloads=True)
        log_in(context, accounts, user, app.base_url)
        browser_page = context.new_page()
        browser_page.set_default_timeout(TIMEOUT_MS)
        yield browser_page


def row(page, name: str):
    return page.locator(f'tr.workflow-row[data-name="{name}"]')


def wait_for(predicate, page, timeout_s: float = 15.0) -> None:
    """Poll a store-side condition while the browser works."""
    for _ in range(int(timeout_s * 10)):
        if predicate():
            return
        page.wait_for_timeout(100)
    assert predicate()


def test_workflow_list_actions(app: RunningApp, services, page, tmp_path: Path) -> None:
    with screenshot_on_failure(page, tmp_path, "workflows"):
        check_workflow_actions(app, services, page, tmp_path)


def check_workflow_actions(app: RunningApp, services, page, tmp_path: Path) -> None:
    store = services.workflows
    page.goto(f"{app.base_url}/workflows")
    page.locator("#new-workflow").wait_for(state="visible")

    # New workflow: a name, then the editor of a workflow with just a manual trigger.
    page.locator("#new-workflow").click()
    page.locator("#new-workflow-name").fill("Pages e2e")
    page.locator("#new-workflow-create").click()
    page.wait_for_url("**/workflows/*")
    page.locator('.react-flow__node[data-id="start"]').wait_for(state="visible")
    created = store.find("Pages e2e")
    assert created is not None and not created.active
    assert [n["type"] for n in created.spec["nodes"]] == ["trigger.manual"]
    assert page.url.endswith(f"/workflows/{created.id}")

    # Rename.
    page.goto(f"{app.base_url}/workflows")
    row(page, "Pages e2e").locator(".rename-workflow").click()
    page.locator("#rename-workflow-name").fill("Pages renamed")
    page.locator("#rename-workflow-save").click()
    row(page, "Pages renamed").wait_for(state="visible")
    assert store.get(created.id).name == "Pages renamed"
    assert row(page, "Pages e2e").count() == 0

    # Duplicate: a copy, inactive.
    row(page, "Pages renamed").locator(".duplicate-workflow").click()
    row(page, "Pages renamed (copy)").wait_for(state="visible")
    copy = store.find("Pages renamed (copy)")
    assert copy is not None and not copy.active and copy.id != created.id

    # Toggle active on, then off again.
    switch = row(page, "Pages renamed").locator(".active-switch")
    assert switch.get_attribute("data-state") == "unchecked"
    switch.click()
    wait_for(lambda: store.get(created.id).active, page)
    page.wait_for_function(
        """() => document.querySelector('tr.workflow-row[data-name="Pages renamed"] '
           + '.active-switch').getAttribute('data-state') === 'checked'""")
    switch.click()
    wait_for(lambda: not store.get(created.id).active, page)

    # Export: the workflow file, with its current name and active flag.
    with page.expect_download() as download_info:
        row(page, "Pages renamed").locator(".export-workflow").click()
    download = download_info.value
    assert download.suggested_filename == "Pages-renamed.json"
    exported = json.loads(Path(download.path()).read_text())
    assert exported["name"] == "Pages renamed" and exported["active"] is False
    assert [n["key"] for n in exported["nodes"]] == ["start"]

    # Delete, with confirmation: cancelling keeps it, confirming removes it.
    row(page, "Pages renamed (copy)").locator(".delete-workflow").click()
    page.locator("#delete-workflow-dialog").wait_for(state="visible")
    page.locator("#delete-workflow-dialog").get_by_role("button", name="Cancel").click()
    page.locator("#delete-workflow-dialog").wait_for(state="detached")
    assert store.get(copy.id) is not None
    row(page, "Pages renamed (copy)").locator(".delete-workflow").click()
    page.locator("#delete-workflow-confirm").click()
    row(page, "Pages renamed (copy)").wait_for(state="detached")
    assert store.get(copy.id) is None

    # Import: invalid JSON is refused with the reason; a pasted file is saved.
    page.locator("#import-workflow").click()
    page.locator("#import-text").fill("{not json")
    page.locator("#import-submit").click()
    page.locator("#import-problems").wait_for(state="visible")
    assert "not valid JSON" in page.locator("#import-problems").inner_text()
    page.locator("#import-text").fill(json.dumps({**IMPORTED, "nodes": []}))
    page.locator("#import-submit").click()
    page.wait_for_function("document.querySelector('#import-problems') && document"
                           ".querySelector('#import-problems').innerText.includes('trigger')")
    assert store.find(IMPORTED["name"]) is None
    page.locator("#import-text").fill(json.dumps(IMPORTED))
    page.locator("#import-submit").click()
    row(page, IMPORTED["name"]).wait_for(state="visible")
    assert store.find(IMPORTED["name"]) is not None
    page.locator("#import-dialog").wait_for(state="detached")

    # Import: a chosen file.
    uploaded = tmp_path / "uploaded.json"
    uploaded.write_text(json.dumps({**IMPORTED, "name": "Imported from a file"}))
    page.locator("#import-workflow").click()
    page.locator("#import-upload input[type=file]").set_input_files(str(uploaded))
    row(page, "Imported from a file").wait_for(state="visible")
    assert store.find("Imported from a file") is not None

    # The list shows the run count and last run of a workflow that ran.
    from n8nclone.engine.start import start_run

    record = store.find("Pages renamed")
    run_id = start_run(services.runs, services.dispatcher, workflow_id=record.id,
                       version_id=record.version_id, plan_settings={}, input={},
                       trigger_type="api")
    page.reload()
    row(page, "Pages renamed").locator(".last-run-link").wait_for(state="visible")
    assert row(page, "Pages renamed").locator(".run-count").inner_text() == "1"
    assert (row(page, "Pages renamed").locator(".last-run-link").get_attribute("href")
            == f"/runs/{run_id}")


def test_events_page_sends_a_test_event(app: RunningApp, services, accounts, page,
                                        tmp_path: Path) -> None:
    _, key = accounts.create_api_key("pages-e2e")
    response = httpx.post(app.base_url + "/api/workflows", json=EVENT_WORKFLOW, timeout=10,
                          headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.text
    with screenshot_on_failure(page, tmp_path, "events"):
        check_events_page(app, services, page)


def check_events_page(app: RunningApp, services, page) -> None:
    from n8nclone.store.event_queries import EventQueries

    page.goto(f"{app.base_url}/events")
    page.locator("#send-event").wait_for(state="visible")

    # Invalid JSON: a toast, nothing sent.
    page.locator("#send-event-name").fill("user/signup")
    page.locator("#send-event-data").fill("{oops")
    page.locator("#send-event").click()
    page.get_by_text("not valid JSON").first.wait_for(state="visible")
    assert EventQueries(services.db).count("user/signup") == 0

    # A matching event: its id and the run it started, in the form and in the list.
    page.locator("#send-event-data").fill(json.dumps({"email": "ada@example.test"}))
    page.locator("#send-event").click()
    page.locator("#sent-event-id").wait_for(state="visible")
    event_id = page.locator("#sent-event-id").inner_text().strip()
    event = EventQueries(services.db).get_event(event_id)
    assert event is not None and event["data"] == {"email": "ada@example.test"}
    [started] = event["runs"]["started"]
    assert page.locator("#sent-event .event-run-link").first.inner_text() == started["id"]
    page.locator(f'tr.event-row[data-event-id="{event_id}"]').wait_for(state="visible")
    detail = page.locator("#event-detail")
    detail.wait_for(state="visible")
    assert "ada@example.test" in detail.inner_text()

    # An event sent elsewhere shows up by the live refresh.
    from n8nclone.triggers.events import EventIn, ingest_events

    [other_id] = ingest_events(services, [EventIn(name="elsewhere/sent", data={"n": 1})])
    page.locator(f'tr.event-row[data-event-id="{other_id}"]').wait_for(state="visible")

    # The run link opens the run's page.
    detail.locator(".event-run-link").first.click()
    page.wait_for_url(f"**/runs/{started['id']}")
