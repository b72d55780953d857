"""The whole app as real processes, to stop and start again: `n8nclone up` on the embedded
default, or scaled out (`up` as the web process with REDIS_URL, plus `n8nclone worker` and
`n8nclone scheduler` processes). Used by the restart tests.

`AppStack(env, port, log_dir, workers=2, scheduler=True).start()` starts every process and
returns once each is ready; `stop()` stops them all (SIGTERM, or SIGKILL with `hard=True`)
and checks that none is left; `start()` again starts a new generation on the same port (its
frontend build is reused) and the same database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import psutil

from n8nclone.config import load_settings
from n8nclone.store.api_keys import ApiKeyStore
from n8nclone.store.db import get_database
from tests.e2e.conftest import RunningApp, launch, wait_until_healthy
from tests.utils.api_server import ApiKeyAuth
from tests.utils.processes import N8NCLONE, PROJECT

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def start_command(args: list[str], env: Mapping[str, str], log_path: Path, ready: bytes,
                  timeout: float = READY_TIMEOUT) -> subprocess.Popen:
    """`n8nclone ARGS` in its own process group; returns once `ready` is in its log."""
    log = open(log_path, "wb")  # noqa: SIM115  the child keeps writing to it
    proc = subprocess.Popen([*N8NCLONE, *args], env=dict(env), stdout=log,
                            stderr=subprocess.STDOUT, cwd=PROJECT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + timeout
    while ready not in log_path.read_bytes():
        if proc.poll() is not None:
            raise RuntimeError(f"`n8nclone {' '.join(args)}` exited early:\n"
                               f"{log_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            _signal_group(proc, signal.SIGKILL)
            raise RuntimeError(f"`n8nclone {' '.join(args)}` not ready after {timeout} s:\n"
                               f"{log_path.read_text(errors='replace')}")
        time.sleep(0.05)
    return proc


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class AppStack:
    """Every process of the app, started and stopped as one."""

    def __init__(self, env: Mapping[str, str], port: int, log_dir: Path, *, workers: int = 0,
                 scheduler: bool = False, worker_threads: int = 4):
        self.env = dict(env)
        self.port = port
        self.log_dir = log_dir
        self.workers = workers
        self.scheduler = scheduler
        self.worker_threads = worker_threads
        self.base_url = f"http://127.0.0.1:{port}"
        self.generation = 0
        self.web: RunningApp | None = None
        self.others: list[subprocess.Popen] = []  # workers and scheduler
        self.logs: list[Path] = []
        self._known: dict[int, psutil.Process] = {}
        self._api_key: str | None = None

    @property
    def api_key(self) -> str:
        """An API key on the stack's database, made on first use (after `start()`: the web
        process migrates the database) and kept across restarts."""
        if self._api_key is None:
            database = get_database(load_settings(self.env).database_url)
            _, self._api_key = ApiKeyStore(database).create()
        return self._api_key

    # -- starting ----------------------------------------------------------------------

    def start(self) -> AppStack:
        self.generation += 1
        self.web = launch(self.env, self.port)
        self.logs.append(self.web.log_path)
        wait_until_healthy(self.web)
        self.start_workers()
        if self.scheduler:
            log = self.log_dir / f"scheduler-{self.generation}.log"
            self.logs.append(log)
            self.others.append(start_command(["scheduler"], self.env, log, b"scheduler ready"))
        self._remember()
        return self

    def start_workers(self) -> None:
        for index in range(self.workers):
            log = self.log_dir / f"worker-{self.generation}-{index}-{time.monotonic_ns()}.log"
            self.logs.append(log)
            self.others.append(start_command(
                ["worker", "--threads", str(self.worker_threads)], self.env, log,
                b"worker ready"))
        self._remember()

    # -- stopping ----------------------------------------------------------------------

    def processes(self) -> list[psutil.Process]:
        """Every live process of the app (web tree, workers, scheduler)."""
        self._remember()
        return [p for p in self._known.values() if _alive(p)]

    def _remember(self) -> None:
        roots = ([self.web.process.pid] if self.web else []) + [p.pid for p in self.others]
        for pid in roots:
            try:
                root = psutil.Process(pid)
                for proc in [root, *root.children(recursive=True)]:
                    self._known.setdefault(proc.pid, proc)
            except psutil.NoSuchProcess:
                pass
        if self.web:
            self.web.tree()
            self._known.update(self.web.known)

    def stop_workers(self, *, hard: bool = False) -> None:
        """Stop the worker processes only (the web process keeps taking requests)."""
        workers = [p for p in self.others if p.args[len(N8NCLONE)] == "worker"]
        self._stop_popen(workers, hard)
        self.others = [p for p in self.others if p not in workers]

    def stop(self, *, hard: bool = False) -> None:
        """Stop every process: SIGTERM (graceful) or SIGKILL; fail if one is left."""
        self._remember()
        if hard:
            for proc in self.processes():
                proc.kill()
        else:  # every process told at once (`up` forwards it to its server's group)
            if self.web and self.web.process.poll() is None:
                self.web.process.send_signal(signal.SIGTERM)
            for proc in self.others:
                _signal_group(proc, signal.SIGTERM)
        if self.web:
            try:
                self.web.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self._wait_popen(self.others)
        self.others = []
        self.web = None
        _, alive = psutil.wait_procs(list(self._known.values()), timeout=STOP_TIMEOUT)
        for proc in alive:
            proc.kill()
        if alive:
            raise AssertionError(f"processes left {STOP_TIMEOUT} s after stop: {alive}")
        self._known.clear()

    def _stop_popen(self, procs: list[subprocess.Popen], hard: bool) -> None:
        for proc in procs:
            _signal_group(proc, signal.SIGKILL if hard else signal.SIGTERM)
        self._wait_popen(procs)

    def _wait_popen(self, procs: list[subprocess.Popen]) -> None:
        for proc in procs:
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(5)

    def output(self, tail: int = 60) -> str:
        """The last lines of every process's log, for assertion messages."""
        parts = []
        for log in self.logs:
            if log.exists():
                lines = log.read_text(errors="replace").splitlines()[-tail:]
                parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def tracebacks(self) -> list[str]:
        """Logs that hold a Python traceback (an unexpected error somewhere)."""
        return [log.name for log in self.logs
                if log.exists() and "Traceback" in log.read_text(errors="replace")]


# -- the API, seen from a test --------------------------------------------------------


class Api:
    """A thin client of the app's JSON API, sending `api_key` (`AppStack.api_key`)."""

    def __init__(self, base_url: str, api_key: str | None = None):
        self.client = httpx.Client(base_url=base_url, timeout=30,
                                   auth=ApiKeyAuth(api_key) if api_key else None)

    def close(self) -> None:
        self.client.close()

    def create_workflow(self, workflow: dict) -> dict:
        response = self.client.post("/api/workflows", json=workflow)
        assert response.status_code == 201, response.text
        return response.json()

    def start_run(self, workflow: str, data: Any) -> str:
        response = self.client.post(f"/api/workflows/{workflow}/runs", json={"data": data})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def run(self, run_id: str) -> dict:
        response = self.client.get(f"/api/runs/{run_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def send_events(self, events: list[dict]) -> list[str]:
        response = self.client.post("/api/events", json=events)
        assert response.status_code in (200, 201), response.text
        ids = response.json()["ids"]
        assert len(ids) == len(events)
        return ids

    def runs_until(self, run_ids: list[str], done: Callable[[dict], bool], what: str,
                   timeout: float = 60, details: Callable[[], str] = lambda: ""
                   ) -> dict[str, dict]:
        """Poll every run until `done(run)` holds for all of them; return them by id."""
        deadline = time.monotonic() + timeout
        runs: dict[str, dict] = {}
        while True:
            runs = {run_id: self.run(run_id) for run_id in run_ids}
            if all(done(run) for run in runs.values()):
                return runs
            if time.monotonic() > deadline:
                stuck = {r["id"]: r["status"] for r in runs.values() if not done(r)}
                raise AssertionError(f"{what}: not after {timeout} s; still {stuck}\n"
                                     f"{details()}")
            time.sleep(0.1)
