"""`n8nclone credential add|list|delete` as real processes, on SQLite and PostgreSQL: the
secret is taken from --value or standard input and never printed; the first add generates
the key file (0600) and says where; bad input, an unknown name and a wrong or malformed
secret key exit 2 with a clear message, never a traceback."""

from __future__ import annotations

import stat
import subprocess

import pytest
from cryptography.fernet import Fernet

from n8nclone.credentials.crypto import SecretKeyLoader
from n8nclone.credentials.vault import CredentialVault
from n8nclone.store.credentials import CredentialStore
from n8nclone.store.db import get_database
from tests.conftest import make_env
from tests.utils.processes import failed_cleanly, run_cli, succeeded
from tests.utils.processes import run_cli_many as cli_many

SECRET = "sk-live-0123456789abcdef"


@pytest.fixture
def env(database_url, tmp_path) -> dict[str, str]:
    return make_env(database_url, tmp_path)


def cli(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env, stdin=stdin)


def ok(result: subprocess.CompletedProcess) -> str:
    assert SECRET not in result.stdout + result.stderr
    return succeeded(result)


def fails_cleanly(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, a message on stderr holding every fragment, no traceback, no secret."""
    assert SECRET not in result.stderr + result.stdout
    failed_cleanly(result, *fragments)


def vault(env: dict, tmp_path) -> CredentialVault:
    """The credentials as a process with this environment sees them."""
    return CredentialVault(CredentialStore(get_database(env["DATABASE_URL"])),
                           SecretKeyLoader(env.get("N8NCLONE_SECRET_KEY"),
                                           tmp_path / "secret.key"))


def test_add_list_and_delete_never_print_the_secret(env, tmp_path):
    # when the first credential is added
    added = cli(env, "credential", "add", "openai", "--type", "llm_api_key", "--value", SECRET)

    # expect it added, and the key file generated (owner only) and announced
    assert "credential 'openai' added (llm_api_key, …cdef)" in ok(added)
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert str(key_file) in added.stderr and "Back it up" in added.stderr
    assert key_file.read_text().strip() not in added.stderr + added.stdout

    # when a header credential is added from standard input (with its trailing newline)
    from_stdin = cli(env, "credential", "add", "hook", "--type", "http_header", "--value", "-",
                     stdin=f"X-Api-Key: {SECRET}\n")

    # expect the value without the newline, and no new key
    assert "credential 'hook' added (http_header, X-Api-Key: …cdef)" in ok(from_stdin)
    assert "generated" not in from_stdin.stderr
    assert vault(env, tmp_path).resolve("hook").data == {"name": "X-Api-Key", "value": SECRET}
    assert vault(env, tmp_path).resolve("openai").data == {"value": SECRET}

    # and the list to show names, types and hints only
    listed = ok(cli(env, "credential", "list"))
    lines = listed.splitlines()
    assert lines[0].split() == ["name", "type", "hint", "updated"]
    assert "hook" in lines[2] and "X-Api-Key: …cdef" in lines[2]
    assert "openai" in lines[3] and "llm_api_key" in lines[3] and "…cdef" in lines[3]

    # when one is replaced and the other deleted
    replaced, deleted = cli_many(
        env, ("credential", "add", "openai", "--type", "llm_api_key",
              "--value", "sk-new-0000-1111"),
        ("credential", "delete", "hook"))
    assert "credential 'openai' updated (llm_api_key, …1111)" in ok(replaced)
    assert "credential 'hook' deleted" in ok(deleted)
    assert [i.name for i in vault(env, tmp_path).list()] == ["openai"]
    assert vault(env, tmp_path).resolve("openai").data == {"value": "sk-new-0000-1111"}


def test_stdin_keeps_everything_but_one_trailing_newline(env, tmp_path):
    ok(cli(env, "credential", "add", "basic", "--type", "http_basic", "--value", "-",
           stdin=f"alice: {SECRET} \r\n"))
    assert vault(env, tmp_path).resolve("basic").data == {"user": "alice",
                                                         "password": f" {SECRET} "}


def test_an_empty_list_says_how_to_add_one_without_creating_a_key(env, tmp_path):
    assert "no credentials yet" in ok(cli(env, "credential", "list"))
    assert not (tmp_path / "secret.key").exists()


def test_bad_input_exits_2_with_a_message(env, tmp_path):
    bad_type, bad_header, bad_basic, empty_name, missing, no_value = cli_many(
        env,
        ("credential", "add", "x", "--type", "api_key", "--value", SECRET),
        ("credential", "add", "x", "--type", "http_header", "--value", SECRET),
        ("credential", "add", "x", "--type", "http_basic", "--value", SECRET),
        ("credential", "add", "", "--type", "llm_api_key", "--value", SECRET),
        ("credential", "delete", "nope"),
        ("credential", "add", "x", "--type", "llm_api_key"))
    fails_cleanly(bad_type, "unknown credential type 'api_key'", "llm_api_key, http_header")
    fails_cleanly(bad_header, "'Header-Name: secret'")
    fails_cleanly(bad_basic, "'user:password'")
    fails_cleanly(empty_name, "must not be empty")
    fails_cleanly(missing, "no credential named 'nope'")
    fails_cleanly(no_value, "--value SECRET, or --value -")
    empty_stdin = cli(env, "credential", "add", "x", "--type", "llm_api_key", "--value", "-",
                      stdin="")
    fails_cleanly(empty_stdin, "must not be empty")
    assert vault(env, tmp_path).list() == []


def test_a_wrong_or_malformed_secret_key_exits_2_with_a_clear_message(env, tmp_path):
    # given a credential added with the generated key file
    ok(cli(env, "credential", "add", "openai", "--type", "llm_api_key", "--value", SECRET))

    # when the commands run with another key, a malformed key, and no key at all
    other_key = dict(env, N8NCLONE_SECRET_KEY=Fernet.generate_key().decode())
    malformed = dict(env, N8NCLONE_SECRET_KEY="not-a-key")
    wrong, bad = (cli(e, "credential", "add", "github", "--type", "bearer_token", "--value",
                      "ghp_0000000000000000") for e in (other_key, malformed))
    (tmp_path / "secret.key").rename(tmp_path / "moved.key")
    lost = cli(env, "credential", "add", "github", "--type", "bearer_token", "--value",
               "ghp_0000000000000000")

    # expect each to say what is wrong, and nothing stored
    fails_cleanly(wrong, "cannot save credential 'github'",
                  "cannot be decrypted with this secret key (from N8NCLONE_SECRET_KEY)")
    fails_cleanly(bad, "N8NCLONE_SECRET_KEY is not a valid key")
    assert "not-a-key" not in bad.stderr
    fails_cleanly(lost, "there are stored credentials but no secret key",
                  str(tmp_path / "secret.key"))
    assert not (tmp_path / "secret.key").exists()
    # and listing still to work, needing no key
    assert "openai" in ok(cli(other_key, "credential", "list"))
