"""Errors a step can raise to steer retries (DESIGN rule 7), and how errors become data."""

from __future__ import annotations

from datetime import datetime


class StepFailure(Exception):
    """Base of the errors a node raises on purpose."""


class NonRetriableError(StepFailure):
    """The step failed and trying again cannot help: fail it now."""


class RetryAfterError(StepFailure):
    """Retry, but not before `retry_after` (seconds from now, or a UTC datetime)."""

    def __init__(self, message: str, retry_after: float | datetime):
        super().__init__(message)
        self.retry_after = retry_after


def error_data(exc: BaseException, *, node: str | None = None) -> dict:
    """An exception as the JSON stored on steps, attempts and runs."""
    data = {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__}
    if node:
        data["node"] = node
    return data
