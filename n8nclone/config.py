"""Settings from the environment: the one place that reads env vars.

Every setting is documented in the README table; keep the two in step.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value we cannot use."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str | None = None
    redis_namespace: str = "n8nclone"
    worker_threads: int = 8
    lease_seconds: float = 30.0
    sweep_interval: float = 2.0
    sweep_grace: float = 30.0
    wake_interval: float = 0.2
    parallel_steps: int = 4
    default_retries: int = 3
    retry_backoff_base: float = 1.0
    retry_backoff_cap: float = 300.0
    scheduler_interval: float = 1.0
    port: int = 3000
    log_level: str = "INFO"
    webhook_wait_seconds: float = 30.0
    webhook_max_body: int = 1024 * 1024
    session_days: float = 14.0
    # Encrypts stored credentials (a Fernet key); None: `<data_dir>/secret.key`. Kept out of
    # repr so printing or logging settings never shows it.
    secret_key: str | None = field(default=None, repr=False)
    extra: dict = field(default_factory=dict)

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _number(env: Mapping[str, str], name: str, default: float, cast=float, minimum=None,
            maximum=None):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {cast.__name__}") from None
    if not math.isfinite(value):  # float() accepts "nan" and "inf"
        raise ConfigError(f"{name}={raw!r} is not a finite number")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={raw!r} must be at most {maximum}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("N8NCLONE_DATA_DIR") or "data")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{(data_dir / 'n8nclone.db').as_posix()}"
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; accept the plain URL form people paste.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    if not (database_url.startswith("sqlite") or database_url.startswith("postgresql")):
        raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        redis_namespace=env.get("N8NCLONE_REDIS_NAMESPACE") or "n8nclone",
        worker_threads=_number(env, "N8NCLONE_WORKER_THREADS", 8, int, 1),
        lease_seconds=_number(env, "N8NCLONE_LEASE_SECONDS", 30.0, float, 1),
        sweep_interval=_number(env, "N8NCLONE_SWEEP_INTERVAL", 2.0, float, 0.1),
        sweep_grace=_number(env, "N8NCLONE_SWEEP_GRACE", 30.0, float, 0),
        wake_interval=_number(env, "N8NCLONE_WAKE_INTERVAL", 0.2, float, 0.01),
        parallel_steps=_number(env, "N8NCLONE_PARALLEL_STEPS", 4, int, 1),
        default_retries=_number(env, "N8NCLONE_DEFAULT_RETRIES", 3, int, 0),
        retry_backoff_base=_number(env, "N8NCLONE_RETRY_BACKOFF_BASE", 1.0, float, 0),
        retry_backoff_cap=_number(env, "N8NCLONE_RETRY_BACKOFF_CAP", 300.0, float, 0),
        scheduler_interval=_number(env, "N8NCLONE_SCHEDULER_INTERVAL", 1.0, float, 0.05),
        port=_number(env, "N8NCLONE_PORT", 3000, int, 1, 65535),
        log_level=(env.get("N8NCLONE_LOG_LEVEL") or "INFO").upper(),
        webhook_wait_seconds=_number(env, "N8NCLONE_WEBHOOK_WAIT_SECONDS", 30.0, float, 0),
        webhook_max_body=_number(env, "N8NCLONE_WEBHOOK_MAX_BODY", 1024 * 1024, int, 0),
        session_days=_number(env, "N8NCLONE_SESSION_DAYS", 14.0, float, 0.001, 3650),
        # Checked where it is used (n8nclone.credentials.crypto), so processes that never
        # touch credentials are not stopped by it.
        secret_key=(env.get("N8NCLONE_SECRET_KEY") or "").strip() or None,
    )
