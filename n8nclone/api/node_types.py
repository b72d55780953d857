"""/api/node-types: the catalogue with each type's parameter schema (the editor's forms)."""

from fastapi import APIRouter

from n8nclone.api.deps import ServicesDep

router = APIRouter(prefix="/api/node-types", tags=["node types"])


@router.get("")
async def list_node_types(services: ServicesDep) -> dict:
    return {"items": [t.describe() for t in services.registry.all()]}
