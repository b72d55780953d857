"""State of the workflow list page."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx


def workflow_row(record) -> dict[str, Any]:
    """What the list shows of one workflow."""
    nodes = record.spec.get("nodes", [])
    trigger = next((n["type"] for n in nodes if n["type"].startswith("trigger.")), "")
    return {
        "id": record.id,
        "name": record.name,
        "trigger": trigger,
        "active": record.active,
        "version": record.version,
        "nodes": len(nodes),
        "updated": record.updated_at.strftime("%Y-%m-%d %H:%M"),
        "href": f"/workflows/{record.id}",
    }


def _list_workflows() -> list[dict[str, Any]]:
    from n8nclone.services import get_services

    return [workflow_row(r) for r in get_services().workflows.list()]


class WorkflowListState(rx.State):
    """Every workflow, by name."""

    rows: list[dict[str, Any]] = []
    loaded: bool = False

    @rx.event
    async def load(self):
        self.rows = await asyncio.to_thread(_list_workflows)
        self.loaded = True
