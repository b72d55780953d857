"""Background work of the `up` process, started by the Reflex app's lifespan.

Embedded default (no REDIS_URL): the in-process broker's worker threads, the
lease keeper and the sweep all run here. With REDIS_URL, runs execute in
`n8nclone worker` processes; `up` only enqueues (and runs the sweep, so a
lost message is found even when no worker has started yet). Either way `up` runs
the scheduler (more schedulers, `n8nclone scheduler`, may run beside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from concurrent.futures import ThreadPoolExecutor

from n8nclone.engine.background import Sweeper
from n8nclone.services import get_services
from n8nclone.triggers.schedules import build_scheduler
from n8nclone.worker.runtime import WorkerRuntime

log = logging.getLogger("n8nclone")


@contextlib.asynccontextmanager
async def background_services():
    """Lifespan task for the Reflex app: start background services, stop them on shutdown."""
    # Every API and webhook call does its database work through asyncio.to_thread; the
    # default pool (cores + 4 threads) makes concurrent calls queue for a thread.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=32, thread_name_prefix="n8nclone-io"))
    services = await asyncio.to_thread(get_services)
    settings = services.settings
    # A secret key for credentials exists from the first start (generated, and said so).
    await asyncio.to_thread(services.credentials.ensure_key)
    if settings.uses_redis:
        runtime = None
        sweeper = Sweeper(services.runs, services.dispatcher, settings.sweep_interval,
                          settings.sweep_grace, settings.wake_interval)
        sweeper.start()
    else:
        sweeper = None
        runtime = WorkerRuntime(services).start()
    scheduler = build_scheduler(services)
    scheduler.start()
    # The app, its imports and caches are built: keep the collector from walking them again
    # and again (a full collection of a heap this size pauses every request for ~50 ms).
    gc.freeze()
    try:
        yield
    finally:
        scheduler.stop()
        if runtime:
            await asyncio.to_thread(runtime.stop)
        if sweeper:
            sweeper.stop()
