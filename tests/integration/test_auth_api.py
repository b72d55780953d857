"""Login over real HTTP: setup, login, me, logout; and the access test: every management
route answers 401 without a session or an API key, while health, docs, webhooks and
`/e/<key>` keep their own rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from n8nclone.api.access import SESSION_COOKIE
from n8nclone.api.app import build_api
from n8nclone.auth import Accounts
from n8nclone.services import Services
from n8nclone.store.event_keys import EventKeyStore
from tests.utils.api_server import ApiServer

OPEN = {"/api/health"}
OPEN_PREFIXES = ("/api/auth/",)
PASSWORD = "correct horse"


@pytest.fixture
def server(embedded) -> Iterator[ApiServer]:
    server = ApiServer(embedded).start()
    yield server
    server.stop()


@pytest.fixture
def browser(server) -> Iterator[httpx.Client]:
    """A client with no credentials but a cookie jar, like a browser."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def make_user(services: Services, email: str = "admin@example.com") -> None:
    Accounts(services.db).create_user(email, PASSWORD)


def detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()["detail"]


# -- setup, login, logout -----------------------------------------------------------------


def test_first_visit_setup_creates_the_only_user_and_logs_in(browser):
    # given no user
    assert browser.get("/api/auth/setup").json() == {"needs_setup": True}
    assert detail(browser.get("/api/workflows"), 401)

    # when the setup form is sent
    created = browser.post("/api/auth/setup",
                           json={"email": "Admin@Example.com", "password": PASSWORD})

    # expect the user created and logged in
    assert created.status_code == 201 and created.json() == {"email": "admin@example.com"}
    assert browser.get("/api/auth/me").json() == {"email": "admin@example.com"}
    assert browser.get("/api/workflows").status_code == 200
    assert browser.get("/api/auth/setup").json() == {"needs_setup": False}
    # and a second setup refused, whoever sends it
    with httpx.Client(base_url=str(browser.base_url), timeout=30) as other:
        again = other.post("/api/auth/setup", json={"email": "b@example.com",
                                                    "password": PASSWORD})
        assert "log in instead" in detail(again, 409)
        assert other.get("/api/auth/me").status_code == 401


def test_setup_checks_the_email_and_password(browser):
    assert "not an email" in detail(browser.post("/api/auth/setup", json={
        "email": "admin", "password": PASSWORD}), 422)
    assert "at least 8" in detail(browser.post("/api/auth/setup", json={
        "email": "admin@example.com", "password": "short"}), 422)
    assert browser.get("/api/auth/setup").json() == {"needs_setup": True}


def test_login_sets_an_http_only_cookie_and_logout_ends_the_session(browser, embedded):
    # given a user
    make_user(embedded)

    # when they log in
    response = browser.post("/api/auth/login",
                            json={"email": "admin@example.com", "password": PASSWORD})

    # expect their email back and an HttpOnly, SameSite=Lax session cookie
    assert response.status_code == 200 and response.json() == {"email": "admin@example.com"}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Path=/" in cookie
    token = browser.cookies[SESSION_COOKIE]
    assert browser.get("/api/auth/me").json() == {"email": "admin@example.com"}
    assert browser.get("/api/runs").status_code == 200

    # when they log out
    out = browser.post("/api/auth/logout")

    # expect the cookie cleared and the session gone, even for a copy of the token
    assert out.status_code == 204 and SESSION_COOKIE not in browser.cookies
    assert browser.get("/api/auth/me").status_code == 401
    with httpx.Client(base_url=str(browser.base_url), timeout=30,
                      cookies={SESSION_COOKIE: token}) as replay:
        assert "log in again" in detail(replay.get("/api/workflows"), 401)
    assert browser.post("/api/auth/logout").status_code == 204  # logging out twice is fine


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(browser, embedded):
    make_user(embedded)
    wrong = browser.post("/api/auth/login",
                         json={"email": "admin@example.com", "password": "wrong horse"})
    unknown = browser.post("/api/auth/login",
                           json={"email": "nobody@example.com", "password": PASSWORD})
    assert detail(wrong, 401) == detail(unknown, 401) == "wrong email or password"
    assert SESSION_COOKIE not in browser.cookies
    assert browser.get("/api/auth/me").status_code == 401
    assert detail(browser.post("/api/auth/login", json={"email": "admin@example.com"}),
                  422)


def test_an_invented_session_cookie_opens_nothing(server):
    with httpx.Client(base_url=server.url, timeout=30,
                      cookies={SESSION_COOKIE: "invented"}) as client:
        assert detail(client.get("/api/workflows"), 401)
        assert client.get("/api/auth/me").status_code == 401


# -- API keys -----------------------------------------------------------------------------


def test_an_api_key_opens_the_management_api_and_an_event_key_only_sends_events(
        server, browser, embedded):
    api_key = Accounts(embedded.db).create_api_key("script")[1]
    _, event_key = EventKeyStore(embedded.db).create("sender")

    def as_bearer(key: str) -> dict:
        return {"Authorization": f"Bearer {key}"}

    # expect the API key to read and write
    assert browser.get("/api/workflows", headers=as_bearer(api_key)).status_code == 200
    assert browser.post("/api/events", json={"name": "a"},
                        headers=as_bearer(api_key)).status_code == 201
    # and the event key to send events, and nothing else
    assert browser.post("/api/events", json={"name": "a"},
                        headers=as_bearer(event_key)).status_code == 201
    assert "not valid" in detail(browser.get("/api/workflows", headers=as_bearer(event_key)),
                                 401)
    assert detail(browser.get("/api/events", headers=as_bearer(event_key)), 401)
    # and a deleted API key to open nothing
    Accounts(embedded.db).delete_api_key("script")
    refused = browser.get("/api/workflows", headers=as_bearer(api_key))
    assert "not valid" in detail(refused, 401)
    assert refused.headers["www-authenticate"] == "Bearer"


# -- the access test ----------------------------------------------------------------------


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the API app."""
    app = build_api()
    try:
        from fastapi.routing import iter_route_contexts

        routes = list(iter_route_contexts(app.routes))
    except ImportError:  # FastAPI before lazily included routers
        routes = app.routes
    return sorted({(method, route.path) for route in routes
                   for method in (getattr(route, "methods", None) or ()) if method != "HEAD"})


def protected_routes() -> list[tuple[str, str]]:
    return [(method, path) for method, path in api_routes()
            if path.startswith("/api/") and path not in OPEN
            and not path.startswith(OPEN_PREFIXES)]


def test_the_route_list_covers_the_management_api():
    routes = protected_routes()
    for expected in [("GET", "/api/workflows"), ("POST", "/api/workflows"),
                     ("DELETE", "/api/workflows/{ref}"), ("GET", "/api/runs/{run_id}"),
                     ("GET", "/api/node-types"), ("GET", "/api/events"),
                     ("POST", "/api/events"), ("GET", "/api/credentials")]:
        assert expected in routes
    assert len(routes) >= 20


@pytest.mark.parametrize("method, path", protected_routes())
def test_every_management_route_answers_401_without_credentials(browser, method, path):
    url = re.sub(r"\{[^}]+\}", "placeholder", path)
    response = browser.request(method, url, json={} if method in ("POST", "PUT") else None)
    assert "authentication required" in detail(response, 401), (method, path)
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_docs_auth_webhooks_and_event_keys_keep_their_own_rules(browser):
    assert browser.get("/api/health").status_code == 200
    assert browser.get("/docs").status_code == 200
    assert browser.get("/openapi.json").status_code == 200
    assert browser.get("/api/auth/setup").status_code == 200
    assert browser.post("/webhook/none", json={}).status_code == 404
    assert browser.post("/webhook-test/none", json={}).status_code == 404
    assert "event key" in detail(browser.post("/e/wrong", json={"name": "a"}), 401)
