"""Fresh databases for tests: a SQLite file, or a PostgreSQL database of its own."""

from __future__ import annotations

import uuid

import psycopg

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def create_postgres_database(template: str | None = None) -> tuple[str, str]:
    """Create an empty database (or a copy of `template`); returns (its name, its
    SQLAlchemy URL)."""
    name = f"n8nclone_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
