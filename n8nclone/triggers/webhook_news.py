"""Run news across processes, for webhooks waiting on runs that Redis workers execute.

Workers publish a message on Redis pub/sub when a run ends or a `webhook.respond` step
succeeds, with the output when it is small (else just the fact: the details are in the
database); the web process listens and resolves its `RunWaiters`. Pub/sub is best
effort: a message lost while Redis or the listener is down only delays the answer until
the waiting webhook's next database read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio

from n8nclone.engine.run_waiters import TERMINAL_STATUSES, RunNews, RunWaiters
from n8nclone.triggers.webhook_reads import RESPOND_TYPE

if TYPE_CHECKING:
    from n8nclone.services import Services

log = logging.getLogger("n8nclone.webhooks")
RECONNECT_SECONDS = 1.0
INLINE_OUTPUT_BYTES = 64 * 1024  # larger outputs are read from the database


def news_channel(namespace: str) -> str:
    """The pub/sub channel of run news, inside the Redis namespace."""
    return f"{namespace}:run-news"


def attach_run_observers(services: Services) -> None:
    """Let the engine tell waiting webhooks about runs: directly in this process, and on
    Redis for web processes elsewhere when runs execute in workers."""
    services.executor.observers.append(services.run_waiters)
    if services.settings.uses_redis:
        services.executor.observers.append(RunNewsPublisher(
            services.settings.redis_url, news_channel(services.settings.redis_namespace)))


class RunNewsPublisher:
    """An executor observer that publishes what a waiting webhook needs to know."""

    def __init__(self, redis_url: str, channel: str):
        self.client = redis.Redis.from_url(redis_url, socket_timeout=2)
        self.channel = channel

    def step_succeeded(self, run_id: str, node_key: str, node_type: str, output: Any) -> None:
        if node_type == RESPOND_TYPE:
            self._publish({"run": run_id, "kind": "step", "node_type": node_type,
                           "output": output})

    def run_released(self, run_id: str, status: str, output: Any) -> None:
        if status == "succeeded":
            self._publish({"run": run_id, "kind": "ended", "status": status, "output": output})
        elif status in TERMINAL_STATUSES:  # the error is not passed on: read from the DB
            self._publish({"run": run_id, "kind": "ended", "status": status})

    def _publish(self, message: dict) -> None:
        """Publish `message`; without its output when that is large."""
        try:
            data = json.dumps(message)
            if len(data) > INLINE_OUTPUT_BYTES:
                message.pop("output", None)
                data = json.dumps(message)
            self.client.publish(self.channel, data)
        except Exception:  # noqa: BLE001  never break the engine; the waiter reads the DB
            log.warning("could not publish run news for %s", message["run"], exc_info=True)


class RunNewsListener:
    """Feeds news published by workers into this process's RunWaiters (an asyncio task on
    the event loop of the web server, started on first need)."""

    def __init__(self, redis_url: str, channel: str, waiters: RunWaiters):
        self.redis_url, self.channel, self.waiters = redis_url, channel, waiters
        self._task: asyncio.Task | None = None
        self._subscribed = asyncio.Event()

    async def ensure_running(self, timeout: float) -> None:
        """Start listening on the running loop unless already doing so; wait (up to
        `timeout` s) until subscribed, so the news of a run started next is not missed."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._subscribed = asyncio.Event()
            self._task = loop.create_task(self._listen(), name="webhook-run-news")
        if not self._subscribed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def _listen(self) -> None:
        while True:
            client = redis.asyncio.Redis.from_url(self.redis_url)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        self._pass_on(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001  Redis away: waiters poll; try again soon
                log.warning("run news: lost the Redis subscription; retrying", exc_info=True)
                self._subscribed.clear()
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                await client.aclose()

    def _pass_on(self, data: Any) -> None:
        try:
            message = json.loads(data)
            news = RunNews(message["kind"], status=message.get("status"),
                           output=message.get("output"), complete="output" in message)
            self.waiters.notify(message["run"], news, message.get("node_type"))
        except (TypeError, ValueError, KeyError):
            log.warning("run news: ignored a malformed message")


_listeners: weakref.WeakKeyDictionary[RunWaiters, RunNewsListener] = (
    weakref.WeakKeyDictionary())


async def listen_for_run_news(services: Services, timeout: float = 1.0) -> None:
    """In a process whose runs execute elsewhere (REDIS_URL), make sure news comes in."""
    if not services.settings.uses_redis:
        return
    listener = _listeners.get(services.run_waiters)
    if listener is None:
        listener = RunNewsListener(services.settings.redis_url,
                                   news_channel(services.settings.redis_namespace),
                                   services.run_waiters)
        _listeners[services.run_waiters] = listener
    await listener.ensure_running(timeout)
