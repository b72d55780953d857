"""`http.request` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from n8nclone.engine.errors import NonRetriableError, RetryAfterError
from n8nclone.engine.retry import RetryPolicy
from n8nclone.nodes.base import Credential, NodeContext
from n8nclone.nodes.http_request import HttpRequest, parse_retry_after
from tests.utils.http_server import Reply, ScriptedServer


@pytest.fixture(scope="module")
def _module_server():
    # One real server for the module: stopping one costs 0.5 s (serve_forever's poll).
    server = ScriptedServer().start()
    # The timeout test's client hangs up before the stalled handler answers; the handler's
    # late write then fails with a broken pipe, which is expected, so keep it off stderr.
    server._server.handle_error = lambda request, client_address: None
    yield server
    server.stop()


@pytest.fixture
def http_server(_module_server):
    """The shared ScriptedServer, with this test's view of requests starting empty."""
    _module_server.requests.clear()
    return _module_server


def call(**params):
    """Execute http.request with `params` completed by the schema defaults."""
    ctx = NodeContext(run_id="r1", workflow_id=1, node_key="call", attempt=1, trigger=None)
    return HttpRequest().execute(ctx, HttpRequest.with_defaults(params))


def last_request(server) -> dict:
    return server.requests[-1]


def header(request: dict, name: str) -> str | None:
    values = [v for k, v in request["headers"].items() if k.lower() == name.lower()]
    assert len(values) <= 1, f"header {name} sent {len(values)} times"
    return values[0] if values else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- requests ----------------------------------------------------------------------------


def test_get_sends_query_and_headers(http_server):
    # given a server answering JSON
    http_server.script("/users", Reply(body={"users": [1, 2]}))

    # when a GET is made with query parameters and a header
    output = call(url=f"{http_server.url}/users", query={"page": 2, "q": "a b"},
                  headers={"X-Token": "secret", "X-Count": 5})

    # expect them on the wire, and the parsed JSON body in the output
    sent = last_request(http_server)
    assert sent["method"] == "GET"
    assert parse_qs(urlsplit(sent["path"]).query) == {"page": ["2"], "q": ["a b"]}
    assert header(sent, "x-token") == "secret"
    assert header(sent, "x-count") == "5"
    assert output["status"] == 200
    assert output["body"] == {"users": [1, 2]}


def test_query_parameters_are_added_to_the_urls_own_query(http_server):
    # given a URL that already has a query string
    # when query parameters are added
    call(url=f"{http_server.url}/search?a=1&b=old", query={"b": "new", "c": 3})

    # expect the URL's own parameters kept and the given ones merged in
    sent = last_request(http_server)
    assert parse_qs(urlsplit(sent["path"]).query) == {"a": ["1"], "b": ["new"], "c": ["3"]}


def test_url_query_is_kept_when_no_query_is_given(http_server):
    # given a URL with a query string and no query parameter
    # when called
    call(url=f"{http_server.url}/search?a=1")

    # expect the query sent as written
    assert last_request(http_server)["path"] == "/search?a=1"


def test_post_json_body(http_server):
    # given a JSON body
    # when POSTed
    output = call(method="POST", url=f"{http_server.url}/orders", body_type="json",
                  json={"order": 42, "lines": [{"sku": "a"}]})

    # expect JSON on the wire with a JSON content type
    sent = last_request(http_server)
    assert sent["method"] == "POST"
    assert json.loads(sent["body"]) == {"order": 42, "lines": [{"sku": "a"}]}
    assert header(sent, "content-type") == "application/json"
    assert output["status"] == 200


def test_raw_body_with_content_type(http_server):
    # given a raw XML body
    # when PUT
    call(method="PUT", url=f"{http_server.url}/doc", body_type="raw", body="<a>1</a>",
         content_type="application/xml")

    # expect the body as given, with its content type
    sent = last_request(http_server)
    assert sent["method"] == "PUT"
    assert sent["body"] == b"<a>1</a>"
    assert header(sent, "content-type") == "application/xml"


def test_explicit_content_type_header_wins_and_is_sent_once(http_server):
    # given a raw body with both a Content-Type header (any case) and content_type
    # when sent
    call(method="POST", url=f"{http_server.url}/doc", body_type="raw", body="x",
         headers={"Content-Type": "text/csv"}, content_type="application/xml")

    # expect one Content-Type, the header's
    assert header(last_request(http_server), "content-type") == "text/csv"


def test_form_body(http_server):
    # given form fields
    # when POSTed
    call(method="POST", url=f"{http_server.url}/login", body_type="form",
         form={"user": "ada", "pass": "s p"})

    # expect an urlencoded body
    sent = last_request(http_server)
    assert header(sent, "content-type") == "application/x-www-form-urlencoded"
    assert parse_qs(sent["body"].decode()) == {"user": ["ada"], "pass": ["s p"]}


def test_body_params_are_ignored_unless_body_type_says_so(http_server):
    # given a json parameter but body_type left at "none"
    # when called
    call(method="POST", url=f"{http_server.url}/x", json={"ignored": True})

    # expect no body sent
    assert last_request(http_server)["body"] == b""


@pytest.mark.parametrize("method", ["put", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_every_method_is_sent_as_written_in_upper_case(http_server, method):
    # given a method (any case)
    # when called
    output = call(method=method, url=f"{http_server.url}/m")

    # expect it used
    assert last_request(http_server)["method"] == method.upper()
    assert output["status"] == 200


# -- responses ---------------------------------------------------------------------------


def test_output_holds_status_headers_and_parsed_json(http_server):
    # given a 201 JSON answer with a custom header
    http_server.script("/made", Reply(status=201, body={"id": 7}, headers={"X-Request-Id": "abc"}))

    # when called
    output = call(method="POST", url=f"{http_server.url}/made")

    # expect status, lower-case headers and the parsed body, all JSON-ready
    assert output["status"] == 201
    assert output["headers"]["x-request-id"] == "abc"
    assert output["headers"]["content-type"] == "application/json"
    assert output["body"] == {"id": 7}
    json.dumps(output)


def test_text_body_stays_text(http_server):
    # given a plain-text answer that looks like JSON
    http_server.script("/t", Reply(body='{"a": 1}', headers={"content-type": "text/plain"}))

    # when called
    output = call(url=f"{http_server.url}/t")

    # expect the text, not a parsed object
    assert output["body"] == '{"a": 1}'


def test_malformed_json_body_falls_back_to_text(http_server):
    # given a JSON content type with a body that is not JSON
    http_server.script("/bad", Reply(body="not json {"))

    # when called
    output = call(url=f"{http_server.url}/bad")

    # expect the text rather than an error
    assert output["body"] == "not json {"


# -- error statuses ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_429_and_5xx_without_retry_after_are_retriable(http_server, status):
    # given a server failing with that status
    http_server.script("/flaky", Reply(status=status, body={"error": "busy"}))

    # when called
    with pytest.raises(RuntimeError) as caught:
        call(url=f"{http_server.url}/flaky")

    # expect a plain (retriable) error naming the status and showing the body
    assert not isinstance(caught.value, (NonRetriableError, RetryAfterError))
    assert str(status) in str(caught.value)
    assert "busy" in str(caught.value)
    assert RetryPolicy().decide(caught.value, 1).retry is True


def test_429_with_retry_after_seconds_raises_retry_after(http_server):
    # given a 429 asking to wait 120 s
    http_server.script("/limited", Reply(status=429, headers={"Retry-After": "120"}))

    # when called
    with pytest.raises(RetryAfterError) as caught:
        call(url=f"{http_server.url}/limited")

    # expect the seconds carried, and the retry scheduled no sooner
    assert caught.value.retry_after == 120.0
    now = datetime.now(UTC)
    assert RetryPolicy().decide(caught.value, 1, now).at == now + timedelta(seconds=120)


def test_503_with_retry_after_http_date_raises_retry_after(http_server):
    # given a 503 asking to come back at a given time
    when = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    http_server.script("/down", Reply(status=503, headers={
        "Retry-After": email.utils.format_datetime(when, usegmt=True)}))

    # when called
    with pytest.raises(RetryAfterError) as caught:
        call(url=f"{http_server.url}/down")

    # expect that time, as an aware UTC datetime
    assert caught.value.retry_after == when
    assert caught.value.retry_after.tzinfo is not None


def test_unreadable_retry_after_falls_back_to_normal_backoff(http_server):
    # given a 503 whose Retry-After cannot be read
    http_server.script("/down", Reply(status=503, headers={"Retry-After": "soon-ish"}))

    # when called
    # expect an ordinary retriable error
    with pytest.raises(RuntimeError) as caught:
        call(url=f"{http_server.url}/down")
    assert not isinstance(caught.value, RetryAfterError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_4xx_fail_at_once(http_server, status):
    # given a client error
    http_server.script("/nope", Reply(status=status, body={"error": "no"}))

    # when called
    with pytest.raises(NonRetriableError) as caught:
        call(url=f"{http_server.url}/nope")

    # expect the status in the message and no retry
    assert str(status) in str(caught.value)
    assert RetryPolicy().decide(caught.value, 1).retry is False


def test_error_status_is_output_when_fail_on_error_status_is_off(http_server):
    # given a 404 and fail_on_error_status off
    http_server.script("/gone", Reply(status=404, body={"error": "gone"}))

    # when called
    output = call(url=f"{http_server.url}/gone", fail_on_error_status=False)

    # expect it output like any other answer
    assert output["status"] == 404
    assert output["body"] == {"error": "gone"}


def test_server_error_is_output_when_fail_on_error_status_is_off(http_server):
    # given a 500 and fail_on_error_status off
    http_server.script("/boom", Reply(status=500, body="oops",
                                      headers={"content-type": "text/plain"}))

    # when called
    output = call(url=f"{http_server.url}/boom", fail_on_error_status=False)

    # expect the answer, not an error
    assert (output["status"], output["body"]) == (500, "oops")


# -- transport errors --------------------------------------------------------------------


def test_connection_refused_is_a_retriable_connection_error():
    # given a port nobody listens on
    url = f"http://127.0.0.1:{free_port()}/x"

    # when called
    with pytest.raises(ConnectionError) as caught:
        call(url=url, timeout=5)

    # expect a ConnectionError, which the policy retries
    assert RetryPolicy().decide(caught.value, 1).retry is True


def test_timeout_is_a_retriable_timeout_error(http_server):
    # given a server that does not answer until released
    release = threading.Event()
    http_server.script("/slow", Reply(stall=release))

    # when called with a short timeout
    try:
        with pytest.raises(TimeoutError) as caught:
            call(url=f"{http_server.url}/slow", timeout=0.2)
    finally:
        release.set()

    # expect a TimeoutError naming the timeout, which the policy retries
    assert "timed out after 0.2 s" in str(caught.value)
    assert RetryPolicy().decide(caught.value, 1).retry is True


# -- bad parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://example.test/file", "example.test/path", "", None, 42,
                                 "http://[::1", "http:///no-host"])
def test_bad_url_fails_at_once(url):
    # given a URL that can never work
    # when called
    # expect a NonRetriableError, not a retried connection error
    with pytest.raises(NonRetriableError):
        call(url=url)


@pytest.mark.parametrize(("params", "fragment"), [
    ({"method": "FETCH"}, "unknown HTTP method"),
    ({"headers": ["a"]}, "headers must be an object"),
    ({"query": "a=1"}, "query must be an object"),
    ({"timeout": "soon"}, "timeout must be a number"),
])
def test_bad_parameters_fail_at_once(params, fragment):
    # given a parameter with an unusable (rendered) value
    # when called
    with pytest.raises(NonRetriableError) as caught:
        call(url="http://127.0.0.1:9/x", **params)

    # expect a message naming the problem
    assert fragment in str(caught.value)


# -- Retry-After parsing -----------------------------------------------------------------


def test_parse_retry_after_forms():
    # given the header forms servers send
    # when parsed
    # expect seconds, an aware datetime, or None
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 5 ") == 5.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == datetime(2015, 10, 21, 7, 28,
                                                                         tzinfo=UTC)
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("later") is None
    assert parse_retry_after("-5") is None


# -- credentials --------------------------------------------------------------------------


def call_with(credential: Credential, **params):
    """Execute http.request whose `credential` parameter names `credential`."""
    ctx = NodeContext(run_id="r1", workflow_id=1, node_key="call", attempt=1, trigger=None,
                      find_credential=lambda name: credential)
    return HttpRequest().execute(ctx, HttpRequest.with_defaults(
        params | {"credential": credential.name})), ctx


@pytest.mark.parametrize(("credential", "name", "value"), [
    (Credential("h", "http_header", {"name": "X-Api-Key", "value": "k-123456789"}),
     "x-api-key", "k-123456789"),
    (Credential("b", "bearer_token", {"value": "tok-123456789"}),
     "authorization", "Bearer tok-123456789"),
    (Credential("u", "http_basic", {"user": "ada", "password": "pa:ss-123"}),
     "authorization", "Basic YWRhOnBhOnNzLTEyMw=="),
])
def test_a_credential_authenticates_the_request(http_server, credential, name, value):
    # when a request names a credential, and also sets that header itself
    _, ctx = call_with(credential, url=f"{http_server.url}/me",
                       headers={"Authorization": "mine", "X-Api-Key": "mine"})

    # expect the credential's header on the wire, winning over the written one
    assert header(last_request(http_server), name) == value
    # and its secret noted, so the engine masks it wherever the step's data is stored
    assert ctx.revealed & set(credential.data.values())


def test_a_credential_of_another_kind_fails_clearly(http_server):
    with pytest.raises(NonRetriableError, match="type llm_api_key; an HTTP request takes"):
        call_with(Credential("ai", "llm_api_key", {"value": "sk-1"}), url=http_server.url)
    assert http_server.requests == []
