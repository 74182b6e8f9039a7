"""Writing many rows fast, through the driver, inside the caller's transaction.

SQLAlchemy's per-value type processing costs more than the whole insert when 100,000
rows go in at once; these helpers hand rows straight to the driver instead: COPY on
PostgreSQL, ``executemany`` on SQLite. Values must already be what the column stores:
UTC-aware datetimes (converted here to SQLite's text form), integers for money in kopecks
(:func:`kopecks`), booleans, strings, None.

A long job (an import) writes through a :class:`Staging`: the rows it will add are held
back in temporary tables of its own connection (PostgreSQL, a dry run) or written ahead
in short write transactions, hidden until published (SQLite's new orders, see
fsm_core/import_batches.py), and published in one short transaction at its end, so that
the others' writes go on meanwhile (see the class).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlmodel import Session

from fsm_core.errors import DatabaseUnavailable
from fsm_core.values import KOPECK

T = TypeVar("T")


def kopecks(amount: Decimal | None) -> int | None:
    """A Decimal amount as the integer kopecks the Money type stores."""
    if amount is None:
        return None
    return int(amount.quantize(KOPECK, rounding=ROUND_HALF_UP) * 100)


def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores for a UTC moment (kept identical, so
    that rows written here and through the ORM sort and compare alike):
    ``2026-11-26 09:00:00.000000``."""
    if value.tzinfo is UTC and not value.second and not value.microsecond:
        # a whole minute, as nearly every imported time is: its hour's text is made once
        # (isoformat costs ~1.5 µs a value, a fifth of checking an imported order)
        hour = value.toordinal() * 24 + value.hour
        head = _HOURS.get(hour)
        if head is None:
            if len(_HOURS) > 100_000:
                _HOURS.clear()
            head = _HOURS[hour] = value.isoformat(" ")[:13]
        return head + _WHOLE_MINUTES[value.minute]
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


_HOURS: dict[int, str] = {}  # hours since 0001-01-01 -> "2026-11-26 09"
_WHOLE_MINUTES = [f":{minute:02d}:00.000000" for minute in range(60)]


# Rows handed to sqlite3 directly carry aware datetimes; the adapter turns them into the
# stored text inside the driver's loop, with no per-value check on our side. (SQLAlchemy
# never passes a datetime to sqlite3 itself: its DateTime type sends text.)
sqlite3.register_adapter(datetime, sqlite_time)


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns the count."""
    _writing(session)
    return _insert(session, table, columns, rows)


def _driver(connection: Connection) -> Any:
    """The DB-API connection under SQLAlchemy's (psycopg's or sqlite3's)."""
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the database connection has been closed")
    return driver


def _insert(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = _driver(connection)
        with driver.cursor() as cursor:
            if not _row_security_active(cursor, table):
                return _copy(cursor, table, columns, rows)
            # PostgreSQL refuses COPY into a table whose row-level security applies to
            # the connected login (a person's own, see fsm_core/pg_access.py): the rows
            # are copied into a temporary table, then inserted through the policies
            staged = "fsm_copy_" + table
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staged} AS SELECT {', '.join(columns)}"
                f" FROM {table} WITH NO DATA"
            )
            try:
                count = _copy(cursor, staged, columns, rows)
                names = ", ".join(columns)
                cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staged}")
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{staged}")
            return count
    # Many rows per INSERT (a VALUES list) rather than one per executemany step: SQLite
    # runs the statement once per hundred rows, about a fifth faster for wide rows.
    batch = rows if isinstance(rows, list) else list(rows)
    width = len(columns)
    per = max(1, min(100, _SQLITE_MAX_VARIABLES // width))
    one = "(" + ", ".join("?" * width) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    driver = _driver(connection)
    whole = len(batch) - len(batch) % per
    if whole:
        statement = head + ", ".join([one] * per)
        for start in range(0, whole, per):
            driver.execute(statement, [v for row in batch[start : start + per] for v in row])
    if whole < len(batch):
        rest = batch[whole:]
        driver.execute(head + ", ".join([one] * len(rest)), [v for row in rest for v in row])
    return len(batch)


def _row_security_active(cursor: Any, table: str) -> bool:
    if table.startswith("fsm_"):  # the temporary tables of a staging
        return False
    cursor.execute("SELECT row_security_active(to_regclass(%s))", (table,))
    row = cursor.fetchone()
    return bool(row and row[0])


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


# how many ? parameters one statement may carry (SQLite raised it from 999 in 3.32)
_SQLITE_MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def execute_many(session: Session, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    """Run a ``?``-parameter statement (UPDATE, DELETE) once per row through the driver;
    returns the total number of rows it touched."""
    _writing(session)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = _driver(connection)
        with driver.cursor() as cursor:
            cursor.executemany(statement.replace("?", "%s"), list(rows))
            return cursor.rowcount
    cursor = _driver(connection).cursor()
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
    found = _select_in(session, table, columns, key, values)
    stage = staging_of(session)
    if stage is None:
        return found
    # rows held back (or gathered to be written ahead) count as there: the job sees its
    # own writes
    staged = stage.table(table, (*columns, key))
    if staged is not None:
        found += _select_in(session, staged, columns, key, values)
    look_up = stage.look_ups.get(table)
    if look_up is not None:
        found += look_up(columns, key, values)
    return found


def _select_in(
    session: Session,
    table: str,
    columns: Sequence[str],
    key: str,
    values: Sequence[Any],
) -> list[tuple[Any, ...]]:
    connection = session.connection()
    wanted = ", ".join(columns)
    driver = _driver(connection)
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
    _writing(session)
    connection = session.connection()
    driver = _driver(connection)
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


# --- staging: a long job's rows held back until one short publishing transaction ----------


_STAGING = "fsm_staging"
_MAIN_WRITES = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)


def staging_of(session: Session) -> Staging | None:
    """The :class:`Staging` ``session`` writes through, if any."""
    return session.info.get(_STAGING)


def _writing(session: Session) -> None:
    """About to write the database's own tables: a staged job takes its turn first
    (unless it writes in a short turn of its own, :meth:`Staging.write_turn`)."""
    stage = staging_of(session)
    if stage is not None and not stage.in_turn:
        stage.lock()


class Staging:
    """How a long job (an import) writes without keeping everyone else waiting.

    Its session works on one connection of its own. What the job adds in bulk (new
    orders) goes to temporary tables of that connection (:meth:`add`), which no one else
    sees and which vanish with the connection — a killed process leaves nothing behind;
    reading (:func:`select_in`) sees them beside the real rows. At the end,
    :meth:`publish` takes the write lock and runs what the writers registered
    (:meth:`on_publish`: number the held-back orders, insert them with one INSERT ... SELECT,
    write their history), and the caller commits: all or nothing, in one short
    transaction.

    On SQLite the job holds no write lock until then: it reads in a read transaction and
    writes only its temporary tables, or the real ones in short turns of its own
    (:meth:`write_turn`: new orders, hidden from every reader until it publishes), so
    other writers go on. The database itself refuses
    (an authorizer) any write to its own tables before the job has its turn, so a writer
    that forgot to stage cannot hold the lock unnoticed. A job that must change existing
    records one by one through the services (a row that moves an order, a customer made
    with ``--create-missing``, a whole file of companies) takes its turn at the first such
    change — at a savepoint, or a bulk write here — and holds it to the end, as a
    transaction must: staging spares the others' waiting only for what is held back.

    On PostgreSQL, where writers lock rows, not the database, the job's own changes go
    straight in (its one transaction holds only the rows it touched); the held-back
    orders spare the order counter, which every new order locks, until the end.
    """

    def __init__(
        self,
        session: Session,
        *,
        wait: float,
        dry_run: bool = False,
        turn_rows: int | None = None,
    ) -> None:
        self.session = session
        self.turn_rows = turn_rows
        """rows a writer writes ahead per :meth:`write_turn` (None: its own default)"""
        self.wait = wait
        self.dry_run = dry_run
        self.connection = session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.locked = not self.sqlite
        self._tables: dict[str, tuple[str, set[str]]] = {}  # table -> (temp table, columns)
        self._publishers: dict[str, Callable[[], None]] = {}
        self._before_publishing: dict[str, Callable[[], None]] = {}
        self.look_ups: dict[str, Callable[[Sequence[str], str, Sequence[Any]], list[Any]]] = {}
        """table -> the rows a writer gathered for it, found by :func:`select_in`"""
        self._abandoners: dict[str, Callable[[], None]] = {}
        self.in_turn = False
        self.published = False
        self.held: list[float] = []
        self._free_until = 0.0  # time.monotonic(): the others' turn after the last write turn
        """how long each write turn held the write lock, in seconds (the bench reads it)"""
        self._raw: Any = _driver(self.connection)
        self.info: dict[str, Any] = {}  # what the writers keep about the job
        session.info[_STAGING] = self
        if self.sqlite:
            self._raw.set_authorizer(self._authorize)
            # the final INSERT ... SELECT touches every page of every index of the table
            self._raw.execute("PRAGMA cache_size=-262144")
            event.listen(self.connection, "savepoint", self._on_savepoint)

    @staticmethod
    def _authorize(action: int, _arg1: Any, _arg2: Any, database: Any, _trigger: Any) -> int:
        if database == "main" and action in _MAIN_WRITES:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def _on_savepoint(self, _connection: Any, _name: Any) -> None:
        if not self.dry_run:  # a dry run's savepoints only read
            self.lock(begun=True)

    def lock(self, *, begun: bool = False) -> None:
        """Take the write lock for the rest of the job (SQLite; a no-op on PostgreSQL):
        the read transaction so far ends — it wrote only the temporary tables — and
        ``BEGIN IMMEDIATE`` takes its turn among the writers, waiting up to ``wait``."""
        if self.locked:
            return
        if self.dry_run:
            raise RuntimeError("a dry run must not write")
        from fsm_core.db import begin_writing

        if not begun:  # the session's transaction begins first: it is the one to commit
            self.session.connection()
        self._let_others_in()
        self._raw.set_authorizer(None)
        if self._raw.in_transaction:
            self._raw.execute("COMMIT")
        begin_writing(self._raw, "IMMEDIATE", wait=self.wait)
        self.locked = True

    @property
    def writes_ahead(self) -> bool:
        """Whether new orders are written ahead into the real table, hidden until
        published (SQLite, except in a dry run; see fsm_core/import_batches.py), rather
        than held back in temporary tables."""
        return self.sqlite and not self.dry_run

    def write_turn(self, write: Callable[[], T]) -> T:
        """Run ``write`` in a short write transaction of its own, committed at once
        (SQLite): the job's read transaction ends, ``BEGIN IMMEDIATE`` takes its turn
        among the writers, ``write`` runs and commits, and a new read transaction goes on.
        While other writers wait for the lock, the next turn (or :meth:`lock`) comes no
        sooner than this one held the lock after it (20 ms at least): they get in; when no
        one waits, at once. What ``write`` writes must stay invisible to the others until
        the job publishes (an import's batch). Once the job holds the lock for good
        (:meth:`lock`), ``write`` runs in its transaction."""
        if self.locked:
            return write()
        from fsm_core.db import begin_writing
        from fsm_core.import_batches import YIELD

        self.session.connection()  # the session's transaction has begun: it goes on
        self._let_others_in()
        raw = self._raw
        raw.set_authorizer(None)
        self.in_turn = True
        try:
            if raw.in_transaction:
                raw.execute("COMMIT")  # the read transaction so far: it wrote only temp
            begin_writing(raw, "IMMEDIATE", wait=self.wait)
            held = time.perf_counter()
            try:
                result = write()
                raw.execute("COMMIT")
                held = time.perf_counter() - held
                self.held.append(held)
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise
            finally:
                raw.execute("BEGIN DEFERRED")
        finally:
            self.in_turn = False
            raw.set_authorizer(self._authorize)
        # the others' turn, if anyone waited meanwhile: at least as long as this one held
        # the lock, so that the job never has the lock more than half the time however
        # busy the machine. The job goes on with its reading meanwhile; the next turn
        # waits for what is left of it, or until no one waits any more
        self._free_until = time.monotonic() + max(YIELD, held)
        return result

    def _let_others_in(self) -> None:
        """Wait out the pause the last write turn owes the other writers, while any of
        them is still waiting (:func:`fsm_core.db.writers_waiting`)."""
        from fsm_core.db import let_others_in

        let_others_in(self._raw, self._free_until)

    @property
    def raw(self) -> Any:
        """The job's DB-API connection."""
        return self._raw

    def on_abandon(self, key: str, abandon: Callable[[], None]) -> None:
        """Have ``abandon`` run (once per ``key``) if the job ends without publishing:
        what :meth:`write_turn` wrote ahead is taken back."""
        self._abandoners.setdefault(key, abandon)

    def table(self, name: str, columns: Sequence[str] = ()) -> str | None:
        """The temporary table holding back rows of ``name`` (None: none held back, or it
        lacks one of ``columns``)."""
        found = self._tables.get(name)
        if found is None or not set(columns) <= found[1]:
            return None
        return found[0]

    def add(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        extra: Sequence[str] = (),
        *,
        like: str | None = None,
        seq: bool = False,
        index: Sequence[str] = (),
    ) -> str:
        """Hold back ``rows`` for ``table`` (values in ``columns`` order, then one integer
        for each of ``extra``, e.g. what numbers them); returns the temporary table, whose
        ``fsm_seq`` keeps the order they came in (``seq``: each row starts with it).
        ``like``: the real table whose columns' types these have (by default ``table``);
        ``index``: columns looked up by value (:func:`select_in`)."""
        staged = self.table(table)
        if staged is None:
            staged = self._create(table, columns, extra, like or table, index)
        names = ["fsm_seq", *columns, *extra] if seq else [*columns, *extra]
        _insert(self.session, staged, names, rows)
        return staged

    def _create(
        self,
        table: str,
        columns: Sequence[str],
        extra: Sequence[str],
        like: str,
        index: Sequence[str],
    ) -> str:
        from fsm_core.models import metadata

        name = f"fsm_staged_{table}"
        dialect = self.connection.dialect
        model = metadata.tables[like]
        defs = [f"{c} {model.columns[c].type.compile(dialect=dialect)}" for c in columns]
        defs += [f"{c} BIGINT" for c in extra]
        seq = "fsm_seq INTEGER PRIMARY KEY" if self.sqlite else "fsm_seq BIGSERIAL PRIMARY KEY"
        driver = self._raw
        statements = [f"CREATE TEMPORARY TABLE {name} ({seq}, {', '.join(defs)})"]
        statements += [f"CREATE INDEX {name}_{c} ON {name} ({c})" for c in index]
        if self.sqlite:
            driver.execute(f"DROP TABLE IF EXISTS temp.{name}")
            for statement in statements:
                driver.execute(statement)
        else:
            with driver.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
                for statement in statements:
                    cursor.execute(statement)
        self._tables[table] = (name, {*columns, *extra, "fsm_seq"})
        return name

    def count(self, table: str) -> int:
        staged = self.table(table)
        if staged is None:
            return 0
        return int(self.connection.exec_driver_sql(f"SELECT count(*) FROM {staged}").scalar_one())

    def on_publish(self, key: str, publish: Callable[[], None]) -> None:
        """Have ``publish`` run (once per ``key``) when the job publishes."""
        self._publishers.setdefault(key, publish)

    def on_look_up(
        self, table: str, look_up: Callable[[Sequence[str], str, Sequence[Any]], list[Any]]
    ) -> None:
        """Have :func:`select_in` on ``table`` also find what ``look_up(columns, key,
        values)`` returns: rows a writer gathered, not yet written."""
        self.look_ups[table] = look_up

    def before_publish(self, key: str, finish: Callable[[], None]) -> None:
        """Have ``finish`` run (once per ``key``) when the job publishes, before it takes
        the write lock: what it still writes ahead (in a :meth:`write_turn`)."""
        self._before_publishing.setdefault(key, finish)

    def publish(self) -> None:
        """Take the write lock, then write what was held back (the caller commits)."""
        for finish in self._before_publishing.values():
            finish()
        self.lock()
        for publish in self._publishers.values():
            publish()

    def committed(self) -> None:
        """The publishing transaction has committed: nothing is to be taken back."""
        self.published = True

    def close(self) -> None:
        """Forget the staging (after the commit or rollback); its tables are dropped, and
        what it wrote ahead is taken back unless it was published."""
        self.session.info.pop(_STAGING, None)
        if not self.published and self._abandoners:
            if self._raw.in_transaction:
                self._raw.execute("ROLLBACK")
            self._raw.set_authorizer(None)
            for abandon in self._abandoners.values():
                # a busy or broken database: the batch stays hidden, and the next program
                # to open the database once this process is gone drops it
                with suppress(sqlite3.Error, DatabaseUnavailable):
                    abandon()
        if self.sqlite:
            event.remove(self.connection, "savepoint", self._on_savepoint)
            self._raw.set_authorizer(None)
            self._raw.execute("PRAGMA cache_size=-2000")
        try:
            for name, _columns in self._tables.values():
                if self.sqlite:
                    self._raw.execute(f"DROP TABLE IF EXISTS temp.{name}")
                else:
                    self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{name}")
                    self.connection.commit()
        except Exception:  # a broken connection: closing it drops them
            self.connection.invalidate()
