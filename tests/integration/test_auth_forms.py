"""The login and setup pages' HTML forms over real HTTP: `/api/auth/login-form`,
`/logout-form` and `/setup-form` answer 303 redirects, set or clear the HttpOnly session
cookie, never send the browser off-site and never answer 5xx on bad input."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from n8nclone.api.access import SESSION_COOKIE
from n8nclone.api.auth import local_path
from n8nclone.auth import Accounts
from tests.utils.api_server import ApiServer

PASSWORD = "correct horse"
EMAIL = "admin@example.com"


@pytest.fixture
def server(embedded) -> Iterator[ApiServer]:
    server = ApiServer(embedded).start()
    yield server
    server.stop()


@pytest.fixture
def browser(server) -> Iterator[httpx.Client]:
    """A client with no API key but a cookie jar, like a browser; it does not follow
    redirects, so each test sees the 303 itself. Any 5xx fails the test."""
    def no_server_errors(response: httpx.Response) -> None:
        assert response.status_code < 500, f"{response.request.url} -> {response.status_code}"

    with httpx.Client(base_url=server.url, timeout=30,
                      event_hooks={"response": [no_server_errors]}) as client:
        yield client


@pytest.fixture
def user(embedded) -> None:
    Accounts(embedded.db).create_user(EMAIL, PASSWORD)


def log_in(browser: httpx.Client, **fields: str) -> httpx.Response:
    return browser.post("/api/auth/login-form", data=fields)


def see_other(response: httpx.Response) -> str:
    assert response.status_code == 303, f"{response.status_code}: {response.text}"
    return response.headers["location"]


# -- login --------------------------------------------------------------------------------


def test_a_good_login_sets_an_http_only_cookie_and_goes_to_next(browser, user):
    # when the login form is sent with a next page
    response = log_in(browser, email="Admin@Example.com", password=PASSWORD,
                      next="/runs?status=failed")

    # expect a redirect there and an HttpOnly, SameSite=Lax session cookie
    assert see_other(response) == "/runs?status=failed"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Path=/" in cookie
    assert browser.get("/api/auth/me").json() == {"email": EMAIL}
    assert browser.get("/api/workflows").status_code == 200


def test_without_next_the_login_goes_to_the_workflows(browser, user):
    assert see_other(log_in(browser, email=EMAIL, password=PASSWORD)) == "/workflows"


def test_next_falls_back_to_the_login_pages_own_query(browser, user, server):
    # the page fills its hidden `next` once loaded; a form sent before that still lands
    response = browser.post("/api/auth/login-form", data={"email": EMAIL,
                                                          "password": PASSWORD, "next": ""},
                            headers={"Referer": f"{server.url}/login?next=%2Fevents"})
    assert see_other(response) == "/events"


@pytest.mark.parametrize("password, email", [("wrong horse", EMAIL),
                                             (PASSWORD, "nobody@example.com")])
def test_a_bad_login_goes_back_with_an_error_and_sets_no_cookie(browser, user, password,
                                                                email):
    response = log_in(browser, email=email, password=password, next="/runs")
    location = see_other(response)
    assert location == "/login?error=1&next=%2Fruns"  # same for both: no email probing
    assert "set-cookie" not in response.headers
    assert SESSION_COOKIE not in browser.cookies
    assert browser.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "http://evil.com/workflows", "/\\evil.com",
    "/\t/evil.com", "evil.com", "javascript:alert(1)", "///evil.com",
])
def test_next_never_leaves_the_site(browser, user, target):
    # after a good login
    assert see_other(log_in(browser, email=EMAIL, password=PASSWORD,
                            next=target)) == "/workflows"
    # and after a bad one, where next is carried back to the login page
    back = urlsplit(see_other(log_in(browser, email=EMAIL, password="wrong horse",
                                     next=target)))
    assert back.path == "/login" and parse_qs(back.query)["next"] == ["/workflows"]


def test_local_path_keeps_local_paths_only():
    assert local_path("/workflows/3?x=1#y") == "/workflows/3?x=1#y"
    assert local_path("/") == "/"
    for bad in (None, "", "//x", "/\\x", "http://x", "x", "/a\nb", "/a\x7fb"):
        assert local_path(bad) == "/workflows", bad


@pytest.mark.parametrize("body, content_type", [
    (b"", "application/x-www-form-urlencoded"),
    (b"email=&password=", "application/x-www-form-urlencoded"),
    (b"%%%&&&==", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    (b'{"email": "admin@example.com", "password": "correct horse"}', "application/json"),
    (b"--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na\r\n--x--\r\n",
     "multipart/form-data; boundary=x"),
    (b"email=a&" * 5000, "application/x-www-form-urlencoded"),
])
def test_a_malformed_login_form_is_a_failed_login_not_a_server_error(browser, user, body,
                                                                      content_type):
    response = browser.post("/api/auth/login-form", content=body,
                            headers={"Content-Type": content_type})
    assert see_other(response).startswith("/login?error=1")
    assert SESSION_COOKIE not in browser.cookies


# -- logout -------------------------------------------------------------------------------


def test_logout_ends_the_session_and_clears_the_cookie(browser, user, server):
    see_other(log_in(browser, email=EMAIL, password=PASSWORD))
    token = browser.cookies[SESSION_COOKIE]

    response = browser.post("/api/auth/logout-form")

    assert see_other(response) == "/login"
    assert SESSION_COOKIE not in browser.cookies
    assert browser.get("/api/auth/me").status_code == 401
    with httpx.Client(base_url=server.url, timeout=30,
                      cookies={SESSION_COOKIE: token}) as replay:
        assert replay.get("/api/workflows").status_code == 401
    # logging out without a session is fine too
    assert see_other(browser.post("/api/auth/logout-form")) == "/login"


# -- setup --------------------------------------------------------------------------------


def set_up(browser: httpx.Client, email: str = EMAIL, password: str = PASSWORD,
           password2: str | None = None) -> httpx.Response:
    return browser.post("/api/auth/setup-form", data={
        "email": email, "password": password,
        "password2": password if password2 is None else password2})


@pytest.mark.parametrize("fields, code", [
    ({"password2": "other horse"}, "mismatch"),
    ({"password": "short"}, "password"),
    ({"email": "admin"}, "email"),
    ({"email": ""}, "email"),
])
def test_setup_sends_bad_input_back_with_a_code(browser, embedded, fields, code):
    assert see_other(set_up(browser, **fields)) == f"/setup?error={code}"
    assert Accounts(embedded.db).needs_setup()
    assert SESSION_COOKIE not in browser.cookies


def test_setup_creates_the_first_user_once(browser, embedded, server):
    # when the setup form is sent with no user yet
    response = set_up(browser, email="Admin@Example.com")

    # expect the user created, logged in and sent to the workflows
    assert see_other(response) == "/workflows"
    assert "HttpOnly" in response.headers["set-cookie"]
    assert browser.get("/api/auth/me").json() == {"email": EMAIL}

    # and any later setup sent to the login page, creating nobody
    with httpx.Client(base_url=server.url, timeout=30) as other:
        again = set_up(other, email="intruder@example.com")
        assert see_other(again) == "/login"
        assert "set-cookie" not in again.headers
        assert see_other(set_up(other, email="intruder@example.com",
                                password="short")) == "/login"
    assert Accounts(embedded.db).authenticate("intruder@example.com", PASSWORD) is None
    assert [u.email for u in Accounts(embedded.db).users.list()] == [EMAIL]
