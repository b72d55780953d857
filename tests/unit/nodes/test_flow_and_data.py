"""`trigger.manual`, `data.set`, `flow.if` and `flow.merge` executed with a NodeContext."""

from __future__ import annotations

import pytest

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, Routed
from n8nclone.nodes.data_set import DataSet
from n8nclone.nodes.flow_if import If, truthy
from n8nclone.nodes.flow_merge import Merge
from n8nclone.nodes.trigger_manual import ManualTrigger


def context(inputs: dict | None = None, trigger=None) -> NodeContext:
    return NodeContext(run_id="r1", workflow_id=1, node_key="node", attempt=1, trigger=trigger,
                       inputs=dict(inputs or {}))


def execute(node_type, inputs: dict | None = None, trigger=None, **params):
    return node_type().execute(context(inputs, trigger), node_type.with_defaults(params))


# -- NodeContext -------------------------------------------------------------------------


def test_context_input_is_the_single_predecessors_output():
    # given one live input
    # when read
    # expect that output itself
    assert context({"a": {"x": 1}}).input == {"x": 1}


def test_context_input_is_a_dict_by_key_with_several_predecessors():
    # given two live inputs
    # when read
    # expect them by key
    assert context({"a": 1, "b": 2}).input == {"a": 1, "b": 2}


def test_context_input_is_none_without_predecessors():
    # given no inputs (the trigger)
    # when read
    # expect None
    assert context().input is None


def test_context_input_of_a_single_none_output_is_none():
    # given a predecessor whose output was None
    # expect None (not a dict holding it)
    assert context({"a": None}).input is None


# -- trigger.manual ----------------------------------------------------------------------


def test_manual_trigger_outputs_the_run_input():
    # given a run input
    # when the trigger runs
    output = execute(ManualTrigger, trigger={"email": "ada@example.test"})

    # expect it as the output
    assert output == {"email": "ada@example.test"}


# -- data.set ----------------------------------------------------------------------------


def test_data_set_replace_outputs_only_the_values():
    # given an input and values in replace mode (the default)
    # when run
    output = execute(DataSet, {"prev": {"old": 1}}, values={"email": "a@b.test", "n": 2})

    # expect only the values
    assert output == {"email": "a@b.test", "n": 2}


def test_data_set_replace_accepts_any_json_value():
    # given a list as the values
    # when run in replace mode
    # expect it as the output
    assert execute(DataSet, values=[1, 2, 3]) == [1, 2, 3]


def test_data_set_merge_adds_values_to_the_input_object():
    # given an input object and overlapping values
    prev = {"id": 1, "status": "new"}

    # when merged
    output = execute(DataSet, {"prev": prev}, values={"status": "paid", "total": 10},
                     mode="merge")

    # expect input keys kept, values added and winning, input itself untouched
    assert output == {"id": 1, "status": "paid", "total": 10}
    assert prev == {"id": 1, "status": "new"}


@pytest.mark.parametrize(("inputs", "values"), [
    ({"prev": [1, 2]}, {"a": 1}),
    ({"prev": "text"}, {"a": 1}),
    ({}, {"a": 1}),
    ({"prev": {"a": 1}}, [1]),
])
def test_data_set_merge_needs_object_input_and_values(inputs, values):
    # given a non-object input or non-object values
    # when merged
    # expect a NonRetriableError explaining the need
    with pytest.raises(NonRetriableError, match="needs an object input and object values"):
        execute(DataSet, inputs, values=values, mode="merge")


# -- flow.if -----------------------------------------------------------------------------


@pytest.mark.parametrize("condition", ["false", "False", " FALSE ", "0", "", "no", "off", "null",
                                       "none", 0, 0.0, False, None])
def test_if_false_values_route_to_false(condition):
    # given a falsy rendered condition
    # when the if runs
    result = execute(If, {"prev": {"order": 1}}, condition=condition)

    # expect port false carrying the input
    assert result == Routed({"order": 1}, "false")
    assert truthy(condition) is False


@pytest.mark.parametrize("condition", ["true", "yes", "1", "anything", "0.0x", 1, -1, 0.5, True,
                                       "  true  "])
def test_if_true_values_route_to_true(condition):
    # given a truthy rendered condition
    # when the if runs
    result = execute(If, {"prev": {"order": 1}}, condition=condition)

    # expect port true carrying the input
    assert isinstance(result, Routed)
    assert result.port == "true"
    assert result.output == {"order": 1}
    assert truthy(condition) is True


def test_if_passes_several_inputs_through_by_key():
    # given two live inputs
    # when the if runs
    result = execute(If, {"a": 1, "b": 2}, condition=True)

    # expect the inputs by key on the chosen port
    assert result == Routed({"a": 1, "b": 2}, "true")


@pytest.mark.parametrize("condition", [{"a": 1}, [1]])
def test_if_rejects_object_and_list_conditions(condition):
    # given a condition that rendered to an object or a list
    # when the if runs
    # expect a NonRetriableError
    with pytest.raises(NonRetriableError, match="condition must be a value"):
        execute(If, {"prev": 1}, condition=condition)


def test_if_declares_true_and_false_ports():
    # given the type
    # expect its two ports
    assert If.outputs == ("true", "false")


# -- flow.merge --------------------------------------------------------------------------


def test_merge_by_key_is_the_default():
    # given two inputs and no mode
    # when merged
    output = execute(Merge, {"a": {"x": 1}, "b": [2]})

    # expect outputs by node key
    assert output == {"a": {"x": 1}, "b": [2]}


def test_merge_append_lists_outputs_in_input_order():
    # given three inputs of any kind
    # when appended
    output = execute(Merge, {"b": {"x": 1}, "a": None, "c": [3]}, mode="append")

    # expect a list in the given order
    assert output == [{"x": 1}, None, [3]]


def test_merge_merge_combines_object_outputs_later_keys_winning():
    # given object outputs with an overlapping key
    # when merged
    output = execute(Merge, {"a": {"x": 1, "y": 1}, "b": {"y": 2, "z": 3}}, mode="merge")

    # expect one object, the later input winning on y
    assert output == {"x": 1, "y": 2, "z": 3}


def test_merge_merge_rejects_non_object_outputs_naming_the_input():
    # given one output that is a list
    # when merged
    # expect a NonRetriableError naming the input and its type
    with pytest.raises(NonRetriableError, match="'b' gave list"):
        execute(Merge, {"a": {"x": 1}, "b": [1]}, mode="merge")


def test_merge_with_only_one_live_input():
    # given a merge whose other input was skipped (so it only gets the live one)
    # when run in each mode
    # expect just that input's output
    assert execute(Merge, {"a": {"x": 1}}) == {"a": {"x": 1}}
    assert execute(Merge, {"a": {"x": 1}}, mode="append") == [{"x": 1}]
    assert execute(Merge, {"a": {"x": 1}}, mode="merge") == {"x": 1}


def test_merge_output_is_a_copy_not_the_inputs_mapping():
    # given inputs
    inputs = {"a": 1}
    ctx = context(inputs)

    # when merged by key and the output changed
    output = Merge().execute(ctx, Merge.with_defaults({}))
    output["b"] = 2

    # expect the context's inputs untouched
    assert ctx.inputs == {"a": 1}


# -- defaults ----------------------------------------------------------------------------


def test_with_defaults_fills_missing_params_and_keeps_given_ones():
    # given data.set with only values
    # when completed
    params = DataSet.with_defaults({"values": {"a": 1}})

    # expect mode defaulted to replace and values kept
    assert params == {"values": {"a": 1}, "mode": "replace"}
