"""Credential rows: name, type, masked hint and ciphertext. Encryption and parsing live in
n8nclone.credentials; this module only reads and writes the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from n8nclone.store.clock import utcnow
from n8nclone.store.db import Database
from n8nclone.store.models import Credential

CREDENTIAL = Credential.__table__
_INFO_COLUMNS = (CREDENTIAL.c.name, CREDENTIAL.c.type, CREDENTIAL.c.hint,
                 CREDENTIAL.c.created_at, CREDENTIAL.c.updated_at)


@dataclass(frozen=True)
class CredentialInfo:
    """A credential as it may be shown: never its secret nor its ciphertext."""

    name: str
    type: str
    hint: str
    created_at: datetime
    updated_at: datetime

    def to_public(self) -> dict:
        return {"name": self.name, "type": self.type, "hint": self.hint,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class SealedCredential:
    """A stored credential with its ciphertext, for decrypting."""

    name: str
    type: str
    ciphertext: str


class CredentialStore:
    def __init__(self, db: Database):
        self.db = db

    def save(self, name: str, type: str, hint: str, ciphertext: str
             ) -> tuple[CredentialInfo, bool]:
        """Insert the credential, or replace the one of the same name; True when new."""
        for _ in range(2):  # a racing insert of the same name turns this one into an update
            now = utcnow()
            try:
                with self.db.write() as conn:
                    created_at = conn.execute(select(CREDENTIAL.c.created_at).where(
                        CREDENTIAL.c.name == name)).scalar()
                    values = dict(type=type, hint=hint, ciphertext=ciphertext, updated_at=now)
                    if created_at is None:
                        conn.execute(insert(CREDENTIAL).values(name=name, created_at=now,
                                                               **values))
                        return CredentialInfo(name, type, hint, now, now), True
                    conn.execute(update(CREDENTIAL).where(CREDENTIAL.c.name == name)
                                 .values(**values))
                    return CredentialInfo(name, type, hint, created_at, now), False
            except IntegrityError:
                continue
        raise RuntimeError(f"could not save credential {name!r}")  # pragma: no cover

    def list(self) -> list[CredentialInfo]:
        with self.db.read() as conn:
            rows = conn.execute(select(*_INFO_COLUMNS).order_by(CREDENTIAL.c.name)).all()
        return [CredentialInfo(*row) for row in rows]

    def get(self, name: str) -> CredentialInfo | None:
        with self.db.read() as conn:
            row = conn.execute(select(*_INFO_COLUMNS).where(CREDENTIAL.c.name == name)).first()
        return CredentialInfo(*row) if row else None

    def sealed(self, name: str) -> SealedCredential | None:
        with self.db.read() as conn:
            row = conn.execute(select(CREDENTIAL.c.name, CREDENTIAL.c.type,
                                      CREDENTIAL.c.ciphertext)
                               .where(CREDENTIAL.c.name == name)).first()
        return SealedCredential(*row) if row else None

    def newest_other(self, name: str | None = None) -> SealedCredential | None:
        """The most recently saved credential not called `name` (a sample to check a key)."""
        query = select(CREDENTIAL.c.name, CREDENTIAL.c.type, CREDENTIAL.c.ciphertext)
        if name is not None:
            query = query.where(CREDENTIAL.c.name != name)
        with self.db.read() as conn:
            row = conn.execute(query.order_by(CREDENTIAL.c.updated_at.desc(),
                                              CREDENTIAL.c.id.desc()).limit(1)).first()
        return SealedCredential(*row) if row else None

    def count(self) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(CREDENTIAL)).scalar_one()

    def delete(self, name: str) -> bool:
        """Delete the credential called `name`; False when there is none."""
        with self.db.write() as conn:
            return conn.execute(delete(CREDENTIAL).where(CREDENTIAL.c.name == name)).rowcount > 0
