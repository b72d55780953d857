"""Shared API dependencies and error replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from n8nclone.services import Services, get_services

ServicesDep = Annotated[Services, Depends(get_services)]


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} not found")
