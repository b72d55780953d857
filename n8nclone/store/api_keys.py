"""API keys: the secrets scripts send as `Authorization: Bearer <key>` to the management API.

Stored like event keys (n8nclone.store.event_keys): 32 random bytes shown once, only their
sha256 kept (a lookup by hash is one indexed read), and a `hint` of the first characters to
tell keys apart. `last_used_at` is refreshed at most once a minute, so a busy script does
not turn every read into a write.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from n8nclone.errors import UserInputError
from n8nclone.store.clock import utcnow
from n8nclone.store.db import Database
from n8nclone.store.event_keys import check_key_name, hash_key
from n8nclone.store.models import ApiKey

KEY = ApiKey.__table__
HINT_LENGTH = 4
PREFIX = "n8c_"  # tells an API key from an event key at a glance (and in secret scanners)
LAST_USED_EVERY = timedelta(minutes=1)

__all__ = ["ApiKeyNameTaken", "ApiKeyRecord", "ApiKeyStore", "hash_key"]


class ApiKeyNameTaken(UserInputError):
    """API key names are unique."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as it may be shown: never the key itself."""

    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None

    @property
    def masked_hint(self) -> str:
        return f"{self.hint}…"

    def to_public(self) -> dict:
        return {"name": self.name, "hint": self.masked_hint,
                "created_at": self.created_at.isoformat(),
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None}


def new_key_name() -> str:
    return f"api-{secrets.token_hex(3)}"


_COLUMNS = (KEY.c.id, KEY.c.name, KEY.c.hint, KEY.c.created_at, KEY.c.last_used_at)


class ApiKeyStore:
    def __init__(self, db: Database):
        self.db = db

    def create(self, name: str | None = None) -> tuple[ApiKeyRecord, str]:
        """A new key: its record and the key itself (the only time it is available)."""
        name = check_key_name(name, "an API key") if name is not None else new_key_name()
        key = PREFIX + secrets.token_urlsafe(32)
        hint = key[:len(PREFIX) + HINT_LENGTH]
        now = utcnow()
        try:
            with self.db.write() as conn:
                key_id = conn.execute(insert(KEY).values(
                    name=name, key_hash=hash_key(key), hint=hint,
                    created_at=now)).inserted_primary_key[0]
        except IntegrityError:
            raise ApiKeyNameTaken(f"an API key named {name!r} already exists") from None
        return ApiKeyRecord(key_id, name, hint, now, None), key

    def list(self) -> list[ApiKeyRecord]:
        with self.db.read() as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(KEY.c.created_at, KEY.c.id)).all()
        return [ApiKeyRecord(*row) for row in rows]

    def delete(self, name: str) -> bool:
        """Revoke the key named `name`; False when there is none."""
        with self.db.write() as conn:
            return conn.execute(delete(KEY).where(KEY.c.name == name)).rowcount > 0

    def verify(self, key: str) -> ApiKeyRecord | None:
        """The record of a valid key (noting its use), None for any other string."""
        if not key:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(*_COLUMNS)
                               .where(KEY.c.key_hash == hash_key(key))).first()
        if row is None:
            return None
        record = ApiKeyRecord(*row)
        now = utcnow()
        if record.last_used_at is None or now - record.last_used_at >= LAST_USED_EVERY:
            with self.db.write() as conn:
                conn.execute(update(KEY).where(KEY.c.id == record.id)
                             .values(last_used_at=now))
        return record
