"""Helpers for tests that start runs and read them back (engine and API tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from n8nclone.engine.start import start_run
from n8nclone.services import Services
from n8nclone.store.workflows import WorkflowRecord
from n8nclone.workflows import save_workflow


def save_and_start(services: Services, workflow: dict, input: Any = None
                   ) -> tuple[WorkflowRecord, str]:
    """Save `workflow` and start one run of it (as the CLI and the API do)."""
    record = save_workflow(services.workflows, services.registry, workflow)
    run_id = start_run(services.runs, services.dispatcher, workflow_id=record.id,
                       version_id=record.version_id,
                       plan_settings=record.plan.get("settings", {}), input=input)
    return record, run_id


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` otherwise.
    (A wait for a state, not an assertion about how long it took.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s")


def steps_by_key(run: dict) -> dict[str, dict]:
    return {s["key"]: s for s in run["steps"]}


def ts(value: str) -> datetime:
    """A timestamp of the run history (ISO text) as an aware datetime."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"timestamp {value!r} has no timezone"
    return parsed


def http_node(key: str, url: str, **extra: Any) -> dict:
    node = {"key": key, "type": "http.request", "params": {"url": url, "timeout": 60}}
    node.update(extra)
    return node


def fan_out(name: str, base_url: str, paths: list[str], **settings: Any) -> dict:
    """trigger -> one http.request per path (side by side) -> flow.merge `join`."""
    keys = [p.strip("/") for p in paths]
    nodes = [{"key": "start", "type": "trigger.manual"}]
    nodes += [http_node(k, base_url + p) for k, p in zip(keys, paths, strict=True)]
    nodes.append({"key": "join", "type": "flow.merge"})
    edges = [{"from": "start", "to": k} for k in keys] + [{"from": k, "to": "join"} for k in keys]
    return {"name": name, "settings": settings, "nodes": nodes, "edges": edges}
