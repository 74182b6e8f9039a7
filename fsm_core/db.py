"""Engines and sessions for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on. Writers take turns: a unit of work that
will write (:meth:`Database.transaction`) starts with ``BEGIN IMMEDIATE`` before its body
runs, so it holds the write lock from its first statement to its commit and can never
fail half-way on a lock upgrade. While another process holds the lock, the BEGIN is
retried with a short, jittered backoff for up to ``write_wait`` seconds (60 by default,
``FSM_WRITE_WAIT``): every waiter keeps polling at about the same rate, so an action that
has waited long is as likely to get in next as one that just arrived (SQLite's own busy
handler backs off to 100 ms polls, and under twenty writers its oldest waiters starved
past any timeout). Retrying there is always safe: nothing of the transaction has run yet.

PostgreSQL needs no turns (the services lock the rows they update); its pooled
connections are checked before use, so a server restart or a dropped connection costs
a reconnect, not the user's action.

A new SQLite database is private to its owner: the file (and SQLite's ``-wal`` and
``-shm`` files, which take the file's permissions) 0600, a folder created for it 0700.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import fcntl
except ImportError:  # not a POSIX system: a long job pauses after each of its turns
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from fsm_core.access import Principal

from fsm_core import import_batches
from fsm_core.audit import AuditedSession
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


WRITE_WAIT = 60.0
"""Seconds a unit of work waits for SQLite's write lock before it gives up, changing nothing."""


def make_engine(
    url: str,
    *,
    busy_timeout_ms: int = 15_000,
    write_wait: float = WRITE_WAIT,
    echo: bool = False,
) -> Engine:
    """An engine for ``url`` with the project's connection settings applied.

    ``busy_timeout_ms`` is how long an SQLite statement waits on a lock by itself (a read
    during a checkpoint); ``write_wait`` how long a ``BEGIN IMMEDIATE`` is retried while
    another connection writes."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(
            parsed, busy_timeout_ms=busy_timeout_ms, write_wait=write_wait, echo=echo
        )
    # a pooled connection is tried (a round trip) before it is handed out: one the server
    # dropped (a restart, pg_terminate_backend) is replaced instead of failing the action
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def private_file(path: Path) -> None:
    """Create ``path``'s folder (0770, where it is created) and the file itself, empty and
    0660 — its owner and group alone, the group being the people of the company who share
    it, each acting as the user their account is bound to — unless it exists: SQLite then
    opens it as a new database, and creates its -wal and -shm files with the same
    permissions."""
    if not path.parent.is_dir():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o770)
            # mkdir's mode passes through the umask; this folder is the owner's and group's
            os.chmod(path.parent, 0o770)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create folder {path.parent}: {exc.strerror or exc}",
                ru=f"не удалось создать папку {path.parent}: {exc.strerror or exc}",
            ) from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o660)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create database {path}: {exc.strerror or exc}",
            ru=f"не удалось создать базу данных {path}: {exc.strerror or exc}",
        ) from None
    with suppress(OSError):
        os.fchmod(fd, 0o660)  # the umask took the group's bits off
    os.close(fd)


def _sqlite_engine(url: URL, *, busy_timeout_ms: int, write_wait: float, echo: bool) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        private_file(path)
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
        if mode == "DEFERRED":
            conn.exec_driver_sql("BEGIN DEFERRED")
            return
        begin_writing(conn.connection.driver_connection, mode, wait=write_wait)

    return engine


def is_busy(exc: BaseException) -> bool:
    """Whether an SQLite error means "another connection holds the lock"."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(orig) or "busy" in str(orig)


def begin_writing(raw: sqlite3.Connection, mode: str = "IMMEDIATE", *, wait: float) -> None:
    """``BEGIN IMMEDIATE`` (or EXCLUSIVE) on ``raw``, retried while another connection
    writes: every few milliseconds at first, then about every 20 ms with jitter, for up to
    ``wait`` seconds; then :class:`DatabaseUnavailable`. The connection's own busy timeout
    is off meanwhile, so the waiting is this loop's, not SQLite's."""
    deadline = time.monotonic() + wait
    pause = 0.001
    (timeout,) = raw.execute("PRAGMA busy_timeout").fetchone()
    raw.execute("PRAGMA busy_timeout=0")
    waiting: int | None = None
    try:
        while True:
            try:
                raw.execute(f"BEGIN {mode}")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                if waiting is None:
                    waiting = _start_waiting(raw)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DatabaseUnavailable(
                        f"the database is busy: another program has been writing to it for "
                        f"{wait:g} s; nothing was changed",
                        hint="try again; if it stays busy, see what else uses the database",
                        ru=f"база данных занята: другая программа пишет в неё уже {wait:g} с; "
                        "ничего не изменено",
                        hint_ru="повторите; если занята и дальше, проверьте, кто ещё с ней "
                        "работает",
                    ) from None
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(pause * 2, 0.02)
    finally:
        if waiting is not None and waiting >= 0:
            os.close(waiting)  # and with it its lock: no longer waiting
        raw.execute(f"PRAGMA busy_timeout={int(timeout)}")


# A writer that finds the write lock taken says so to the other processes for as long as
# it waits: it holds a shared lock (flock) on a file beside the database. A long job that
# writes in short turns (an import, the search index catching up) asks after each turn
# whether anyone holds it, and pauses for them only then (see fsm_core.bulk.Staging).
WAITING_SUFFIX = "-waiting"


def _waiting_file(raw: sqlite3.Connection) -> str | None:
    """The file beside ``raw``'s database that its waiting writers lock (None: an
    in-memory or temporary database, or a system without flock)."""
    if fcntl is None:
        return None
    found = raw.execute("PRAGMA database_list").fetchone()
    return found[2] + WAITING_SUFFIX if found and found[2] else None


def _start_waiting(raw: sqlite3.Connection) -> int:
    """Hold a shared lock on the waiting file while this connection waits for the write
    lock; returns its descriptor (closing it ends the wait), or -1 when there is no such
    file to hold (the wait then goes unannounced: the job pauses as if someone waited)."""
    path = _waiting_file(raw)
    if path is None:
        return -1
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o660)
    except OSError:
        return -1
    with suppress(OSError):  # shared like the database: its owner's and group's (the umask)
        if os.fstat(fd).st_mode & 0o777 != 0o660:
            os.fchmod(fd, 0o660)
    # (a job asking this very moment holds it alone: it sees this waiter next time)
    with suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    return fd


def writers_waiting(raw: sqlite3.Connection) -> bool:
    """Whether some connection (of any process) is waiting for the write lock of
    ``raw``'s SQLite database right now; True when that cannot be told."""
    path = _waiting_file(raw)
    if path is None:
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # no writer has ever had to wait for this database
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # a waiter holds its shared lock
    finally:
        os.close(fd)
    return False


def let_others_in(raw: sqlite3.Connection, until: float) -> None:
    """Pause until ``until`` (``time.monotonic()``) for the writers waiting for SQLite's
    write lock on ``raw``'s database, but no longer than any of them still waits."""
    while (left := until - time.monotonic()) > 0 and writers_waiting(raw):
        time.sleep(min(left, _LOOK_AGAIN))


_LOOK_AGAIN = 0.005
"""Seconds between two looks at whether writers are still waiting, in a pause for them."""


class Database:
    """One database: an engine plus the two kinds of unit of work the front ends use.

    ``with db.transaction() as session:`` is one user action: everything in it commits
    together or not at all. ``with db.reader() as session:`` only reads.
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 15_000,
        write_wait: float = WRITE_WAIT,
        echo: bool = False,
        identify: Callable[[Database], Principal] | None = None,
    ) -> None:
        self.url = url
        self._identify = identify
        self._principal: Principal | None = None
        self.write_wait = write_wait
        self.engine = make_engine(
            url, busy_timeout_ms=busy_timeout_ms, write_wait=write_wait, echo=echo
        )
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

    @property
    def principal(self) -> Principal:
        """Who acts through this database: established once, when first asked, by the
        front ends' :func:`open_database`; :data:`~fsm_core.access.SYSTEM` for a database
        in-process code constructed itself."""
        if self._principal is None:
            from fsm_core.access import SYSTEM

            identify, self._identify = self._identify, None
            self._principal = identify(self) if identify is not None else SYSTEM
        return self._principal

    def act_as(self, principal: Principal) -> None:
        """Act as ``principal`` from now on (the dashboard's and server's own sessions)."""
        self._identify = None
        self._principal = principal

    def _session_principal(self, principal: Principal | None) -> Principal:
        return principal if principal is not None else self.principal

    @contextmanager
    def transaction(self, *, principal: Principal | None = None) -> Iterator[Session]:
        """A session for one user action; commits on success, rolls back on any error.

        The transaction begins here, before the body runs: on SQLite that takes the write
        lock (``BEGIN IMMEDIATE``, waited for as :func:`begin_writing` says), so whatever
        the body does happens while no one else writes, and a busy database is retried
        while nothing of the action has happened yet — neither in the database nor outside
        it (a file copied, a line printed). Once the body runs, a failure is the action's.

        What the action changes is recorded in the audit trail as it commits (see
        :mod:`fsm_core.audit`).
        """
        self.ensure_schema()
        acting = self._session_principal(principal)
        with AuditedSession(self._writer, expire_on_commit=False) as session:
            session.info["principal"] = acting
            try:
                session.connection()
            except OperationalError as exc:
                raise DatabaseUnavailable(_describe_operational_error(self, exc)) from None
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reader(self, *, principal: Principal | None = None) -> Iterator[Session]:
        """A read-only session; nothing it does is committed. Closing it (not rolling
        back) keeps what was read usable after the block."""
        self.ensure_schema()
        acting = self._session_principal(principal)
        with AuditedSession(self.engine, expire_on_commit=False, autoflush=False) as session:
            session.info["principal"] = acting
            yield session

    def ensure_schema(self) -> None:
        """Create an empty database's schema; refuse one at another revision.

        Several processes starting on one empty database at once: one creates the schema
        (under the schema lock, see :func:`fsm_core.migrations.upgrade`), the others wait
        for it and go on with what it made."""
        if self._schema_checked:
            return
        from fsm_core.migrations import HEAD, refuse_unknown, upgrade

        current = self.current_revision()
        if current is None:
            current = upgrade(self.engine, "head", wait=self.write_wait, empty_only=True)[1]
        if current != HEAD:
            from fsm_core.migrations import is_known_revision

            if is_known_revision(current):
                raise SchemaOutOfDate(
                    f"the database is at schema revision {current}, this fsm needs {HEAD}",
                    hint="back it up, then run `fsm db upgrade`",
                    ru=f"база данных в редакции схемы {current}, этой версии fsm нужна {HEAD}",
                    hint_ru="сделайте резервную копию и выполните `fsm db upgrade`",
                )
            refuse_unknown(current)
        self._schema_checked = True
        if self.is_sqlite:
            self._drop_abandoned_imports()
            self._index_pending_orders()

    def _drop_abandoned_imports(self) -> None:
        """Delete the orders an import wrote ahead and never published, its process gone
        (killed; see fsm_core/import_batches.py). Hidden from every reader until then, so a
        database this program may not write is left as it is."""

        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            if raw is None:
                return
            with suppress(sqlite3.Error, DatabaseUnavailable):
                import_batches.drop_abandoned(raw, wait=self.write_wait)

    def _index_pending_orders(self) -> None:
        """Index the orders an import published but could not index before it stopped
        (killed after its commit; see fsm_core/search_index.py). Until then the search
        reads them itself, so a database this program may not write is left as it is."""
        from fsm_core import search_index

        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            if raw is None or not search_index.anything_pending(raw):
                return
            with suppress(sqlite3.Error, DatabaseUnavailable):
                search_index.catch_up(raw, wait=self.write_wait)

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
        """Apply migrations up to ``revision``; returns (before, after), both read under
        the schema lock (so of several at once, one says it created the schema)."""
        from fsm_core.migrations import upgrade

        try:
            before, after = upgrade(self.engine, revision, wait=self.write_wait)
        except OperationalError as exc:
            raise DatabaseUnavailable(_describe_operational_error(self, exc)) from None
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


def open_database(url: str | None = None, *, on_behalf_of: str | None = None) -> Database:
    """The database named by ``url``, else by the settings (``FSM_DATABASE_URL`` or the
    default SQLite file in the user's data folder), acting as the person the connection
    is bound to (see :mod:`fsm_core.identity`), or, for an admin, on behalf of the user
    ``on_behalf_of`` names."""
    from fsm_core.config import get_settings

    settings = get_settings()
    if url is None:
        url = settings.resolved_database_url()

    def identify(db: Database) -> Principal:
        from fsm_core.identity import establish

        return establish(db, on_behalf_of=on_behalf_of)

    return Database(url, write_wait=settings.write_wait, identify=identify)


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
