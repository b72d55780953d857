"""Credential rows in the store, on SQLite and PostgreSQL: saved (inserted or replaced by
name), listed by name, read with or without the ciphertext, counted and deleted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from n8nclone.store.credentials import CredentialStore
from n8nclone.store.db import get_database


@pytest.fixture
def store(database_url) -> CredentialStore:
    return CredentialStore(get_database(database_url))


def test_save_inserts_then_replaces_by_name(store):
    first, created = store.save("openai", "llm_api_key", "…abcd", "cipher-1")
    again, created_again = store.save("openai", "bearer_token", "…wxyz", "cipher-2")

    assert created is True and created_again is False
    assert again.created_at == first.created_at and again.updated_at >= first.updated_at
    assert store.get("openai") == again
    sealed = store.sealed("openai")
    assert (sealed.type, sealed.ciphertext) == ("bearer_token", "cipher-2")
    assert store.count() == 1


def test_list_is_by_name_and_never_holds_the_ciphertext(store):
    store.save("b", "llm_api_key", "…", "cipher-b")
    store.save("a", "bearer_token", "…", "cipher-a")
    infos = store.list()
    assert [i.name for i in infos] == ["a", "b"]
    assert "cipher" not in repr(infos) and "cipher" not in str([i.to_public() for i in infos])


def test_newest_other_is_a_sample_of_the_other_credentials(store):
    assert store.newest_other() is None
    store.save("a", "llm_api_key", "…", "cipher-a")
    assert store.newest_other("a") is None
    store.save("b", "llm_api_key", "…", "cipher-b")
    assert store.newest_other("a").name == "b"
    assert store.newest_other().name == "b"


def test_delete_says_whether_there_was_one(store):
    store.save("a", "llm_api_key", "…", "cipher-a")
    assert store.delete("a") is True and store.delete("a") is False
    assert store.get("a") is None and store.sealed("a") is None and store.count() == 0


def test_concurrent_saves_of_one_name_leave_one_row(store):
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: store.save("same", "llm_api_key", "…", f"c{i}"),
                                range(8)))
    assert sum(created for _, created in results) == 1
    assert store.count() == 1
