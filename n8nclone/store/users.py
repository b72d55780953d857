"""Users and their login sessions: rows only; hashing and rules live in n8nclone.auth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from n8nclone.errors import UserInputError
from n8nclone.store.clock import utcnow
from n8nclone.store.db import Database
from n8nclone.store.models import AuthSession, User

USER = User.__table__
SESSION = AuthSession.__table__


class EmailTaken(UserInputError):
    """Emails are unique."""


@dataclass(frozen=True)
class UserRecord:
    """A user as it may be shown: never the password hash."""

    id: int
    email: str
    created_at: datetime
    last_login_at: datetime | None

    def to_public(self) -> dict:
        return {"email": self.email}


_USER_COLUMNS = (USER.c.id, USER.c.email, USER.c.created_at, USER.c.last_login_at)


class UserStore:
    def __init__(self, db: Database):
        self.db = db

    def create(self, email: str, password_hash: str, *, only_if_none: bool = False
               ) -> UserRecord | None:
        """Insert a user; with `only_if_none`, only while there is no user at all (None
        otherwise: the first-visit setup, which two browsers might race)."""
        now = utcnow()
        try:
            with self.db.write() as conn:
                if only_if_none and conn.execute(select(func.count()).select_from(USER)
                                                  ).scalar_one():
                    return None
                user_id = conn.execute(insert(USER).values(
                    email=email, password_hash=password_hash,
                    created_at=now)).inserted_primary_key[0]
        except IntegrityError:
            raise EmailTaken(f"a user with email {email!r} already exists") from None
        return UserRecord(user_id, email, now, None)

    def count(self) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(USER)).scalar_one()

    def list(self) -> list[UserRecord]:
        with self.db.read() as conn:
            rows = conn.execute(select(*_USER_COLUMNS).order_by(USER.c.id)).all()
        return [UserRecord(*row) for row in rows]

    def find_with_hash(self, email: str) -> tuple[UserRecord, str] | None:
        """The user with this email and their password hash (for logging in)."""
        with self.db.read() as conn:
            row = conn.execute(select(*_USER_COLUMNS, USER.c.password_hash)
                               .where(USER.c.email == email)).first()
        return (UserRecord(*row[:4]), row[4]) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(USER).where(USER.c.id == user_id)
                         .values(password_hash=password_hash))

    # -- sessions ------------------------------------------------------------------------

    def start_session(self, session_id: str, user_id: int, lifetime: timedelta) -> None:
        """Record a login valid for `lifetime` (and forget sessions expired meanwhile)."""
        now = utcnow()
        expires_at = now + lifetime
        with self.db.write() as conn:
            conn.execute(delete(SESSION).where(SESSION.c.expires_at < now))
            conn.execute(insert(SESSION).values(id=session_id, user_id=user_id,
                                                created_at=now, expires_at=expires_at))
            conn.execute(update(USER).where(USER.c.id == user_id).values(last_login_at=now))

    def session_user(self, session_id: str) -> UserRecord | None:
        """The user of an unexpired session, else None."""
        with self.db.read() as conn:
            row = conn.execute(
                select(*_USER_COLUMNS).join(SESSION, SESSION.c.user_id == USER.c.id)
                .where(SESSION.c.id == session_id, SESSION.c.expires_at > utcnow())).first()
        return UserRecord(*row) if row else None

    def end_session(self, session_id: str) -> bool:
        with self.db.write() as conn:
            return conn.execute(delete(SESSION).where(SESSION.c.id == session_id)
                                ).rowcount > 0
