"""A run of the draft painted on its nodes: each step's status and what the panel shows."""

from __future__ import annotations

import json
from typing import Any

OUTPUT_SHOWN_CHARS = 4000  # of a step's output or error in the side panel
TERMINAL_RUN_STATUSES = ("succeeded", "failed", "cancelled")


def shown_json(value: Any) -> str:
    """A step's output or error as indented JSON, cut to what the panel shows."""
    if value is None:
        return ""
    text = json.dumps(value, indent=2, default=str)
    if len(text) > OUTPUT_SHOWN_CHARS:
        return text[:OUTPUT_SHOWN_CHARS] + f"\n... ({len(text)} characters, cut)"
    return text


def step_paint(run: dict, node_keys: list[str]) -> tuple[dict[str, str], dict[str, dict]]:
    """Each node's status in `run` (nodes not reached yet are `queued` while the run is
    active), and what the panel shows of each step."""
    status: dict[str, str] = {}
    details: dict[str, dict] = {}
    for step in run.get("steps", []):
        status[step["key"]] = step["status"]
        details[step["key"]] = {"status": step["status"], "attempts": step.get("attempts") or 0,
                                "output": shown_json(step.get("output")),
                                "error": shown_json(step.get("error"))}
    if run.get("status") not in TERMINAL_RUN_STATUSES:
        for key in node_keys:
            status.setdefault(key, "queued")
    return status, details
