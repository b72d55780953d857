"""Event keys in the store, on SQLite and PostgreSQL: created once, stored hashed, listed
masked, verified by lookup, revoked by delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from n8nclone.store.db import get_database
from n8nclone.store.event_keys import EventKeyNameTaken, EventKeyStore, hash_key
from n8nclone.store.models import EventKey


@pytest.fixture
def keys(database_url) -> EventKeyStore:
    return EventKeyStore(get_database(database_url))


def stored_rows(keys: EventKeyStore) -> list:
    with keys.db.read() as conn:
        return conn.execute(select(EventKey.__table__)).all()


def test_a_created_key_verifies_and_only_its_hash_is_stored(keys):
    # when a key is created
    record, key = keys.create("ci")

    # expect a long random key that verifies to its record
    assert len(key) >= 40 and record.name == "ci" and record.hint == key[:4]
    assert keys.verify(key) == record
    # and the database holds its sha256, never the key
    (row,) = stored_rows(keys)
    assert row.key_hash == hash_key(key) and key not in tuple(str(v) for v in row)


def test_other_strings_do_not_verify(keys):
    # given a key
    _, key = keys.create("ci")

    # expect near misses, empty and odd strings to be rejected
    for wrong in ("", key[:-1], key + "x", key.upper(), "\x00", "é" * 50):
        assert keys.verify(wrong) is None, wrong


def test_names_are_unique_and_generated_when_not_given(keys):
    # given a key named "ci"
    keys.create("ci")

    # expect a second "ci" refused, and unnamed keys to get distinct names
    with pytest.raises(EventKeyNameTaken, match="'ci' already exists"):
        keys.create("ci")
    first, _ = keys.create()
    second, _ = keys.create()
    assert first.name != second.name and first.name.startswith("key-")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\nname"])
def test_unusable_names_are_refused(keys, name):
    with pytest.raises(ValueError):
        keys.create(name)


def test_list_shows_names_and_masked_hints_in_creation_order(keys):
    # given two keys
    _, first_key = keys.create("first")
    _, second_key = keys.create("second")

    # when listed
    listed = [r.to_public() for r in keys.list()]

    # expect names, hints of 4 characters, and no key
    assert [r["name"] for r in listed] == ["first", "second"]
    assert listed[0]["hint"] == first_key[:4] + "…"
    assert first_key not in str(listed) and second_key not in str(listed)


def test_delete_revokes_the_key(keys):
    # given two keys
    _, revoked = keys.create("old")
    _, kept = keys.create("new")

    # when one is deleted
    assert keys.delete("old") is True

    # expect it no longer verifies, the other still does; a second delete finds nothing
    assert keys.verify(revoked) is None and keys.verify(kept) is not None
    assert keys.delete("old") is False
    assert [r.name for r in keys.list()] == ["new"]
