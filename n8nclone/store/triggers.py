"""The trigger index: which active workflow a webhook call, an event or a schedule starts.

Every webhook call and every event looks triggers up, so the index keeps the registrations
in memory: reloaded after any change made in this process (`registrations_changed`, called
once the change is committed) and at least every `max_age` seconds for changes made by other
processes (the CLI, other web processes).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
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


_changes: Counter[str] = Counter()  # per database URL: registration changes in this process


def registrations_changed(db: Database) -> None:
    """Tell this process's trigger indexes that registrations changed (after the commit)."""
    _changes[db.url] += 1


class TriggerIndex:
    def __init__(self, db: Database, max_age: float = 1.0):
        self.db = db
        self.max_age = max_age
        self._lock = threading.Lock()
        self._by_kind: dict[str, list[RegisteredTrigger]] = {}
        self._by_key: dict[tuple[str, str], list[RegisteredTrigger]] = {}
        self._loaded: tuple[int, float] | None = None  # (change count, monotonic time)

    def find(self, kind: str, key: str | None = None) -> list[RegisteredTrigger]:
        """Registrations of `kind` (and `key`, when given), in the order they were made."""
        self._refresh()
        if key is None:
            return list(self._by_kind.get(kind, ()))
        return list(self._by_key.get((kind, key), ()))

    def _refresh(self) -> None:
        changes = _changes[self.db.url]
        loaded = self._loaded
        if (loaded is not None and loaded[0] == changes
                and time.monotonic() - loaded[1] < self.max_age):
            return
        with self._lock:
            if self._loaded is not loaded:  # another thread reloaded meanwhile
                return
            started = time.monotonic()
            with self.db.read() as conn:
                rows = conn.execute(select(REG.c.workflow_id, REG.c.version_id,
                                           REG.c.node_key, REG.c.kind, REG.c.key, REG.c.config)
                                    .order_by(REG.c.id)).all()
            by_kind: dict[str, list[RegisteredTrigger]] = defaultdict(list)
            by_key: dict[tuple[str, str], list[RegisteredTrigger]] = defaultdict(list)
            for row in rows:
                registered = RegisteredTrigger(*row)
                by_kind[registered.kind].append(registered)
                by_key[registered.kind, registered.key].append(registered)
            self._by_kind, self._by_key = dict(by_kind), dict(by_key)
            self._loaded = (changes, started)
