"""Credential types: what a credential's value looks like when given, what it holds, and
how it is shown masked.

| type | value given as | data |
|---|---|---|
| `llm_api_key` | the key | `{"value"}` |
| `http_header` | `Header-Name: secret` | `{"name", "value"}` |
| `http_basic` | `user:password` | `{"user", "password"}` |
| `bearer_token` | the token | `{"value"}` |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from n8nclone.errors import UserInputError

NAME_MAX = 100
VALUE_MAX = 16 * 1024  # far above any real key; stops a pasted file from becoming a "secret"
HINT_CHARS = 4  # never more of a secret than this is shown
HINT_MIN_SECRET = 12  # shorter secrets get no characters shown at all
HIDDEN = "…"
# RFC 9110 token: the characters a header name may hold.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class CredentialType:
    name: str
    label: str
    value_format: str  # how the CLI and API take the value, for help and error messages
    parse: Callable[[str], dict[str, str]]
    hint: Callable[[dict[str, str]], str]


def mask(secret: str) -> str:
    """`…` plus the last 4 characters of `secret`; just `…` when it is shorter than 12."""
    if len(secret) < HINT_MIN_SECRET:
        return HIDDEN
    return HIDDEN + secret[-HINT_CHARS:]


def _no_control_characters(text: str, what: str) -> None:
    # A newline in a header value would let a secret inject headers; none belongs in a key.
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UserInputError(f"{what} must not hold control characters (such as a newline)")


def _secret(raw: str, what: str) -> str:
    value = raw.strip()
    if not value:
        raise UserInputError(f"{what} must not be empty")
    _no_control_characters(value, what)
    return value


def _parse_single(what: str) -> Callable[[str], dict[str, str]]:
    def parse(raw: str) -> dict[str, str]:
        return {"value": _secret(raw, what)}
    return parse


def _parse_header(raw: str) -> dict[str, str]:
    name, colon, value = raw.partition(":")
    name = name.strip()
    if not colon or not name:
        raise UserInputError("an http_header value is given as 'Header-Name: secret' "
                             "(the header name, a colon, then the secret)")
    if not _HEADER_NAME.match(name):
        raise UserInputError("the header name of an http_header value may hold only letters, "
                             "digits and !#$%&'*+-.^_`|~ (no spaces)")
    return {"name": name, "value": _secret(value, "the secret of an http_header value")}


def _parse_basic(raw: str) -> dict[str, str]:
    user, colon, password = raw.partition(":")
    if not colon or not user.strip():
        raise UserInputError("an http_basic value is given as 'user:password' "
                             "(the user, a colon, then the password)")
    if user != user.strip():
        raise UserInputError("the user of an http_basic value must not start or end with "
                             "spaces")
    _no_control_characters(user, "the user of an http_basic value")
    # The password is taken as given (spaces may belong to it); an empty one is allowed,
    # since some APIs take their key as the user of basic auth.
    _no_control_characters(password, "the password of an http_basic value")
    return {"user": user, "password": password}


def _basic_hint(data: dict[str, str]) -> str:
    if not data["password"]:  # the user is the secret (an API key as the user)
        return f"{mask(data['user'])}:"
    return f"{data['user']}:{mask(data['password'])}"


TYPES: dict[str, CredentialType] = {t.name: t for t in (
    CredentialType("llm_api_key", "LLM API key", "the key",
                   _parse_single("an llm_api_key value"), lambda d: mask(d["value"])),
    CredentialType("http_header", "HTTP header auth", "'Header-Name: secret'",
                   _parse_header, lambda d: f"{d['name']}: {mask(d['value'])}"),
    CredentialType("http_basic", "HTTP basic auth", "'user:password'",
                   _parse_basic, _basic_hint),
    CredentialType("bearer_token", "Bearer token", "the token",
                   _parse_single("a bearer_token value"), lambda d: mask(d["value"])),
)}


def credential_type(name: str) -> CredentialType:
    """The type called `name`, or UserInputError listing the types there are."""
    found = TYPES.get(name)
    if found is None:
        raise UserInputError(f"unknown credential type {name!r}: use one of "
                             + ", ".join(TYPES))
    return found


def parse_value(type_name: str, raw: str) -> dict[str, str]:
    """The data of a credential of type `type_name` given as `raw` (see the module table).
    A bad type or a malformed value raises UserInputError; no message holds the value."""
    kind = credential_type(type_name)
    if not isinstance(raw, str):
        raise UserInputError("a credential value must be text")
    if len(raw) > VALUE_MAX:
        raise UserInputError(f"a credential value is at most {VALUE_MAX} characters")
    return kind.parse(raw)


def masked_hint(type_name: str, data: dict[str, str]) -> str:
    """What listings show of a credential: never more than 4 characters of its secret."""
    return credential_type(type_name).hint(data)


def check_name(name: str) -> str:
    """A usable credential name, or UserInputError saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise UserInputError("a credential name must not be empty")
    if name != name.strip():
        raise UserInputError("a credential name must not start or end with spaces")
    if len(name) > NAME_MAX:
        raise UserInputError(f"a credential name is at most {NAME_MAX} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UserInputError("a credential name must not hold control characters")
    if "/" in name:  # it is a path segment of the API (/api/credentials/{name})
        raise UserInputError("a credential name must not hold '/'")
    return name
