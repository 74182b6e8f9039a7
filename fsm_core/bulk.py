"""Writing many rows fast, through the driver, inside the caller's transaction.

SQLAlchemy's per-value type processing costs more than the whole insert when 100,000
rows go in at once; these helpers hand rows straight to the driver instead: COPY on
PostgreSQL, ``executemany`` on SQLite. Values must already be what the column stores:
UTC-aware datetimes (converted here to SQLite's text form), integers for money in kopecks
(:func:`kopecks`), booleans, strings, None.
"""

from __future__ import annotations

import sqlite3
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
    that rows written here and through the ORM sort and compare alike):
    ``2026-11-26 09:00:00.000000``."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


# Rows handed to sqlite3 directly carry aware datetimes; the adapter turns them into the
# stored text inside the driver's loop, with no per-value check on our side. (SQLAlchemy
# never passes a datetime to sqlite3 itself: its DateTime type sends text.)
sqlite3.register_adapter(datetime, sqlite_time)


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
    # Many rows per INSERT (a VALUES list) rather than one per executemany step: SQLite
    # runs the statement once per hundred rows, about a fifth faster for wide rows.
    batch = rows if isinstance(rows, list) else list(rows)
    width = len(columns)
    per = max(1, min(100, _SQLITE_MAX_VARIABLES // width))
    one = "(" + ", ".join("?" * width) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    driver = connection.connection.driver_connection
    whole = len(batch) - len(batch) % per
    if whole:
        statement = head + ", ".join([one] * per)
        for start in range(0, whole, per):
            driver.execute(statement, [v for row in batch[start : start + per] for v in row])
    if whole < len(batch):
        rest = batch[whole:]
        driver.execute(head + ", ".join([one] * len(rest)), [v for row in rest for v in row])
    return len(batch)


# how many ? parameters one statement may carry (SQLite raised it from 999 in 3.32)
_SQLITE_MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


DEFER_INDEXES_AFTER = 20_000


class DeferredIndexes:
    """Builds a large load's SQLite indexes once, at the end, instead of row by row.

    Inserting 100,000 orders into a table with six secondary indexes costs about twice as
    much as inserting them into the bare table and building the indexes afterwards (one
    sort each). Once a load has written :data:`DEFER_INDEXES_AFTER` rows *and* at least as
    many as the tables held before it (so a rebuild never costs more than the rows saved),
    the tables' non-unique indexes are dropped; :meth:`restore` creates them again from
    their own stored SQL. It all happens inside the caller's transaction: a rollback brings
    the indexes back, and readers (WAL) never see the tables without them. Unique indexes
    stay, so duplicates are still refused at once. PostgreSQL keeps its indexes: dropping
    one there locks the table against every other dispatcher.
    """

    def __init__(self, session: Session, tables: Sequence[str]) -> None:
        self._driver: Any = None
        self._loaded = 0
        self._before = 0
        self._dropped: list[str] | None = None
        self._tables = list(tables)
        connection = session.connection()
        if not self._tables or connection.dialect.name != "sqlite":
            return
        self._driver = connection.connection.driver_connection
        count = self._driver.execute(f"SELECT count(*) FROM {self._tables[0]}").fetchone()
        self._before = int(count[0])

    def loaded(self, rows: int) -> None:
        """Note that ``rows`` more rows went in; drops the indexes when it pays."""
        if self._driver is None or self._dropped is not None:
            return
        self._loaded += rows
        if self._loaded < max(DEFER_INDEXES_AFTER, self._before):
            return
        self._dropped = []
        for table in self._tables:
            for _seq, name, unique, origin, *_ in self._driver.execute(
                f"PRAGMA index_list({table})"
            ).fetchall():
                if unique or origin != "c":
                    continue
                (sql,) = self._driver.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
                ).fetchone()
                self._driver.execute(f'DROP INDEX "{name}"')
                self._dropped.append(sql)

    def restore(self) -> None:
        """Create the dropped indexes again (a no-op when none were dropped)."""
        for sql in self._dropped or ():
            self._driver.execute(sql)
        self._dropped = None


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
        cursor.executemany(statement, list(rows))
        return cursor.rowcount
    finally:
        cursor.close()


def select_in(
    session: Session,
    table: str,
    columns: Sequence[str],
    key: str,
    values: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE key IN values`` through the driver, for thousands
    of values at once (one array parameter on PostgreSQL, chunks on SQLite)."""
    if not values:
        return []
    connection = session.connection()
    wanted = ", ".join(columns)
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        array, cast = _pg_array(values)
        with driver.cursor() as cursor:
            cursor.execute(f"SELECT {wanted} FROM {table} WHERE {key} = ANY(%s{cast})", (array,))
            return list(cursor.fetchall())
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), 30000):
        chunk = values[start : start + 30000]
        marks = ", ".join("?" * len(chunk))
        cursor = driver.execute(f"SELECT {wanted} FROM {table} WHERE {key} IN ({marks})", chunk)
        found.extend(cursor.fetchall())
    return found


def execute_in(
    session: Session,
    statement: str,
    params: Sequence[Any],
    values: Sequence[Any],
    *,
    chunk: int = 30000,
) -> None:
    """Run ``statement`` whose ``{in}`` stands for "IN (values)": an array parameter on
    PostgreSQL, chunks of ``?`` on SQLite. ``params`` (``?`` placeholders) come first."""
    if not values:
        return
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        array, cast = _pg_array(values)
        sql = statement.replace("?", "%s").replace("{in}", f"= ANY(%s{cast})")
        with driver.cursor() as cursor:
            cursor.execute(sql, (*params, array))
        return
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        sql = statement.replace("{in}", f"IN ({', '.join('?' * len(part))})")
        driver.execute(sql, (*params, *part))


def _pg_array(values: Sequence[Any]) -> tuple[Any, str]:
    """An array parameter for ``= ANY(...)`` and the cast to write after it: strings as one
    text[] literal built by ``join`` (the driver's list dumper takes ~1.5 µs an element,
    and a batch looks 2,000 keys up several times), anything else as a list."""
    if not all(type(v) is str for v in values):
        return list(values), ""
    inner = '","'.join(values)
    if "\\" in inner or inner.count('"') != 2 * (len(values) - 1):
        inner = '","'.join(v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + inner + '"}', "::text[]"
