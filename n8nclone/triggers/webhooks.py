"""A webhook call from start to answer: find the workflow, check the credentials, read the
body within its limit, start the run with the call as its input, answer as the trigger's
response mode says. Independent of the web framework (`n8nclone.api.webhooks` routes).

Blocking work (database, parsing a large body) runs in worker threads, two hops per call:
finding the workflow, then parsing and starting the run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from n8nclone.errors import UserInputError
from n8nclone.nodes.trigger_webhook import normalize_path
from n8nclone.services import Services
from n8nclone.triggers.webhook_answer import answer_run
from n8nclone.triggers.webhook_auth import check_auth, credential_headers
from n8nclone.triggers.webhook_news import listen_for_run_news
from n8nclone.triggers.webhook_reads import RESPOND_TYPE
from n8nclone.triggers.webhook_reply import WebhookRefused, WebhookReply
from n8nclone.triggers.webhook_request import (
    is_multipart,
    parse_body,
    parse_multipart,
    read_body,
    trigger_input,
)
from n8nclone.triggers.webhook_start import StartedRun, start_webhook_run
from n8nclone.triggers.webhook_targets import (
    WebhookTarget,
    find_production_target,
    find_test_target,
)

log = logging.getLogger("n8nclone.webhooks")


@dataclass
class WebhookCall:
    """One HTTP call. `headers` looks names up without regard to case and lists repeated
    headers in `items()`; `body` yields the body's chunks as they arrive."""

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: AsyncIterator[bytes]
    test: bool = False

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, if any."""
        return self.headers.get("content-type")


async def answer_webhook(services: Services, call: WebhookCall) -> WebhookReply:
    """Run the workflow the call is for and return its HTTP answer (never raises for bad
    input: unknown path 404, wrong credentials 401, body too large 413, bad JSON 400)."""
    method, path = call.method.upper(), normalize_path(call.path)
    try:
        find = find_test_target if call.test else find_production_target
        target: WebhookTarget = await asyncio.to_thread(find, services, method, path)
        check_auth(target.params, call.headers)
        raw = await read_body(call.body, services.settings.webhook_max_body,
                              call.headers.get("content-length"))
        form = (await parse_multipart(raw, call.content_type or "")
                if raw and is_multipart(call.content_type) else None)
        mode = target.params["response_mode"]
        waits = mode != "immediately"
        if waits:
            await listen_for_run_news(services)  # before the run starts: its news counts
        started = await asyncio.to_thread(
            _parse_and_start, services, target, call, method, path, raw, form,
            asyncio.get_running_loop() if waits else None,
            RESPOND_TYPE if mode == "respond_node" else None)
    except WebhookRefused as refused:
        return refused.reply
    log.debug("%s %s started run %s of workflow %s", method, path, started.run_id,
              target.workflow_id)
    wait = target.params.get("wait_seconds")
    try:
        return await answer_run(services.db, started, mode=mode,
                                wait_seconds=services.settings.webhook_wait_seconds
                                if wait is None else float(wait))
    finally:
        if started.watch is not None:
            services.run_waiters.remove(started.watch)


def _parse_and_start(services: Services, target: WebhookTarget, call: WebhookCall,
                     method: str, path: str, raw: bytes, form: dict[str, Any] | None,
                     loop: asyncio.AbstractEventLoop | None, step_type: str | None
                     ) -> StartedRun:
    """In a worker thread: the call as the run's input, and the run started (watched when
    `loop` is given)."""
    body, body_base64 = (form, False) if form is not None else parse_body(raw,
                                                                         call.content_type)
    data = trigger_input(method=method, path=path, query_string=call.query_string,
                         headers=call.headers.items(), body=body, body_base64=body_base64,
                         hidden_headers=credential_headers(target.params))
    try:
        return start_webhook_run(services, target, data, loop=loop, step_type=step_type)
    except UserInputError as exc:  # a flow-control setting cannot use this input
        raise WebhookRefused(422, str(exc)) from None
