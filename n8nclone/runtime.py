"""Background work of the `up` process: in-process worker, sweep (placeholder, filled by the engine)."""

from __future__ import annotations

import contextlib


@contextlib.asynccontextmanager
async def background_services():
    """Lifespan task for the Reflex app: start background services, stop them on shutdown."""
    yield
