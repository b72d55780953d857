"""What a trigger node registers so its active workflow can be found (pure data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Registration:
    """`kind` is the trigger node's type; `key` what it is looked up by ("POST orders",
    "order/*", a cron expression); `exclusive`: no two active workflows may share it."""

    kind: str
    key: str
    exclusive: bool = False
    config: dict | None = None
    node_key: str = ""
