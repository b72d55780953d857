"""Run history rows written straight to the database (tests and bench/history.py): runs
with chosen start times, statuses and step usage, without running anything."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from n8nclone.store.db import Database
from n8nclone.store.models import Run, Step

RUN, STEP = Run.__table__, Step.__table__


def run_id_at(started_at: datetime) -> str:
    """An id shaped like the store's (creation time in ms first, then random)."""
    return f"{int(started_at.timestamp() * 1000):012x}{os.urandom(10).hex()}"


def run_row(workflow_id: int, version_id: int, started_at: datetime, status: str = "succeeded",
            *, steps: int = 0, duration: timedelta = timedelta(seconds=1),
            trigger_type: str = "manual", run_id: str | None = None) -> dict[str, Any]:
    """A finished run (or, for a status that is not terminal, one without an end)."""
    finished = status in ("succeeded", "failed", "cancelled")
    ended_at = started_at + duration if finished else None
    return {"id": run_id or run_id_at(started_at), "workflow_id": workflow_id,
            "version_id": version_id, "status": status, "trigger_type": trigger_type,
            "input": None, "output": None, "error": None, "started_at": started_at,
            "ended_at": ended_at, "updated_at": ended_at or started_at, "deadline_at": None,
            "wake_at": None, "wake_seq": 0, "step_count": steps}


def step_row(run_id: str, key: str, started_at: datetime, *, tokens: int | None = None,
             cost_usd: float | None = None, node_type: str = "data.set") -> dict[str, Any]:
    """A succeeded step; with `tokens`, one that made a metered (LLM) call."""
    metered = tokens is not None
    return {"run_id": run_id, "node_key": key, "node_type": node_type, "status": "succeeded",
            "attempts": 1, "input": None, "output": None, "output_port": "main", "error": None,
            "started_at": started_at, "ended_at": started_at + timedelta(milliseconds=5),
            "next_attempt_at": None, "model": "test/model" if metered else None,
            "prompt_tokens": tokens - 2 if metered else None,
            "completion_tokens": 2 if metered else None, "total_tokens": tokens,
            "cost_usd": cost_usd, "latency_ms": 5.0 if metered else None}


def insert_history(db: Database, runs: list[dict], steps: list[dict] = ()) -> None:
    """Insert runs and their steps in one transaction (executemany)."""
    with db.write() as conn:
        if runs:
            conn.execute(insert(RUN), runs)
        if steps:
            conn.execute(insert(STEP), list(steps))
