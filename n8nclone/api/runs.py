"""/api/runs: list (filtered, keyset-paginated), read with steps, cancel."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Query

from n8nclone.api.deps import ServicesDep, not_found
from n8nclone.engine.control import cancel_run

router = APIRouter(prefix="/api/runs", tags=["runs"])

RunStatus = Literal["queued", "running", "retrying", "sleeping", "waiting", "succeeded", "failed",
                    "cancelled"]


@router.get("")
async def list_runs(services: ServicesDep, workflow: str | None = None,
                    status: RunStatus | None = None,
                    limit: int = Query(50, ge=1, le=500),
                    cursor: str | None = None) -> dict:
    workflow_id = None
    if workflow is not None:
        record = await asyncio.to_thread(services.workflows.find, workflow)
        if record is None:
            raise not_found(f"workflow {workflow!r}")
        workflow_id = record.id
    return await asyncio.to_thread(services.run_queries.list_runs, workflow_id=workflow_id,
                                   status=status, limit=limit, cursor=cursor)


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
