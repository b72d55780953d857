"""Run control from outside the engine: cancel (API, CLI, cancel-on events)."""

from __future__ import annotations

from n8nclone.engine.executor import Dispatcher
from n8nclone.store.runs import RunStore


def cancel_run(runs: RunStore, dispatcher: Dispatcher, run_id: str) -> str | None:
    """Cancel an active run; its concurrency slot goes to the next queued run of its key.
    Returns the run's status afterwards (None: no such run)."""
    status = runs.cancel(run_id)
    key = runs.concurrency_key_of(run_id) if status == "cancelled" else None
    if key is not None:
        next_run = runs.next_queued(key)
        if next_run is not None:
            dispatcher.send(next_run)
    return status
