"""The workflow file format (DESIGN.md, "Workflow file"), parsed and checked by pydantic.

Unknown fields are errors: a typo in a setting should fail early, not be ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from n8nclone.durations import parse_duration
from n8nclone.graph.problems import Problem, WorkflowInvalid

KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NodeSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    type: str = Field(min_length=1)
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    retries: int | None = Field(default=None, ge=0, le=50)


class EdgeSpec(_Strict):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    port: str = "main"


class ConcurrencySpec(_Strict):
    limit: int = Field(ge=1)
    key: str | None = None


class CancelOnSpec(_Strict):
    """Cancel a run when this event arrives: `match` is a field of the event (e.g.
    data.order_id) that must equal `value` (a template over the run's trigger) or, without
    `value`, the same field of the trigger; `if` an extra condition over `event`."""

    event: str = Field(min_length=1)
    match: str | None = None
    value: Any = None
    if_: str | None = Field(default=None, alias="if")


class SettingsSpec(_Strict):
    retries: int | None = Field(default=None, ge=0, le=50)
    timeout: str | float | None = None
    parallel: int | None = Field(default=None, ge=1, le=64)
    concurrency: ConcurrencySpec | None = None
    idempotency_key: str | None = None
    cancel_on: list[CancelOnSpec] | None = None
    # What one run may spend on metered calls (LLMs), in USD; a call that could pass it fails.
    budget_usd: float | None = Field(default=None, gt=0)

    @field_validator("timeout")
    @classmethod
    def _valid_duration(cls, value):
        if value is not None:
            parse_duration(value)
        return value

    @property
    def timeout_seconds(self) -> float | None:
        return None if self.timeout is None else parse_duration(self.timeout)


class WorkflowSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    active: bool = True
    settings: SettingsSpec = Field(default_factory=SettingsSpec)
    nodes: list[NodeSpec] = Field(default_factory=list)
    edges: list[EdgeSpec] = Field(default_factory=list)

    def to_file(self) -> dict:
        """The workflow file form (what export writes and import reads)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _problem_from_error(error: dict, data: Any) -> Problem:
    loc = error.get("loc", ())
    node = None
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        try:
            node = data["nodes"][loc[1]].get("key")
        except (KeyError, IndexError, TypeError, AttributeError):
            node = None
    path = ".".join(str(part) for part in loc)
    message = error.get("msg", "invalid value")
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    elif error.get("type") == "string_pattern_mismatch" and loc and loc[-1] == "key":
        message = "a key must start with a letter or _ and hold only letters, digits and _"
    where = f"node '{node}': " if node else ""
    return Problem(message=f"{where}{path}: {message}" if path else message, node=node,
                   field=path or None)


def parse_workflow(data: Any) -> WorkflowSpec:
    """Parse a workflow file (already decoded JSON); raise WorkflowInvalid listing every problem."""
    if not isinstance(data, dict):
        raise WorkflowInvalid([Problem("a workflow file must be a JSON object")])
    try:
        return WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise WorkflowInvalid([_problem_from_error(e, data) for e in exc.errors()]) from None
