"""Wait, without a thread, for a run to end or for one of its steps to succeed.

`RunWaiters` is an executor observer (see `RunObserver`): the engine tells it what it
committed, on the engine's thread, and it resolves the asyncio futures of whoever watches
that run (a webhook call waiting for its answer). News from another process (runs executed
by Redis workers) comes in through `notify`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("n8nclone.engine")

TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class RunNews:
    """The run ended (`status`, `output`, `error`), or a step of the watched type succeeded
    (`output`). `complete` is False when only the fact is known (the engine does not pass
    on a run's error; news from another process carries no data): read the details from
    the database then."""

    kind: str  # "ended" or "step"
    status: str | None = None
    output: Any = None
    error: dict | None = None
    complete: bool = True


@dataclass(eq=False)
class RunWatch:
    """One waiter's interest in one run; `future` gets the first news that answers it."""

    run_id: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    step_type: str | None

    def resolve(self, news: RunNews) -> None:
        """Set the future (once) on its loop; safe from any thread."""
        try:
            self.loop.call_soon_threadsafe(_set_once, self.future, news)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass


def _set_once(future: asyncio.Future, news: RunNews) -> None:
    if not future.done():
        future.set_result(news)


class RunWaiters:
    """Futures keyed by run id, resolved by the engine (an executor observer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[str, list[RunWatch]] = {}

    def add(self, run_id: str, loop: asyncio.AbstractEventLoop, *,
            step_type: str | None = None) -> RunWatch:
        """Watch `run_id` for its end or (when `step_type` is given) the success of a step
        of that node type; the watch's future is awaited on `loop`. Any thread may call it,
        e.g. the one that starts the run, before the run can finish. Pair with `remove`."""
        watch = RunWatch(run_id, loop, loop.create_future(), step_type)
        with self._lock:
            self._watches.setdefault(run_id, []).append(watch)
        return watch

    def remove(self, watch: RunWatch) -> None:
        """Stop watching (whether or not news came)."""
        with self._lock:
            watches = self._watches.get(watch.run_id, [])
            if watch in watches:
                watches.remove(watch)
            if not watches:
                self._watches.pop(watch.run_id, None)

    @contextlib.contextmanager
    def watch(self, run_id: str, *, step_type: str | None = None) -> Iterator[asyncio.Future]:
        """`add` and `remove` around a block, on the running event loop."""
        watch = self.add(run_id, asyncio.get_running_loop(), step_type=step_type)
        try:
            yield watch.future
        finally:
            self.remove(watch)

    def watching(self) -> int:
        """How many runs are watched now."""
        return len(self._watches)

    def notify(self, run_id: str, news: RunNews, node_type: str | None = None) -> None:
        """Resolve the watches of `run_id` that `news` answers."""
        with self._lock:
            watches = list(self._watches.get(run_id, ()))
        for watch in watches:
            if news.kind == "ended" or watch.step_type == node_type:
                watch.resolve(news)

    # -- RunObserver: called on the engine thread after each commit; quick, never raises --

    def step_succeeded(self, run_id: str, node_key: str, node_type: str, output: Any) -> None:
        if run_id not in self._watches:  # the common case: nobody waits on this run
            return
        try:
            self.notify(run_id, RunNews("step", output=output), node_type)
        except Exception:  # noqa: BLE001  an observer must not break the engine
            log.exception("run %s: could not pass on step %s", run_id, node_key)

    def run_released(self, run_id: str, status: str, output: Any) -> None:
        if status not in TERMINAL_STATUSES or run_id not in self._watches:
            return
        try:
            self.notify(run_id, RunNews("ended", status=status, output=output,
                                        complete=status == "succeeded"))
        except Exception:  # noqa: BLE001  an observer must not break the engine
            log.exception("run %s: could not pass on its end", run_id)
