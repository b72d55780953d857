"""Workflow files in and out: parse, validate against the node catalogue, save as a version."""

from __future__ import annotations

from typing import Any

from n8nclone.graph.plan import Plan, build_plan, validate
from n8nclone.graph.problems import Problem, WorkflowInvalid
from n8nclone.graph.spec import WorkflowSpec, parse_workflow
from n8nclone.nodes.registry import NodeRegistry
from n8nclone.store.workflows import WorkflowRecord, WorkflowStore


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


def save_workflow(store: WorkflowStore, registry: NodeRegistry, data: Any,
                  workflow_id: int | None = None) -> WorkflowRecord:
    """Create a workflow, or save a new version of `workflow_id`."""
    spec, plan = check_workflow(data, registry)
    spec_data, plan_data = spec.to_file(), plan.to_dict()
    if workflow_id is None:
        return store.create(spec_data, plan_data)
    return store.update(workflow_id, spec_data, plan_data)


def import_workflow(store: WorkflowStore, registry: NodeRegistry, data: Any) -> WorkflowRecord:
    """Save a workflow file: a new workflow, or a new version of the one with its name."""
    spec, _ = check_workflow(data, registry)
    existing = store.find(spec.name)
    return save_workflow(store, registry, data, existing.id if existing else None)
