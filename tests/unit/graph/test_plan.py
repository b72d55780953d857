"""Plan validation (every problem, readable, naming its node), ordering and serialization."""

from __future__ import annotations

import json

import pytest

from n8nclone.graph.plan import Plan, build_plan, validate
from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.graph.spec import parse_workflow
from n8nclone.nodes.registry import default_registry

REGISTRY = default_registry()


def node(key: str, type_: str = "data.set", **params) -> dict:
    if type_ == "data.set" and "values" not in params:
        params["values"] = {"key": key}
    return {"key": key, "type": type_, "params": params}


def trigger(key: str = "start") -> dict:
    return {"key": key, "type": "trigger.manual"}


def edge(source: str, target: str, port: str | None = None) -> dict:
    data = {"from": source, "to": target}
    if port is not None:
        data["port"] = port
    return data


def workflow(nodes: list[dict], edges: list[dict], **extra) -> dict:
    return {"name": "test", "nodes": nodes, "edges": edges, **extra}


def problems_of(data: dict) -> list:
    return validate(parse_workflow(data), REGISTRY)


def messages_of(data: dict) -> list[str]:
    return [p.message for p in problems_of(data)]


def plan_of(data: dict) -> Plan:
    return build_plan(parse_workflow(data), REGISTRY)


# -- a valid workflow --------------------------------------------------------------------


def test_valid_chain_has_no_problems_and_builds_a_plan():
    # given a trigger followed by two data.set nodes
    data = workflow([trigger(), node("a"), node("b")], [edge("start", "a"), edge("a", "b")])

    # when it is validated and planned
    problems = problems_of(data)
    plan = plan_of(data)

    # expect no problems, the trigger named, and the edges indexed by target
    assert problems == []
    assert plan.order == ("start", "a", "b")
    assert plan.trigger == "start"
    assert plan.incoming == {"start": (), "a": (("start", "main"),), "b": (("a", "main"),)}
    assert plan.nodes["a"].type == "data.set"
    assert plan.nodes["a"].params == {"values": {"key": "a"}}


def test_plan_keeps_settings_and_node_retries():
    # given a workflow with settings and a per-node retry count
    data = workflow([trigger(), {**node("a"), "retries": 7}], [edge("start", "a")],
                    settings={"retries": 2, "timeout": "10m"})

    # when it is planned
    plan = plan_of(data)

    # expect both carried into the plan
    assert plan.settings == {"retries": 2, "timeout": "10m"}
    assert plan.nodes["a"].retries == 7
    assert plan.nodes["start"].retries is None


# -- one problem at a time ---------------------------------------------------------------


def test_cycle_is_reported_with_the_nodes_in_it():
    # given start -> a -> b -> a
    data = workflow([trigger(), node("a"), node("b")],
                    [edge("start", "a"), edge("a", "b"), edge("b", "a")])

    # when it is validated
    problems = problems_of(data)

    # expect one cycle problem spelling the path a -> b -> a
    cycles = [p for p in problems if p.message.startswith("cycle:")]
    assert len(cycles) == 1
    assert "cycle: a -> b -> a" in cycles[0].message
    assert cycles[0].node == "a"


def test_three_node_cycle_lists_every_node_in_it():
    # given start -> a -> b -> c -> a
    data = workflow([trigger(), node("a"), node("b"), node("c")],
                    [edge("start", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a")])

    # when it is validated
    messages = messages_of(data)

    # expect the whole loop in the message
    assert any("cycle: a -> b -> c -> a" in m for m in messages), messages


def test_self_loop_is_a_cycle():
    # given a node with an edge to itself
    data = workflow([trigger(), node("a")], [edge("start", "a"), edge("a", "a")])

    # when it is validated
    messages = messages_of(data)

    # expect a cycle of one node
    assert any("cycle: a -> a" in m for m in messages), messages


def test_cyclic_workflow_cannot_be_planned():
    # given a cycle
    data = workflow([trigger(), node("a"), node("b")],
                    [edge("start", "a"), edge("a", "b"), edge("b", "a")])

    # when it is planned
    with pytest.raises(WorkflowInvalid) as caught:
        plan_of(data)

    # expect the error to carry the cycle problem
    assert any(p.message.startswith("cycle: a -> b -> a") for p in caught.value.problems)


def test_edge_to_a_missing_node_names_the_missing_key():
    # given an edge to a node that does not exist
    data = workflow([trigger(), node("a")], [edge("start", "a"), edge("a", "ghost")])

    # when it is validated
    problems = problems_of(data)

    # expect exactly that problem, naming the missing key
    assert [p.message for p in problems] == ["edge a -> ghost: no node has the key 'ghost'"]
    assert problems[0].node == "ghost"


def test_edge_from_a_missing_node_names_the_missing_key():
    # given an edge out of a node that does not exist
    data = workflow([trigger(), node("a")], [edge("start", "a"), edge("ghost", "a")])

    # when it is validated
    messages = messages_of(data)

    # expect the dangling source named
    assert messages == ["edge ghost -> a: no node has the key 'ghost'"]


def test_unknown_node_type_names_node_and_type():
    # given a node of a type nobody registered
    data = workflow([trigger(), {"key": "mystery", "type": "no.such.type"}],
                    [edge("start", "mystery")])

    # when it is validated
    problems = problems_of(data)

    # expect one problem naming the node and the type
    assert [p.message for p in problems] == ["node 'mystery': unknown node type 'no.such.type'"]
    assert problems[0].node == "mystery"
    assert problems[0].field == "type"


def test_workflow_without_trigger_is_rejected():
    # given only a data.set node
    data = workflow([node("a")], [])

    # when it is validated
    messages = messages_of(data)

    # expect the missing trigger explained
    assert len(messages) == 1
    assert "no trigger node" in messages[0]


def test_empty_workflow_has_no_trigger():
    # given a workflow with no nodes at all
    # when it is validated
    messages = messages_of(workflow([], []))

    # expect the missing trigger reported
    assert len(messages) == 1
    assert "no trigger node" in messages[0]


def test_second_trigger_is_rejected_by_name():
    # given two triggers
    data = workflow([trigger("one"), trigger("two"), node("a")], [edge("one", "a")])

    # when it is validated
    problems = problems_of(data)

    # expect the second trigger named, pointing at the first
    assert [p.node for p in problems] == ["two"]
    assert "exactly one trigger" in problems[0].message
    assert "'one'" in problems[0].message


def test_missing_required_parameter_names_node_and_parameter():
    # given an http.request without its required url
    data = workflow([trigger(), {"key": "call", "type": "http.request", "params": {}}],
                    [edge("start", "call")])

    # when it is validated
    problems = problems_of(data)

    # expect the parameter named
    assert [p.message for p in problems] == [
        "node 'call' (http.request): missing required parameter 'url'"]
    assert problems[0].field == "params.url"


def test_empty_string_counts_as_missing_required_parameter():
    # given an http.request whose url is ""
    data = workflow([trigger(), {"key": "call", "type": "http.request", "params": {"url": ""}}],
                    [edge("start", "call")])

    # when it is validated
    messages = messages_of(data)

    # expect it treated as missing
    assert messages == ["node 'call' (http.request): missing required parameter 'url'"]


def test_template_satisfies_a_required_parameter_at_save():
    # given a required parameter given as a template (checked when the step runs)
    data = workflow([trigger(), {"key": "call", "type": "http.request",
                                 "params": {"url": "{{ trigger.url }}"}}],
                    [edge("start", "call")])

    # when it is validated
    # expect no problem
    assert problems_of(data) == []


def test_unknown_parameter_names_node_and_parameter():
    # given a data.set with a misspelled parameter
    data = workflow([trigger(), node("a", valeus={"x": 1})], [edge("start", "a")])

    # when it is validated
    problems = problems_of(data)

    # expect the typo reported
    assert [p.message for p in problems] == ["node 'a' (data.set): unknown parameter 'valeus'"]
    assert problems[0].field == "params.valeus"


def test_wrong_literal_type_and_bad_option_are_reported():
    # given an http.request with a non-number timeout and an unknown method
    data = workflow([trigger(), {"key": "call", "type": "http.request",
                                 "params": {"url": "http://x.test", "timeout": "soon",
                                            "method": "FETCH"}}],
                    [edge("start", "call")])

    # when it is validated
    messages = messages_of(data)

    # expect both parameters named
    assert "node 'call' (http.request): parameter 'timeout' must be a number" in messages
    assert any(m.startswith("node 'call' (http.request): parameter 'method' must be one of GET")
               for m in messages), messages


def test_unknown_port_names_node_and_lists_its_ports():
    # given an edge out of flow.if's port "maybe"
    data = workflow([trigger(), node("check", "flow.if", condition="{{ 1 }}"), node("a")],
                    [edge("start", "check"), edge("check", "a", "maybe")])

    # when it is validated
    problems = problems_of(data)

    # expect the port problem, listing the ports that exist
    assert [p.message for p in problems] == [
        "edge check -> a: node 'check' (flow.if) has no port 'maybe' (ports: true, false)"]
    assert problems[0].node == "check"
    assert problems[0].field == "port"


def test_default_port_main_is_unknown_on_flow_if():
    # given an edge out of flow.if without a port (so "main")
    data = workflow([trigger(), node("check", "flow.if", condition="x"), node("a")],
                    [edge("start", "check"), edge("check", "a")])

    # when it is validated
    messages = messages_of(data)

    # expect "main" reported as not a port of flow.if
    assert messages == [
        "edge check -> a: node 'check' (flow.if) has no port 'main' (ports: true, false)"]


def test_edge_into_a_trigger_is_rejected():
    # given a node that sends its output back into the trigger
    data = workflow([trigger(), node("a")], [edge("start", "a"), edge("a", "start")])

    # when it is validated
    problems = problems_of(data)

    # expect the trigger named as not accepting inputs (the loop is also a cycle)
    into = [p for p in problems if "cannot have inputs" in p.message]
    assert [p.message for p in into] == ["edge a -> start: trigger node 'start' cannot have inputs"]
    assert into[0].node == "start"


def test_unreachable_node_is_named():
    # given a node no edge leads to
    data = workflow([trigger(), node("a"), node("island")], [edge("start", "a")])

    # when it is validated
    problems = problems_of(data)

    # expect it named as not connected to the trigger
    assert [p.message for p in problems] == [
        "node 'island' is not connected to the trigger 'start'"]
    assert problems[0].node == "island"


def test_nodes_fed_only_by_an_unreachable_node_are_unreachable_too():
    # given island -> beyond, neither connected to the trigger
    data = workflow([trigger(), node("a"), node("island"), node("beyond")],
                    [edge("start", "a"), edge("island", "beyond")])

    # when it is validated
    problems = problems_of(data)

    # expect both named
    assert [p.node for p in problems] == ["island", "beyond"]


def test_duplicate_key_is_reported():
    # given two nodes with the key "a"
    data = workflow([trigger(), node("a"), node("a")], [edge("start", "a")])

    # when it is validated
    problems = problems_of(data)

    # expect the duplicate named
    assert [p.message for p in problems] == ["node 'a': the key is used by more than one node"]
    assert problems[0].node == "a"


def test_duplicate_edge_is_reported():
    # given the same edge twice
    data = workflow([trigger(), node("a")], [edge("start", "a"), edge("start", "a")])

    # when it is validated
    messages = messages_of(data)

    # expect the repeat reported
    assert messages == ["edge start -> a: the edge appears twice"]


# -- every problem at once ---------------------------------------------------------------


def test_every_problem_is_returned_at_once():
    # given a workflow with ten different mistakes
    data = workflow(
        [trigger(),
         node("a"),
         node("b"),
         {"key": "mystery", "type": "no.such.type"},
         {"key": "call", "type": "http.request", "params": {}},
         node("typo", valeus={}),
         node("check", "flow.if", condition="x"),
         node("island"),
         node("dup"),
         node("dup")],
        [edge("start", "a"), edge("a", "b"), edge("b", "a"),       # cycle
         edge("start", "ghost"),                                    # missing node
         edge("start", "mystery"), edge("start", "call"), edge("start", "typo"),
         edge("start", "check"), edge("check", "dup", "maybe"),     # unknown port
         edge("island", "start")])                                  # into the trigger

    # when it is validated
    problems = problems_of(data)
    messages = [p.message for p in problems]

    # expect every one of them reported, each naming its node
    expected = [
        "node 'mystery': unknown node type 'no.such.type'",
        "node 'call' (http.request): missing required parameter 'url'",
        "node 'typo' (data.set): unknown parameter 'valeus'",
        "node 'dup': the key is used by more than one node",
        "edge start -> ghost: no node has the key 'ghost'",
        "edge check -> dup: node 'check' (flow.if) has no port 'maybe' (ports: true, false)",
        "edge island -> start: trigger node 'start' cannot have inputs",
        "node 'island' is not connected to the trigger 'start'",
    ]
    for message in expected:
        assert message in messages, f"missing {message!r} in {messages}"
    assert any(m.startswith("cycle: a -> b -> a") for m in messages), messages
    assert all(p.node for p in problems)


def test_build_plan_raises_with_every_problem_not_just_the_first():
    # given a workflow with three independent mistakes
    data = workflow([trigger(), node("a", bogus=1), {"key": "call", "type": "http.request"},
                     node("island")],
                    [edge("start", "a"), edge("start", "call")])

    # when it is planned
    with pytest.raises(WorkflowInvalid) as caught:
        plan_of(data)

    # expect all three on the exception and in its text
    nodes = [p.node for p in caught.value.problems]
    assert sorted(nodes) == ["a", "call", "island"]
    text = str(caught.value)
    assert "unknown parameter 'bogus'" in text
    assert "missing required parameter 'url'" in text
    assert "'island' is not connected" in text


def test_problem_to_dict_leaves_out_empty_fields():
    # given the no-trigger problem (which concerns no node) and an unknown-type problem
    no_trigger = problems_of(workflow([], []))[0]
    unknown = problems_of(workflow([trigger(), {"key": "m", "type": "x.y"}],
                                   [edge("start", "m")]))[0]

    # when they are turned into JSON-ready dicts
    # expect only the fields that are set
    assert set(no_trigger.to_dict()) == {"message"}
    assert unknown.to_dict() == {"message": "node 'm': unknown node type 'x.y'",
                                 "node": "m", "field": "type"}


# -- order -------------------------------------------------------------------------------


def test_order_breaks_ties_by_file_order_not_by_name():
    # given start fanning out to nodes listed in reverse alphabetical order
    data = workflow([trigger(), node("zeta"), node("mid"), node("alpha")],
                    [edge("start", "alpha"), edge("start", "mid"), edge("start", "zeta")])

    # when it is planned
    plan = plan_of(data)

    # expect the file order among the independent nodes
    assert plan.order == ("start", "zeta", "mid", "alpha")


def test_order_puts_every_node_after_its_inputs_even_when_listed_first():
    # given "last" listed before the nodes it depends on
    data = workflow([trigger(), node("last", "flow.merge"), node("c"), node("b"), node("a")],
                    [edge("start", "a"), edge("start", "b"), edge("a", "c"),
                     edge("c", "last"), edge("b", "last")])

    # when it is planned
    plan = plan_of(data)

    # expect dependencies first, ties by file order (b before a)
    assert plan.order == ("start", "b", "a", "c", "last")
    for target, sources in plan.incoming.items():
        for source, _port in sources:
            assert plan.order.index(source) < plan.order.index(target)


def test_same_input_gives_the_same_order_every_time():
    # given a wide diamond
    keys = [f"n{i}" for i in range(12)]
    nodes = [trigger()] + [node(k) for k in reversed(keys)] + [node("end", "flow.merge")]
    edges = [edge("start", k) for k in keys] + [edge(k, "end") for k in keys]
    data = workflow(nodes, edges)

    # when it is planned many times
    orders = {plan_of(data).order for _ in range(20)}

    # expect one order, following the file order
    assert orders == {("start", *reversed(keys), "end")}


# -- serialization -----------------------------------------------------------------------


def test_plan_round_trips_through_dict_and_json():
    # given a plan with a branch, settings and retries
    data = workflow(
        [trigger(), node("check", "flow.if", condition="{{ trigger.ok }}"),
         {**node("yes"), "retries": 1}, node("no"), node("end", "flow.merge", mode="append")],
        [edge("start", "check"), edge("check", "yes", "true"), edge("check", "no", "false"),
         edge("yes", "end"), edge("no", "end")],
        settings={"retries": 5, "concurrency": {"limit": 2}})
    plan = plan_of(data)

    # when it is stored as JSON and read back
    restored = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))

    # expect the same plan
    assert restored == plan
    assert restored.incoming["end"] == (("yes", "main"), ("no", "main"))
    assert restored.incoming["yes"] == (("check", "true"),)
    assert restored.nodes["yes"].retries == 1
    assert restored.settings == {"retries": 5, "concurrency": {"limit": 2}}


def test_plan_to_dict_lists_nodes_in_execution_order():
    # given a plan whose file order differs from its execution order
    data = workflow([trigger(), node("b"), node("a")], [edge("start", "a"), edge("a", "b")])

    # when it is turned into a dict
    as_dict = plan_of(data).to_dict()

    # expect nodes in order
    assert [n["key"] for n in as_dict["nodes"]] == ["start", "a", "b"]
    assert as_dict["order"] == ["start", "a", "b"]
    assert as_dict["trigger"] == "start"
