"""Keep secrets a step saw (its credentials) out of what the engine stores about it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words, not secrets


def scrub_secrets(value: Any, secrets: Collection[str]) -> Any:
    """`value` (JSON data) with every occurrence of each secret replaced by ***, in strings
    and keys at any depth. The longest secrets go first, so one containing another is
    masked whole."""
    secrets = sorted((s for s in secrets if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)
    if not secrets:
        return value
    return _scrub(value, secrets)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {_scrub(k, secrets): _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value
