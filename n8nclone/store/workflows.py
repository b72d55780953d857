"""Workflow storage: a workflow and its immutable versions (with their nodes and edges)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from n8nclone.errors import UserInputError
from n8nclone.store.clock import utcnow
from n8nclone.store.db import Database
from n8nclone.store.models import Workflow, WorkflowEdge, WorkflowNode, WorkflowVersion
from n8nclone.store.runs import RunStore
from n8nclone.store.triggers import TriggerTaken, registrations_changed, replace_registrations
from n8nclone.triggers.registration import Registration

WF = Workflow.__table__
VERSION = WorkflowVersion.__table__
NODE = WorkflowNode.__table__
EDGE = WorkflowEdge.__table__


class WorkflowNameTaken(UserInputError):
    """Workflow names are unique."""


@dataclass(frozen=True)
class WorkflowRecord:
    id: int
    name: str
    active: bool
    version_id: int
    version: int
    spec: dict
    plan: dict
    created_at: datetime
    updated_at: datetime


class WorkflowStore:
    def __init__(self, db: Database):
        self.db = db

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that may change trigger registrations: trigger indexes of
        this process reload once it is over."""
        try:
            with self.db.write() as conn:
                yield conn
        finally:
            registrations_changed(self.db)

    def create(self, spec: dict, plan: dict,
               registrations: list[Registration] = ()) -> WorkflowRecord:
        """Insert a workflow and its first version (registering its trigger when active)."""
        now = utcnow()
        try:
            with self._write() as conn:
                workflow_id = conn.execute(WF.insert().values(
                    name=spec["name"], active=spec.get("active", True), created_at=now,
                    updated_at=now)).inserted_primary_key[0]
                version_id = self._add_version(conn, workflow_id, 1, spec, plan)
                replace_registrations(conn, workflow_id, version_id,
                                      list(registrations) if spec.get("active", True) else [])
        except IntegrityError:  # unique indexes decide, also between racing saves
            if self.find(spec["name"]) is not None:
                raise WorkflowNameTaken(
                    f"a workflow named {spec['name']!r} already exists") from None
            raise TriggerTaken("another active workflow claimed the same trigger") from None
        return self.get(workflow_id)

    def update(self, workflow_id: int, spec: dict, plan: dict,
               registrations: list[Registration] = ()) -> WorkflowRecord:
        """Save a new version of an existing workflow (versions are never changed)."""
        for attempt in range(3):
            try:
                with self._write() as conn:
                    number = conn.execute(select(func.max(VERSION.c.number)).where(
                        VERSION.c.workflow_id == workflow_id)).scalar() or 0
                    conn.execute(update(WF).where(WF.c.id == workflow_id).values(
                        name=spec["name"], active=spec.get("active", True), updated_at=utcnow()))
                    version_id = self._add_version(conn, workflow_id, number + 1, spec, plan)
                    replace_registrations(
                        conn, workflow_id, version_id,
                        list(registrations) if spec.get("active", True) else [])
                return self.get(workflow_id)
            except IntegrityError:
                other = self.find(spec["name"])
                if other is not None and other.id != workflow_id:
                    raise WorkflowNameTaken(
                        f"a workflow named {spec['name']!r} already exists") from None
                if attempt == 2:
                    raise  # not a name clash and not a passing race: a real bug
        raise AssertionError("unreachable")

    @staticmethod
    def _add_version(conn, workflow_id: int, number: int, spec: dict, plan: dict) -> int:
        version_id = conn.execute(VERSION.insert().values(
            workflow_id=workflow_id, number=number, spec=spec, plan=plan,
            created_at=utcnow())).inserted_primary_key[0]
        nodes = spec.get("nodes", [])
        if nodes:
            conn.execute(NODE.insert(), [dict(
                version_id=version_id, key=n["key"], type=n["type"], params=n.get("params", {}),
                position_x=n.get("position", [0, 0])[0], position_y=n.get("position", [0, 0])[1],
                retries=n.get("retries")) for n in nodes])
        edges = spec.get("edges", [])
        if edges:
            conn.execute(EDGE.insert(), [dict(version_id=version_id, source=e["from"],
                                              port=e.get("port", "main"), target=e["to"])
                                         for e in edges])
        conn.execute(update(WF).where(WF.c.id == workflow_id)
                     .values(current_version_id=version_id))
        return version_id

    def set_active(self, workflow_id: int, active: bool,
                   registrations: list[Registration] = ()) -> None:
        """(De)activate: an inactive workflow is found by no trigger but the manual one."""
        with self._write() as conn:
            version_id = conn.execute(update(WF).where(WF.c.id == workflow_id)
                                      .values(active=active, updated_at=utcnow())
                                      .returning(WF.c.current_version_id)).scalar()
            if version_id is not None:
                replace_registrations(conn, workflow_id, version_id,
                                      list(registrations) if active else [])

    def _select(self):
        return (select(WF.c.id, WF.c.name, WF.c.active, VERSION.c.id, VERSION.c.number,
                       VERSION.c.spec, VERSION.c.plan, WF.c.created_at, WF.c.updated_at)
                .join(VERSION, VERSION.c.id == WF.c.current_version_id))

    def get(self, workflow_id: int) -> WorkflowRecord | None:
        with self.db.read() as conn:
            row = conn.execute(self._select().where(WF.c.id == workflow_id)).first()
        return WorkflowRecord(*row) if row else None

    def find(self, ref: str | int) -> WorkflowRecord | None:
        """By id (a number) or by name."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            found = self.get(int(ref))
            if found:
                return found
        with self.db.read() as conn:
            row = conn.execute(self._select().where(WF.c.name == str(ref))).first()
        return WorkflowRecord(*row) if row else None

    def list(self) -> list[WorkflowRecord]:
        with self.db.read() as conn:
            rows = conn.execute(self._select().order_by(WF.c.name)).all()
        return [WorkflowRecord(*r) for r in rows]

    def version_spec(self, version_id: int) -> dict | None:
        with self.db.read() as conn:
            return conn.execute(select(VERSION.c.spec).where(VERSION.c.id == version_id)).scalar()

    def delete(self, workflow_id: int, runs: RunStore) -> bool:
        """Delete a workflow with its versions and runs."""
        with self._write() as conn:
            if not conn.execute(select(WF.c.id).where(WF.c.id == workflow_id)).first():
                return False
            runs.delete_runs_of_workflow(conn, workflow_id)
            replace_registrations(conn, workflow_id, 0, [])
            version_ids = select(VERSION.c.id).where(VERSION.c.workflow_id == workflow_id)
            conn.execute(delete(NODE).where(NODE.c.version_id.in_(version_ids)))
            conn.execute(delete(EDGE).where(EDGE.c.version_id.in_(version_ids)))
            conn.execute(update(WF).where(WF.c.id == workflow_id).values(current_version_id=None))
            conn.execute(delete(VERSION).where(VERSION.c.workflow_id == workflow_id))
            conn.execute(delete(WF).where(WF.c.id == workflow_id))
        return True
