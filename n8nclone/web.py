"""Run the web app (Reflex UI + websocket + /api, /webhook, /e routes) on one port.

`serve()` backs `n8nclone up`. The frontend is built with `reflex export` only
when its inputs changed (content hash over the UI sources, Reflex version, port
and URL settings); the build output is copied to a content-addressed snapshot
under `.web-dist/`, which the server serves from Python: no Node process runs
while serving, and a restart with an unchanged UI takes about a second.

The port is part of the build because Reflex bakes the websocket URL
(`ws://localhost:<port>/_event`) into the bundle; each port gets its own
snapshot, so servers on different ports never disturb each other.

This module must stay light (no Reflex import): it is the parent process that
stays alive for the whole `n8nclone up` session.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

import psutil

from n8nclone.config import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DIST_DIR = PROJECT_ROOT / ".web-dist"
WEB_DIR = PROJECT_ROOT / ".web"
STAMP_NAME = "BUILD_OK"
# Files whose content decides what the compiled frontend looks like. If a page
# renders data from another package at compile time, add that package here.
UI_SOURCES = ("rxconfig.py", "n8nclone/ui", "assets")
# Reflex settings that end up inside the bundle (URLs, paths, transport, packages).
BUILD_ENV_VARS = (
    "REFLEX_API_URL",
    "REFLEX_DEPLOY_URL",
    "REFLEX_FRONTEND_PATH",
    "REFLEX_BACKEND_PATH",
    "REFLEX_TRANSPORT",
    "REFLEX_FRONTEND_PACKAGES",
    "REFLEX_SHOW_BUILT_WITH_REFLEX",
)
STOP_GRACE_SECONDS = 10.0


def reflex_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return an environment in which Reflex uses the venv's Node and npm, never bun."""
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)  # not resolved: keep the venv's bin dir
    path = env.get("PATH", "")
    if not path.startswith(venv_bin + os.pathsep):
        env["PATH"] = os.pathsep.join([venv_bin, path])
    env["REFLEX_USE_NPM"] = "1"  # never download bun
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    env["REFLEX_CHECK_LATEST_VERSION"] = "false"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def ui_fingerprint(port: int, env: Mapping[str, str]) -> str:
    """Hash everything the built frontend depends on."""
    digest = hashlib.sha256()
    digest.update(f"reflex={metadata.version('reflex')};port={port}\n".encode())
    for name in BUILD_ENV_VARS:
        digest.update(f"{name}={env.get(name, '')}\n".encode())
    for path in _source_files():
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _source_files() -> list[Path]:
    """List the UI source files in a stable order (bytecode caches excluded)."""
    files: list[Path] = []
    for name in UI_SOURCES:
        root = PROJECT_ROOT / name
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        files += [p for p in candidates if p.is_file() and "__pycache__" not in p.parts]
    return files


def build_frontend(
    port: int | None = None, *, force: bool = False, env: Mapping[str, str] | None = None
) -> Path:
    """Build the frontend for `port` unless an up-to-date snapshot exists; return the snapshot.

    The snapshot is a directory usable as `REFLEX_WEB_WORKDIR` by the server.
    Raises `subprocess.CalledProcessError` when the build fails, `FileNotFoundError`
    outside a source checkout (Reflex needs `rxconfig.py` and the UI sources).
    """
    if not (PROJECT_ROOT / "rxconfig.py").is_file():
        raise FileNotFoundError(f"no rxconfig.py in {PROJECT_ROOT}: run from a source checkout")
    port = port or load_settings().port
    env = reflex_env(env)
    DIST_DIR.mkdir(exist_ok=True)
    with _exclusive_lock(DIST_DIR / ".lock"):
        snapshot = DIST_DIR / f"p{port}-{ui_fingerprint(port, env)[:16]}"
        if force or not (snapshot / STAMP_NAME).exists():
            started = time.monotonic()
            _run_reflex_export(port, env)
            _take_snapshot(snapshot)
            _prune_snapshots(port, keep=snapshot)
            print(f"Frontend built in {time.monotonic() - started:.1f} s", flush=True)
    return snapshot


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive file lock (serializes builds across processes)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_reflex_export(port: int, env: Mapping[str, str]) -> None:
    """Compile the app and build the static frontend into `.web/build/client`."""
    build_env = {**env, "REFLEX_FRONTEND_PORT": str(port), "REFLEX_BACKEND_PORT": str(port)}
    command = [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip"]
    subprocess.run(command, cwd=PROJECT_ROOT, env=build_env, check=True)


def _take_snapshot(snapshot: Path) -> None:
    """Copy the runtime part of `.web` (static bundle + backend markers) into `snapshot`."""
    staging = snapshot.with_name(snapshot.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(WEB_DIR / "build" / "client", staging / "build" / "client")
    shutil.copytree(WEB_DIR / "backend", staging / "backend")
    (staging / STAMP_NAME).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    shutil.rmtree(snapshot, ignore_errors=True)
    staging.rename(snapshot)


def _prune_snapshots(port: int, *, keep: Path) -> None:
    """Delete older snapshots for the same port (no other server can hold that port)."""
    for old in DIST_DIR.glob(f"p{port}-*"):
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def server_env(env: Mapping[str, str], snapshot: Path) -> dict[str, str]:
    """Environment of the server process: prod mode, prebuilt frontend, no compilation."""
    data_dir = load_settings(env).data_dir.resolve()  # the server runs in PROJECT_ROOT
    states_dir = data_dir / "ui-states"
    states_dir.mkdir(parents=True, exist_ok=True)
    return {
        **env,
        "N8NCLONE_DATA_DIR": str(data_dir),
        "REFLEX_ENV_MODE": "prod",
        "__REFLEX_SKIP_COMPILE": "true",  # the snapshot is already compiled and built
        "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",  # Python serves the static bundle
        "REFLEX_WEB_WORKDIR": str(snapshot),
        "REFLEX_STATES_WORKDIR": str(states_dir),
    }


def serve(port: int, *, host: str = "0.0.0.0") -> int:
    """Run the app on `port` until SIGINT/SIGTERM; return the server's exit code."""
    env = reflex_env()
    try:
        snapshot = build_frontend(port, env=env)
    except subprocess.CalledProcessError as error:
        print(f"Frontend build failed (exit code {error.returncode}).", file=sys.stderr)
        return error.returncode or 1
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    process = subprocess.Popen(
        [sys.executable, "-m", "n8nclone.ui.server", "--host", host, "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=server_env(env, snapshot),
        start_new_session=True,  # own process group: stopped as a whole
    )
    with _forward_signals(process.pid) as forwarded:
        _announce_when_ready(process, host, port)
        returncode = process.wait()
    stop_process_group(process.pid)
    return _exit_code(returncode, forwarded)


def _exit_code(returncode: int, forwarded: set[int]) -> int:
    """A stop we asked for is a clean exit; a death by signal N is 128 + N."""
    if returncode < 0 and -returncode in forwarded:
        return 0  # Uvicorn re-raises the stop signal after its graceful shutdown
    return returncode if returncode >= 0 else 128 - returncode


@contextlib.contextmanager
def _forward_signals(pgid: int) -> Iterator[set[int]]:
    """Forward SIGINT/SIGTERM received by this process to the whole process group.

    Yields the set of signals forwarded so far.
    """
    forwarded: set[int] = set()

    def forward(signum: int, _frame: object) -> None:
        forwarded.add(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signum)

    previous = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, forward)
    except ValueError:  # not the main thread: the caller handles stopping
        pass
    try:
        yield forwarded
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _announce_when_ready(process: subprocess.Popen, host: str, port: int) -> None:
    """Print the URL once /api/health answers (returns early if the server exits)."""
    probe_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    url = f"http://{probe_host}:{port}/api/health"
    while process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    print(f"n8nclone is up: http://localhost:{port}", flush=True)
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)


def process_group(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes of process group `pgid`."""
    members = []
    for proc in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc)
    return members


def stop_process_group(pgid: int, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every live process of the group, then SIGKILL what is left after `grace`."""
    deadline = time.monotonic() + grace
    signalled = False
    while members := process_group(pgid):
        if not signalled:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            signalled = True
        if time.monotonic() > deadline:
            for proc in members:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(members, timeout=2)
            return
        time.sleep(0.1)
