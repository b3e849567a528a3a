"""Bulk writes: PostgreSQL COPY, multi-row INSERTs on SQLite, executemany updates.

The scan of a 10,000-host fleet writes ~200,000 findings; one INSERT per row would make the
database the bottleneck. COPY streams them in one statement on PostgreSQL; on SQLite each INSERT
carries thousands of rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, Connection, Table, bindparam, insert, update
from sqlalchemy.orm import Session


def _plain(value: Any) -> Any:
    # COPY bypasses our UtcDateTime type: hand PostgreSQL naive UTC like the type would.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def bulk_insert(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, plain column values) into ``table``."""
    if not rows:
        return
    tbl = cast(Table, table)
    conn = session.connection()
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        from psycopg.types.json import Jsonb

        columns = list(rows[0])
        # COPY bypasses SQLAlchemy's JSON type: wrap those values so psycopg writes JSON text
        # (a bare list would go out as a PostgreSQL array literal).
        json_columns = {c for c in columns if isinstance(tbl.c[c].type, JSON)}
        raw = conn.connection.driver_connection
        quoted = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f'COPY "{tbl.name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(
                    [Jsonb(row[c]) if c in json_columns else _plain(row[c]) for c in columns]
                )
        return
    if conn.dialect.name == "sqlite":
        _sqlite_executemany(conn, tbl, rows)
        return
    for start in range(0, len(rows), 20_000):
        session.execute(insert(tbl), list(rows[start : start + 20_000]))


def bulk_update(
    session: Session, table: Any, rows: Sequence[dict[str, Any]], *, key: str = "id"
) -> None:
    """``UPDATE table SET <other keys> WHERE key = row[key]`` for every row (same keys)."""
    if not rows:
        return
    tbl = cast(Table, table)
    conn = session.connection()
    columns = [c for c in rows[0] if c != key]
    if conn.dialect.name == "sqlite":
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        sql = f'UPDATE "{tbl.name}" SET {sets} WHERE "{key}" = ?'
        _sqlite_run(conn, tbl, [*columns, key], sql, rows)
        return
    stmt = (
        update(tbl)
        .where(tbl.c[key] == bindparam(f"b_{key}"))
        .values({c: bindparam(c) for c in columns})
    )
    session.execute(stmt, [{**{c: r[c] for c in columns}, f"b_{key}": r[key]} for r in rows])


# SQLite >= 3.32 accepts 32,766 parameters per statement (999 before).
_SQLITE_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def _sqlite_executemany(conn: Connection, tbl: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Multi-row INSERTs: thousands of rows per statement (2,978 findings at 11 columns)."""
    columns = list(rows[0])
    per_statement = max(1, _SQLITE_MAX_VARIABLES // len(columns))
    head = (
        f'INSERT INTO "{tbl.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) VALUES '
    )
    one = f"({', '.join('?' for _ in columns)})"
    convert = _row_converter(conn, tbl, columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                head + ",".join([one] * len(chunk)), [v for row in chunk for v in convert(row)]
            )
    finally:
        cursor.close()


def _sqlite_run(
    conn: Connection, tbl: Table, columns: list[str], sql: str, rows: Sequence[dict[str, Any]]
) -> None:
    """executemany of one statement on the raw sqlite3 cursor (updates)."""
    convert = _row_converter(conn, tbl, columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, (convert(row) for row in rows))
    finally:
        cursor.close()


def _row_converter(
    conn: Connection, tbl: Table, columns: list[str]
) -> Callable[[dict[str, Any]], list[Any]]:
    """Each column's SQLAlchemy bind conversion, memoised per distinct value: findings repeat a
    handful of timestamps and deadlines, so converting each distinct value once removes most of
    SQLAlchemy's per-row cost."""
    dialect = conn.dialect
    converters: list[Callable[[Any], Any]] = []
    for name in columns:
        proc = tbl.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if proc is None:
            converters.append(_identity)
            continue
        memo: dict[Any, Any] = {}

        def convert(
            value: Any, proc: Callable[[Any], Any] = proc, memo: dict[Any, Any] = memo
        ) -> Any:
            try:
                return memo[value]
            except KeyError:
                out = memo[value] = proc(value)
                return out
            except TypeError:  # unhashable (JSON lists): convert each time
                return proc(value)

        converters.append(convert)
    pairs = list(zip(columns, converters, strict=True))

    def row_values(row: dict[str, Any]) -> list[Any]:
        return [conv(row[c]) for c, conv in pairs]

    return row_values


def _identity(value: Any) -> Any:
    return value
