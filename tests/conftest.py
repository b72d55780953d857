"""Shared fixtures: fresh databases (SQLite and PostgreSQL), Redis namespaces, services,
a scripted HTTP server. Tests get fast timings (short leases, quick sweeps, tiny backoff)."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from n8nclone.config import Settings, load_settings
from n8nclone.services import Services, build_services
from n8nclone.store.migrate import migrate
from n8nclone.worker.runtime import WorkerRuntime
from tests.utils.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
)
from tests.utils.http_server import ScriptedServer

REDIS_URL = "redis://127.0.0.1:6379/9"
FAST_ENV = {
    "N8NCLONE_LEASE_SECONDS": "2",
    "N8NCLONE_SWEEP_INTERVAL": "0.2",
    "N8NCLONE_SWEEP_GRACE": "1",
    "N8NCLONE_RETRY_BACKOFF_BASE": "0.05",
    "N8NCLONE_RETRY_BACKOFF_CAP": "0.5",
    "N8NCLONE_LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> Path:
    """A migrated SQLite file, made once: each test gets a copy (migrating costs ~0.3 s)."""
    path = tmp_path_factory.mktemp("template") / "n8nclone.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """A migrated PostgreSQL database, made once: each test's database is created from it
    as a template (CREATE DATABASE ... TEMPLATE copies it in ~50 ms; migrating takes ~0.7 s)."""
    if not postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
    name, url = create_postgres_database()
    try:
        migrate(url)  # its engine is disposed: a template must have no open connection
        yield name
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "n8nclone.db"
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    name, url = create_postgres_database(template=request.getfixturevalue("_migrated_postgres"))
    try:
        yield url
    finally:
        from n8nclone.store.db import _databases

        db = _databases.pop(url, None)
        if db is not None:
            db.dispose()
        drop_postgres_database(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'n8nclone.db'}"
    migrate(url)
    return url


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A Redis key prefix of this test's own, deleted afterwards."""
    namespace = f"n8nclone-test-{uuid.uuid4().hex[:8]}"
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}*"))
    if keys:
        client.delete(*keys)


def make_env(database_url: str, data_dir, redis_namespace: str | None = None,
             **extra: str) -> dict[str, str]:
    """A process environment for n8nclone commands run by a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("N8NCLONE_", "REDIS_URL",
                                                                     "DATABASE_URL"))}
    env.update(FAST_ENV)
    env.update(DATABASE_URL=database_url, N8NCLONE_DATA_DIR=str(data_dir))
    if redis_namespace:
        env.update(REDIS_URL=REDIS_URL, N8NCLONE_REDIS_NAMESPACE=redis_namespace)
    env.update(extra)
    return env


def make_settings(database_url: str, data_dir, redis_namespace: str | None = None,
                  **extra: str) -> Settings:
    return load_settings(make_env(database_url, data_dir, redis_namespace, **extra))


@pytest.fixture
def embedded(database_url, tmp_path) -> Iterator[Services]:
    """Services on the embedded default (in-process broker and worker threads), running."""
    services = build_services(make_settings(database_url, tmp_path))
    runtime = WorkerRuntime(services).start()
    yield services
    runtime.stop()


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


def wait_for_status(services: Services, run_id: str, statuses=("succeeded", "failed",
                                                                "cancelled"),
                    timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = services.runs.run_status(run_id)
        if status in statuses:
            return status
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} is {services.runs.run_status(run_id)}, "
                         f"not {statuses}, after {timeout} s")
