"""Declarative parameter schema: what a node type takes, rendered by the editor as a form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PARAM_TYPES = ("string", "text", "number", "integer", "boolean", "json", "options", "duration")


@dataclass(frozen=True)
class Param:
    """One parameter of a node type.

    `show_if` maps another parameter's name to the values for which this one
    applies (the editor hides it otherwise). Every string value may be a
    `{{ }}` template, which is checked when the step runs, not at save.
    """

    name: str
    type: str = "string"
    label: str = ""
    default: Any = None
    required: bool = False
    options: tuple[str, ...] = ()
    help: str = ""
    show_if: dict[str, tuple] = field(default_factory=dict)
    secret: bool = False  # never returned by the API or exported; see workflows.mask_secrets

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"param {self.name!r}: unknown type {self.type!r}")
        if self.type == "options" and not self.options:
            raise ValueError(f"param {self.name!r}: type 'options' needs options")

    def describe(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label or self.name.replace("_", " ").capitalize(),
            "default": self.default,
            "required": self.required,
            "options": list(self.options),
            "help": self.help,
            "show_if": {k: list(v) for k, v in self.show_if.items()},
            "secret": self.secret,
        }

    def check_literal(self, value: Any) -> str | None:
        """A readable problem with a saved (non-template) value, or None."""
        if isinstance(value, str) and "{{" in value:
            return None  # a template: checked when the step runs
        if self.required and (value is None or value == ""):
            return f"missing required parameter '{self.name}'"
        if value is None:
            return None
        expected = {
            "string": str, "text": str, "duration": (str, int, float),
            "number": (int, float), "integer": int, "boolean": bool,
        }.get(self.type)
        if expected and (not isinstance(value, expected) or
                         (self.type in ("number", "integer") and isinstance(value, bool))):
            article = "an" if self.type[0] in "aeiou" else "a"
            return f"parameter '{self.name}' must be {article} {self.type}"
        if self.type == "options" and value not in self.options:
            return f"parameter '{self.name}' must be one of {', '.join(self.options)}"
        return None
