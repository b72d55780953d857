"""`trigger.webhook`: started by an HTTP call to `/webhook/<path>` (or `/webhook-test/<path>`).

The step outputs the run's input: the call's method, path, query, headers and body. How the
call is answered (at once, with the last node's output, or by a `webhook.respond` node) and
how it is authenticated are parameters; the HTTP side lives in `n8nclone.triggers.webhooks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from n8nclone.graph.problems import Problem, WorkflowInvalid
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param
from n8nclone.triggers.registration import Registration

KIND = "trigger.webhook"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
RESPONSE_MODES = ("immediately", "last_node", "respond_node")
AUTH_MODES = ("none", "header", "basic")
SECRET_PARAMS = ("secret", "password")
MASK = "********"
# Characters a URL path keeps as they are (no %-escapes: the router sees decoded paths).
_PATH_CHARS = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/-]+$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def normalize_path(path: str) -> str:
    """The path as registered and looked up: no leading, trailing or doubled slashes."""
    return "/".join(part for part in path.strip().split("/") if part)


def registration_key(method: str, path: str) -> str:
    """What a webhook is found by: `"POST orders/new"`."""
    return f"{method.upper()} {normalize_path(path)}"


@dataclass(frozen=True)
class FixedParam(Param):
    """A parameter read when the workflow is saved or called, not when a step runs: a
    template makes no sense there, so it is a problem at save."""

    def check_literal(self, value: Any) -> str | None:
        if isinstance(value, str) and "{{" in value:
            return f"parameter '{self.name}' cannot be a template"
        return super().check_literal(value)


@dataclass(frozen=True)
class PathParam(FixedParam):
    """The webhook path: URL path characters, no `.` or `..` segments."""

    def check_literal(self, value: Any) -> str | None:
        problem = super().check_literal(value)
        if problem or not isinstance(value, str):
            return problem
        path = normalize_path(value)
        if not path:
            return f"missing required parameter '{self.name}'"
        if not _PATH_CHARS.match(path) or any(p in (".", "..") for p in path.split("/")):
            return (f"parameter '{self.name}' must be a URL path (letters, digits and "
                    "-._~!$&'()*+,;=:@ separated by /)")
        return None


@dataclass(frozen=True)
class WaitParam(FixedParam):
    """Seconds to wait for the answer: not negative."""

    def check_literal(self, value: Any) -> str | None:
        problem = super().check_literal(value)
        if problem is None and isinstance(value, (int, float)) and value < 0:
            return f"parameter '{self.name}' must be at least 0"
        return problem


@dataclass(frozen=True)
class HeaderNameParam(FixedParam):
    """An HTTP header name (a token, RFC 9110)."""

    def check_literal(self, value: Any) -> str | None:
        problem = super().check_literal(value)
        if problem is None and isinstance(value, str) and value and not _TOKEN.match(value):
            return f"parameter '{self.name}' must be an HTTP header name"
        return problem


_AUTH_HEADER = {"auth": ("header",)}
_AUTH_BASIC = {"auth": ("basic",)}


class WebhookTrigger(NodeType):
    """Starts a run per HTTP call; the call is the run's input."""

    type = KIND
    label = "Webhook"
    group = "trigger"
    is_trigger = True
    description = ("Starts the workflow when /webhook/<path> is called (the saved, active "
                   "workflow) or /webhook-test/<path> (the latest version, even inactive). "
                   "Outputs the call: method, path, query, headers and body.")
    params: ClassVar[tuple[Param, ...]] = (
        PathParam("path", required=True, help="e.g. orders, or orders/new"),
        FixedParam("method", "options", default="POST", options=METHODS),
        FixedParam("response_mode", "options", default="immediately", options=RESPONSE_MODES,
                   help="immediately: 202 with the run id; last_node: the output of the "
                        "run's last node once it finishes; respond_node: what a "
                        "webhook.respond node sets, as soon as it has run."),
        WaitParam("wait_seconds", "number",
                  help="How long last_node and respond_node wait before answering 202 with "
                       "the run id (default N8NCLONE_WEBHOOK_WAIT_SECONDS).",
                  show_if={"response_mode": ("last_node", "respond_node")}),
        FixedParam("auth", "options", default="none", options=AUTH_MODES,
                   help="header: a secret in a request header; basic: HTTP basic auth."),
        HeaderNameParam("header_name", default="X-Webhook-Secret", show_if=_AUTH_HEADER),
        FixedParam("secret", help="The header's expected value.", show_if=_AUTH_HEADER,
                   secret=True),
        FixedParam("user", show_if=_AUTH_BASIC),
        FixedParam("password", show_if=_AUTH_BASIC, secret=True),
    )

    def execute(self, ctx: NodeContext, params: dict) -> Any:
        """The call (the run's input)."""
        return ctx.trigger

    @classmethod
    def with_secrets(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults filled in, secrets kept: for checking a call's credentials only."""
        return super().with_defaults(params)

    @classmethod
    def with_defaults(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults filled in and the secrets masked. What the engine renders is recorded as
        the step's input (and shown in the run history), and registrations are stored apart:
        neither needs a secret. The call's authentication reads the version's plan."""
        merged = super().with_defaults(params)
        for name in SECRET_PARAMS:
            if merged.get(name):
                merged[name] = MASK
        return merged

    @classmethod
    def registration(cls, params: dict[str, Any]) -> Registration:
        """One active workflow per method and path: a second is refused at save (422)."""
        problems = auth_problems(params)
        if problems:
            raise WorkflowInvalid(problems)
        return Registration(kind=KIND, key=registration_key(params["method"], params["path"]),
                            exclusive=True, config=dict(params))


def auth_problems(params: dict[str, Any]) -> list[Problem]:
    """What the chosen authentication is missing (a webhook must not be open by mistake)."""
    needed = {"header": ("header_name", "secret"), "basic": ("user", "password")}
    return [Problem(f"webhook auth '{params['auth']}' needs the parameter '{name}'",
                    field=f"params.{name}")
            for name in needed.get(params.get("auth"), ()) if not params.get(name)]


NODE_TYPE = WebhookTrigger
