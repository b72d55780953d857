"""The broker, built in one place from settings: Redis when REDIS_URL is set, else in-process.

The broker only delivers "work on run R"; the database holds everything else.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq import Broker, Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from n8nclone.config import Settings

QUEUE = "n8nclone"
EXECUTE_RUN = "execute_run"
log = logging.getLogger("n8nclone.worker")


class _InProcessBroker(StubBroker):
    """StubBroker lists its delay queues among the declared queues, so a Worker added later
    consumes them like normal queues (16 messages at a time): a delayed message due soon
    then waits behind ones due later. Only real queues are declared here; the Worker's
    own delay handling takes the rest."""

    def get_declared_queues(self) -> set[str]:
        return set(self.queues) - set(self.delay_queues)


def build_broker(settings: Settings) -> Broker:
    """No middleware: the engine owns retries and time limits, the sweep owns recovery."""
    if settings.redis_url:
        broker: Broker = RedisBroker(url=settings.redis_url, namespace=settings.redis_namespace,
                                     middleware=[])
    else:
        broker = _InProcessBroker(middleware=[])
    broker.declare_queue(QUEUE)
    return broker


class BrokerDispatcher:
    """Sends "work on run R" messages; what the engine sees of the broker."""

    def __init__(self, broker: Broker):
        self.broker = broker

    def send(self, run_id: str, delay: float = 0.0) -> None:
        message = Message(queue_name=QUEUE, actor_name=EXECUTE_RUN, args=(run_id,), kwargs={},
                          options={})
        delay_ms = int(delay * 1000)
        try:
            self.broker.enqueue(message, delay=delay_ms if delay_ms > 0 else None)
        except Exception:  # noqa: BLE001  a lost message only delays the run: the sweep resends
            log.exception("could not send run %s to the broker; the sweep will retry", run_id)


def declare_execute_run(broker: Broker, execute) -> dramatiq.Actor:
    """Bind the actor that works on runs to `broker`. `execute(run_id)` is the engine."""

    def execute_run(run_id: str) -> None:
        try:
            execute(run_id)
        except Exception:  # noqa: BLE001  never lose the worker thread; the sweep retries
            log.exception("run %s: the engine failed; the sweep will retry it", run_id)

    return dramatiq.Actor(execute_run, broker=broker, actor_name=EXECUTE_RUN, queue_name=QUEUE,
                          priority=0, options={})
