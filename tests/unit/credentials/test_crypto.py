"""The secret key: from N8NCLONE_SECRET_KEY or the key file, generated into that file
(mode 0600, said in a warning, never logged) when there is neither; a malformed key and a
wrong key give clear errors, never garbage."""

from __future__ import annotations

import logging
import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.fernet import Fernet

from n8nclone.config import load_settings
from n8nclone.credentials.crypto import (
    SecretKeyError,
    SecretKeyLoader,
    WrongSecretKey,
)


def key_file_loader(tmp_path) -> SecretKeyLoader:
    return SecretKeyLoader(None, tmp_path / "secret.key")


def test_a_key_is_generated_into_a_file_only_its_owner_can_read(tmp_path, caplog):
    # given neither N8NCLONE_SECRET_KEY nor a key file
    loader = key_file_loader(tmp_path)

    # when the key is first needed
    with caplog.at_level(logging.WARNING, "n8nclone.credentials"):
        key = loader.load()

    # expect a key file, mode 0600, holding a Fernet key
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    Fernet(path.read_text().strip())
    assert key.generated and key.source == str(path)
    # and a warning saying where it is and to back it up, without the key
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in record.getMessage() and "Back it up" in record.getMessage()
    assert path.read_text().strip() not in caplog.text
    # and no temporary file left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_the_key_file_is_reused_by_later_processes(tmp_path, caplog):
    # given data encrypted with a generated key
    token = key_file_loader(tmp_path).load().encrypt(b"the secret")
    caplog.clear()

    # when another loader (another process) reads the key
    with caplog.at_level(logging.WARNING, "n8nclone.credentials"):
        key = key_file_loader(tmp_path).load()

    # expect the same key, silently (no "generated" warning)
    assert not key.generated and key.decrypt(token, "it") == b"the secret"
    assert caplog.records == []


def test_the_key_is_loaded_once_per_loader(tmp_path):
    loader = key_file_loader(tmp_path)
    first = loader.load()
    (tmp_path / "secret.key").unlink()
    assert loader.load() is first


def test_racing_loaders_agree_on_one_key(tmp_path):
    # when many processes' loaders need the (missing) key at the same time
    loaders = [key_file_loader(tmp_path) for _ in range(16)]
    with ThreadPoolExecutor(16) as pool:
        keys = list(pool.map(lambda loader: loader.load(), loaders))

    # expect one of them to have generated it and all of them to use it
    assert sum(k.generated for k in keys) == 1
    token = keys[0].encrypt(b"x")
    assert all(k.decrypt(token, "it") == b"x" for k in keys)
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_n8nclone_secret_key_wins_and_no_file_is_created(tmp_path):
    env_key = Fernet.generate_key().decode()
    settings = load_settings({"N8NCLONE_SECRET_KEY": env_key, "N8NCLONE_DATA_DIR": str(tmp_path)})

    key = SecretKeyLoader.from_settings(settings).load()

    assert key.source == "N8NCLONE_SECRET_KEY"
    assert Fernet(env_key).decrypt(key.encrypt(b"x").encode()) == b"x"
    assert list(tmp_path.iterdir()) == []
    assert env_key not in repr(settings) and env_key not in repr(key)


@pytest.mark.parametrize("bad", ["garbage", "x" * 44, Fernet.generate_key().decode()[:-4],
                                 "é" * 44])
def test_a_malformed_n8nclone_secret_key_is_a_clear_error(tmp_path, bad):
    with pytest.raises(SecretKeyError) as caught:
        SecretKeyLoader(bad, tmp_path / "secret.key").load()
    message = str(caught.value)
    assert "N8NCLONE_SECRET_KEY is not a valid key" in message and "44 characters" in message
    assert bad not in message
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_key_file_is_a_clear_error_naming_it(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("not a key\n")
    with pytest.raises(SecretKeyError, match=f"the secret key in {path} is not a valid key"):
        key_file_loader(tmp_path).load()


def test_a_key_file_others_can_read_gets_a_warning(tmp_path, caplog):
    path = tmp_path / "secret.key"
    path.write_bytes(Fernet.generate_key())
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, "n8nclone.credentials"):
        key_file_loader(tmp_path).load()
    assert "can be read by other users" in caplog.text


def test_a_wrong_key_is_a_clear_error_not_garbage(tmp_path):
    # given data encrypted with one key
    token = SecretKeyLoader(Fernet.generate_key().decode(), tmp_path / "a").load().encrypt(b"x")

    # when it is decrypted with another
    other = SecretKeyLoader(Fernet.generate_key().decode(), tmp_path / "b").load()
    with pytest.raises(WrongSecretKey) as caught:
        other.decrypt(token, "credential 'openai'")

    # expect a message naming the credential and the key's source
    message = str(caught.value)
    assert message.startswith("credential 'openai' cannot be decrypted with this secret key "
                              "(from N8NCLONE_SECRET_KEY): was it created with another key?")


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAAB" + "A" * 80, "é"])
def test_a_damaged_ciphertext_is_the_same_clear_error(tmp_path, token):
    key = key_file_loader(tmp_path).load()
    with pytest.raises(WrongSecretKey, match="cannot be decrypted"):
        key.decrypt(token, "credential 'x'")


def test_no_key_is_generated_when_the_caller_forbids_it(tmp_path):
    # given stored credentials (the caller says so) and no key anywhere
    loader = key_file_loader(tmp_path)

    # expect a clear error instead of a new key that would not decrypt them
    with pytest.raises(SecretKeyError, match="there are stored credentials but no secret key"):
        loader.load(may_generate=lambda: False)
    assert list(tmp_path.iterdir()) == []
    # and a key to be generated once the caller allows it
    assert loader.load().generated
