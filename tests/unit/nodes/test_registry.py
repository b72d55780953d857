"""The node catalogue and the descriptions the editor renders."""

from __future__ import annotations

import json

import pytest

from n8nclone.nodes.base import GROUPS, NodeType
from n8nclone.nodes.registry import NodeRegistry, default_registry
from n8nclone.nodes.schema import PARAM_TYPES, Param

BUILT_INS = {"trigger.manual", "data.set", "flow.if", "flow.merge", "http.request"}


def make_type(name: str, group: str = "data") -> type[NodeType]:
    return type(f"Fake_{name.replace('.', '_')}", (NodeType,),
                {"type": name, "label": name, "group": group})


def test_every_built_in_type_is_registered():
    # given the default registry
    registry = default_registry()

    # when asked for each built-in
    # expect each found, under its own type name
    for name in BUILT_INS:
        assert name in registry
        assert registry.get(name).type == name


def test_unknown_type_is_absent():
    # given the default registry
    # expect an unknown name to be missing
    assert default_registry().get("no.such.type") is None
    assert "no.such.type" not in default_registry()


def test_all_lists_types_grouped_in_palette_order():
    # given the default registry
    # when listing every type
    types = default_registry().all()

    # expect the trigger group first, then the rest in GROUPS order, names sorted within
    keys = [(GROUPS.index(t.group), t.type) for t in types]
    assert keys == sorted(keys)
    assert types[0].group == "trigger"
    assert BUILT_INS <= {t.type for t in types}


def test_exactly_the_trigger_types_are_triggers():
    # given the built-ins
    registry = default_registry()

    # expect only names in the trigger group to be triggers
    for name in BUILT_INS:
        node_type = registry.get(name)
        assert node_type.is_trigger is (node_type.group == "trigger"), name


@pytest.mark.parametrize("name", sorted(BUILT_INS))
def test_describe_has_the_shape_the_editor_renders(name):
    # given a built-in type
    node_type = default_registry().get(name)

    # when described (and sent as JSON)
    description = json.loads(json.dumps(node_type.describe()))

    # expect the palette fields and a form entry per parameter
    assert description["type"] == name
    assert description["label"]
    assert description["group"] in GROUPS
    assert isinstance(description["description"], str)
    assert description["description"]
    assert description["outputs"] == list(node_type.outputs)
    assert description["is_trigger"] is node_type.is_trigger
    assert [p["name"] for p in description["params"]] == [p.name for p in node_type.params]
    for param in description["params"]:
        assert set(param) >= {"name", "type", "label", "default", "required", "options", "help",
                              "show_if"}
        assert param["type"] in PARAM_TYPES
        assert isinstance(param["required"], bool)
        assert isinstance(param["options"], list)
        assert isinstance(param["help"], str)
        assert param["label"]
        if param["type"] == "options":
            assert param["options"], param["name"]
            if param["default"] is not None:
                assert param["default"] in param["options"], param["name"]
        for other, values in param["show_if"].items():
            assert other in {p["name"] for p in description["params"]}
            assert isinstance(values, list)


def test_describe_of_http_request_spells_out_its_form():
    # given http.request
    # when described
    params = {p["name"]: p for p in default_registry().get("http.request").describe()["params"]}

    # expect its method options, required url, defaults and show-if rules
    assert params["method"]["options"] == ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                           "OPTIONS"]
    assert params["method"]["default"] == "GET"
    assert params["url"]["required"] is True
    assert params["timeout"]["default"] == 30
    assert params["json"]["show_if"] == {"body_type": ["json"]}
    assert params["fail_on_error_status"] == {
        "name": "fail_on_error_status", "type": "boolean", "label": "Fail on error status",
        "default": True, "required": False, "options": [],
        "help": "Fail the step on a 4xx/5xx response (off: output it like any other).",
        "show_if": {}, "secret": False}


def test_registering_a_second_type_with_the_same_name_is_rejected():
    # given a registry holding a type
    registry = NodeRegistry()
    registry.register(make_type("custom.thing"))

    # when another class claims the same name
    # expect a ValueError naming it, and the first kept
    first = registry.get("custom.thing")
    with pytest.raises(ValueError, match="'custom.thing' is registered twice"):
        registry.register(make_type("custom.thing"))
    assert registry.get("custom.thing") is first


def test_registering_the_same_class_again_is_harmless():
    # given a registered type
    registry = NodeRegistry()
    node_type = make_type("custom.thing")
    registry.register(node_type)

    # when the same class is registered again
    returned = registry.register(node_type)

    # expect no error and one entry
    assert returned is node_type
    assert registry.all() == [node_type]


def test_type_without_a_name_is_rejected():
    # given a class with no type name
    class Nameless(NodeType):
        label = "x"
        group = "data"

    # when registered
    # expect a ValueError naming the class
    with pytest.raises(ValueError, match="Nameless has no `type` name"):
        NodeRegistry().register(Nameless)


def test_type_in_an_unknown_group_is_rejected():
    # given a type in a group the palette does not know
    # when registered
    # expect a ValueError naming type and group
    with pytest.raises(ValueError, match="'custom.x': unknown group 'misc'"):
        NodeRegistry().register(make_type("custom.x", group="misc"))


def test_param_schema_rejects_bad_declarations():
    # given declarations a node author might get wrong
    # when declared
    # expect a ValueError naming the parameter
    with pytest.raises(ValueError, match="'x': unknown type 'str'"):
        Param("x", "str")
    with pytest.raises(ValueError, match="'mode': type 'options' needs options"):
        Param("mode", "options")


@pytest.mark.parametrize(("param", "value", "problem"), [
    (Param("url", required=True), None, "missing required parameter 'url'"),
    (Param("url", required=True), "", "missing required parameter 'url'"),
    (Param("url", required=True), "{{ trigger.url }}", None),
    (Param("n", "number"), "3", "parameter 'n' must be a number"),
    (Param("n", "number"), True, "parameter 'n' must be a number"),
    (Param("n", "number"), 2.5, None),
    (Param("i", "integer"), 2.5, "parameter 'i' must be an integer"),
    (Param("b", "boolean"), "yes", "parameter 'b' must be a boolean"),
    (Param("m", "options", options=("a", "b")), "c", "parameter 'm' must be one of a, b"),
    (Param("m", "options", options=("a", "b")), "{{ x }}", None),
    (Param("j", "json"), {"any": ["thing"]}, None),
    (Param("d", "duration"), "5m", None),
    (Param("opt"), None, None),
])
def test_param_check_literal(param, value, problem):
    # given a parameter and a saved value
    # when checked at save
    # expect the readable problem, or None
    assert param.check_literal(value) == problem
