"""Bad input gets a 4xx with a readable message; nothing leaks a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from n8nclone.errors import UserInputError
from n8nclone.graph.problems import WorkflowInvalid
from n8nclone.store.run_queries import BadCursor
from n8nclone.store.workflows import WorkflowNameTaken

log = logging.getLogger("n8nclone.api")


def _location(error: dict) -> str:
    return ".".join(str(p) for p in error.get("loc", ()) if p != "body")


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError):
        errors = exc.errors()
        messages = []
        for e in errors:
            where = _location(e)
            text = "the body is not valid JSON" if e.get("type") == "json_invalid" else e["msg"]
            messages.append(f"{where}: {text}" if where else text)
        return JSONResponse(status_code=422, content={
            "detail": "; ".join(messages) or "invalid request",
            "errors": [{"field": _location(e), "message": e["msg"]} for e in errors]})

    @api.exception_handler(WorkflowInvalid)
    async def _invalid_workflow(_request: Request, exc: WorkflowInvalid):
        return JSONResponse(status_code=422, content={
            "detail": "the workflow is not valid: " + str(exc),
            "problems": [p.to_dict() for p in exc.problems]})

    @api.exception_handler(WorkflowNameTaken)
    async def _name_taken(_request: Request, exc: WorkflowNameTaken):
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @api.exception_handler(UserInputError)
    async def _bad_input(_request: Request, exc: UserInputError):
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @api.exception_handler(BadCursor)
    async def _bad_cursor(_request: Request, exc: BadCursor):
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error (logged)"})
