"""Background loops every executing process runs: lease renewal, and the sweep with its
timer (runs whose wake time has come)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from n8nclone.engine.executor import Dispatcher
from n8nclone.store.clock import utcnow
from n8nclone.store.runs import RunStore

log = logging.getLogger("n8nclone.engine")


class _Loop(threading.Thread):
    def __init__(self, name: str, interval: float):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.tick()
            except Exception:  # noqa: BLE001  a database hiccup must not kill the loop
                log.exception("%s: tick failed; trying again in %.1f s", self.name, self.interval)

    def tick(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop_event.set()


class LeaseKeeper(_Loop):
    """Renews every lease this process holds, so a long step keeps its run."""

    def __init__(self, runs: RunStore, held_leases: Callable[[], list[str]],
                 lease_seconds: float):
        super().__init__("n8nclone-lease-keeper", max(0.2, lease_seconds / 3))
        self.runs, self.held_leases, self.lease_seconds = runs, held_leases, lease_seconds

    def tick(self) -> None:
        self.runs.renew_leases(self.held_leases(), self.lease_seconds)


class Sweeper(_Loop):
    """Sends work for runs the broker will not deliver: every `wake_interval` seconds, runs
    whose wake time (a sleep's end, a wait's timeout, a retry) has come with no message
    sent for it; every `interval` seconds, runs whose message was lost or whose worker died
    (DESIGN rule 1). Several sweepers may run (one per process): each run is claimed by one.

    The timer lives here rather than in the broker's delayed messages: a broker holds only
    so many delayed messages per worker (Dramatiq prefetches 1,000 per thread) and would
    deliver a wake that is due late when more are pending."""

    def __init__(self, runs: RunStore, dispatcher: Dispatcher, interval: float, grace: float,
                 wake_interval: float | None = None):
        super().__init__("n8nclone-sweeper", min(interval, wake_interval or interval))
        self.runs, self.dispatcher, self.grace = runs, dispatcher, grace
        self.sweep_interval = interval
        self._next_sweep = 0.0

    def tick(self) -> int:
        sent = self.wake()
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_interval
            sent += self.sweep()
        return sent

    def wake(self) -> int:
        """Send the runs whose wake time comes before the next tick, each with a delay that
        brings it at its time."""
        claimed = self.runs.claim_due_wakes(within=self.interval)
        now = utcnow()
        for run_id, wake_at in claimed:
            self.dispatcher.send(run_id, max(0.0, (wake_at - now).total_seconds()))
        return len(claimed)

    def sweep(self) -> int:
        """Re-send runs whose message is overdue (lost, or its worker died)."""
        run_ids = self.runs.due_for_sweep(grace=self.grace)
        if run_ids:
            self.runs.mark_enqueued(run_ids)
            for run_id in run_ids:
                self.dispatcher.send(run_id)
            log.info("sweep: re-sent %d run(s)", len(run_ids))
        return len(run_ids)
