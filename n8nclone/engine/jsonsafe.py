"""Make a node's output storable as JSON without a round trip in the common case."""

from __future__ import annotations

import json
from typing import Any

_SCALARS = (str, int, float, bool, type(None))


def _is_plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, _SCALARS):
        return not (isinstance(value, float) and value != value)  # NaN is not JSON
    if depth > 64:
        return False
    if isinstance(value, list):
        return all(_is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v, depth + 1) for k, v in value.items())
    return False


def json_safe(value: Any) -> Any:
    """`value` itself when it is plain JSON, else a JSON-faithful copy (others become text)."""
    if _is_plain(value):
        return value
    return json.loads(json.dumps(value, default=str))
