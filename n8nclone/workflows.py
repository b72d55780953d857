"""Workflow files in and out: parse, validate against the node catalogue, save as a version."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from n8nclone.graph.plan import Plan, build_plan, validate
from n8nclone.graph.problems import Problem, WorkflowInvalid
from n8nclone.graph.spec import WorkflowSpec, parse_workflow
from n8nclone.nodes.registry import NodeRegistry
from n8nclone.store.workflows import WorkflowRecord, WorkflowStore
from n8nclone.triggers.registration import Registration


def check_workflow(data: Any, registry: NodeRegistry) -> tuple[WorkflowSpec, Plan]:
    """Parse and plan a workflow file; raise WorkflowInvalid with every problem."""
    spec = parse_workflow(data)
    return spec, build_plan(spec, registry)


def problems_of(data: Any, registry: NodeRegistry) -> list[Problem]:
    """Every problem of a workflow file (empty when it is valid)."""
    try:
        spec = parse_workflow(data)
    except WorkflowInvalid as exc:
        return exc.problems
    return validate(spec, registry)


def registrations_of(plan: Plan | dict, registry: NodeRegistry) -> list[Registration]:
    """What the plan's trigger registers while the workflow is active."""
    plan = Plan.from_dict(plan) if isinstance(plan, dict) else plan
    trigger = plan.nodes[plan.trigger]
    node_type = registry.get(trigger.type)
    found = node_type.registration(node_type.with_defaults(trigger.params)) if node_type else None
    return [replace(found, node_key=trigger.key)] if found else []


SECRET_MASK = "********"


def _secret_params(registry: NodeRegistry, type_name: str) -> list[str]:
    node_type = registry.get(type_name)
    return [p.name for p in node_type.params if p.secret] if node_type else []


def mask_secrets(spec: dict, registry: NodeRegistry) -> dict:
    """The workflow file as the API and export show it: secret parameters masked."""
    masked = copy.deepcopy(spec)
    for node in masked.get("nodes", []):
        params = node.get("params") or {}
        for name in _secret_params(registry, node.get("type", "")):
            if params.get(name):
                params[name] = SECRET_MASK
    return masked


def _restore_secrets(data: Any, previous: dict | None, registry: NodeRegistry) -> Any:
    """A masked secret sent back (read, edit, save) keeps the saved value."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not previous:
        return data
    saved = {n["key"]: n.get("params") or {} for n in previous.get("nodes", [])}
    data = copy.deepcopy(data)
    for node in data["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("params"), dict):
            continue
        for name in _secret_params(registry, str(node.get("type"))):
            if node["params"].get(name) == SECRET_MASK and name in saved.get(node.get("key"), {}):
                node["params"][name] = saved[node["key"]][name]
    return data


def save_workflow(store: WorkflowStore, registry: NodeRegistry, data: Any,
                  workflow_id: int | None = None) -> WorkflowRecord:
    """Create a workflow, or save a new version of `workflow_id`."""
    if workflow_id is not None:
        current = store.get(workflow_id)
        data = _restore_secrets(data, current.spec if current else None, registry)
    spec, plan = check_workflow(data, registry)
    spec_data, plan_data = spec.to_file(), plan.to_dict()
    registrations = registrations_of(plan, registry)
    if workflow_id is None:
        return store.create(spec_data, plan_data, registrations)
    return store.update(workflow_id, spec_data, plan_data, registrations)


def set_workflow_active(store: WorkflowStore, registry: NodeRegistry, workflow_id: int,
                        active: bool) -> WorkflowRecord | None:
    """Activate or deactivate a workflow (its trigger is registered only while active)."""
    record = store.get(workflow_id)
    if record is None:
        return None
    store.set_active(workflow_id, active, registrations_of(record.plan, registry))
    return store.get(workflow_id)


def import_workflow(store: WorkflowStore, registry: NodeRegistry, data: Any) -> WorkflowRecord:
    """Save a workflow file: a new workflow, or a new version of the one with its name."""
    spec, _ = check_workflow(data, registry)
    existing = store.find(spec.name)
    return save_workflow(store, registry, data, existing.id if existing else None)
