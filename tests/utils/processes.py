"""Start `n8nclone` commands as real processes, and stop them for sure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

N8NCLONE = [sys.executable, "-m", "n8nclone.cli"]
PROJECT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str], log_path: Path, threads: int = 4) -> subprocess.Popen:
    """A separate `n8nclone worker` process; returns once it says it is ready."""
    log = open(log_path, "ab")
    proc = subprocess.Popen([*N8NCLONE, "worker", "--threads", str(threads)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"worker ready" in log_path.read_bytes():
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log_path.read_text()}")
        time.sleep(0.05)
    kill(proc)
    raise RuntimeError(f"worker did not become ready:\n{log_path.read_text()}")


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*N8NCLONE, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout, cwd=PROJECT)


def run_cli_many(env: dict[str, str], *commands: tuple[str, ...]
                 ) -> list[subprocess.CompletedProcess]:
    """Independent commands, side by side (each pays the interpreter's start-up)."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda args: run_cli(*args, env=env), commands))


def succeeded(result: subprocess.CompletedProcess) -> str:
    """The output of a command that must have exited 0."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def failed_cleanly(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, a message on stderr holding every fragment, no traceback."""
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
