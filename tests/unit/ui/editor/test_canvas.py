"""The workflow file's nodes and edges as React Flow sees them."""

from __future__ import annotations

from n8nclone.nodes.registry import default_registry
from n8nclone.ui.editor.canvas import (
    flow_edge,
    flow_node,
    flow_nodes,
    node_id_of_edge,
    palette_groups,
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


def test_flow_node_carries_a_problem_and_a_run_status_when_there_are_some() -> None:
    shaped = flow_node({"key": "call", "type": "http.request"}, DESCRIBE,
                       problem="missing url", status="failed")
    assert shaped["data"]["problem"] == "missing url"
    assert shaped["data"]["status"] == "failed"


def test_flow_nodes_paints_each_node_with_its_own_problem_and_status() -> None:
    nodes = [{"key": "start", "type": "trigger.manual"}, {"key": "call", "type": "http.request"}]
    shaped = flow_nodes(nodes, list(DESCRIBE.values()), {"call": "missing url"},
                        {"start": "succeeded"})
    assert [n["id"] for n in shaped] == ["start", "call"]
    assert shaped[0]["data"]["status"] == "succeeded" and "problem" not in shaped[0]["data"]
    assert shaped[1]["data"]["problem"] == "missing url" and "status" not in shaped[1]["data"]


def test_flow_edge_uses_the_port_as_source_handle_and_label() -> None:
    edge = {"from": "check", "port": "false", "to": "small"}
    assert flow_edge(edge) == {"id": "check:false->small", "source": "check", "target": "small",
                               "sourceHandle": "false", "targetHandle": "in", "label": "false"}
    plain = flow_edge({"from": "a", "to": "b"})
    assert plain["sourceHandle"] == "main" and "label" not in plain
    assert node_id_of_edge({"from": "a", "to": "b"}) == plain["id"]


def test_palette_groups_consecutive_types_and_falls_back_to_the_type_as_label() -> None:
    catalogue = [{"type": "trigger.manual", "group": "Triggers", "label": "Manual"},
                 {"type": "trigger.webhook", "group": "Triggers"},
                 {"type": "flow.if", "group": "Flow", "label": "If"}]
    assert palette_groups(catalogue) == [
        {"group": "Triggers", "types": [{"type": "trigger.manual", "label": "Manual"},
                                        {"type": "trigger.webhook", "label": "trigger.webhook"}]},
        {"group": "Flow", "types": [{"type": "flow.if", "label": "If"}]},
    ]
