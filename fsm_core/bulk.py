"""Writing many rows fast, through the driver, inside the caller's transaction.

SQLAlchemy's per-value type processing costs more than the whole insert when 100,000
rows go in at once; these helpers hand rows straight to the driver instead: COPY on
PostgreSQL, ``executemany`` on SQLite. Values must already be what the column stores:
UTC-aware datetimes (converted here to SQLite's text form), integers for money in kopecks
(:func:`kopecks`), booleans, strings, None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session

_KOPECK = Decimal("0.01")


def kopecks(amount: Decimal | None) -> int | None:
    """A Decimal amount as the integer kopecks the Money type stores."""
    if amount is None:
        return None
    return int(amount.quantize(_KOPECK, rounding=ROUND_HALF_UP) * 100)


def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores for a UTC moment (kept identical, so
    that rows written here and through the ORM sort and compare alike)."""
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


def _for_sqlite(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(
        sqlite_time(v) if isinstance(v, datetime) else (int(v) if isinstance(v, bool) else v)
        for v in row
    )


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns the count."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        count = 0
        with driver.cursor() as cursor:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    placeholders = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    batch = [_for_sqlite(row) for row in rows]
    if batch:
        connection.connection.driver_connection.executemany(statement, batch)
    return len(batch)


def execute_many(session: Session, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    """Run a ``?``-parameter statement (UPDATE, DELETE) once per row through the driver;
    returns the total number of rows it touched."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:
            cursor.executemany(statement.replace("?", "%s"), list(rows))
            return cursor.rowcount
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, [_for_sqlite(r) for r in rows])
        return cursor.rowcount
    finally:
        cursor.close()
