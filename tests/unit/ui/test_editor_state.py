"""The editor's conversions between the workflow file and React Flow's nodes and edges."""

from __future__ import annotations

import json

import pytest

from n8nclone.nodes.registry import default_registry
from n8nclone.ui.state.editor import (
    flow_edge,
    flow_node,
    form_fields,
    new_node_key,
    node_id_of_edge,
    parse_param,
    rename_in_edges,
    settings_form_values,
    settings_from_form,
    shown_json,
    step_paint,
)

DESCRIBE = {t.type: t.describe() for t in default_registry().all()}


def test_flow_node_places_the_node_and_lists_its_ports() -> None:
    shaped = flow_node({"key": "check", "type": "flow.if", "position": [10, 20]}, DESCRIBE)
    assert shaped["id"] == "check" and shaped["type"] == "n8n"
    assert shaped["position"] == {"x": 10, "y": 20}
    assert shaped["data"] == {"label": "check", "type": "flow.if", "outputs": ["true", "false"],
                              "is_trigger": False}


def test_a_trigger_node_has_no_input_and_a_missing_position_is_the_origin() -> None:
    shaped = flow_node({"key": "start", "type": "trigger.manual"}, DESCRIBE)
    assert shaped["position"] == {"x": 0, "y": 0}
    assert shaped["data"]["is_trigger"] is True


def test_flow_edge_uses_the_port_as_source_handle_and_label() -> None:
    edge = {"from": "check", "port": "false", "to": "small"}
    assert flow_edge(edge) == {"id": "check:false->small", "source": "check", "target": "small",
                               "sourceHandle": "false", "targetHandle": "in", "label": "false"}
    plain = flow_edge({"from": "a", "to": "b"})
    assert plain["sourceHandle"] == "main" and "label" not in plain
    assert node_id_of_edge({"from": "a", "to": "b"}) == plain["id"]


def test_new_node_key_takes_the_first_free_number() -> None:
    assert new_node_key("http.request", set()) == "request_1"
    assert new_node_key("flow.if", {"if_1", "if_2"}) == "if_3"
    assert new_node_key("x.9lives", set()) == "n_9lives_1"


def test_flow_node_carries_a_problem_and_a_run_status_when_there_are_some() -> None:
    shaped = flow_node({"key": "call", "type": "http.request"}, DESCRIBE,
                       problem="missing url", status="failed")
    assert shaped["data"]["problem"] == "missing url"
    assert shaped["data"]["status"] == "failed"


def test_rename_in_edges_follows_the_node_at_both_ends() -> None:
    edges = [{"from": "a", "to": "b"}, {"from": "b", "port": "true", "to": "c"}]
    assert rename_in_edges(edges, "b", "x") == [{"from": "a", "to": "x"},
                                                {"from": "x", "port": "true", "to": "c"}]


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


def test_settings_round_trip_through_the_dialog() -> None:
    current = {"parallel": 4, "cancel_on": [{"event": "a"}, {"event": "b"}]}
    form = settings_form_values(current)
    assert form["cancel_event"] == "a" and form["more_cancel_rules"] == "1"
    form.update(retries="3", timeout="10m", concurrency_limit="2",
                concurrency_key="{{ trigger.user }}", idempotency_key="{{ trigger.id }}",
                cancel_event="order/cancelled", cancel_match="data.id", budget_usd="0.5")
    settings = settings_from_form(form, current)
    assert settings == {"retries": 3, "timeout": "10m", "parallel": 4,
                        "concurrency": {"limit": 2, "key": "{{ trigger.user }}"},
                        "idempotency_key": "{{ trigger.id }}",
                        "cancel_on": [{"event": "order/cancelled", "match": "data.id"},
                                      {"event": "b"}],
                        "budget_usd": 0.5}
    assert settings_form_values(settings)["concurrency_limit"] == "2"


def test_settings_from_form_lists_every_problem() -> None:
    form = settings_form_values({})
    form.update(retries="many", timeout="soon", budget_usd="-1")
    with pytest.raises(ValueError) as raised:
        settings_from_form(form, {})
    assert "retries" in str(raised.value) and "timeout" not in str(raised.value)
    form.update(retries="99")
    with pytest.raises(ValueError) as raised:
        settings_from_form(form, {})
    message = str(raised.value)
    assert "retries" in message and "timeout" in message and "budget_usd" in message


def test_step_paint_queues_unreached_nodes_only_while_the_run_is_active() -> None:
    run = {"status": "running", "steps": [
        {"key": "start", "status": "succeeded", "attempts": 1, "output": {"a": 1}, "error": None},
        {"key": "call", "status": "retrying", "attempts": 2, "output": None,
         "error": {"message": "boom"}}]}
    status, details = step_paint(run, ["start", "call", "done"])
    assert status == {"start": "succeeded", "call": "retrying", "done": "queued"}
    assert details["call"]["error"] == json.dumps({"message": "boom"}, indent=2)
    assert details["start"]["output"].startswith("{")
    status, _ = step_paint({**run, "status": "failed"}, ["start", "call", "done"])
    assert "done" not in status
    assert shown_json("x" * 5000).endswith("characters, cut)")
