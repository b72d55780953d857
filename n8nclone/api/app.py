"""Builds the FastAPI app that serves /api/* (mounted into Reflex via api_transformer)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from n8nclone import __version__
from n8nclone.api import auth, node_types, runs, workflows
from n8nclone.api.access import require_access
from n8nclone.api.credentials import router as credentials_router
from n8nclone.api.errors import install_error_handlers
from n8nclone.api.events import history_router as event_history_router
from n8nclone.api.events import router as event_senders_router
from n8nclone.api.webhooks import router as webhooks_router

# Open: /api/health, /api/auth/*, /docs, /openapi.json. Webhooks, /e/<key> and POST
# /api/events authenticate themselves; everything else needs a session or an API key.
PROTECTED = [Depends(require_access)]


def build_api() -> FastAPI:
    """Create the API app. Pure wiring: routers live in their own modules."""
    api = FastAPI(title="n8nclone", version=__version__, docs_url="/docs",
                  openapi_url="/openapi.json")
    install_error_handlers(api)

    @api.get("/api/health", tags=["meta"])
    async def health() -> dict:
        return {"status": "ok", "version": __version__}

    api.include_router(auth.router)
    api.include_router(workflows.router, dependencies=PROTECTED)
    api.include_router(runs.router, dependencies=PROTECTED)
    api.include_router(node_types.router, dependencies=PROTECTED)
    api.include_router(event_history_router, dependencies=PROTECTED)
    api.include_router(credentials_router, dependencies=PROTECTED)
    api.include_router(event_senders_router)
    api.include_router(webhooks_router)
    return api
