"""The run history and run pages in a real browser.

Given workflows created and runs started through the API (one whose HTTP step fails twice
before it succeeds, one that sleeps an hour, a trivial one run many times), when /runs and
/runs/<id> are opened in Chromium, expect the runs listed with their status, the filters
and pages to narrow the list, the retried step's three attempts with their errors and its
output, the sleeping run shown as sleeping and cancelled by its button (and the list to
follow a cancel live), and retry and rerun to start new runs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_env
from tests.e2e.conftest import PREFERRED_PORT, RunningApp, launch, pick_port, wait_until_healthy
from tests.utils.browser import TIMEOUT_MS, chromium, log_in, screenshot_on_failure
from tests.utils.http_server import Reply, ScriptedServer

pytestmark = pytest.mark.e2e

RUNS_PORT = PREFERRED_PORT  # one port for every e2e test: one cached frontend build
TRIVIAL_RUNS = 27  # more than a page (25)


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """Fast retries (tests' timings) and a fresh data dir whose database the test reads."""
    data_dir = tempfile.mkdtemp(prefix="n8nclone-runs-")
    return make_env(f"sqlite:///{data_dir}/n8nclone.db", data_dir)


@pytest.fixture(scope="module")
def app(env: dict[str, str]) -> Iterator[RunningApp]:
    running = launch(env, port=pick_port(RUNS_PORT))
    wait_until_healthy(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def accounts(app: RunningApp, env: dict[str, str]):
    from n8nclone.auth import Accounts
    from n8nclone.store.db import get_database

    return Accounts(get_database(env["DATABASE_URL"]))


@pytest.fixture(scope="module")
def api(app: RunningApp, accounts) -> Iterator[httpx.Client]:
    _, key = accounts.create_api_key("runs-e2e")
    with httpx.Client(base_url=app.base_url, headers={"Authorization": f"Bearer {key}"},
                      timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def page(app: RunningApp, accounts):
    user = accounts.create_user(f"runs-{time.monotonic_ns()}@example.com", "correct horse")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        log_in(context, accounts, user, app.base_url)
        browser_page = context.new_page()
        browser_page.set_default_timeout(TIMEOUT_MS)
        yield browser_page


def create_workflow(api: httpx.Client, spec: dict) -> int:
    response = api.post("/api/workflows", json=spec)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def start(api: httpx.Client, workflow_id: int, data=None) -> str:
    response = api.post(f"/api/workflows/{workflow_id}/runs", json={"data": data})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def wait_status(api: httpx.Client, run_id: str, statuses: tuple[str, ...],
                timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} is {run['status']}, not one of {statuses}")


def rows(page):
    return page.locator("#runs-table .run-row")


def statuses_shown(page) -> set[str]:
    return {rows(page).nth(i).get_attribute("data-status") for i in range(rows(page).count())}


def test_run_history_and_run_pages(app: RunningApp, api: httpx.Client, scripted, page,
                                   tmp_path: Path) -> None:
    scripted.script("/flaky", Reply(500, {"error": "first"}), Reply(500, {"error": "second"}),
                    Reply(200, {"ok": True, "answer": 42}))
    flaky_id = create_workflow(api, {
        "name": "Flaky call", "settings": {"retries": 3},
        "nodes": [{"key": "start", "type": "trigger.manual"},
                  {"key": "call", "type": "http.request",
                   "params": {"method": "GET", "url": scripted.url + "/flaky"}}],
        "edges": [{"from": "start", "to": "call"}]})
    sleepy_id = create_workflow(api, {
        "name": "Sleepy",
        "nodes": [{"key": "start", "type": "trigger.manual"},
                  {"key": "nap", "type": "wait.sleep", "params": {"duration": "1h"}}],
        "edges": [{"from": "start", "to": "nap"}]})
    flaky_run = start(api, flaky_id, {"order": 7})
    sleepy_run = start(api, sleepy_id)
    wait_status(api, flaky_run, ("succeeded",))
    wait_status(api, sleepy_run, ("sleeping",))
    with screenshot_on_failure(page, tmp_path, "runs"):
        check_list(app, api, page, flaky_run, sleepy_run)
        check_retried_run(app, api, page, flaky_run)
        check_sleeping_run(app, api, page, sleepy_run)
        check_waiting_run(app, api, page)
        check_pages(app, api, page)


def check_waiting_run(app: RunningApp, api: httpx.Client, page) -> None:
    """A run waiting for an event shows what it waits for, and Cancel ends it."""
    waiter_id = create_workflow(api, {
        "name": "Approval",
        "nodes": [{"key": "start", "type": "trigger.manual"},
                  {"key": "approval", "type": "wait.event",
                   "params": {"event": "order/approved", "match_field": "data.order",
                              "match_value": "{{ trigger.order }}", "timeout": "1d"}}],
        "edges": [{"from": "start", "to": "approval"}]})
    waiting_run = start(api, waiter_id, {"order": 9})
    wait_status(api, waiting_run, ("waiting",))
    page.goto(f"{app.base_url}/runs/{waiting_run}")
    page.wait_for_function("document.querySelector('#run-status')?.innerText === 'waiting'")
    gap = page.locator('.timeline-row[data-step="approval"] .timeline-gap')
    assert "waiting for event 'order/approved'" in gap.inner_text()
    page.locator("#cancel-run").click()
    page.wait_for_function("document.querySelector('#run-status').innerText === 'cancelled'")
    assert api.get(f"/api/runs/{waiting_run}").json()["status"] == "cancelled"


def check_list(app: RunningApp, api: httpx.Client, page, flaky_run: str,
               sleepy_run: str) -> None:
    page.goto(f"{app.base_url}/runs")
    rows(page).first.wait_for(state="visible")
    assert rows(page).count() == 2
    flaky = page.locator(f'.run-row[data-run-id="{flaky_run}"]')
    assert flaky.get_attribute("data-status") == "succeeded"
    assert "Flaky call" in flaky.inner_text() and "api" in flaky.inner_text()
    assert "/workflows/" in flaky.locator(".run-workflow").get_attribute("href")
    sleepy = page.locator(f'.run-row[data-run-id="{sleepy_run}"]')
    assert sleepy.get_attribute("data-status") == "sleeping"
    page.locator("#live-badge").wait_for(state="visible")

    # Filters narrow the list: by status, by workflow, by time; Clear shows all again.
    page.select_option("#filter-status", "sleeping")
    page.wait_for_function("document.querySelectorAll('#runs-table .run-row').length === 1")
    assert statuses_shown(page) == {"sleeping"}
    page.select_option("#filter-status", "failed")
    page.locator("#runs-empty").wait_for(state="visible")
    assert "No runs match" in page.locator("#runs-empty").inner_text()
    page.select_option("#filter-status", "")
    page.select_option("#filter-workflow", label="Flaky call")
    page.wait_for_function("document.querySelectorAll('#runs-table .run-row').length === 1")
    assert page.locator(f'.run-row[data-run-id="{flaky_run}"]').count() == 1
    page.select_option("#filter-workflow", "")
    page.select_option("#filter-range", "custom")
    page.locator("#filter-since").fill("2000-01-01T00:00")
    page.locator("#filter-until").fill("2000-01-02T00:00")
    page.locator("#runs-empty").wait_for(state="visible")
    page.locator("#filter-clear").click()
    page.wait_for_function("document.querySelectorAll('#runs-table .run-row').length === 2")

    # The list follows a run's status live: cancel the sleeper via the API, no reload.
    extra = start(api, api.get("/api/workflows/Sleepy").json()["id"])
    row = page.locator(f'.run-row[data-run-id="{extra}"]')
    row.wait_for(state="visible", timeout=20_000)  # the idle refresh brings new runs
    wait_status(api, extra, ("sleeping",))
    assert api.post(f"/api/runs/{extra}/cancel").json()["status"] == "cancelled"
    page.wait_for_function(
        f"document.querySelector('.run-row[data-run-id=\"{extra}\"]')"
        ".getAttribute('data-status') === 'cancelled'", timeout=15_000)

    # A row opens its run.
    flaky = page.locator(f'.run-row[data-run-id="{flaky_run}"]')
    flaky.locator(".run-link").click()
    page.wait_for_url(f"**/runs/{flaky_run}")


def check_retried_run(app: RunningApp, api: httpx.Client, page, flaky_run: str) -> None:
    page.goto(f"{app.base_url}/runs/{flaky_run}")
    page.locator("#run-status").wait_for(state="visible")
    assert page.locator("#run-status").inner_text() == "succeeded"
    assert "Flaky call" in page.locator("#run-workflow").inner_text()
    assert page.locator("#cancel-run").count() == 0  # finished: nothing to cancel
    assert page.locator("#retry-run").count() == 0  # succeeded: nothing to retry
    # The timeline: the call step has three attempts (two failed) with gaps between them.
    call_row = page.locator('.timeline-row[data-step="call"]')
    assert call_row.locator(".timeline-attempt").count() == 3
    assert call_row.locator(".timeline-attempt.tone-failed").count() == 2
    assert call_row.locator(".timeline-attempt.tone-succeeded").count() == 1
    assert call_row.locator(".timeline-gap").count() == 2
    assert "retry after" in call_row.locator(".timeline-gap").first.inner_text()
    # Its card: the attempts with the failed ones' errors, input and output as JSON.
    card = page.locator('.step-card[data-step="call"]')
    attempts = card.locator(".attempt")
    assert attempts.count() == 3
    errors = card.locator(".attempt-error")
    assert errors.count() == 2
    assert "500" in errors.nth(0).inner_text() and "first" in errors.nth(0).inner_text()
    assert "second" in errors.nth(1).inner_text()
    output = card.locator(".step-output")
    assert not output.locator(".json-text").is_visible()  # collapsed
    output.locator(".json-summary").click()
    output.locator(".json-text").wait_for(state="visible")
    assert '"answer": 42' in output.locator(".json-text").inner_text()

    # Rerun: invalid JSON is refused with a toast; a valid input starts a new run.
    page.locator("#rerun-toggle").click()
    assert '"order": 7' in page.locator("#rerun-input").input_value()
    page.locator("#rerun-input").fill("{not json")
    page.locator("#rerun-run").click()
    page.get_by_text("not valid JSON").wait_for(state="visible")
    assert page.url.endswith(f"/runs/{flaky_run}")
    page.locator("#rerun-input").fill('{"order": 8}')
    page.locator("#rerun-run").click()
    page.wait_for_url(lambda url: "/runs/" in url and not url.endswith(flaky_run))
    new_run = page.url.rstrip("/").rsplit("/", 1)[-1]
    run = wait_status(api, new_run, ("succeeded",))
    assert run["input"] == {"order": 8} and run["trigger_type"] == "rerun"
    page.locator("#run-trigger").get_by_text("rerun").wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('#run-status').innerText === 'succeeded'")


def check_sleeping_run(app: RunningApp, api: httpx.Client, page, sleepy_run: str) -> None:
    page.goto(f"{app.base_url}/runs/{sleepy_run}")
    page.locator("#run-status").wait_for(state="visible")
    assert page.locator("#run-status").inner_text() == "sleeping"
    nap = page.locator('.timeline-row[data-step="nap"]')
    assert "sleeping until" in nap.locator(".timeline-gap").inner_text()
    assert page.locator("#retry-run").count() == 0
    page.locator("#cancel-run").click()
    page.wait_for_function("document.querySelector('#run-status').innerText === 'cancelled'")
    assert api.get(f"/api/runs/{sleepy_run}").json()["status"] == "cancelled"
    page.locator("#cancel-run").wait_for(state="detached")

    # Retry from the failed (here: cancelled) step: a new run that sleeps again.
    page.locator("#retry-run").click()
    page.wait_for_url(lambda url: "/runs/" in url and not url.endswith(sleepy_run))
    retried = page.url.rstrip("/").rsplit("/", 1)[-1]
    run = wait_status(api, retried, ("sleeping",))
    assert run["trigger_type"] == "retry" and run["rerun_of"] == sleepy_run
    page.wait_for_function("document.querySelector('#run-status').innerText === 'sleeping'")
    assert "kept from the earlier run" in page.locator(
        '.timeline-row[data-step="start"]').inner_text()
    # Cancelled elsewhere, the open page follows live.
    api.post(f"/api/runs/{retried}/cancel")
    page.wait_for_function("document.querySelector('#run-status').innerText === 'cancelled'",
                           timeout=15_000)


def check_pages(app: RunningApp, api: httpx.Client, page) -> None:
    trivial_id = create_workflow(api, {
        "name": "Trivial",
        "nodes": [{"key": "start", "type": "trigger.manual"},
                  {"key": "shape", "type": "data.set", "params": {"values": {"ok": True}}}],
        "edges": [{"from": "start", "to": "shape"}]})
    started = [start(api, trivial_id, {"n": n}) for n in range(TRIVIAL_RUNS)]
    wait_status(api, started[-1], ("succeeded",))
    page.goto(f"{app.base_url}/runs")
    rows(page).first.wait_for(state="visible")
    page.select_option("#filter-workflow", label="Trivial")
    page.wait_for_function("document.querySelectorAll('#runs-table .run-row').length === 25")
    first_page_ids = {rows(page).nth(i).get_attribute("data-run-id") for i in range(25)}
    page.locator("#next-page").click()
    page.wait_for_function(
        f"document.querySelectorAll('#runs-table .run-row').length === {TRIVIAL_RUNS - 25}")
    second_page_ids = {rows(page).nth(i).get_attribute("data-run-id")
                       for i in range(TRIVIAL_RUNS - 25)}
    assert first_page_ids | second_page_ids == set(started)
    assert page.locator("#next-page").is_disabled()
    page.locator("#first-page").click()
    page.wait_for_function("document.querySelectorAll('#runs-table .run-row').length === 25")
