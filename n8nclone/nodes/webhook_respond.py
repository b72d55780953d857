"""`webhook.respond`: sets the HTTP answer of a webhook in `respond_node` mode.

The answer is sent as soon as this step's checkpoint is committed; the run goes on. The
step's output is the answer itself (`{"status", "headers", "body"}`).
"""

from __future__ import annotations

import re
from typing import Any

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)
# Framing is the server's business: a node must not be able to break the HTTP message.
_FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}


def response_headers(headers: Any) -> dict[str, str]:
    """Header names and values checked (no CR/LF injection), values as text."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise NonRetriableError("headers must be an object of header names to values")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        text = value if isinstance(value, str) else str(value)
        if not _TOKEN.match(name):
            raise NonRetriableError(f"header name {name!r} is not valid")
        if any(c in text for c in "\r\n\0"):
            raise NonRetriableError(f"header {name!r}: a value cannot contain line breaks")
        if name.lower() not in _FRAMING_HEADERS:
            checked[name] = text
    return checked


class WebhookRespond(NodeType):
    """Sets the HTTP answer of the webhook call that started the run."""

    type = "webhook.respond"
    label = "Respond to webhook"
    group = "flow"
    description = ("Sets the status, headers and body of the webhook's HTTP answer (trigger "
                   "response mode respond_node). The answer leaves at once; the run goes on.")
    params = (
        Param("status", "integer", default=200, help="HTTP status, 200 to 599."),
        Param("headers", "json", default={}, help='e.g. {"X-Order": "{{ trigger.body.id }}"}'),
        Param("body", "json",
              help="Text is sent as text/plain, anything else as JSON (unless headers set "
                   "the content-type); empty: no body."),
    )

    def execute(self, ctx: NodeContext, params: dict) -> dict:
        """The answer, checked: `{"status", "headers", "body"}`."""
        status = params["status"]
        if isinstance(status, str) and status.strip().isdigit():
            status = int(status)  # "{{ ... }}" inside text renders to text
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
            raise NonRetriableError(f"status must be a number from 200 to 599, not {status!r}")
        return {"status": status, "headers": response_headers(params["headers"]),
                "body": params["body"]}


NODE_TYPE = WebhookRespond
