"""Logging in through the browser: the first-visit setup page, the login page, logout, and
the access test: every page but /login and /setup, opened without a session, ends at
/login (and its data never reaches that browser).

The tests share one app and run in file order: the first one needs a database without
users.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.e2e.conftest import PREFERRED_PORT, RunningApp, launch, pick_port, wait_until_healthy
from tests.utils.browser import TIMEOUT_MS, chromium, screenshot_on_failure

pytestmark = pytest.mark.e2e

# Not the other e2e tests' port: each port keeps its own cached frontend build.
ACCESS_PORT = PREFERRED_PORT  # one port for every e2e test: one cached frontend build

EMAIL = "admin@example.com"
PASSWORD = "correct horse battery"
# A workflow whose name must never reach a browser without a session.
SECRET_NAME = "Quarterly payroll e2e-7f3a"
WORKFLOW = {
    "name": SECRET_NAME,
    "active": False,
    "nodes": [{"key": "start", "type": "trigger.manual", "position": [0, 0]}],
    "edges": [],
}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The app's environment: a fresh data dir (the test reads the same database)."""
    return {**os.environ, "N8NCLONE_DATA_DIR": tempfile.mkdtemp(prefix="n8nclone-access-")}


@pytest.fixture(scope="module")
def app(env: dict[str, str]) -> Iterator[RunningApp]:
    running = launch(env, port=pick_port(ACCESS_PORT))
    wait_until_healthy(running)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def services(env: dict[str, str]):
    from n8nclone.config import load_settings
    from n8nclone.services import build_services

    return build_services(load_settings(env))


@pytest.fixture(scope="module")
def accounts(services):
    from n8nclone.auth import Accounts

    return Accounts(services.db)


@pytest.fixture(scope="module")
def workflow_id(services) -> int:
    from n8nclone.workflows import save_workflow

    return save_workflow(services.workflows, services.registry, WORKFLOW).id


@pytest.fixture
def admin(accounts) -> str:
    """The admin account (made by the first test, or here when it ran alone)."""
    if accounts.needs_setup():
        accounts.create_user(EMAIL, PASSWORD)
    return EMAIL


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, tmp_path: Path):
    """A fresh browser context (no cookies) and page; a screenshot if the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    browser_page = context.new_page()
    browser_page.set_default_timeout(TIMEOUT_MS)
    yield browser_page
    context.close()


def trimmed(path: str) -> str:
    """A path without its trailing slash (the static pages are served as `/page/`)."""
    return path.rstrip("/") or "/"


def path_is(path: str):
    """A wait_for_url predicate: the URL's path is `path` (give or take a final slash)."""
    return lambda url: trimmed(urlsplit(url).path) == path


def next_of(url: str) -> str:
    """The login page's `next`, trimmed like `path_is`."""
    return trimmed(parse_qs(urlsplit(url).query)["next"][0])


def watch_websocket(page) -> list[str]:
    """Every frame the server sends over the page's websockets, as text."""
    frames: list[str] = []

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: frames.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

    page.on("websocket", on_socket)
    return frames


def protected_pages() -> list[tuple[str, str]]:
    """(route, URL path) of every page of the app but the public ones; dynamic segments
    ([workflow_id], [run_id]) get a placeholder."""
    from n8nclone.ui.app import PAGES
    from n8nclone.ui.state.auth import PUBLIC_PAGES

    return [(module.ROUTE, re.sub(r"\[[^\]]+\]", "placeholder", module.ROUTE))
            for module in PAGES if module.ROUTE not in PUBLIC_PAGES]


# -- (a) first visit: setup, then logout ---------------------------------------------------


def test_first_visit_sets_up_the_admin_then_logs_out(app, accounts, page, tmp_path):
    assert accounts.needs_setup(), "this test needs a database without users (run first)"
    with screenshot_on_failure(page, tmp_path, "setup"):
        # given no user: any page leads to the setup page
        page.goto(f"{app.base_url}/workflows")
        page.wait_for_url(path_is("/setup"))

        # when the two passwords differ, expect the page to say so and nobody created
        page.locator("#setup-email").fill(EMAIL)
        page.locator("#setup-password").fill(PASSWORD)
        page.locator("#setup-password2").fill(PASSWORD + "!")
        page.locator("#setup-submit").click()
        page.locator("#setup-error").wait_for(state="visible")
        assert "differ" in page.locator("#setup-error").inner_text()
        assert accounts.needs_setup()

        # when the admin is created
        page.locator("#setup-email").fill(EMAIL.upper())
        page.locator("#setup-password").fill(PASSWORD)
        page.locator("#setup-password2").fill(PASSWORD)
        page.locator("#setup-submit").click()

        # expect to land on the workflows, logged in, the cookie out of JavaScript's reach
        page.wait_for_url(path_is("/workflows"))
        page.locator("#nav-user").get_by_text(EMAIL).wait_for(state="visible")
        assert not accounts.needs_setup()
        cookie = next(c for c in page.context.cookies() if c["name"] == "n8nclone_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert "n8nclone_session" not in page.evaluate("document.cookie")

        # and the setup page now sends visitors to the login page
        page.goto(f"{app.base_url}/setup")
        page.wait_for_url(path_is("/workflows"))  # /setup -> /login -> logged in: next

        # when logging out, expect the login page and no way back without logging in
        page.locator("#logout").click()
        page.wait_for_url(path_is("/login"))
        page.locator("#login-email").wait_for(state="visible")
        assert not [c for c in page.context.cookies() if c["name"] == "n8nclone_session"]
        page.goto(f"{app.base_url}/workflows")
        page.wait_for_url(path_is("/login"))
        assert next_of(page.url) == "/workflows"


# -- (b) the access test --------------------------------------------------------------------


def test_the_access_test_covers_every_page():
    routes = [route for route, _ in protected_pages()]
    for expected in ("/", "/workflows", "/workflows/[workflow_id]", "/runs",
                     "/runs/[run_id]", "/events"):
        assert expected in routes


@pytest.mark.parametrize("route, path", protected_pages())
def test_every_page_without_a_session_ends_at_login(app, admin, workflow_id, page, tmp_path,
                                                    route, path):
    frames = watch_websocket(page)
    with screenshot_on_failure(page, tmp_path, "access"):
        page.goto(f"{app.base_url}{path}")
        page.wait_for_url(path_is("/login"))
        assert next_of(page.url) == path, route
        page.locator("#login-email").wait_for(state="visible")
        # The real editor page too, with a real workflow behind it.
        page.goto(f"{app.base_url}/workflows/{workflow_id}")
        page.wait_for_url(path_is("/login"))
        page.locator("#login-email").wait_for(state="visible")
        page.wait_for_timeout(500)  # let any late event answer arrive
    assert frames, "the page never talked to the server"
    assert not [f for f in frames if SECRET_NAME in f], "page data reached a visitor"


# -- (c) the login form returns to the page asked for --------------------------------------


def test_login_form_returns_to_the_page_asked_for(app, admin, workflow_id, page, tmp_path):
    asked = f"/workflows/{workflow_id}"
    with screenshot_on_failure(page, tmp_path, "login"):
        page.goto(f"{app.base_url}{asked}")
        page.wait_for_url(path_is("/login"))
        assert next_of(page.url) == asked

        # a wrong password: back on the login page with the error, `next` kept
        page.locator("#login-email").fill(admin)
        page.locator("#login-password").fill("wrong horse battery")
        page.locator("#login-submit").click()
        page.locator("#login-error").wait_for(state="visible")
        assert next_of(page.url) == asked

        # the right one: on the page asked for, showing its workflow
        page.locator("#login-email").fill(admin)
        page.locator("#login-password").fill(PASSWORD)
        page.locator("#login-submit").click()
        page.wait_for_url(path_is(asked))
        page.locator("#workflow-name").get_by_text(SECRET_NAME).wait_for(state="visible")

        # and a logged-in visit to /login goes straight on to `next`
        page.goto(f"{app.base_url}/login?next={quote('/events', safe='')}")
        page.wait_for_url(path_is("/events"))
