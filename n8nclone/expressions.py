"""Sandboxed `{{ ... }}` templates in node parameters.

Evaluated with Jinja2's SandboxedEnvironment against `trigger` (the run's
input), `steps` (`steps.<key>.output`), `input` (the predecessor's output) and
`run`. A template that is the whole value keeps its type (`"{{ 1 + 1 }}"` is
the number 2); a template inside text renders to text. Undefined names and
sandbox violations raise ExpressionError, which names the parameter.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SEQUENCE = 1_000_000  # longest string/list a template may build by multiplication
_WHOLE = re.compile(r"^\s*\{\{(?P<expr>.*?)\}\}\s*$", re.S)


class ExpressionError(ValueError):
    """A template failed; `param` is the dotted path of the parameter."""

    def __init__(self, param: str, message: str, node: str | None = None):
        self.param, self.reason, self.node = param, message, node
        where = f"node '{node}': " if node else ""
        super().__init__(f"{where}parameter '{param}': {message}")


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, plus limits on `*` and `**` so a template cannot exhaust memory.

    Immutable: a template must not change the run input or a step output in memory
    (`trigger.body.pop(...)`), or later steps would see data that no checkpoint holds.
    """

    intercepted_binops = frozenset(["*", "**"])

    def getattr(self, obj, attribute):
        # Data first: `body.items` is the JSON key "items", not the dict method.
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context, operator_name, left, right):
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > 1000:
                raise TemplateError("exponent too large")
            return operator.pow(left, right)
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                if len(seq) * count > MAX_SEQUENCE:
                    raise TemplateError("result too large")
        return operator.mul(left, right)


# Only `{{ }}` expressions: block tags (loops, set) are plain text, so a template cannot
# loop to grow a value without bound.
_env = _Environment(undefined=StrictUndefined, autoescape=False,
                    block_start_string="<%n8nclone-no-blocks", block_end_string="%>",
                    comment_start_string="<#n8nclone-no-comments", comment_end_string="#>")
_env.filters["json"] = lambda value: json.dumps(value, default=str)


@functools.lru_cache(maxsize=4096)
def _compile_expression(source: str):
    return _env.compile_expression(source, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _compile_template(source: str):
    return _env.from_string(source)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


MAX_RESULT_ITEMS = 1_000_000  # values in one expression result (a list of a million lists...)


def _native(value: Any, budget: list[int] | None = None) -> Any:
    """Make an expression result JSON-friendly (tuples and ranges become lists)."""
    budget = [MAX_RESULT_ITEMS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise TemplateError(f"the result holds more than {MAX_RESULT_ITEMS:,} values")
    if isinstance(value, StrictUndefined):
        str(value)  # raises UndefinedError with jinja's message
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _native(v, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple, range, set, frozenset)):
        return [_native(v, budget) for v in value]
    return str(value)


def render_string(source: str, context: Mapping[str, Any]) -> Any:
    """Evaluate one string; raises jinja2 errors (use render_params for a named error)."""
    whole = _WHOLE.match(source)
    if whole and "{{" not in whole.group("expr") and "}}" not in whole.group("expr"):
        return _native(_compile_expression(whole.group("expr").strip())(**context))
    return _compile_template(source).render(**context)


def render_value(value: Any, context: Mapping[str, Any], path: str) -> Any:
    """Render every template inside `value` (recursing into dicts and lists)."""
    if isinstance(value, str):
        if "{{" not in value:
            return value
        try:
            return render_string(value, context)
        except TemplateError as exc:
            raise ExpressionError(path, exc.message or type(exc).__name__) from None
        except Exception as exc:  # noqa: BLE001  a template may raise anything (1/0, ...)
            raise ExpressionError(path, f"{type(exc).__name__}: {exc}") from None
    if isinstance(value, dict):
        return {k: render_value(v, context, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def render_params(params: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Render every parameter of a node; raises ExpressionError naming the parameter."""
    return {name: render_value(value, context, name) for name, value in params.items()}


@functools.lru_cache(maxsize=1024)
def _compile_condition(source: str):
    return _env.compile_expression(source, undefined_to_none=False)


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    """Evaluate a bare expression (no braces), such as an event filter's
    `event.data.total > 100`. Raises ExpressionError."""
    try:
        return _native(_compile_condition(source.strip())(**context))
    except TemplateError as exc:
        raise ExpressionError("if", exc.message or type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001  an expression may raise anything
        raise ExpressionError("if", f"{type(exc).__name__}: {exc}") from None
