"""`http.request`: one HTTP call.

429, 5xx, timeouts and connection errors are retriable (a 429/503 with
Retry-After is retried no sooner than it asks); other 4xx fail at once.
"""

from __future__ import annotations

import base64
import email.utils
import threading
from datetime import UTC, datetime

import httpx

from n8nclone.engine.errors import NonRetriableError, RetryAfterError
from n8nclone.nodes.base import Credential, NodeContext, NodeType
from n8nclone.nodes.schema import Param

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_client: httpx.Client | None = None
_client_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """One pooled client per process (httpx.Client is thread-safe)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(limits=httpx.Limits(max_connections=100))
        return _client


def parse_retry_after(value: str | None) -> float | datetime | None:
    """A Retry-After header as seconds or a UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _body(response: httpx.Response):
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


class HttpRequest(NodeType):
    type = "http.request"
    label = "HTTP request"
    group = "http"
    waits_on_io = True
    description = "Makes one HTTP call. Outputs status, headers and the parsed body."
    params = (
        Param("method", "options", default="GET", options=METHODS),
        Param("url", "string", required=True, help="Full URL, e.g. https://api.example.com/users."),
        Param("headers", "json", default={}, help="Header names to values."),
        Param("credential", "string",
              help="Name of a stored credential (http_header, http_basic or bearer_token) "
                   "to authenticate with."),
        Param("query", "json", default={}, help="Query string parameters."),
        Param("body_type", "options", default="none", options=("none", "json", "raw", "form")),
        Param("json", "json", help="JSON body.", show_if={"body_type": ("json",)}),
        Param("body", "text", help="Raw body text.", show_if={"body_type": ("raw",)}),
        Param("form", "json", help="Form fields.", show_if={"body_type": ("form",)}),
        Param("content_type", "string", help="Content-Type of a raw body.",
              show_if={"body_type": ("raw",)}),
        Param("timeout", "number", default=30, help="Seconds before the call is abandoned."),
        Param("follow_redirects", "boolean", default=True),
        Param("fail_on_error_status", "boolean", default=True,
              help="Fail the step on a 4xx/5xx response (off: output it like any other)."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        request = self._build_request(params)
        if params.get("credential"):
            authenticate(request, ctx.credential(params["credential"]))
        try:
            response = shared_client().send(request, follow_redirects=params["follow_redirects"])
        except httpx.TimeoutException:
            raise TimeoutError(f"{request.method} {request.url} timed out after "
                               f"{params['timeout']} s") from None
        except httpx.TransportError as exc:
            raise ConnectionError(f"{request.method} {request.url}: {exc}") from None
        output = {"status": response.status_code, "headers": dict(response.headers),
                  "body": _body(response)}
        if params["fail_on_error_status"] and response.status_code >= 400:
            self._raise_for_status(request, response)
        return output

    def _build_request(self, params: dict) -> httpx.Request:
        method = str(params["method"]).upper()
        if method not in METHODS:
            raise NonRetriableError(f"unknown HTTP method {params['method']!r}")
        url = params["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise NonRetriableError(f"url must start with http:// or https://, got {url!r}")
        for name in ("headers", "query"):
            if params[name] is not None and not isinstance(params[name], dict):
                raise NonRetriableError(f"{name} must be an object")
        try:
            timeout = float(params["timeout"])
        except (TypeError, ValueError):
            raise NonRetriableError(
                f"timeout must be a number, got {params['timeout']!r}") from None
        headers = {str(k): str(v) for k, v in (params["headers"] or {}).items()}
        kwargs: dict = {}
        body_type = params["body_type"]
        if body_type == "json":
            kwargs["json"] = params["json"]
        elif body_type == "form":
            kwargs["data"] = params["form"] or {}
        elif body_type == "raw":
            kwargs["content"] = "" if params["body"] is None else str(params["body"])
            # a Content-Type given in headers wins (header names are case-insensitive)
            if params["content_type"] and not any(k.lower() == "content-type" for k in headers):
                headers["content-type"] = params["content_type"]
        try:
            # merged, not passed as params=: httpx would drop the URL's own query string
            full_url = httpx.URL(url).copy_merge_params(params["query"] or {})
            request = shared_client().build_request(
                method, full_url, headers=headers, timeout=timeout, **kwargs)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise NonRetriableError(f"cannot build the request: {exc}") from None
        if not request.url.host:
            raise NonRetriableError(f"url has no host: {url!r}")
        return request

    @staticmethod
    def _raise_for_status(request: httpx.Request, response: httpx.Response) -> None:
        status = response.status_code
        message = f"{request.method} {request.url} answered {status} {response.reason_phrase}"
        snippet = response.text[:300]
        if snippet:
            message += f": {snippet}"
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                raise RetryAfterError(message, retry_after)
            raise RuntimeError(message)  # retriable with the normal backoff
        raise NonRetriableError(message)


def authenticate(request: httpx.Request, credential: Credential) -> None:
    """Add the credential's header to the request (it wins over a header of the same name)."""
    data = credential.data
    if credential.type == "http_header":
        request.headers[data["name"]] = data["value"]
    elif credential.type == "bearer_token":
        request.headers["Authorization"] = f"Bearer {data['value']}"
    elif credential.type == "http_basic":
        pair = f"{data['user']}:{data['password']}".encode()
        request.headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    else:
        raise NonRetriableError(f"credential '{credential.name}' is of type {credential.type}; "
                                "an HTTP request takes http_header, http_basic or bearer_token")


NODE_TYPE = HttpRequest
