"""Answer a webhook call once its run has started, as its response mode says: at once
(202), with the run's output when it ends (`last_node`), or with what a `webhook.respond`
step set (`respond_node`). Past the wait limit: 202 with the run id.

Waiting holds no thread: an asyncio future resolved by the engine's news (in this process,
or through Redis from worker processes), with a database read every POLL_SECONDS as the
fallback that works whatever executes the run (and sees a cancel made elsewhere).
"""

from __future__ import annotations

import asyncio

from n8nclone.engine.run_waiters import RunNews, RunWatch
from n8nclone.store.db import Database
from n8nclone.triggers.webhook_reads import read_news
from n8nclone.triggers.webhook_reply import (
    WebhookReply,
    json_reply,
    node_reply,
    run_accepted,
    run_failed,
)
from n8nclone.triggers.webhook_start import StartedRun

POLL_SECONDS = 0.2


async def answer_run(db: Database, started: StartedRun, *, mode: str,
                     wait_seconds: float) -> WebhookReply:
    """The HTTP answer for a run just started by a webhook in response mode `mode`."""
    if mode == "immediately" or started.watch is None:
        return run_accepted(started.run_id)
    news = await wait_for_news(db, started.watch, timeout=wait_seconds,
                               check_first=started.check_first)
    if news is None:
        return run_accepted(started.run_id, "running")
    if news.kind == "step":
        return node_reply(news.output if isinstance(news.output, dict) else {})
    if news.status == "succeeded":
        return json_reply(200, news.output)
    return run_failed(started.run_id, news.status or "failed", news.error)


async def wait_for_news(db: Database, watch: RunWatch, *, timeout: float,
                        check_first: bool = False) -> RunNews | None:
    """The first news that answers `watch` (the run's end, or a step of its type); None
    when `timeout` seconds pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    respond_step = watch.step_type is not None
    while True:
        if check_first:
            news = await asyncio.to_thread(read_news, db, watch.run_id,
                                           respond_step=respond_step)
            if news is not None:
                return news
        check_first = True
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        try:
            news = await asyncio.wait_for(asyncio.shield(watch.future),
                                          min(POLL_SECONDS, remaining))
        except TimeoutError:
            continue
        if news.complete:
            return news
        # Only the fact is known; the details were committed before the news was sent.
        found = await asyncio.to_thread(read_news, db, watch.run_id, respond_step=respond_step)
        return found or news
