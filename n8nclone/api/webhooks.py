"""/webhook/<path> (the active workflow) and /webhook-test/<path> (the latest version, even
inactive): each call starts a run of the workflow whose `trigger.webhook` has that path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from n8nclone.nodes.trigger_webhook import METHODS
from n8nclone.services import Services, get_services
from n8nclone.triggers.webhooks import WebhookCall, answer_webhook

router = APIRouter(tags=["webhooks"])

_RESPONSES = {
    202: {"description": "the run started (mode immediately, or the wait passed its limit)"},
    400: {"description": "the body is not valid JSON (or multipart)"},
    401: {"description": "wrong or missing credentials"},
    404: {"description": "no workflow has this webhook, or it is not active"},
    413: {"description": "the body is over N8NCLONE_WEBHOOK_MAX_BODY"},
    500: {"description": "the workflow run failed (mode last_node)"},
}


async def _services(request: Request) -> Services:
    """`get_services` (or its override) called on the event loop. As a plain dependency
    FastAPI would run it in its thread pool: a thread hop that cost a third of a webhook
    call's time on the event loop."""
    overrides = getattr(request.app, "dependency_overrides", {})
    return overrides.get(get_services, get_services)()


WebhookServices = Annotated[Services, Depends(_services)]


async def _answer(request: Request, services: Services, path: str, test: bool) -> Response:
    call = WebhookCall(method=request.method, path=path,
                       query_string=request.url.query, headers=request.headers,
                       body=request.stream(), test=test)
    reply = await answer_webhook(services, call)
    return Response(reply.content, status_code=reply.status, headers=reply.headers)


async def call_webhook(path: str, request: Request, services: WebhookServices) -> Response:
    """Start a run of the active workflow whose webhook has this path and method."""
    return await _answer(request, services, path, test=False)


async def call_test_webhook(path: str, request: Request, services: WebhookServices) -> Response:
    """Start a run of the latest version of the workflow with this webhook, even inactive."""
    return await _answer(request, services, path, test=True)


for _method in METHODS:  # a route per method: each gets its own OpenAPI operation id
    router.add_api_route("/webhook/{path:path}", call_webhook, methods=[_method],
                         responses=_RESPONSES, operation_id=f"webhook_{_method.lower()}")
    router.add_api_route("/webhook-test/{path:path}", call_test_webhook, methods=[_method],
                         responses=_RESPONSES, operation_id=f"webhook_test_{_method.lower()}")
