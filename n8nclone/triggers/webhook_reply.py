"""A webhook's HTTP answer, independent of the web framework that sends it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class WebhookReply:
    """Status, body bytes and headers to send."""

    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class WebhookRefused(Exception):
    """The call is answered with an error (404, 401, 413 ...) before any run starts."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.reply = json_reply(status, {"detail": detail}, headers)


def json_reply(status: int, value: Any, headers: dict[str, str] | None = None) -> WebhookReply:
    """`value` as a JSON body."""
    content = json.dumps(value, separators=(",", ":")).encode()  # ASCII: lone surrogates too
    return WebhookReply(status, content, {"content-type": JSON_TYPE} | (headers or {}))


def run_accepted(run_id: str, status: str = "queued") -> WebhookReply:
    """202: the run is under way; its state is at the status URL."""
    url = f"/api/runs/{run_id}"
    return json_reply(202, {"id": run_id, "status": status, "url": url}, {"location": url})


def run_failed(run_id: str, status: str, error: dict | None) -> WebhookReply:
    """500: the workflow's failure (not the server's), with the step's error."""
    error = error or {}
    if status == "cancelled":
        detail = "the workflow run was cancelled"
    else:
        where = f"node '{error['node']}': " if error.get("node") else ""
        detail = f"the workflow run failed: {where}{error.get('message', 'unknown error')}"
    return json_reply(500, {"detail": detail, "id": run_id, "status": status,
                            "url": f"/api/runs/{run_id}", "error": error or None})


def node_reply(answer: dict) -> WebhookReply:
    """The answer a `webhook.respond` node set: text as text/plain, other values as JSON,
    None as no body; a content-type among the node's headers wins."""
    headers = dict(answer.get("headers") or {})
    has_type = any(name.lower() == "content-type" for name in headers)
    body = answer.get("body")
    if body is None:
        content = b""
    elif isinstance(body, str):
        content = body.encode("utf-8", "replace")  # a lone surrogate cannot be sent
        if not has_type:
            headers["content-type"] = TEXT_TYPE
    else:
        content = json.dumps(body, separators=(",", ":")).encode()
        if not has_type:
            headers["content-type"] = JSON_TYPE
    return WebhookReply(int(answer.get("status") or 200), content, headers)
