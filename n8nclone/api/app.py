"""Builds the FastAPI app that serves /api/*."""

from __future__ import annotations

from fastapi import FastAPI


def build_api() -> FastAPI:
    """Create the API app. Pure wiring: routers live in their own modules."""
    api = FastAPI(title="n8nclone", docs_url="/docs", openapi_url="/openapi.json")

    @api.get("/api/health")
    def health() -> dict:
        return {"status": "ok"}

    return api
