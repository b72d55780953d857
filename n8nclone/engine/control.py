"""Run control from outside the engine: cancel (API, CLI, cancel-on events), and start a
finished run again: rerun (every step anew) or retry (from the step that failed on)."""

from __future__ import annotations

from typing import Any

from n8nclone.engine.executor import Dispatcher
from n8nclone.engine.start import start_run
from n8nclone.errors import UserInputError
from n8nclone.store.runs import ACTIVE_STATUSES, RunStore


class RunNotFinished(UserInputError):
    """The run cannot be started again in the state it is in (still active, or succeeded)."""


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()  # rerun_run's default input: the old run's


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


def rerun_run(runs: RunStore, dispatcher: Dispatcher, run_id: str, *,
              input: Any = KEEP) -> str | None:
    """Start a new run of the same workflow version with the same input (or `input`), every
    step executed anew. Returns its id (None: no such run); raises RunNotFinished while the
    run is still active."""
    source = runs.rerun_source(run_id)
    if source is None:
        return None
    if source.status in ACTIVE_STATUSES:
        raise RunNotFinished(f"run {run_id} is still {source.status}; rerun it once it has "
                             "finished (or cancel it first)")
    return start_run(runs, dispatcher, workflow_id=source.workflow_id,
                     version_id=source.version_id,
                     plan_settings=_settings(runs, source.version_id),
                     input=source.input if input is KEEP else input, trigger_type="rerun",
                     rerun_of=run_id)


def retry_run(runs: RunStore, dispatcher: Dispatcher, run_id: str) -> str | None:
    """Start a new run of the same version and input that keeps the steps which succeeded
    (or were skipped) in a failed or cancelled run, and executes from the failed, cancelled
    or never-reached ones on. Returns its id (None: no such run); raises RunNotFinished for
    an active or succeeded run."""
    source = runs.rerun_source(run_id)
    if source is None:
        return None
    if source.status in ACTIVE_STATUSES:
        raise RunNotFinished(f"run {run_id} is still {source.status}; retry it once it has "
                             "failed or was cancelled (or cancel it first)")
    if source.status == "succeeded":
        raise RunNotFinished(f"run {run_id} succeeded: there is no failed step to retry "
                             "from (rerun it to execute every step again)")
    return start_run(runs, dispatcher, workflow_id=source.workflow_id,
                     version_id=source.version_id,
                     plan_settings=_settings(runs, source.version_id), input=source.input,
                     trigger_type="retry", rerun_of=run_id, copy_steps=True)


def _settings(runs: RunStore, version_id: int) -> dict:
    """The flow-control settings of the version the run ran (frozen with its plan)."""
    return runs.load_plan_data(version_id).get("settings") or {}
