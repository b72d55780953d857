"""Event keys: the secrets that let a sender use `POST /e/<key>`.

A key is 32 random bytes (`secrets.token_urlsafe`), shown once when created. Only its
sha256 is stored: a slow password hash buys nothing for a high-entropy random key, and a
lookup by hash keeps checking a key to one indexed read. `hint` (the first characters)
tells keys apart in listings without revealing them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from n8nclone.errors import UserInputError
from n8nclone.store.clock import utcnow
from n8nclone.store.db import Database
from n8nclone.store.models import EventKey

KEY = EventKey.__table__
HINT_LENGTH = 4
NAME_MAX = 100


class EventKeyNameTaken(UserInputError):
    """Event key names are unique."""


@dataclass(frozen=True)
class EventKeyRecord:
    """An event key as it may be shown: never the key itself."""

    id: int
    name: str
    hint: str
    created_at: datetime

    def to_public(self) -> dict:
        return {"name": self.name, "hint": self.masked_hint,
                "created_at": self.created_at.isoformat()}

    @property
    def masked_hint(self) -> str:
        return f"{self.hint}…"


def hash_key(key: str) -> str:
    """How a key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key_name() -> str:
    return f"key-{secrets.token_hex(3)}"


def check_key_name(name: str, kind: str = "an event key") -> str:
    """A usable name for a key of `kind`, or UserInputError saying why not."""
    if not name or not name.strip():
        raise UserInputError(f"{kind} name must not be empty")
    if len(name) > NAME_MAX:
        raise UserInputError(f"{kind} name is at most {NAME_MAX} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UserInputError(f"{kind} name must not hold control characters")
    return name


class EventKeyStore:
    def __init__(self, db: Database):
        self.db = db

    def create(self, name: str | None = None) -> tuple[EventKeyRecord, str]:
        """A new key: its record and the key itself (the only time it is available)."""
        name = check_key_name(name) if name is not None else new_key_name()
        key = secrets.token_urlsafe(32)
        now = utcnow()
        try:
            with self.db.write() as conn:
                key_id = conn.execute(insert(KEY).values(
                    name=name, key_hash=hash_key(key), hint=key[:HINT_LENGTH],
                    created_at=now)).inserted_primary_key[0]
        except IntegrityError:
            raise EventKeyNameTaken(f"an event key named {name!r} already exists") from None
        return EventKeyRecord(key_id, name, key[:HINT_LENGTH], now), key

    def list(self) -> list[EventKeyRecord]:
        with self.db.read() as conn:
            rows = conn.execute(select(KEY.c.id, KEY.c.name, KEY.c.hint, KEY.c.created_at)
                                .order_by(KEY.c.created_at, KEY.c.id)).all()
        return [EventKeyRecord(*row) for row in rows]

    def delete(self, name: str) -> bool:
        """Revoke the key named `name`; False when there is none."""
        with self.db.write() as conn:
            return conn.execute(delete(KEY).where(KEY.c.name == name)).rowcount > 0

    def verify(self, key: str) -> EventKeyRecord | None:
        """The record of a valid key, None for any other string."""
        if not key:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(KEY.c.id, KEY.c.name, KEY.c.hint, KEY.c.created_at)
                               .where(KEY.c.key_hash == hash_key(key))).first()
        return EventKeyRecord(*row) if row else None
