"""A running worker: Dramatiq worker threads plus the lease keeper and the sweep.

Used by `n8nclone worker` (Redis broker) and inside `n8nclone up` (in-process broker).
"""

from __future__ import annotations

import logging

from dramatiq import Worker

from n8nclone.engine.background import LeaseKeeper, Sweeper
from n8nclone.services import Services
from n8nclone.worker.broker import declare_execute_run

log = logging.getLogger("n8nclone.worker")


class WorkerRuntime:
    def __init__(self, services: Services, *, threads: int | None = None,
                 sweep: bool = True):
        self.services = services
        settings = services.settings
        if "execute_run" not in services.broker.actors:
            declare_execute_run(services.broker, services.executor.execute)
        self.worker = Worker(services.broker, worker_threads=threads or settings.worker_threads,
                             worker_timeout=100)
        self.lease_keeper = LeaseKeeper(services.runs, services.executor.held_leases,
                                        settings.lease_seconds)
        self.sweeper = (Sweeper(services.runs, services.dispatcher, settings.sweep_interval,
                                settings.sweep_grace, settings.wake_interval) if sweep else None)

    def start(self) -> WorkerRuntime:
        self.worker.start()
        self.lease_keeper.start()
        if self.sweeper:
            self.sweeper.start()
        log.info("worker started: %d threads, broker %s", self.worker.worker_threads,
                 type(self.services.broker).__name__)
        return self

    def stop(self, timeout_ms: int = 10_000) -> None:
        if self.sweeper:
            self.sweeper.stop()
        self.worker.stop(timeout=timeout_ms)
        self.lease_keeper.stop()
