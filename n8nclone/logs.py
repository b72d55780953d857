"""Logging for every n8nclone process, at `N8NCLONE_LOG_LEVEL`."""

from __future__ import annotations

import logging

from n8nclone.config import Settings


def setup_logging(settings: Settings) -> None:
    """Log to stderr at the configured level (alembic's chatter only from WARNING)."""
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
