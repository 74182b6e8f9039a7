"""Engines and sessions for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout; a session that will write
starts with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing
on a lock upgrade. PostgreSQL needs nothing special: the services lock what they update.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String
from sqlmodel import Session, create_engine

from fsm_core.errors import DatabaseUnavailable, SchemaOutOfDate


def search_fold(value: str | None) -> str | None:
    """Lower-case and fold ё to е, the way users expect a search to match Russian text."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).lower().replace("ё", "е")


class folded(FunctionElement[str]):
    """``folded(column)``: the column lower-cased with ё folded to е, in SQL on both back-ends.

    SQLite's own lower() only knows ASCII, so there it calls :func:`search_fold`
    registered on every connection.
    """

    type = String()
    inherit_cache = True


@compiles(folded)
def _folded_default(element: folded, compiler: Any, **kw: Any) -> str:
    return f"translate(lower({compiler.process(element.clauses, **kw)}), 'ё', 'е')"


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"fsm_fold({compiler.process(element.clauses, **kw)})"


def normalize_url(url: str) -> URL:
    """Parse a database URL; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"cannot read database URL {url!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise DatabaseUnavailable(
            f"unsupported database {parsed.drivername!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


def make_engine(url: str, *, busy_timeout_ms: int = 15_000, echo: bool = False) -> Engine:
    """An engine for ``url`` with the project's connection settings applied."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_ms=busy_timeout_ms, echo=echo)
    return create_engine(parsed, echo=echo, pool_pre_ping=False)


def _sqlite_engine(url: URL, *, busy_timeout_ms: int, echo: bool) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create folder {path.parent}: {exc}") from None
        url = url.set(database=str(path))
    engine = create_engine(
        url,
        echo=echo,
        # We issue BEGIN ourselves (below); the driver must not.
        connect_args={"isolation_level": None, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_conn.create_function("fsm_fold", 1, search_fold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("fsm_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """One database: an engine plus the two kinds of unit of work the front ends use.

    ``with db.transaction() as session:`` is one user action: everything in it commits
    together or not at all. ``with db.reader() as session:`` only reads.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 15_000, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, echo=echo)
        self._writer = (
            self.engine.execution_options(fsm_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )
        self._schema_checked = False

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session for one user action; commits on success, rolls back on any error."""
        self.ensure_schema()
        with Session(self._writer, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session; nothing it does is committed. Closing it (not rolling
        back) keeps what was read usable after the block."""
        self.ensure_schema()
        with Session(self.engine, expire_on_commit=False, autoflush=False) as session:
            yield session

    def ensure_schema(self) -> None:
        """Create an empty database's schema; refuse one at another revision."""
        if self._schema_checked:
            return
        from fsm_core.migrations import HEAD

        current = self.current_revision()
        if current is None:
            if self.has_foreign_tables():
                raise SchemaOutOfDate(
                    f"{self.display_url} holds tables but no fsm schema version",
                    hint="point --db at an fsm database or an empty one",
                )
            self.upgrade()
        elif current != HEAD:
            from fsm_core.migrations import is_known_revision

            if is_known_revision(current):
                raise SchemaOutOfDate(
                    f"the database is at schema revision {current}, this fsm needs {HEAD}",
                    hint="back it up, then run `fsm db upgrade`",
                )
            raise SchemaOutOfDate(
                f"the database is at schema revision {current}, unknown to this fsm "
                f"(it needs {HEAD}); it was written by a newer version",
                hint="upgrade fsm",
            )
        self._schema_checked = True

    def current_revision(self) -> str | None:
        """The Alembic revision stamped in the database, or None for an empty database."""
        try:
            with self.engine.connect() as conn:
                if not _has_table(conn, "alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError as exc:
            raise DatabaseUnavailable(_describe_operational_error(self, exc)) from None

    def has_foreign_tables(self) -> bool:
        with self.engine.connect() as conn:
            return bool(inspect(conn).get_table_names())

    def upgrade(self, revision: str = "head") -> tuple[str | None, str]:
        """Apply migrations up to ``revision``; returns (before, after)."""
        from fsm_core.migrations import upgrade

        before = self.current_revision()
        after = upgrade(self.engine, revision)
        self._schema_checked = False
        return before, after

    def dispose(self) -> None:
        self.engine.dispose()


def _has_table(conn: Any, name: str) -> bool:
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": name}
        ).first()
    else:
        found = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
    return bool(found)


def _describe_operational_error(db: Database, exc: OperationalError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return f"cannot open database {db.display_url}: {reason}"


def open_database(url: str | None = None) -> Database:
    """The database named by ``url``, else by the settings (``FSM_DATABASE_URL`` or the
    default SQLite file in the user's data folder)."""
    if url is None:
        from fsm_core.config import get_settings

        url = get_settings().resolved_database_url()
    return Database(url)


def text_filter(text: str | None, *columns: Any) -> list[Any]:
    """``[condition]`` matching rows where any column contains ``text`` (case- and
    ё-insensitive), or ``[]`` when there is nothing to search for."""
    key = search_fold(text.strip()) if text else None
    if not key:
        return []
    from sqlalchemy import or_

    if key.isascii():
        # an order number, an external id, a serial: the database's own case folding is
        # the same for these letters and runs in C (on SQLite, folded() calls Python per row)
        return [or_(*(c.icontains(key, autoescape=True) for c in columns))]
    return [or_(*(folded(c).contains(key, autoescape=True) for c in columns))]
