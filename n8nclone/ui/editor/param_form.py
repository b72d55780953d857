"""The side panel's parameter form: fields from a node type's schema, inputs back to values."""

from __future__ import annotations

import json
import re
from typing import Any


def param_text(param: dict, value: Any) -> str:
    """What a text-like input shows for a parameter's saved value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if param["type"] == "json" or isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value).lower() if isinstance(value, bool) else str(value)


def param_visible(param: dict, params: dict) -> bool:
    """Whether `show_if` lets the parameter show, given the node's other values."""
    conditions = (param.get("show_if") or {}).items()
    return all(params.get(other) in values for other, values in conditions)


def form_fields(type_info: dict, params: dict, errors: dict[str, str],
                key_prefix: str) -> list[dict[str, Any]]:
    """The parameter form of a node: one entry per visible parameter of its type."""
    merged = {p["name"]: p.get("default") for p in type_info.get("params", [])}
    merged.update(params)
    fields = []
    for param in type_info.get("params", []):
        if not param_visible(param, merged):
            continue
        name, default = param["name"], param.get("default")
        value = params.get(name)
        placeholder = ("" if default in (None, "", {}, [])
                       else f"default: {param_text(param, default)}")
        fields.append({
            "name": name,
            "type": param["type"],
            "label": param.get("label") or name,
            "required": bool(param.get("required")),
            "help": param.get("help") or "",
            "options": list(param.get("options") or []),
            "secret": bool(param.get("secret")),
            "text": param_text(param, value),
            "choice": str(value if value is not None else (default or "")),
            "checked": bool(value if value is not None else default),
            "placeholder": placeholder,
            "error": errors.get(name, ""),
            "key": f"{key_prefix}:{name}",
        })
    return fields


def parse_param(param: dict, raw: Any) -> tuple[bool, Any, str]:
    """A form input as a parameter value: (keep it, the value, a problem). An empty input
    removes the parameter (its default applies); `{{ }}` is accepted anywhere (checked when
    the step runs)."""
    kind = param["type"]
    if kind == "boolean":
        return True, bool(raw), ""
    text = "" if raw is None else str(raw)
    if text.strip() == "":
        return False, None, ""
    if kind == "json":
        try:
            return True, json.loads(text), ""
        except json.JSONDecodeError as error:
            if "{{" in text:
                return True, text, ""  # one template giving the whole value
            return True, None, f"not valid JSON: {error.msg} (line {error.lineno})"
    if "{{" in text:
        return True, text, ""
    if kind == "integer":
        try:
            return True, int(text.strip()), ""
        except ValueError:
            return True, None, "must be a whole number (or a {{ }} expression)"
    if kind == "number":
        try:
            number = float(text.strip())
        except ValueError:
            return True, None, "must be a number (or a {{ }} expression)"
        return True, int(number) if number.is_integer() and "." not in text else number, ""
    if kind == "duration" and re.fullmatch(r"\s*\d+(\.\d+)?\s*", text):
        number = float(text)
        return True, int(number) if number.is_integer() else number, ""
    if kind == "options" and param.get("options") and text not in param["options"]:
        return True, None, f"must be one of {', '.join(param['options'])}"
    return True, text, ""


def param_schema(info: dict, name: str) -> dict | None:
    """The schema of parameter `name` in a node type's description."""
    return next((p for p in info.get("params", []) if p["name"] == name), None)


def updated_params(params: dict, name: str, keep: bool, value: Any) -> dict | None:
    """The node's parameters with one input applied; None when that changes nothing."""
    params = dict(params)
    if keep:
        if params.get(name) == value and name in params:
            return None
        params[name] = value
    elif name in params:
        del params[name]
    else:
        return None
    return params
