"""Logging in: users with hashed passwords, sessions with a lifetime, API keys.

A session is a random token in the browser's cookie; the database keeps only its sha256
(a leaked database cannot be replayed as cookies), with the user and an expiry time.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from n8nclone.auth.passwords import (
    check_email,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
    waste_a_verification,
)
from n8nclone.store.api_keys import ApiKeyRecord, ApiKeyStore
from n8nclone.store.db import Database
from n8nclone.store.event_keys import hash_key
from n8nclone.store.users import UserRecord, UserStore

DEFAULT_SESSION_DAYS = 14.0
WRONG_CREDENTIALS = "wrong email or password"


class Accounts:
    """Users, sessions and API keys on one database."""

    def __init__(self, db: Database, session_days: float = DEFAULT_SESSION_DAYS):
        self.users = UserStore(db)
        self.api_keys = ApiKeyStore(db)
        self.session_lifetime = timedelta(days=session_days)

    # -- users ---------------------------------------------------------------------------

    def create_user(self, email: str, password: str) -> UserRecord:
        """A new user; UserInputError for a bad email, a short password or a taken email."""
        email, password = check_email(email), check_password(password)
        user = self.users.create(email, hash_password(password))
        assert user is not None
        return user

    def create_first_user(self, email: str, password: str) -> UserRecord | None:
        """The first user (the setup page); None when a user exists already."""
        email, password = check_email(email), check_password(password)
        return self.users.create(email, hash_password(password), only_if_none=True)

    def needs_setup(self) -> bool:
        return self.users.count() == 0

    def authenticate(self, email: str, password: str) -> UserRecord | None:
        """The user whose email and password these are, else None (whichever was wrong)."""
        if not isinstance(email, str) or not isinstance(password, str):
            return None
        found = self.users.find_with_hash(email.strip().lower())
        if found is None:
            waste_a_verification(password)
            return None
        user, password_hash = found
        if not verify_password(password_hash, password):
            return None
        if needs_rehash(password_hash):
            self.users.set_password_hash(user.id, hash_password(password))
        return user

    # -- sessions ------------------------------------------------------------------------

    def start_session(self, user: UserRecord) -> str:
        """A new session for `user`: the token for the cookie (stored only hashed)."""
        token = secrets.token_urlsafe(32)
        self.users.start_session(hash_key(token), user.id, self.session_lifetime)
        return token

    def session_user(self, token: str | None) -> UserRecord | None:
        """The user of a valid, unexpired session token, else None."""
        if not token:
            return None
        return self.users.session_user(hash_key(token))

    def end_session(self, token: str | None) -> bool:
        return bool(token) and self.users.end_session(hash_key(token))

    # -- API keys ------------------------------------------------------------------------

    def create_api_key(self, name: str | None = None) -> tuple[ApiKeyRecord, str]:
        """A new key: its record and the key itself, available only this once."""
        return self.api_keys.create(name)

    def list_api_keys(self) -> list[ApiKeyRecord]:
        return self.api_keys.list()

    def delete_api_key(self, name: str) -> bool:
        return self.api_keys.delete(name)

    def verify_api_key(self, key: str | None) -> ApiKeyRecord | None:
        return self.api_keys.verify(key) if key else None
