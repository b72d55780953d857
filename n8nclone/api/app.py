"""Builds the FastAPI app that serves /api/* (mounted into Reflex via api_transformer)."""

from __future__ import annotations

from fastapi import FastAPI

from n8nclone import __version__
from n8nclone.api import node_types, runs, workflows
from n8nclone.api.credentials import router as credentials_router
from n8nclone.api.errors import install_error_handlers
from n8nclone.api.events import router as events_router
from n8nclone.api.webhooks import router as webhooks_router


def build_api() -> FastAPI:
    """Create the API app. Pure wiring: routers live in their own modules."""
    api = FastAPI(title="n8nclone", version=__version__, docs_url="/docs",
                  openapi_url="/openapi.json")
    install_error_handlers(api)

    @api.get("/api/health", tags=["meta"])
    async def health() -> dict:
        return {"status": "ok", "version": __version__}

    api.include_router(workflows.router)
    api.include_router(runs.router)
    api.include_router(node_types.router)
    api.include_router(events_router)
    api.include_router(credentials_router)
    api.include_router(webhooks_router)
    return api
