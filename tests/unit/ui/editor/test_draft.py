"""Edits to the editor's draft: keys, renames, moves, deletions, retries."""

from __future__ import annotations

import json
from dataclasses import dataclass

from n8nclone.ui.editor.draft import (
    NEW_NODE_SPACING,
    default_run_input,
    edge_from_connection,
    key_problem,
    moved_nodes,
    new_node_key,
    node_summary,
    parse_retries,
    position_below,
    problems_by_node,
    rename_in_edges,
    rename_keys,
    webhook_urls,
    with_retries,
    without_nodes,
)


@dataclass
class Problem:
    node: str | None
    text: str

    def __str__(self) -> str:
        return self.text


def test_new_node_key_takes_the_first_free_number() -> None:
    assert new_node_key("http.request", set()) == "request_1"
    assert new_node_key("flow.if", {"if_1", "if_2"}) == "if_3"
    assert new_node_key("x.9lives", set()) == "n_9lives_1"


def test_rename_in_edges_follows_the_node_at_both_ends() -> None:
    edges = [{"from": "a", "to": "b"}, {"from": "b", "port": "true", "to": "c"}]
    assert rename_in_edges(edges, "b", "x") == [{"from": "a", "to": "x"},
                                                {"from": "x", "port": "true", "to": "c"}]
    assert rename_keys({"a": 1, "b": 2}, "b", "x") == {"a": 1, "x": 2}


def test_key_problem_wants_a_valid_unused_key() -> None:
    nodes = [{"key": "start"}, {"key": "call"}]
    assert key_problem("fetch_2", nodes) == ""
    assert key_problem("2fetch", nodes).startswith("a key starts with")
    assert key_problem("call", nodes) == "another node has the key 'call'"


def test_position_below_puts_a_new_node_under_the_lowest_one() -> None:
    assert position_below([]) == [0, 0]
    nodes = [{"position": [10, 300]}, {"position": [50, 40]}, {"key": "unplaced"}]
    assert position_below(nodes) == [10, 300 + NEW_NODE_SPACING]


def test_moved_nodes_reports_whether_anything_moved() -> None:
    nodes = [{"key": "a", "position": [0, 0]}, {"key": "b", "position": [5, 5]}]
    moved, changed = moved_nodes(nodes, [{"id": "a", "x": 0, "y": 0}])
    assert moved == nodes and changed is False
    moved, changed = moved_nodes(nodes, [{"id": "b", "x": 7, "y": 9}, {"x": 1, "y": 1}])
    assert moved[1]["position"] == [7, 9] and changed is True
    assert nodes[1]["position"] == [5, 5]  # the input is left alone


def test_edge_from_connection_drops_loops_duplicates_and_the_default_port() -> None:
    edges = [{"from": "a", "to": "b"}]
    assert edge_from_connection({"source": "a", "target": "a"}, edges) is None
    assert edge_from_connection({"source": "a", "target": "b", "sourceHandle": "main"},
                                edges) is None
    assert edge_from_connection({"source": "b", "target": "c"}, edges) == {"from": "b",
                                                                             "to": "c"}
    assert edge_from_connection({"source": "a", "target": "b", "sourceHandle": "true"},
                                edges) == {"from": "a", "to": "b", "port": "true"}


def test_without_nodes_takes_their_edges_too() -> None:
    nodes = [{"key": "a"}, {"key": "b"}, {"key": "c"}]
    edges = [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "a", "to": "c"}]
    assert without_nodes(nodes, edges, {"b"}) == ([{"key": "a"}, {"key": "c"}],
                                                  [{"from": "a", "to": "c"}])


def test_parse_retries_and_with_retries() -> None:
    assert parse_retries("  ") == (None, "")
    assert parse_retries("3") == (3, "")
    assert parse_retries("51")[1].startswith("a whole number from 0 to 50")
    assert parse_retries("-1")[1]
    node = {"key": "a", "retries": 2}
    assert with_retries(node, None) == {"key": "a"}
    assert with_retries(node, 5) == {"key": "a", "retries": 5}


def test_node_summary_shows_the_type_and_retries() -> None:
    assert node_summary({}, {}, "") == {}
    summary = node_summary({"key": "a", "type": "http.request", "retries": 0},
                           {"label": "HTTP request"}, "missing url")
    assert summary == {"type": "http.request", "label": "HTTP request", "description": "",
                       "retries": "0", "problem": "missing url"}


def test_problems_by_node_keeps_each_nodes_first_problem() -> None:
    problems = [Problem(None, "no trigger"), Problem("a", "first"), Problem("a", "second"),
                Problem("b", "other")]
    assert problems_by_node(problems) == {"a": "first", "b": "other"}


def test_webhook_urls_need_a_webhook_trigger_with_a_path() -> None:
    assert webhook_urls([{"type": "trigger.manual"}], "http://x") == {}
    hook = {"type": "trigger.webhook", "params": {"path": "/orders/"}}
    assert webhook_urls([hook], "http://x") == {"production": "http://x/webhook/orders",
                                                "test": "http://x/webhook-test/orders"}


def test_default_run_input_is_the_manual_triggers_sample() -> None:
    assert default_run_input([]) == "{}"
    manual = {"type": "trigger.manual", "params": {"sample_data": {"n": 1}}}
    assert json.loads(default_run_input([manual])) == {"n": 1}
