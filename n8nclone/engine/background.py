"""Background loops every executing process runs: lease renewal and the sweep."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from n8nclone.engine.executor import Dispatcher
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
    """Re-sends work for runs whose message was lost or whose worker died (DESIGN rule 1)."""

    def __init__(self, runs: RunStore, dispatcher: Dispatcher, interval: float, grace: float):
        super().__init__("n8nclone-sweeper", interval)
        self.runs, self.dispatcher, self.grace = runs, dispatcher, grace

    def tick(self) -> int:
        run_ids = self.runs.due_for_sweep(grace=self.grace)
        if run_ids:
            self.runs.mark_enqueued(run_ids)
            for run_id in run_ids:
                self.dispatcher.send(run_id)
            log.info("sweep: re-sent %d run(s)", len(run_ids))
        return len(run_ids)
