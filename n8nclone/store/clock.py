"""Time and id helpers shared by the store: timestamps are aware UTC datetimes."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time as an aware UTC datetime (how every timestamp is stored)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A 32-hex-digit id whose first 12 digits are the creation time in ms (sorts by time)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"
