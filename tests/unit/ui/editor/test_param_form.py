"""The side panel's parameter form."""

from __future__ import annotations

from n8nclone.nodes.registry import default_registry
from n8nclone.ui.editor.param_form import (
    form_fields,
    param_schema,
    param_text,
    param_visible,
    parse_param,
    updated_params,
)

DESCRIBE = {t.type: t.describe() for t in default_registry().all()}


def test_form_fields_follow_the_schema_and_show_if() -> None:
    info = DESCRIBE["trigger.webhook"]
    fields = form_fields(info, {"path": "orders", "auth": "header"}, {"path": "bad"}, "hook:1")
    by_name = {f["name"]: f for f in fields}
    assert by_name["path"]["required"] and by_name["path"]["text"] == "orders"
    assert by_name["path"]["error"] == "bad" and by_name["path"]["key"] == "hook:1:path"
    assert by_name["method"]["type"] == "options" and by_name["method"]["choice"] == "POST"
    assert by_name["secret"]["secret"] is True  # shown: auth is header
    assert "user" not in by_name and "password" not in by_name  # auth is not basic
    assert "wait_seconds" not in by_name  # response_mode defaults to immediately
    http = {f["name"]: f for f in form_fields(DESCRIBE["http.request"], {}, {}, "k")}
    assert http["timeout"]["placeholder"] == "default: 30"
    assert http["follow_redirects"]["checked"] is True
    assert "json" not in http  # body_type none


def test_param_text_shows_each_kind_of_value() -> None:
    text = {"type": "string"}
    assert param_text(text, None) == ""
    assert param_text(text, "hi") == "hi"
    assert param_text(text, True) == "true"
    assert param_text(text, 30) == "30"
    assert param_text({"type": "json"}, {"a": 1}) == '{\n  "a": 1\n}'


def test_param_visible_needs_every_show_if_condition() -> None:
    param = {"name": "user", "show_if": {"auth": ["basic"], "on": [True]}}
    assert param_visible(param, {"auth": "basic", "on": True})
    assert not param_visible(param, {"auth": "basic"})
    assert param_visible({"name": "path"}, {})


def test_parse_param_by_type_accepts_templates_and_empties_remove() -> None:
    number = {"name": "timeout", "type": "number"}
    assert parse_param(number, "2.5") == (True, 2.5, "")
    assert parse_param(number, "30") == (True, 30, "")
    assert parse_param(number, "{{ trigger.t }}") == (True, "{{ trigger.t }}", "")
    assert parse_param(number, "soon")[2].startswith("must be a number")
    assert parse_param(number, "  ") == (False, None, "")
    assert parse_param({"name": "n", "type": "integer"}, "2.5")[2]
    as_json = {"name": "values", "type": "json"}
    assert parse_param(as_json, '{"a": "{{ x }}"}') == (True, {"a": "{{ x }}"}, "")
    assert parse_param(as_json, "{nope")[2].startswith("not valid JSON")
    assert parse_param(as_json, "{{ steps.a.output }}") == (True, "{{ steps.a.output }}", "")
    assert parse_param({"name": "d", "type": "duration"}, "90") == (True, 90, "")
    assert parse_param({"name": "d", "type": "duration"}, "5m") == (True, "5m", "")
    assert parse_param({"name": "b", "type": "boolean"}, False) == (True, False, "")
    options = {"name": "m", "type": "options", "options": ["GET", "POST"]}
    assert parse_param(options, "PUT")[2] == "must be one of GET, POST"


def test_param_schema_finds_a_parameter_of_the_type() -> None:
    assert param_schema(DESCRIBE["http.request"], "url")["name"] == "url"
    assert param_schema(DESCRIBE["http.request"], "nope") is None
    assert param_schema({}, "url") is None


def test_updated_params_is_none_when_nothing_changes() -> None:
    params = {"url": "http://a"}
    assert updated_params(params, "url", True, "http://a") is None
    assert updated_params(params, "timeout", False, None) is None
    assert updated_params(params, "url", False, None) == {}
    assert updated_params(params, "timeout", True, 5) == {"url": "http://a", "timeout": 5}
    assert params == {"url": "http://a"}  # the input is left alone
