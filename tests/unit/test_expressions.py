"""Sandboxed templates in node parameters."""

from __future__ import annotations

import copy

import pytest

from n8nclone.expressions import ExpressionError, is_template, render_params, render_value

CONTEXT = {
    "trigger": {"body": {"email": "ada@example.test", "total": 150, "id": 42,
                         "items": [{"sku": "a"}, {"sku": "b"}], "tags": ["x", "y"],
                         "flag": False, "note": None}},
    "steps": {"fetch_user": {"output": {"name": "Ada", "age": 36}, "status": "succeeded",
                             "port": None},
              "items": {"output": "step named items", "status": "succeeded", "port": None}},
    "input": {"count": 3},
    "run": {"id": "r1", "workflow_id": 7, "attempt": 1},
}


def render(value, context=CONTEXT):
    return render_value(value, context, "param")


# -- types -------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ 1 + 1 }}", 2),
    ("{{ 1.5 * 2 }}", 3.0),
    ("{{ trigger.body.total > 100 }}", True),
    ("{{ trigger.body.flag }}", False),
    ("{{ trigger.body.note }}", None),
    ("{{ trigger.body.tags }}", ["x", "y"]),
    ("{{ steps.fetch_user.output }}", {"name": "Ada", "age": 36}),
    ("{{ [1, 'a', none] }}", [1, "a", None]),
    ("{{ {'k': 1} }}", {"k": 1}),
    ("{{ (1, 2) }}", [1, 2]),
    ("{{ range(3) }}", [0, 1, 2]),
    ("  {{ 7 }}  ", 7),
])
def test_whole_value_template_keeps_its_type(source, expected):
    # given a parameter that is one template (surrounding spaces allowed)
    # when rendered
    result = render(source)

    # expect the value itself, not its text
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("source", "expected"), [
    ("Total: {{ trigger.body.total }}", "Total: 150"),
    ("{{ 1 }}{{ 2 }}", "12"),
    ("{{ trigger.body.flag }} and {{ trigger.body.id }}", "False and 42"),
    ("Hi {{ steps.fetch_user.output.name }}!", "Hi Ada!"),
    ("{{ 'big' if trigger.body.total > 100 else 'small' }} order", "big order"),
])
def test_templates_inside_text_render_to_text(source, expected):
    # given templates mixed with text
    # when rendered
    # expect a string
    assert render(source) == expected


def test_json_filter_renders_json_text():
    # given a template using the json filter inside text
    # when rendered
    result = render("body={{ trigger.body.tags | json }}")

    # expect JSON
    assert result == 'body=["x", "y"]'


@pytest.mark.parametrize("value", ["plain text", "", "{ not a template }", "50% off", 3, 2.5,
                                   True, None])
def test_non_templates_are_returned_untouched(value):
    # given a value with no template in it
    # when rendered
    # expect the same object back
    assert render(value) is value


def test_is_template_only_for_strings_with_braces():
    # given a few values
    # expect only strings holding "{{" to count as templates
    assert is_template("{{ x }}")
    assert is_template("a {{ x }} b")
    assert not is_template("plain")
    assert not is_template({"a": "{{ x }}"})
    assert not is_template(None)


# -- names -------------------------------------------------------------------------------


def test_steps_trigger_input_and_run_are_available():
    # given templates using each name
    params = {"name": "{{ steps.fetch_user.output.name }}", "email": "{{ trigger.body.email }}",
              "count": "{{ input.count }}", "run": "{{ run.id }}/{{ run.attempt }}"}

    # when rendered
    result = render_params(params, CONTEXT)

    # expect each resolved
    assert result == {"name": "Ada", "email": "ada@example.test", "count": 3, "run": "r1/1"}


def test_subscript_and_list_indexing_work():
    # given item and index access
    # when rendered
    # expect the values
    assert render("{{ trigger.body['email'] }}") == "ada@example.test"
    assert render("{{ trigger.body.items[1].sku }}") == "b"
    assert render("{{ steps['fetch_user'].output.age + 1 }}") == 37


def test_data_keys_named_like_dict_methods_resolve_to_the_data():
    # given JSON keys "items" in the trigger and a step keyed "items"
    # when rendered with dot access
    items = render("{{ trigger.body.items }}")
    step = render("{{ steps.items.output }}")

    # expect the data, not the bound dict method
    assert items == [{"sku": "a"}, {"sku": "b"}]
    assert step == "step named items"


def test_dict_methods_still_work_when_no_key_shadows_them():
    # given a dict without a "keys" entry
    # when its method is called
    # expect the method's result
    assert render("{{ steps.fetch_user.output.keys() | list }}") == ["name", "age"]


# -- nesting -----------------------------------------------------------------------------


def test_nested_dicts_and_lists_are_rendered_throughout():
    # given templates deep in a structure
    params = {"json": {"order": "{{ trigger.body.id }}",
                       "lines": [{"sku": "{{ trigger.body.items[0].sku }}", "qty": 1},
                                 "fixed", "n={{ input.count }}"]},
              "timeout": 30}

    # when rendered
    result = render_params(params, CONTEXT)

    # expect each template replaced and everything else kept
    assert result == {"json": {"order": 42,
                               "lines": [{"sku": "a", "qty": 1}, "fixed", "n=3"]},
                      "timeout": 30}


def test_rendering_does_not_modify_the_params_or_the_context():
    # given params and a context
    params = {"json": {"order": "{{ trigger.body.id }}"}}
    params_before, context_before = copy.deepcopy(params), copy.deepcopy(CONTEXT)

    # when rendered
    render_params(params, CONTEXT)

    # expect both unchanged
    assert params == params_before
    assert CONTEXT == context_before


# -- errors ------------------------------------------------------------------------------


def test_undefined_name_names_the_nested_parameter_path():
    # given an unknown name deep inside the json parameter
    params = {"json": {"order": "{{ trigger.body.nope }}"}}

    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render_params(params, CONTEXT)

    # expect the path json.order in the error
    assert caught.value.param == "json.order"
    assert str(caught.value).startswith("parameter 'json.order':")
    assert "nope" in str(caught.value)


def test_undefined_inside_a_list_names_the_index():
    # given an undefined name in the second list item
    params = {"headers": {"list": ["ok", "{{ missing }}"]}}

    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render_params(params, CONTEXT)

    # expect the index in the path and the missing name in the message
    assert caught.value.param == "headers.list[1]"
    assert "'missing' is undefined" in str(caught.value)


@pytest.mark.parametrize("source", ["{{ nope }}", "text {{ nope }}", "{{ [nope] }}",
                                    "{{ {'a': nope} }}", "{{ steps.unknown_step.output }}",
                                    "{{ trigger.body.email.nope }}"])
def test_undefined_names_always_raise(source):
    # given a template using something undefined, whole or inside text or a literal
    # when rendered
    # expect an ExpressionError, never a silent empty value
    with pytest.raises(ExpressionError):
        render(source)


@pytest.mark.parametrize("source", ["{{ 1 / 0 }}", "{{ 'a' + 1 }}", "{{ trigger.body.id( }}",
                                    "{{ if }}"])
def test_runtime_and_syntax_errors_become_expression_errors(source):
    # given a template that fails to compile or evaluate
    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render(source)

    # expect the parameter named
    assert caught.value.param == "param"


# -- sandbox -----------------------------------------------------------------------------


class _Holder:
    public = "visible"
    _secret = "hidden"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ [].__class__.__base__.__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__ }}",
    "{{ holder._secret }}",
    "text {{ holder._secret }}",
])
def test_sandbox_blocks_python_escapes(source):
    # given a template reaching for Python internals
    context = {**CONTEXT, "holder": _Holder()}

    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render(source, context)

    # expect the sandbox to refuse
    assert "unsafe" in str(caught.value)


def test_public_attributes_of_objects_are_still_readable():
    # given an object in the context
    # when a public attribute is read
    # expect it rendered (so the blocked case above is really the sandbox)
    assert render("{{ holder.public }}", {**CONTEXT, "holder": _Holder()}) == "visible"


def test_templates_cannot_mutate_the_run_data():
    # given a run input in the context
    context = copy.deepcopy(CONTEXT)

    # when a template tries to change it in place
    with pytest.raises(ExpressionError):
        render("{{ trigger.body.pop('email') }}", context)
    with pytest.raises(ExpressionError):
        render("{{ trigger.body.tags.append('z') }}", context)

    # expect the data unchanged
    assert context == CONTEXT


def test_huge_string_multiplication_is_blocked():
    # given a template building a 10 MB string
    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render("{{ 'a' * 10000000 }}")

    # expect a size error
    assert "too large" in str(caught.value)


def test_huge_list_multiplication_is_blocked_either_way_round():
    # given templates building a 10-million-item list
    for source in ("{{ [0] * 10000000 }}", "{{ 10000000 * [0] }}", "x{{ 'ab' * 600000 }}"):
        # when rendered
        # expect refusal
        with pytest.raises(ExpressionError):
            render(source)


def test_moderate_multiplication_is_allowed():
    # given a small repetition
    # when rendered
    # expect the result
    assert render("{{ 'ab' * 3 }}") == "ababab"
    assert render("{{ 6 * 7 }}") == 42


def test_huge_exponent_is_blocked():
    # given a power with a huge exponent
    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render("{{ 10 ** 100000 }}")

    # expect refusal
    assert "exponent too large" in str(caught.value)


def test_huge_range_is_blocked():
    # given a range of a billion numbers
    # when rendered
    with pytest.raises(ExpressionError) as caught:
        render("{{ range(1000000000) | list | length }}")

    # expect the sandbox's range limit
    assert "Range too big" in str(caught.value)


class TestResourceLimits:
    def test_block_tags_are_plain_text_so_templates_cannot_loop(self):
        # given a template that would double a string in a loop
        source = "{% for i in range(60) %}x{% endfor %} {{ 1 }}"

        # when it renders
        result = render_value(source, {}, "p")

        # expect the block tags to stay literal text
        assert result == "{% for i in range(60) %}x{% endfor %} 1"

    def test_a_result_with_too_many_values_is_refused(self):
        # given an expression whose result is a million lists of a million items
        source = "{{ [[0] * 1000000] * 1000000 }}"

        # expect a clear error instead of an attempt to copy it all
        with pytest.raises(ExpressionError, match="more than 1,000,000 values"):
            render_value(source, {}, "p")
