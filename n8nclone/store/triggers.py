"""The trigger index: which active workflow a webhook call, an event or a schedule starts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from n8nclone.errors import UserInputError
from n8nclone.store.db import Database
from n8nclone.store.models import TriggerRegistration
from n8nclone.triggers.registration import Registration

REG = TriggerRegistration.__table__


class TriggerTaken(UserInputError):
    """Another active workflow already claims this exclusive trigger (e.g. a webhook path)."""


@dataclass(frozen=True)
class RegisteredTrigger:
    workflow_id: int
    version_id: int
    node_key: str
    kind: str
    key: str
    config: dict


def replace_registrations(conn: Connection, workflow_id: int, version_id: int,
                          registrations: list[Registration]) -> None:
    """Make `registrations` the workflow's whole entry (empty: not findable, e.g. inactive).
    Runs inside the caller's transaction (the save or (de)activation)."""
    conn.execute(delete(REG).where(REG.c.workflow_id == workflow_id))
    for reg in registrations:
        if reg.exclusive:
            holder = conn.execute(select(REG.c.workflow_id)
                                  .where(REG.c.exclusive_key == f"{reg.kind} {reg.key}")).first()
            if holder is not None:
                raise TriggerTaken(f"another active workflow (id {holder[0]}) already uses "
                                   f"{reg.kind} {reg.key}")
        conn.execute(insert(REG).values(
            workflow_id=workflow_id, version_id=version_id, node_key=reg.node_key,
            kind=reg.kind, key=reg.key, config=reg.config or {},
            exclusive_key=f"{reg.kind} {reg.key}" if reg.exclusive else None))


class TriggerIndex:
    def __init__(self, db: Database):
        self.db = db

    def find(self, kind: str, key: str | None = None) -> list[RegisteredTrigger]:
        """Registrations of `kind` (and `key`, when given)."""
        query = select(REG.c.workflow_id, REG.c.version_id, REG.c.node_key, REG.c.kind,
                       REG.c.key, REG.c.config).where(REG.c.kind == kind)
        if key is not None:
            query = query.where(REG.c.key == key)
        with self.db.read() as conn:
            return [RegisteredTrigger(*row) for row in conn.execute(query.order_by(REG.c.id))]
