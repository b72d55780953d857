"""Validation problems: readable messages, each naming the node it concerns."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from n8nclone.errors import UserInputError


@dataclass(frozen=True)
class Problem:
    message: str
    node: str | None = None
    field: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        return self.message


class WorkflowInvalid(UserInputError):
    """Raised with every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))

    @property
    def headline(self) -> str:
        return "the workflow is not valid:"

    @property
    def details(self) -> list[str]:
        return [p.message for p in self.problems]
