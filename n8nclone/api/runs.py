"""/api/runs: list (filtered, keyset-paginated), read with steps, cancel, rerun, retry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Query

from n8nclone.api.deps import ServicesDep, not_found
from n8nclone.api.workflows import RunRequest
from n8nclone.engine.control import KEEP, RunNotFinished, cancel_run, rerun_run, retry_run
from n8nclone.errors import UserInputError

router = APIRouter(prefix="/api/runs", tags=["runs"])

RunStatus = Literal["queued", "running", "retrying", "sleeping", "waiting", "succeeded", "failed",
                    "cancelled"]


def _as_utc(name: str, value: datetime | None) -> datetime | None:
    """The time in UTC; a time without a zone is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise UserInputError(f"{name}: {value.isoformat()} is out of range in UTC") from None


@router.get("")
async def list_runs(services: ServicesDep, workflow: str | None = None,
                    status: RunStatus | None = None,
                    since: datetime | None = Query(
                        None, description="only runs started at or after this time (ISO 8601; "
                                          "without a timezone it is UTC)"),
                    until: datetime | None = Query(
                        None, description="only runs started before this time (ISO 8601; "
                                          "without a timezone it is UTC)"),
                    limit: int = Query(50, ge=1, le=500),
                    cursor: str | None = None) -> dict:
    """Runs, newest first, paginated by keyset: pass `next_cursor` back as `cursor` (with the
    same filters). Each item has its status, workflow, trigger type, start and end times,
    `duration_ms`, `step_count`, and the `total_tokens` and `cost_usd` of its LLM calls."""
    since, until = _as_utc("since", since), _as_utc("until", until)
    if since is not None and until is not None and since > until:
        raise UserInputError("since: is later than until")
    workflow_id = None
    if workflow is not None:
        record = await asyncio.to_thread(services.workflows.find, workflow)
        if record is None:
            raise not_found(f"workflow {workflow!r}")
        workflow_id = record.id
    return await asyncio.to_thread(services.run_queries.list_runs, workflow_id=workflow_id,
                                   status=status, started_after=since, started_before=until,
                                   limit=limit, cursor=cursor)


@router.get("/{run_id}")
async def read_run(run_id: str, services: ServicesDep) -> dict:
    run = await asyncio.to_thread(services.run_queries.get_run, run_id)
    if run is None:
        raise not_found(f"run {run_id!r}")
    return run


@router.post("/{run_id}/cancel")
async def cancel(run_id: str, services: ServicesDep) -> dict:
    status = await asyncio.to_thread(cancel_run, services.runs, services.dispatcher, run_id)
    if status is None:
        raise not_found(f"run {run_id!r}")
    return {"id": run_id, "status": status}


@router.post("/{run_id}/rerun", status_code=201,
             responses={404: {"description": "no such run"},
                        409: {"description": "the run is still active"}})
async def rerun(run_id: str, services: ServicesDep, request: RunRequest | None = None) -> dict:
    """A new run of the same workflow version, every step executed anew: with the same
    input, or with `data` when the body gives it."""
    given = request is not None and "data" in request.model_fields_set
    return await _start_again(rerun_run, services, run_id,
                              input=request.data if given else KEEP)


@router.post("/{run_id}/retry", status_code=201,
             responses={404: {"description": "no such run"},
                        409: {"description": "the run is still active, or it succeeded"}})
async def retry(run_id: str, services: ServicesDep) -> dict:
    """A new run of the same version and input that keeps the steps which succeeded and
    executes from the failed (or cancelled) step on."""
    return await _start_again(retry_run, services, run_id)


async def _start_again(start, services, run_id: str, **options) -> dict:
    try:
        new_id = await asyncio.to_thread(start, services.runs, services.dispatcher, run_id,
                                         **options)
    except RunNotFinished as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    if new_id is None:
        raise not_found(f"run {run_id!r}")
    return {"id": new_id, "status": "queued", "url": f"/api/runs/{new_id}"}
