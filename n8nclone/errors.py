"""The base of errors caused by what a user sent (a bad workflow file, a taken name).

Light on purpose (no imports): the CLI and API catch it without loading the store.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input, reported to the user as `headline` plus detail lines (never a traceback)."""

    @property
    def headline(self) -> str:
        return str(self)

    @property
    def details(self) -> list[str]:
        return []
