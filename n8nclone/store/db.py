"""Database engine and transaction helpers, for SQLite and PostgreSQL alike.

SQLite is shared by web and worker threads: WAL mode, a busy timeout, and
`BEGIN IMMEDIATE` for write transactions so two writers queue on the busy
timeout instead of failing with "database is locked" when a read lock is
upgraded. Reads use plain deferred transactions and never block writers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event

from n8nclone.store.hot import HotConnection, SqliteHotConnection

_BEGIN_MODE = "n8nclone_begin"


def create_db_engine(url: str, *, connections: int = 30) -> Engine:
    """Create an engine for `url` with the settings our access patterns need."""
    if url.startswith("sqlite"):
        return _create_sqlite_engine(url, connections)
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def _create_sqlite_engine(url: str, connections: int) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=connections,
        max_overflow=0 if connections == 1 else connections,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's begin event emit BEGIN itself (pysqlite's own is lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """The engine plus the two ways to use it: `read()` and `write()`."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_db_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        # SQLite has one writer at a time. Threads of this process queue on a lock instead of
        # SQLite's busy handler (which sleeps in steps of milliseconds) and share one write
        # connection: a connection's page cache stays valid only while nobody else writes.
        self._sqlite_writer = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self.write_engine = (create_db_engine(url, connections=1) if self.is_sqlite
                             else self.engine)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A short write transaction, committed on exit (rolled back on error)."""
        with self._sqlite_writer, self.write_engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def hot_write(self) -> Iterator[HotConnection]:
        """A write transaction for `HotStatement`s (the engine's per-step checkpoint)."""
        if not self.is_sqlite:
            with self.write() as conn:
                yield conn
            return
        with self._sqlite_writer:
            pooled = self.write_engine.raw_connection()
            raw = pooled.driver_connection
            try:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield SqliteHotConnection(raw, self.write_engine.dialect)
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
            finally:
                pooled.close()  # back to the pool

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(url: str) -> Database:
    """One Database per URL per process (engines own connection pools)."""
    with _lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = Database(url)
        return db
