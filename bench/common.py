"""What the benchmark scripts share."""

from __future__ import annotations

import os
from pathlib import Path


def n8nclone_env(database_url: str, data_dir: str | Path, redis_url: str,
                 namespace: str | None) -> dict[str, str]:
    """A process environment for n8nclone on `database_url`; on Redis when `namespace`
    is given (this machine's settings of n8nclone itself are left out)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("N8NCLONE_", "REDIS_URL", "DATABASE_URL"))}
    env.update(DATABASE_URL=database_url, N8NCLONE_DATA_DIR=str(data_dir),
               N8NCLONE_LOG_LEVEL="WARNING")
    if namespace:
        env.update(REDIS_URL=redis_url, N8NCLONE_REDIS_NAMESPACE=namespace)
    return env
