"""/api/workflows: create from a workflow file, read, update, delete, list, validate, run."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel

from n8nclone.api.deps import ServicesDep, not_found
from n8nclone.engine.start import start_run
from n8nclone.nodes.registry import default_registry
from n8nclone.store.workflows import WorkflowRecord
from n8nclone.workflows import mask_secrets, problems_of, save_workflow, set_workflow_active

router = APIRouter(prefix="/api/workflows", tags=["workflows"])

WORKFLOW_FILE = Body(..., description="A workflow file (see the README for the format).",
                     examples=[{"name": "Hello", "nodes": [
                         {"key": "start", "type": "trigger.manual"},
                         {"key": "greet", "type": "data.set",
                          "params": {"values": {"hello": "{{ trigger.name }}"}}}],
                         "edges": [{"from": "start", "to": "greet"}]}])


class RunRequest(BaseModel):
    data: Any = None


def workflow_public(record: WorkflowRecord, *, with_spec: bool = True) -> dict:
    trigger = record.plan["nodes"][[n["key"] for n in record.plan["nodes"]]
                                   .index(record.plan["trigger"])]["type"]
    data = {"id": record.id, "name": record.name, "active": record.active,
            "version": record.version, "version_id": record.version_id, "trigger": trigger,
            "created_at": record.created_at.isoformat(),
            "updated_at": record.updated_at.isoformat()}
    if with_spec:
        data["workflow"] = mask_secrets(record.spec, default_registry())
    return data


def _get(services, ref: str) -> WorkflowRecord:
    record = services.workflows.find(ref)
    if record is None:
        raise not_found(f"workflow {ref!r}")
    return record


@router.get("")
async def list_workflows(services: ServicesDep) -> dict:
    records = await asyncio.to_thread(services.workflows.list)
    return {"items": [workflow_public(r, with_spec=False) for r in records]}


@router.post("", status_code=201)
async def create_workflow(services: ServicesDep, workflow: dict = WORKFLOW_FILE) -> dict:
    record = await asyncio.to_thread(save_workflow, services.workflows, services.registry,
                                     workflow)
    return workflow_public(record)


@router.post("/validate")
async def validate_workflow(services: ServicesDep, workflow: Any = WORKFLOW_FILE) -> dict:
    problems = problems_of(workflow, services.registry)
    return {"valid": not problems, "problems": [p.to_dict() for p in problems]}


@router.get("/{ref}")
async def read_workflow(ref: str, services: ServicesDep) -> dict:
    return workflow_public(await asyncio.to_thread(_get, services, ref))


@router.get("/{ref}/usage")
async def workflow_usage(ref: str, services: ServicesDep) -> dict:
    """Tokens, cost and latency of metered calls (LLMs), summed over all the workflow's runs."""
    record = await asyncio.to_thread(_get, services, ref)
    usage = await asyncio.to_thread(services.run_queries.workflow_usage, record.id)
    return {"workflow_id": record.id, **usage}


@router.put("/{ref}")
async def update_workflow(ref: str, services: ServicesDep,
                          workflow: dict = WORKFLOW_FILE) -> dict:
    current = await asyncio.to_thread(_get, services, ref)
    record = await asyncio.to_thread(save_workflow, services.workflows, services.registry,
                                     workflow, current.id)
    return workflow_public(record)


@router.delete("/{ref}", status_code=204)
async def delete_workflow(ref: str, services: ServicesDep) -> Response:
    current = await asyncio.to_thread(_get, services, ref)
    await asyncio.to_thread(services.workflows.delete, current.id, services.runs)
    return Response(status_code=204)


@router.post("/{ref}/activate")
async def activate_workflow(ref: str, services: ServicesDep) -> dict:
    """Register the workflow's trigger (webhook, event, schedule) so it starts runs."""
    return await _set_active(services, ref, True)


@router.post("/{ref}/deactivate")
async def deactivate_workflow(ref: str, services: ServicesDep) -> dict:
    """Stop the workflow's trigger from starting runs (the manual Run still works)."""
    return await _set_active(services, ref, False)


async def _set_active(services, ref: str, active: bool) -> dict:
    current = await asyncio.to_thread(_get, services, ref)
    record = await asyncio.to_thread(set_workflow_active, services.workflows,
                                     services.registry, current.id, active)
    return workflow_public(record, with_spec=False)


@router.post("/{ref}/runs", status_code=201)
async def run_workflow(ref: str, services: ServicesDep, request: RunRequest | None = None) -> dict:
    record = await asyncio.to_thread(_get, services, ref)
    run_id = await asyncio.to_thread(
        start_run, services.runs, services.dispatcher, workflow_id=record.id,
        version_id=record.version_id, plan_settings=record.plan.get("settings", {}),
        input=request.data if request else None, trigger_type="api")
    return {"id": run_id, "status": "queued", "url": f"/api/runs/{run_id}"}
