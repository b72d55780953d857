"""The editor's conversions between the workflow file and React Flow's nodes and edges."""

from __future__ import annotations

from n8nclone.nodes.registry import default_registry
from n8nclone.ui.state.editor import flow_edge, flow_node, new_node_key, node_id_of_edge

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
