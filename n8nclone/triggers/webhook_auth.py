"""A webhook's optional authentication: a secret in a header, or HTTP basic auth.

Secrets are compared in constant time and never logged or echoed; a webhook whose secret
is missing refuses every call (it must not be open by mistake).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from n8nclone.triggers.webhook_reply import WebhookRefused

BASIC_CHALLENGE = {"www-authenticate": 'Basic realm="webhook", charset="UTF-8"'}


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def credential_headers(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Request headers that carry this webhook's credentials (kept out of the run input)."""
    if params.get("auth") == "header":
        return (str(params.get("header_name") or ""),)
    if params.get("auth") == "basic":
        return ("authorization",)
    return ()


def check_auth(params: Mapping[str, Any], headers: Mapping[str, str]) -> None:
    """Raise WebhookRefused (401) unless the call carries the webhook's credentials.
    `headers` must look names up without regard to case (as Starlette's do)."""
    auth = params.get("auth") or "none"
    if auth == "header":
        name, secret = params.get("header_name") or "", params.get("secret") or ""
        given = headers.get(name) if name else None
        if given is None:
            raise WebhookRefused(401, f"missing the header {name}")
        if not secret or not _same(given, secret):
            raise WebhookRefused(401, f"wrong value in the header {name}")
    elif auth == "basic":
        user, password = basic_credentials(headers.get("authorization"))
        expected_user, expected_password = params.get("user") or "", params.get("password") or ""
        # Both comparisons always run: the time taken must not tell which one failed.
        user_ok = _same(user, expected_user)
        password_ok = _same(password, expected_password)
        if not (expected_user and expected_password and user_ok and password_ok):
            raise WebhookRefused(401, "wrong or missing basic auth credentials",
                                 BASIC_CHALLENGE)
    elif auth != "none":
        raise WebhookRefused(401, f"unknown webhook auth {auth!r}")


def basic_credentials(authorization: str | None) -> tuple[str, str]:
    """(user, password) of a `Basic` Authorization header; empty strings when absent or
    malformed."""
    if not authorization:
        return "", ""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else ("", "")
