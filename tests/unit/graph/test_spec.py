"""The workflow file format: strict parsing, readable problems, round trip."""

from __future__ import annotations

import json

import pytest

from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.graph.spec import WorkflowSpec, parse_workflow

EXAMPLE = {
    "name": "Order follow-up",
    "active": True,
    "settings": {"retries": 3, "timeout": "10m",
                 "concurrency": {"limit": 5, "key": "{{ trigger.body.user_id }}"}},
    "nodes": [
        {"key": "hook", "type": "trigger.webhook", "params": {"path": "orders", "method": "POST"},
         "position": [0, 0]},
        {"key": "check", "type": "flow.if",
         "params": {"condition": "{{ trigger.body.total > 100 }}"}, "position": [0, 120]},
        {"key": "notify", "type": "http.request",
         "params": {"method": "POST", "url": "https://example.test/hook",
                    "json": {"order": "{{ trigger.body.id }}"}}, "position": [0, 240]},
    ],
    "edges": [
        {"from": "hook", "to": "check"},
        {"from": "check", "port": "true", "to": "notify"},
    ],
}


def problems_for(data) -> list:
    with pytest.raises(WorkflowInvalid) as caught:
        parse_workflow(data)
    return caught.value.problems


def test_design_example_parses():
    # given the workflow file from DESIGN.md
    # when it is parsed
    spec = parse_workflow(EXAMPLE)

    # expect every part read
    assert spec.name == "Order follow-up"
    assert spec.active is True
    assert [n.key for n in spec.nodes] == ["hook", "check", "notify"]
    assert spec.nodes[2].params["json"] == {"order": "{{ trigger.body.id }}"}
    assert spec.nodes[1].position == (0.0, 120.0)
    assert spec.settings.retries == 3
    assert spec.settings.concurrency.limit == 5
    assert spec.settings.timeout_seconds == 600.0


def test_from_and_to_aliases_fill_source_and_target():
    # given edges written with "from"/"to"
    # when parsed
    spec = parse_workflow(EXAMPLE)

    # expect them as source/target, with the given port
    assert (spec.edges[1].source, spec.edges[1].port, spec.edges[1].target) == (
        "check", "true", "notify")


def test_edge_port_defaults_to_main():
    # given an edge without a port
    # when parsed
    spec = parse_workflow(EXAMPLE)

    # expect port "main"
    assert spec.edges[0].port == "main"


def test_defaults_for_a_minimal_workflow():
    # given only a name
    # when parsed
    spec = parse_workflow({"name": "w", "nodes": [{"key": "k", "type": "trigger.manual"}]})

    # expect active, no settings, empty params, origin position, no retries
    assert spec.active is True
    assert spec.settings.timeout_seconds is None
    assert spec.edges == []
    node = spec.nodes[0]
    assert (node.params, node.position, node.retries, node.name) == ({}, (0.0, 0.0), None, None)


def test_unknown_node_field_is_rejected_naming_the_node():
    # given a node with a misspelled field
    data = {"name": "w", "nodes": [{"key": "fetch", "type": "http.request", "parms": {}}]}

    # when parsed
    problems = problems_for(data)

    # expect one problem naming the node and the field
    assert [p.message for p in problems] == ["node 'fetch': nodes.0.parms: unknown field"]
    assert problems[0].node == "fetch"
    assert problems[0].field == "nodes.0.parms"


def test_unknown_top_level_edge_and_settings_fields_are_rejected():
    # given typos at the top level, in an edge and in the settings
    data = {"name": "w", "actve": False, "settings": {"retires": 3},
            "edges": [{"from": "a", "to": "b", "prot": "true"}]}

    # when parsed
    messages = [p.message for p in problems_for(data)]

    # expect each typo reported with its path
    assert sorted(messages) == sorted(["actve: unknown field", "settings.retires: unknown field",
                                       "edges.0.prot: unknown field"])


@pytest.mark.parametrize("bad_key", ["1abc", "has-dash", "has space", "", "a" * 65, "é"])
def test_bad_node_keys_are_rejected_with_a_readable_message(bad_key):
    # given a node whose key cannot name a step in an expression
    data = {"name": "w", "nodes": [{"key": bad_key, "type": "data.set"}]}

    # when parsed
    problems = problems_for(data)

    # expect the key rule explained
    assert len(problems) == 1
    assert problems[0].field == "nodes.0.key"
    assert "a key must start with a letter or _ and hold only letters, digits and _" in (
        problems[0].message)


@pytest.mark.parametrize("good_key", ["a", "_private", "step_2", "A" * 64])
def test_good_node_keys_are_accepted(good_key):
    # given a valid key
    # when parsed
    spec = parse_workflow({"name": "w", "nodes": [{"key": good_key, "type": "data.set"}]})

    # expect it kept
    assert spec.nodes[0].key == good_key


@pytest.mark.parametrize("timeout", ["soon", "5 minutes", "-5s", "", "1h-2m"])
def test_bad_timeout_durations_are_rejected(timeout):
    # given a workflow timeout that is not a duration
    data = {"name": "w", "settings": {"timeout": timeout}}

    # when parsed
    problems = problems_for(data)

    # expect the field named and the accepted forms explained
    assert len(problems) == 1
    assert problems[0].field == "settings.timeout"
    assert problems[0].message.startswith("settings.timeout:")
    assert "is not a duration" in problems[0].message


def test_negative_numeric_timeout_is_rejected():
    # given a negative number of seconds
    problems = problems_for({"name": "w", "settings": {"timeout": -3}})

    # expect a readable problem on the field
    assert problems[0].field == "settings.timeout"
    assert "negative" in problems[0].message


@pytest.mark.parametrize(("timeout", "seconds"), [("1h30m", 5400.0), (90, 90.0), ("500ms", 0.5)])
def test_good_timeouts_are_kept_and_converted(timeout, seconds):
    # given a valid timeout
    # when parsed
    spec = parse_workflow({"name": "w", "settings": {"timeout": timeout}})

    # expect the written form kept and the seconds computed
    assert spec.settings.timeout == timeout
    assert spec.settings.timeout_seconds == seconds


def test_out_of_range_numbers_are_rejected():
    # given too many retries on a node and a zero concurrency limit
    data = {"name": "w", "settings": {"concurrency": {"limit": 0}},
            "nodes": [{"key": "a", "type": "data.set", "retries": 51}]}

    # when parsed
    problems = problems_for(data)

    # expect both reported, the node one naming the node
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {"settings.concurrency.limit", "nodes.0.retries"}
    assert by_field["nodes.0.retries"].node == "a"
    assert by_field["nodes.0.retries"].message.startswith("node 'a': nodes.0.retries:")


def test_every_problem_is_reported_at_once():
    # given a missing name, a bad key, and an edge without "to"
    data = {"nodes": [{"key": "9", "type": "x"}], "edges": [{"from": "a"}]}

    # when parsed
    fields = sorted(p.field for p in problems_for(data))

    # expect all three
    assert fields == ["edges.0.to", "name", "nodes.0.key"]


def test_non_object_input_is_rejected_readably():
    # given JSON that is not an object
    for data in ([], "workflow", None, 3):
        # when parsed
        problems = problems_for(data)

        # expect one plain message
        assert [p.message for p in problems] == ["a workflow file must be a JSON object"]


def test_node_that_is_not_an_object_is_reported_without_crashing():
    # given a node list holding a string
    problems = problems_for({"name": "w", "nodes": ["oops"]})

    # expect a problem at that index, naming no node
    assert problems[0].field == "nodes.0"
    assert problems[0].node is None


def test_to_file_round_trips():
    # given the design example
    spec = parse_workflow(EXAMPLE)

    # when written as a file (through JSON) and read back
    written = json.loads(json.dumps(spec.to_file()))
    again = parse_workflow(written)

    # expect the same spec, edges written with from/to, no empty fields
    assert again == spec
    assert written["edges"][1] == {"from": "check", "to": "notify", "port": "true"}
    assert "name" not in written["nodes"][0]
    assert "retries" not in written["nodes"][0]
    assert written["settings"]["concurrency"] == {"limit": 5, "key": "{{ trigger.body.user_id }}"}


def test_source_and_target_names_are_accepted_too():
    # given edges written with the field names instead of the aliases
    spec = WorkflowSpec.model_validate({"name": "w", "edges": [{"source": "a", "target": "b"}]})

    # expect the same edge
    assert (spec.edges[0].source, spec.edges[0].target) == ("a", "b")
