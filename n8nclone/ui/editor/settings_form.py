"""The workflow settings dialog: the spec's `settings` as text inputs, and back."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from pydantic import ValidationError

from n8nclone.graph.spec import SettingsSpec


def settings_form_values(settings: dict) -> dict[str, str]:
    """The settings dialog's inputs (text) for a workflow's `settings`."""
    concurrency = settings.get("concurrency") or {}
    rules = settings.get("cancel_on") or []
    rule = rules[0] if rules else {}

    def text(value: Any) -> str:
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    return {
        "retries": text(settings.get("retries")),
        "timeout": text(settings.get("timeout")),
        "concurrency_limit": text(concurrency.get("limit")),
        "concurrency_key": text(concurrency.get("key")),
        "idempotency_key": text(settings.get("idempotency_key")),
        "cancel_event": text(rule.get("event")),
        "cancel_match": text(rule.get("match")),
        "cancel_value": text(rule.get("value")),
        "budget_usd": text(settings.get("budget_usd")),
        "more_cancel_rules": str(max(len(rules) - 1, 0)),
    }


def settings_from_form(form: dict[str, Any], current: dict) -> dict:
    """The workflow's `settings` from the dialog's inputs (other settings and further
    cancel-on rules kept); ValueError with every problem."""
    settings = copy.deepcopy(current)

    def value(name: str) -> str:
        return str(form.get(name) or "").strip()

    def number(name: str, kind: type) -> Any:
        text = value(name)
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise ValueError(f"{name.replace('_', ' ')}: must be a number") from None

    problems = []
    for name, found in (("retries", lambda: number("retries", int)),
                        ("timeout", lambda: _duration_value(value("timeout"))),
                        ("idempotency_key", lambda: value("idempotency_key") or None),
                        ("budget_usd", lambda: number("budget_usd", float))):
        try:
            settings[name] = found()
        except ValueError as error:
            problems.append(str(error))
    try:
        limit = number("concurrency_limit", int)
        settings["concurrency"] = ({"limit": limit, "key": value("concurrency_key") or None}
                                   if limit is not None else None)
        if limit is None and value("concurrency_key"):
            problems.append("concurrency: a key needs a limit")
    except ValueError as error:
        problems.append(str(error))
    rules = list(settings.get("cancel_on") or [])
    first = dict(rules[0]) if rules else {}
    if value("cancel_event"):
        first.update(event=value("cancel_event"), match=value("cancel_match") or None)
        first.pop("value", None)
        if value("cancel_value"):
            first["value"] = value("cancel_value")
        rules = [first, *rules[1:]]
    else:
        rules = rules[1:]
    settings["cancel_on"] = rules or None
    if problems:
        raise ValueError("; ".join(problems))
    try:
        checked = SettingsSpec.model_validate({k: v for k, v in settings.items() if v is not None})
    except ValidationError as error:
        raise ValueError("; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())) from None
    return checked.model_dump(mode="json", by_alias=True, exclude_none=True)


def _duration_value(text: str) -> Any:
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        number = float(text)
        return int(number) if number.is_integer() else number
    return text
