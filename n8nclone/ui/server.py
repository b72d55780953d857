"""Child-process entry point: serve a prebuilt UI, Reflex's backend and our API on one port.

`n8nclone.web.serve` runs `python -m n8nclone.ui.server --host H --port P` in
the project root, with an environment pointing Reflex at a prebuilt frontend
snapshot (`REFLEX_WEB_WORKDIR`), prod mode, compilation skipped and the
compiled frontend mounted: the Python process serves the static files itself,
no Node process runs.

The default server is Uvicorn in this one process (about half the memory of
Granian, whose supervisor holds a second copy of the app). `--server granian`
uses Reflex's own production runner instead: a supervisor plus one worker.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

GRACEFUL_SHUTDOWN_SECONDS = 5  # open websockets must not delay a stop forever


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the host, port and server implementation."""
    parser = argparse.ArgumentParser(prog="n8nclone.ui.server")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    return parser.parse_args(argv)


def stop_with_parent() -> None:
    """Get SIGTERM when the `n8nclone up` process dies, even by SIGKILL (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl took effect
        sys.exit(1)


def run_uvicorn(host: str, port: int) -> None:
    """Serve the app with Uvicorn in this process (lifespan, websockets included)."""
    import uvicorn
    from reflex.utils import exec as reflex_exec
    from reflex_base.config import get_config

    uvicorn.run(
        # "n8nclone.ui.app:app"; calling app() builds the ASGI app
        reflex_exec.get_app_instance_from_file(),
        factory=True,
        host=host,
        port=port,
        log_level=get_config().loglevel.subprocess_level().value,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def run_granian(host: str, port: int) -> None:
    """Serve the app with Reflex's production runner (Granian supervisor + 1 worker)."""
    from reflex.utils import exec as reflex_exec
    from reflex_base.config import get_config

    os.environ.setdefault("GRANIAN_WORKERS", "1")  # background services must run once
    reflex_exec.run_backend_prod(
        host, port, get_config().loglevel.subprocess_level(), mount_frontend_compiled_app=True
    )


def main(argv: list[str] | None = None) -> None:
    """Serve until told to stop (SIGINT/SIGTERM)."""
    args = parse_args(argv)
    stop_with_parent()
    # Reflex is imported here, not at module level, so `--help` stays instant.
    from reflex.istate.manager import reset_disk_state_manager

    # Same as `reflex run`: UI state saved by a previous process may not fit the new code.
    reset_disk_state_manager()
    # Migrate here, not in the `up` parent, so the long-lived parent stays small.
    from n8nclone.config import load_settings
    from n8nclone.logs import setup_logging
    from n8nclone.store.migrate import migrate

    settings = load_settings()
    setup_logging(settings)
    migrate(settings.database_url)
    runner = run_granian if args.server == "granian" else run_uvicorn
    runner(args.host, args.port)


if __name__ == "__main__":
    main()
