"""Start a webhook's run and begin watching it before its message leaves, so no news of
the run can come before the watch (and no database read is needed to rule that out)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from n8nclone.engine.executor import Dispatcher
from n8nclone.engine.run_waiters import RunWaiters, RunWatch
from n8nclone.engine.start import start_run
from n8nclone.services import Services
from n8nclone.triggers.webhook_targets import WebhookTarget


@dataclass
class StartedRun:
    """A run a webhook started, and the watch on it (None when nobody waits)."""

    run_id: str
    watch: RunWatch | None
    # The watch began after the run may have moved (an earlier run returned for an
    # idempotency key): read the database before waiting for news.
    check_first: bool = False


class _WatchingDispatcher:
    """The broker as start_run sees it, watching the run just before sending it."""

    def __init__(self, inner: Dispatcher, waiters: RunWaiters, loop: asyncio.AbstractEventLoop,
                 step_type: str | None):
        self.inner, self.waiters, self.loop, self.step_type = inner, waiters, loop, step_type
        self.watch: RunWatch | None = None

    def send(self, run_id: str, delay: float = 0.0) -> None:
        if self.watch is None:
            self.watch = self.waiters.add(run_id, self.loop, step_type=self.step_type)
        self.inner.send(run_id, delay)


def start_webhook_run(services: Services, target: WebhookTarget, data: Any, *,
                      loop: asyncio.AbstractEventLoop | None, step_type: str | None = None
                      ) -> StartedRun:
    """Start the run (blocking: call it in a worker thread). With `loop`, also watch it for
    its end, or for a step of `step_type`; the caller removes the watch when done."""
    waiters = services.run_waiters
    dispatcher = (services.dispatcher if loop is None else
                  _WatchingDispatcher(services.dispatcher, waiters, loop, step_type))
    try:
        run_id = start_run(services.runs, dispatcher, workflow_id=target.workflow_id,
                           version_id=target.version_id, plan_settings=target.plan_settings,
                           input=data, trigger_type=target.trigger_type)
    except BaseException:
        if isinstance(dispatcher, _WatchingDispatcher) and dispatcher.watch is not None:
            waiters.remove(dispatcher.watch)
        raise
    if loop is None:
        return StartedRun(run_id, None)
    if dispatcher.watch is None:  # not sent: an earlier run of the same idempotency key
        return StartedRun(run_id, waiters.add(run_id, loop, step_type=step_type), True)
    return StartedRun(run_id, dispatcher.watch)
