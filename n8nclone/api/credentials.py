"""/api/credentials: add (or replace), list, read and delete named credentials.

No answer ever holds a secret or its ciphertext: a credential is shown as its name, type,
masked hint (at most the last 4 characters of the secret) and times.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from n8nclone.api.deps import ServicesDep, not_found
from n8nclone.credentials.crypto import SecretKeyError, WrongSecretKey
from n8nclone.credentials.types import TYPES

router = APIRouter(prefix="/api/credentials", tags=["credentials"])


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="how workflow steps name it (unique; adding a name that "
                      "exists replaces that credential)", examples=["openai"])
    type: str = Field(description="one of " + ", ".join(TYPES), examples=["llm_api_key"])
    # SecretStr: the value never shows in a repr, a log line or a validation error.
    value: SecretStr = Field(description="the secret: the key or token; 'Header-Name: "
                             "secret' for http_header; 'user:password' for http_basic")


@router.get("")
async def list_credentials(services: ServicesDep) -> dict:
    infos = await asyncio.to_thread(services.credentials.list)
    return {"items": [info.to_public() for info in infos]}


@router.post("", status_code=201, responses={
    200: {"description": "replaced the credential of the same name"},
    409: {"description": "the secret key cannot be used, or does not fit the stored "
                         "credentials"},
    422: {"description": "a bad name, type or value"}})
async def add_credential(body: CredentialIn, services: ServicesDep, response: Response):
    try:
        info, created = await asyncio.to_thread(
            services.credentials.save, body.name, body.type, body.value.get_secret_value())
    except (SecretKeyError, WrongSecretKey) as exc:
        return JSONResponse(status_code=409, content={"detail": str(exc)})
    if not created:
        response.status_code = 200
    return info.to_public()


@router.get("/{name}")
async def read_credential(name: str, services: ServicesDep) -> dict:
    info = await asyncio.to_thread(services.credentials.get_info, name)
    if info is None:
        raise not_found(f"credential {name!r}")
    return info.to_public()


@router.delete("/{name}", status_code=204)
async def delete_credential(name: str, services: ServicesDep) -> Response:
    if not await asyncio.to_thread(services.credentials.delete, name):
        raise not_found(f"credential {name!r}")
    return Response(status_code=204)
