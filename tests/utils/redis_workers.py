"""Fixtures and helpers for tests that scale out: this test process enqueues to Redis, and
separate `n8nclone worker` processes execute.

Import the fixtures into a test module: `from tests.utils.redis_workers import
redis_services_fixture, workers_fixture` gives it the `redis_services` and `workers` fixtures.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from n8nclone.engine.start import start_run
from n8nclone.services import Services, build_services
from n8nclone.store.workflows import WorkflowRecord
from n8nclone.worker.broker import QUEUE
from n8nclone.workflows import save_workflow
from tests.conftest import REDIS_URL, make_env, make_settings
from tests.utils.processes import kill, start_worker


@pytest.fixture(name="redis_services")
def redis_services_fixture(database_url, tmp_path, redis_namespace) -> Iterator[Services]:
    """Services of this test process with REDIS_URL set: start_run enqueues to Redis, and
    nothing in this process executes runs."""
    services = build_services(make_settings(database_url, tmp_path, redis_namespace))
    assert isinstance(services.broker, RedisBroker)
    try:
        yield services
    finally:
        services.broker.close()


class Workers:
    """Starts `n8nclone worker` processes on the test's database and Redis namespace; every
    process started is killed at the end of the test, whatever happens."""

    def __init__(self, database_url: str, data_dir: Path, redis_namespace: str):
        self.database_url, self.data_dir, self.namespace = database_url, data_dir, redis_namespace
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, threads: int = 4, **env: str) -> subprocess.Popen:
        log = self.data_dir / f"worker-{len(self.logs)}.log"
        self.logs.append(log)
        proc = start_worker(make_env(self.database_url, self.data_dir, self.namespace, **env),
                            log, threads=threads)
        self.procs.append(proc)
        return proc

    def output(self) -> str:
        """Every worker's log, for assertion messages."""
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}"
                         for log in self.logs if log.exists())

    def stop_all(self) -> None:
        for proc in self.procs:
            kill(proc)


@pytest.fixture(name="workers")
def workers_fixture(database_url, tmp_path, redis_namespace) -> Iterator[Workers]:
    pool = Workers(database_url, tmp_path, redis_namespace)
    try:
        yield pool
    finally:
        pool.stop_all()


def save(services: Services, data: dict) -> WorkflowRecord:
    return save_workflow(services.workflows, services.registry, data)


def start(services: Services, record: WorkflowRecord, input: Any = None) -> str:
    return start_run(services.runs, services.dispatcher, workflow_id=record.id,
                     version_id=record.version_id,
                     plan_settings=record.plan.get("settings", {}), input=input)


def steps_by_key(services: Services, run_id: str) -> dict[str, dict]:
    return {s["key"]: s for s in services.run_queries.get_run(run_id)["steps"]}


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def queue_keys(namespace: str) -> tuple[str, str]:
    """The two keys dramatiq's Redis broker keeps a queue's ready messages in: the list of
    message ids and the hash of message bodies."""
    return f"{namespace}:{QUEUE}", f"{namespace}:{QUEUE}.msgs"


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               details: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s\n{details()}")
        time.sleep(0.02)


class LeaseOwnerSampler:
    """Watches the run table from a thread and notes every pid that held a lease, to tell
    which worker processes took part."""

    def __init__(self, services: Services, interval: float = 0.005):
        self.services, self.interval = services, interval
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        from sqlalchemy import select

        from n8nclone.store.models import Run

        owner = Run.__table__.c.lease_owner
        while not self._stop.wait(self.interval):
            with self.services.db.read() as conn:
                owners = conn.execute(select(owner).where(owner.is_not(None)).distinct()).scalars()
                self.pids.update(int(o.split(":")[1]) for o in owners)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
