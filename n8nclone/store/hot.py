"""Statements on the engine's hot path, compiled once and run on the DBAPI cursor (SQLite).

On SQLite, building the parameters of a cached Core statement costs several times more than
SQLite's own work for a one-row write, and the checkpoint transaction runs once per step.
So on SQLite we compile each statement once and bind with SQLAlchemy's own type processors
(JSON, aware datetimes): the stored values are exactly what Core would store. Every other
database goes through Core as usual.
"""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement

Params = dict[str, Any]


class HotStatement:
    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._sqlite: tuple[str, list[tuple[str, Any, Any]]] | None = None

    def _prepare_sqlite(self, conn: Connection) -> tuple[str, list[tuple[str, Any, Any]]]:
        if self._sqlite is None:
            dialect = conn.dialect
            compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
            binding = []
            for name in compiled.positiontup or ():
                bind = compiled.binds[name]
                default = None if bind.required else bind.effective_value
                binding.append((name, default, bind.type._cached_bind_processor(dialect)))
            self._sqlite = (compiled.string, binding)
        return self._sqlite

    def _rows(self, binding, params: Sequence[Params]) -> list[tuple]:
        return [tuple(process(p.get(name, default)) if process else p.get(name, default)
                      for name, default, process in binding) for p in params]

    def rowcount(self, conn: Connection, params: Params | Sequence[Params]) -> int:
        """Run once, or once per parameter set; the number of rows written."""
        many = not isinstance(params, dict)
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, list(params) if many else params).rowcount
        sql, binding = self._prepare_sqlite(conn)
        rows = self._rows(binding, params if many else [params])
        cursor = conn.connection.driver_connection.cursor()
        try:
            if many:
                cursor.executemany(sql, rows)
            else:
                cursor.execute(sql, rows[0])
            return cursor.rowcount
        finally:
            cursor.close()

    def scalar(self, conn: Connection, params: Params) -> Any:
        """Run once; the first column of the first row returned (None when none)."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).scalar()
        sql, binding = self._prepare_sqlite(conn)
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(sql, self._rows(binding, [params])[0])
            row = cursor.fetchone()
            return row[0] if row else None
        finally:
            cursor.close()
