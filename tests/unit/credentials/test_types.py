"""Credential types: values parsed into data, malformed ones refused with a message that
never holds the secret, and hints that show at most the last 4 characters of a secret."""

from __future__ import annotations

import pytest

from n8nclone.credentials.types import TYPES, check_name, masked_hint, parse_value
from n8nclone.errors import UserInputError

SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize("type_name, raw, data", [
    ("llm_api_key", SECRET, {"value": SECRET}),
    ("llm_api_key", f"  {SECRET}  ", {"value": SECRET}),
    ("bearer_token", SECRET, {"value": SECRET}),
    ("http_header", f"X-Api-Key: {SECRET}", {"name": "X-Api-Key", "value": SECRET}),
    ("http_header", f"Authorization:Token {SECRET}",
     {"name": "Authorization", "value": f"Token {SECRET}"}),
    ("http_basic", "alice:pa:ss word ", {"user": "alice", "password": "pa:ss word "}),
    ("http_basic", f"{SECRET}:", {"user": SECRET, "password": ""}),
])
def test_values_are_parsed_into_the_types_data(type_name, raw, data):
    assert parse_value(type_name, raw) == data


def test_an_unknown_type_names_the_types_there_are():
    with pytest.raises(UserInputError) as caught:
        parse_value("api_key", SECRET)
    message = str(caught.value)
    assert "unknown credential type 'api_key'" in message
    assert all(name in message for name in TYPES)


@pytest.mark.parametrize("type_name, raw, fragment", [
    ("llm_api_key", "   ", "must not be empty"),
    ("bearer_token", f"{SECRET}\nX-Evil: 1", "control characters"),
    ("http_header", SECRET, "'Header-Name: secret'"),
    ("http_header", f": {SECRET}", "'Header-Name: secret'"),
    ("http_header", f"X Api Key: {SECRET}", "no spaces"),
    ("http_header", "X-Api-Key:   ", "must not be empty"),
    ("http_header", f"X-Api-Key: {SECRET}\r\nHost: evil", "control characters"),
    ("http_basic", SECRET, "'user:password'"),
    ("http_basic", f":{SECRET}", "'user:password'"),
    ("http_basic", f"alice:{SECRET}\n", "control characters"),
])
def test_malformed_values_are_refused_without_echoing_the_secret(type_name, raw, fragment):
    with pytest.raises(UserInputError) as caught:
        parse_value(type_name, raw)
    assert fragment in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_value_longer_than_16_kib_is_refused():
    with pytest.raises(UserInputError, match="at most"):
        parse_value("bearer_token", "x" * (16 * 1024 + 1))


@pytest.mark.parametrize("type_name, raw, hint", [
    ("llm_api_key", SECRET, "…cdef"),
    ("bearer_token", "short-token", "…"),  # 11 characters: none shown
    ("bearer_token", "twelve-chars", "…hars"),
    ("http_header", f"X-Api-Key: {SECRET}", "X-Api-Key: …cdef"),
    ("http_basic", f"alice:{SECRET}", "alice:…cdef"),
    ("http_basic", "alice:pw", "alice:…"),
    ("http_basic", f"{SECRET}:", "…cdef:"),  # an API key given as the user is masked
])
def test_hints_show_at_most_the_last_4_characters_of_the_secret(type_name, raw, hint):
    assert masked_hint(type_name, parse_value(type_name, raw)) == hint


@pytest.mark.parametrize("length", range(1, 40))
def test_no_hint_shows_more_than_4_characters_of_a_secret(length):
    secret = "".join(chr(ord("a") + i % 26) for i in range(length))
    hint = masked_hint("llm_api_key", parse_value("llm_api_key", secret))
    shown = hint.removeprefix("…")
    assert len(shown) <= 4 and secret.endswith(shown)
    assert shown == "" or length >= 12


@pytest.mark.parametrize("name, fragment", [
    ("", "must not be empty"), ("  ", "must not be empty"), (" openai", "spaces"),
    ("x" * 101, "at most 100"), ("bad\nname", "control characters"), ("a/b", "'/'"),
])
def test_unusable_names_are_refused(name, fragment):
    with pytest.raises(UserInputError, match=fragment):
        check_name(name)


def test_usual_names_are_accepted():
    for name in ("openai", "Stripe live key", "github.token-2", "x" * 100):
        assert check_name(name) == name
