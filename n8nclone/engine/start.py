"""Starting a run: record it (queued) against a version's frozen plan, then ask for work."""

from __future__ import annotations

from typing import Any

from n8nclone.durations import parse_duration
from n8nclone.engine.executor import Dispatcher
from n8nclone.store.runs import RunStore


def start_run(runs: RunStore, dispatcher: Dispatcher, *, workflow_id: int, version_id: int,
              plan_settings: dict, input: Any = None, trigger_type: str = "manual") -> str:
    """Create the run row first (the database is the source of truth), then send the message.
    If the send is lost, the sweep still finds the queued run."""
    timeout = plan_settings.get("timeout")
    run_id = runs.create_run(workflow_id=workflow_id, version_id=version_id, input=input,
                             trigger_type=trigger_type,
                             timeout_seconds=parse_duration(timeout) if timeout else None)
    dispatcher.send(run_id)
    return run_id
