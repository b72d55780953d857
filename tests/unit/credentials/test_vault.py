"""The vault on SQLite and PostgreSQL: credentials stored encrypted (the database never
holds a secret), listed masked, replaced by name, resolved for steps with clear errors for
an unknown name or a wrong key; the key is loaded (or generated) only when needed."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from n8nclone.credentials.crypto import SecretKeyError, SecretKeyLoader, WrongSecretKey
from n8nclone.credentials.vault import CredentialVault
from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import Credential
from n8nclone.store.credentials import CredentialStore
from n8nclone.store.db import get_database
from n8nclone.store.models import Credential as CredentialRow

SECRET = "sk-live-0123456789abcdef"


def make_vault(database_url: str, key_file, env_key: str | None = None) -> CredentialVault:
    return CredentialVault(CredentialStore(get_database(database_url)),
                           SecretKeyLoader(env_key, key_file))


@pytest.fixture
def key_file(tmp_path):
    return tmp_path / "keys" / "secret.key"


@pytest.fixture
def vault(database_url, key_file) -> CredentialVault:
    return make_vault(database_url, key_file)


def raw_rows(vault: CredentialVault) -> list:
    with vault.store.db.read() as conn:
        return conn.execute(select(CredentialRow.__table__)).all()


def test_a_credential_is_stored_encrypted_and_resolves_to_its_data(vault):
    # when credentials are added
    info = vault.add("openai", "llm_api_key", SECRET)
    vault.add("partner", "http_basic", f"alice:{SECRET}-pw")

    # expect the info to show name, type and masked hint only
    assert (info.name, info.type, info.hint) == ("openai", "llm_api_key", "…cdef")
    assert info.created_at.tzinfo is not None and info.created_at == info.updated_at
    # and the rows to hold no secret in any column, only a Fernet ciphertext
    rows = raw_rows(vault)
    assert len(rows) == 2
    for row in rows:
        assert all(SECRET not in str(value) for value in row), row
        assert row.ciphertext.startswith("gAAAA")
    # and resolve to decrypt them
    assert vault.resolve("openai") == Credential("openai", "llm_api_key", {"value": SECRET})
    assert vault.resolve("partner").data == {"user": "alice", "password": f"{SECRET}-pw"}


def test_listing_and_reading_show_no_secret(vault):
    vault.add("b-hook", "http_header", f"X-Api-Key: {SECRET}")
    vault.add("a-token", "bearer_token", SECRET)

    listed = vault.list()
    assert [i.name for i in listed] == ["a-token", "b-hook"]
    assert [i.hint for i in listed] == ["…cdef", "X-Api-Key: …cdef"]
    assert SECRET not in repr(listed) and SECRET not in str([i.to_public() for i in listed])
    assert vault.get_info("b-hook") == listed[1]
    assert vault.get_info("missing") is None


def test_adding_an_existing_name_replaces_it(vault):
    # given a credential
    first = vault.add("openai", "llm_api_key", SECRET)

    # when the same name is added again (a rotated key, even of another type)
    second, created = vault.save("openai", "bearer_token", "new-token-000000000000")

    # expect it replaced: one row, the new type, secret and hint, the first creation time
    assert created is False
    assert (second.type, second.hint) == ("bearer_token", "…0000")
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    assert len(vault.list()) == 1
    assert vault.resolve("openai").data == {"value": "new-token-000000000000"}


def test_bad_input_is_refused_and_nothing_is_stored(vault, key_file):
    for name, type_name, value in (("", "llm_api_key", SECRET), ("x", "nope", SECRET),
                                   ("x", "http_header", SECRET)):
        with pytest.raises(ValueError) as caught:
            vault.add(name, type_name, value)
        assert SECRET not in str(caught.value)
    assert vault.list() == []
    assert not key_file.exists()  # refused before the key was needed


def test_delete_removes_it_and_says_whether_it_existed(vault):
    vault.add("openai", "llm_api_key", SECRET)
    assert vault.delete("openai") is True
    assert vault.delete("openai") is False
    assert vault.list() == [] and raw_rows(vault) == []


def test_resolving_an_unknown_name_fails_the_step_clearly(vault):
    with pytest.raises(NonRetriableError, match="^no credential named 'nope'$"):
        vault.resolve("nope")


def test_resolving_with_a_wrong_key_fails_the_step_clearly(database_url, tmp_path):
    # given a credential added with one key
    make_vault(database_url, tmp_path / "a.key").add("openai", "llm_api_key", SECRET)

    # when a process with another N8NCLONE_SECRET_KEY resolves it
    other = make_vault(database_url, tmp_path / "b.key", Fernet.generate_key().decode())
    with pytest.raises(NonRetriableError) as caught:
        other.resolve("openai")

    # expect the reason, not garbage nor a crypto traceback
    message = str(caught.value)
    assert message.startswith("credential 'openai' cannot be decrypted with this secret key "
                              "(from N8NCLONE_SECRET_KEY): was it created with another key?")
    assert SECRET not in message


def test_credentials_under_two_keys_are_never_mixed(database_url, tmp_path):
    # given a credential added with one key
    make_vault(database_url, tmp_path / "a.key").add("openai", "llm_api_key", SECRET)
    other = make_vault(database_url, tmp_path / "b.key", Fernet.generate_key().decode())

    # expect adding another with a different key refused, naming the stored one
    with pytest.raises(WrongSecretKey, match="the stored credentials \\(such as 'openai'\\) "
                                             "cannot be decrypted with this secret key"):
        other.add("github", "bearer_token", "ghp_0000000000000000")
    # but replacing the only credential there is allowed (nothing would be mixed)
    assert other.add("openai", "llm_api_key", SECRET).name == "openai"
    assert other.resolve("openai").data["value"] == SECRET


def test_the_key_is_only_loaded_by_what_needs_it(vault, key_file):
    # list, read and delete never need the key: no key file appears
    vault.list(), vault.get_info("x"), vault.delete("x")
    with pytest.raises(NonRetriableError):
        vault.resolve("x")
    assert not key_file.exists()
    # adding the first credential generates it
    vault.add("openai", "llm_api_key", SECRET)
    assert key_file.exists()


def test_no_new_key_is_generated_while_credentials_exist(vault, key_file, database_url):
    # given a credential whose key file was lost
    vault.add("openai", "llm_api_key", SECRET)
    key_file.unlink()
    fresh = make_vault(database_url, key_file)

    # expect a clear error rather than a new key, for adding and for resolving
    with pytest.raises(SecretKeyError, match="there are stored credentials but no secret key"):
        fresh.add("github", "bearer_token", "ghp_0000000000000000")
    with pytest.raises(NonRetriableError, match="no secret key"):
        fresh.resolve("openai")
    assert not key_file.exists()
    # and a new key once the old credentials are deleted
    assert fresh.delete("openai")
    fresh.add("github", "bearer_token", "ghp_0000000000000000")
    assert key_file.exists()


def test_ensure_key_generates_the_key_at_start_up(vault, key_file, caplog):
    with caplog.at_level(logging.WARNING, "n8nclone.credentials"):
        assert vault.ensure_key() is True
    assert key_file.exists() and str(key_file) in caplog.text


def test_ensure_key_logs_a_wrong_key_instead_of_raising(database_url, tmp_path, caplog):
    make_vault(database_url, tmp_path / "a.key").add("openai", "llm_api_key", SECRET)
    other = make_vault(database_url, tmp_path / "b.key", Fernet.generate_key().decode())
    with caplog.at_level(logging.ERROR, "n8nclone.credentials"):
        assert other.ensure_key() is False
    assert "credential 'openai' cannot be decrypted" in caplog.text
