"""Child-process entry point: serve a prebuilt UI, Reflex's backend and our API on one port.

`n8nclone.web.serve` runs `python -m n8nclone.ui.server --host H --port P` in
the project root, with an environment pointing Reflex at a prebuilt frontend
snapshot (`REFLEX_WEB_WORKDIR`), prod mode and compilation skipped. The Python
backend (Granian) then serves the static frontend itself: no Node process runs.
"""

from __future__ import annotations

import argparse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the host and port to listen on."""
    parser = argparse.ArgumentParser(prog="n8nclone.ui.server")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve until Granian is told to stop (SIGINT/SIGTERM)."""
    args = parse_args(argv)
    # Reflex is imported here, not at module level, so `--help` stays instant.
    from reflex.istate.manager import reset_disk_state_manager
    from reflex.utils import exec as reflex_exec
    from reflex_base.config import get_config

    # Same as `reflex run`: UI state of a previous process may not match the new code.
    reset_disk_state_manager()
    reflex_exec.run_backend_prod(
        args.host,
        args.port,
        get_config().loglevel.subprocess_level(),
        mount_frontend_compiled_app=True,
    )


if __name__ == "__main__":
    main()
