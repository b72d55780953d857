"""The engine's hot path: one short write transaction per step, as cheap as it can be.

On SQLite, SQLAlchemy's per-statement and per-transaction machinery costs several times
more than SQLite's own work for a one-row write, and the checkpoint transaction runs once
per step. So on SQLite, `HotStatement`s are compiled once and run on the DBAPI connection
inside a plain `BEGIN IMMEDIATE ... COMMIT`, bound with SQLAlchemy's own type processors
(JSON, aware datetimes): the stored values are exactly what Core would store. Every other
database goes through Core as usual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Params = dict[str, Any]


@dataclass
class SqliteHotConnection:
    """A raw SQLite connection inside a transaction, with the dialect to compile for."""

    raw: sqlite3.Connection
    dialect: Dialect


HotConnection = Connection | SqliteHotConnection


class HotStatement:
    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._sqlite: tuple[str, list[tuple[str, Any, Any]]] | None = None
        self._row_processors: list | None = None

    def _prepare_sqlite(self, dialect: Dialect) -> tuple[str, list[tuple[str, Any, Any]]]:
        if self._sqlite is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
            binding = []
            for name in compiled.positiontup or ():
                bind = compiled.binds[name]
                default = None if bind.required else bind.effective_value
                binding.append((name, default, bind.type._cached_bind_processor(dialect)))
            self._sqlite = (compiled.string, binding)
        return self._sqlite

    @staticmethod
    def _rows(binding, params: Sequence[Params]) -> list[tuple]:
        return [tuple(process(p.get(name, default)) if process else p.get(name, default)
                      for name, default, process in binding) for p in params]

    def rowcount(self, conn: HotConnection, params: Params | Sequence[Params]) -> int:
        """Run once, or once per parameter set; the number of rows written."""
        many = not isinstance(params, dict)
        if isinstance(conn, Connection):
            return conn.execute(self.statement, list(params) if many else params).rowcount
        sql, binding = self._prepare_sqlite(conn.dialect)
        rows = self._rows(binding, params if many else [params])
        if many:
            return conn.raw.executemany(sql, rows).rowcount
        return conn.raw.execute(sql, rows[0]).rowcount

    def first(self, conn: HotConnection, params: Params) -> tuple | None:
        """Run once; the first row returned (values converted as Core converts them)."""
        if isinstance(conn, Connection):
            row = conn.execute(self.statement, params).first()
            return tuple(row) if row is not None else None
        sql, binding = self._prepare_sqlite(conn.dialect)
        row = conn.raw.execute(sql, self._rows(binding, [params])[0]).fetchone()
        if row is None:
            return None
        if self._row_processors is None:
            self._row_processors = [column.type._cached_result_processor(conn.dialect, None)
                                    for column in self.statement.exported_columns]
        return tuple(process(value) if process else value
                     for process, value in zip(self._row_processors, row, strict=True))

    def scalar(self, conn: HotConnection, params: Params) -> Any:
        """Run once; the first column of the first row returned (None when none)."""
        if isinstance(conn, Connection):
            return conn.execute(self.statement, params).scalar()
        sql, binding = self._prepare_sqlite(conn.dialect)
        row = conn.raw.execute(sql, self._rows(binding, [params])[0]).fetchone()
        return row[0] if row else None
