"""Workflow files in and out: parse, validate against the node catalogue, save as a version."""

from __future__ import annotations

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


def save_workflow(store: WorkflowStore, registry: NodeRegistry, data: Any,
                  workflow_id: int | None = None) -> WorkflowRecord:
    """Create a workflow, or save a new version of `workflow_id`."""
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
