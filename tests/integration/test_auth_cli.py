"""`n8nclone user ...` and `n8nclone api-key ...` as real processes, on SQLite and
PostgreSQL: a user made on the command line logs in over HTTP; an API key is printed once,
listed masked, opens the API until it is deleted; bad input gets a message and exit 2."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.conftest import make_env
from tests.utils.api_server import ApiServer
from tests.utils.processes import failed_cleanly as fails_cleanly
from tests.utils.processes import run_cli
from tests.utils.processes import run_cli_many as cli_many
from tests.utils.processes import succeeded as ok


@pytest.fixture
def env(database_url, tmp_path) -> dict[str, str]:
    return make_env(database_url, tmp_path)


def cli(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env, stdin=stdin)




def test_a_user_created_on_the_command_line_logs_in(env, embedded):
    # when users are created, a password given as an option and one on standard input
    created = cli(env, "user", "create", "Admin@Example.com", "--password", "correct horse")
    assert "admin@example.com" in ok(created)
    ok(cli(env, "user", "create", "b@example.com", "--password", "-",
           stdin="another password\n"))

    # expect both listed, never with a password or hash
    listed = ok(cli(env, "user", "list"))
    assert "admin@example.com" in listed and "b@example.com" in listed
    assert "argon2" not in listed and "correct horse" not in listed

    # and both to log in (the trailing newline of standard input not part of the password)
    server = ApiServer(embedded).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            for email, password in (("admin@example.com", "correct horse"),
                                    ("b@example.com", "another password")):
                response = browser.post("/api/auth/login",
                                        json={"email": email, "password": password})
                assert response.status_code == 200, response.text
    finally:
        server.stop()


def test_bad_users_are_refused_with_a_message_and_exit_2(env):
    ok(cli(env, "user", "create", "admin@example.com", "--password", "correct horse"))
    taken, bad_email, short, missing = cli_many(
        env, ("user", "create", "ADMIN@example.com", "--password", "correct horse"),
        ("user", "create", "admin", "--password", "correct horse"),
        ("user", "create", "c@example.com", "--password", "short"),
        ("user", "create", "d@example.com"))
    fails_cleanly(taken, "already exists")
    fails_cleanly(bad_email, "not an email")
    fails_cleanly(short, "at least 8 characters")
    fails_cleanly(missing, "--password")
    assert ok(cli(env, "user", "list")).count("@") == 1


def test_an_api_key_is_shown_once_opens_the_api_and_is_revoked_by_delete(env, embedded):
    # when a key is created
    created = cli(env, "api-key", "create", "--name", "ci")

    # expect the key alone on stdout, and a warning that it is shown only once
    key = ok(created).strip()
    assert len(key) >= 40 and "\n" not in key and "shown only this once" in created.stderr
    listed = ok(cli(env, "api-key", "list"))
    assert "ci" in listed and f"{key[:8]}…" in listed and key not in listed

    # and the key to open the API, until it is deleted
    server = ApiServer(embedded).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {key}"}) as script:
            assert script.get("/api/workflows").status_code == 200
            assert "deleted" in ok(cli(env, "api-key", "delete", "ci"))
            assert script.get("/api/workflows").status_code == 401
    finally:
        server.stop()
    assert "ci" not in ok(cli(env, "api-key", "list")).split()


def test_api_key_names_are_unique_and_deletes_must_name_a_key(env):
    ok(cli(env, "api-key", "create", "--name", "ci"))
    taken, unnamed, missing, empty = cli_many(
        env, ("api-key", "create", "--name", "ci"), ("api-key", "create"),
        ("api-key", "delete", "nope"), ("api-key", "create", "--name", ""))
    fails_cleanly(taken, "'ci' already exists")
    ok(unnamed)
    fails_cleanly(missing, "no API key named 'nope'")
    fails_cleanly(empty, "must not be empty")
