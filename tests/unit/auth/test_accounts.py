"""Users, sessions and API keys on SQLite and PostgreSQL: passwords and session tokens are
stored hashed, sessions expire, API keys are shown once and verified by their sha256."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from n8nclone.auth import WRONG_CREDENTIALS, Accounts
from n8nclone.errors import UserInputError
from n8nclone.store import users as users_module
from n8nclone.store.api_keys import ApiKeyNameTaken
from n8nclone.store.clock import utcnow
from n8nclone.store.db import get_database
from n8nclone.store.event_keys import hash_key
from n8nclone.store.models import ApiKey, AuthSession, User
from n8nclone.store.users import EmailTaken


@pytest.fixture
def accounts(database_url) -> Accounts:
    return Accounts(get_database(database_url), session_days=14)


def rows(accounts: Accounts, model) -> list:
    with accounts.users.db.read() as conn:
        return conn.execute(select(model.__table__)).all()


# -- users --------------------------------------------------------------------------------


def test_a_user_logs_in_with_the_right_password_only(accounts):
    # given a user
    user = accounts.create_user(" Admin@Example.com", "correct horse")
    assert user.email == "admin@example.com"

    # expect the password (with the email in any case) to authenticate, nothing else
    assert accounts.authenticate("ADMIN@example.com", "correct horse") == user
    assert accounts.authenticate("admin@example.com", "wrong horse") is None
    assert accounts.authenticate("nobody@example.com", "correct horse") is None
    assert accounts.authenticate("admin@example.com", "") is None
    # and the database to hold an argon2 hash, never the password
    (row,) = rows(accounts, User)
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in str(tuple(row))
    assert WRONG_CREDENTIALS == "wrong email or password"


def test_emails_are_unique_whatever_their_case_and_input_is_checked(accounts):
    accounts.create_user("admin@example.com", "correct horse")
    with pytest.raises(EmailTaken, match="already exists"):
        accounts.create_user("ADMIN@example.com", "another password")
    with pytest.raises(UserInputError, match="not an email"):
        accounts.create_user("admin", "correct horse")
    with pytest.raises(UserInputError, match="at least 8"):
        accounts.create_user("b@example.com", "short")
    assert [u.email for u in accounts.users.list()] == ["admin@example.com"]


def test_the_first_user_is_created_only_while_there_is_none(accounts):
    assert accounts.needs_setup()
    first = accounts.create_first_user("first@example.com", "correct horse")
    assert first is not None and not accounts.needs_setup()
    assert accounts.create_first_user("second@example.com", "correct horse") is None
    assert [u.email for u in accounts.users.list()] == ["first@example.com"]


# -- sessions -----------------------------------------------------------------------------


def test_a_session_token_finds_its_user_until_it_ends(accounts):
    # given a logged-in user
    user = accounts.create_user("admin@example.com", "correct horse")
    token = accounts.start_session(user)

    # expect the token to find the user, and only its hash to be stored
    assert accounts.session_user(token).email == "admin@example.com"
    (row,) = rows(accounts, AuthSession)
    assert row.id == hash_key(token) and token not in str(tuple(row))
    assert row.expires_at - row.created_at == timedelta(days=14)
    assert accounts.users.list()[0].last_login_at is not None
    # and other strings to find nobody
    for other in (None, "", token[:-1], token + "x", hash_key(token)):
        assert accounts.session_user(other) is None

    # when it ends (logout), the token finds nobody
    assert accounts.end_session(token)
    assert accounts.session_user(token) is None
    assert not accounts.end_session(token)


def test_a_session_expires_after_its_lifetime(accounts, monkeypatch):
    user = accounts.create_user("admin@example.com", "correct horse")
    token = accounts.start_session(user)

    # when 13 days pass it still holds; past 14 days it does not
    now = utcnow()
    monkeypatch.setattr(users_module, "utcnow", lambda: now + timedelta(days=13))
    assert accounts.session_user(token) is not None
    monkeypatch.setattr(users_module, "utcnow", lambda: now + timedelta(days=14, seconds=1))
    assert accounts.session_user(token) is None

    # and the next login forgets the expired session
    accounts.start_session(user)
    assert len(rows(accounts, AuthSession)) == 1


def test_the_session_lifetime_comes_from_the_settings(database_url):
    accounts = Accounts(get_database(database_url), session_days=0.5)
    token = accounts.start_session(accounts.create_user("a@example.com", "correct horse"))
    (row,) = rows(accounts, AuthSession)
    assert row.expires_at - row.created_at == timedelta(hours=12)
    assert accounts.session_user(token) is not None


# -- API keys -----------------------------------------------------------------------------


def test_an_api_key_is_shown_once_stored_hashed_and_revoked_by_delete(accounts):
    # when a key is created
    record, key = accounts.create_api_key("ci")

    # expect a long random key that verifies, and only its sha256 stored
    assert key.startswith("n8c_") and len(key) >= 40 and record.hint == key[:8]
    assert accounts.verify_api_key(key).name == "ci"
    (row,) = rows(accounts, ApiKey)
    assert row.key_hash == hash_key(key) and key not in str(tuple(row))
    assert row.last_used_at is not None  # noted by the verification
    # and the listing to show the hint, never the key
    (listed,) = accounts.list_api_keys()
    assert listed.masked_hint == f"{key[:8]}…" and key not in str(listed.to_public())
    # and other strings to be refused
    for other in (None, "", key[:-1], key + "x", hash_key(key), key.upper()):
        assert accounts.verify_api_key(other) is None

    # when it is deleted, it no longer verifies
    assert accounts.delete_api_key("ci") and not accounts.delete_api_key("ci")
    assert accounts.verify_api_key(key) is None


def test_api_key_names_are_unique_and_generated_by_default(accounts):
    accounts.create_api_key("ci")
    with pytest.raises(ApiKeyNameTaken, match="'ci' already exists"):
        accounts.create_api_key("ci")
    generated, _ = accounts.create_api_key()
    assert generated.name.startswith("api-")
    for bad, fragment in (("", "empty"), (" ", "empty"), ("x" * 101, "at most"),
                          ("a\nb", "control")):
        with pytest.raises(UserInputError, match=fragment):
            accounts.create_api_key(bad)
