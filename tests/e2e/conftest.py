"""Start the real app (`n8nclone.web.serve`) in a subprocess for end-to-end tests.

`start_app()` returns `(base_url, stop)`; the session fixture `app_server`
shares one running app between browser tests. The first start of a checkout
builds the frontend (~25 s, npm install included); later starts on the same
port reuse the build (~1 s), so the preferred port is fixed when free.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import psutil
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFERRED_PORT = int(os.environ.get("N8NCLONE_E2E_PORT", "3917"))
START_TIMEOUT = 180.0  # covers a first frontend build
STOP_TIMEOUT = 20.0


class RunningApp:
    """A `serve()` subprocess plus what is needed to stop and inspect it."""

    def __init__(self, process: subprocess.Popen, base_url: str, log_path: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log_path = log_path
        self.known: dict[int, psutil.Process] = {}

    def tree(self) -> list[psutil.Process]:
        """The `serve()` process and all its live descendants (also remembered for `stop`)."""
        try:
            root = psutil.Process(self.process.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        self.known.update((p.pid, p) for p in procs)
        return [p for p in procs if _alive(p)]

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the server output, for failure messages."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM `serve()` (it stops its process group), wait, then kill any leftover."""
        self.tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            returncode = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            returncode = -9
        leftovers = [p for p in self.known.values() if _alive(p)]
        for proc in leftovers:
            proc.kill()
        psutil.wait_procs(leftovers, timeout=5)
        return returncode


def _alive(proc: psutil.Process) -> bool:
    """Whether `proc` still runs (zombies count as gone)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pick_port(preferred: int = PREFERRED_PORT) -> int:
    """The preferred port if free (its frontend build is cached), else any free port."""
    for candidate in (preferred, 0):
        with socket.socket() as sock:
            # Like the server: a port whose old connections sit in TIME_WAIT is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("0.0.0.0", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def launch(env_overrides: Mapping[str, str] | None = None, port: int | None = None) -> RunningApp:
    """Start `serve(port)` in the project root with a fresh data dir; return at once."""
    port = port or pick_port()
    env = {**os.environ, **(env_overrides or {})}
    env.setdefault("N8NCLONE_DATA_DIR", tempfile.mkdtemp(prefix="n8nclone-e2e-"))
    log_path = Path(tempfile.mkstemp(prefix=f"n8nclone-up-{port}-", suffix=".log")[1])
    code = f"from n8nclone.web import serve; raise SystemExit(serve({port}, host='127.0.0.1'))"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningApp(process, f"http://127.0.0.1:{port}", log_path)


def wait_until_healthy(app: RunningApp, timeout: float = START_TIMEOUT) -> None:
    """Poll GET /api/health until 200; fail with the server log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            pytest.fail(f"server exited with {app.process.returncode}:\n{app.log_tail()}")
        try:
            with urllib.request.urlopen(app.base_url + "/api/health", timeout=2) as response:
                if response.status == 200:
                    app.tree()
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    app.stop()
    pytest.fail(f"server not healthy after {timeout:.0f} s:\n{app.log_tail()}")


def start_app(
    env_overrides: Mapping[str, str] | None = None, port: int | None = None
) -> tuple[str, Callable[[], int]]:
    """Start the app and wait until it is healthy; return `(base_url, stop)`."""
    app = launch(env_overrides, port)
    wait_until_healthy(app)
    return app.base_url, app.stop


@pytest.fixture(scope="session")
def app_server() -> Iterator[str]:
    """One running app for the whole test session; yields its base URL."""
    base_url, stop = start_app()
    try:
        yield base_url
    finally:
        stop()
