"""The schema's history, owned by Alembic. The program upgrades a database; it never
calls ``create_all``.

``HEAD`` is the revision this version of the program needs. It is a constant so that
checking a database on every command does not import Alembic; a test keeps it equal to
the newest migration in ``versions/``.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from fsm_core.errors import DatabaseUnavailable, InvalidInput, SchemaOutOfDate

HEAD = "0017"

_HERE = Path(__file__).resolve().parent


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Whether Alembic's comparison with the models looks at a schema object: not at the
    order text index of migration 0008 (SQLite's FTS5 table and its shadow tables,
    PostgreSQL's expression indexes), which no model describes."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("order_search")
    if type_ == "index":
        return not name.endswith("_trgm")
    return True


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["connection"] = connection
    return config


def script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is the id of one of this fsm's migrations. Compared whole:
    Alembic's own look-up also takes prefixes and relative steps, and asserts on an
    empty one (``fsm db upgrade ''`` was a traceback)."""
    return revision in {script.revision for script in script_directory().walk_revisions()}


def refuse_unknown(revision: str) -> None:
    """Refuse a database stamped with a revision this fsm does not know: a newer fsm
    wrote it, and this one is older."""
    if is_known_revision(revision):
        return
    raise SchemaOutOfDate(
        f"the database is at schema revision {revision}, which this fsm does not know "
        f"(it knows up to {HEAD}): a newer version of fsm upgraded it, and this one is older",
        hint="upgrade fsm to the version that wrote it",
        ru=f"база данных в редакции схемы {revision}, неизвестной этой версии fsm (она знает "
        f"редакции до {HEAD}): базу обновила более новая версия fsm, а эта старше",
        hint_ru="обновите fsm до версии, которая её записала",
    )


SCHEMA_LOCK = 0x66736D5F736368
"""The PostgreSQL advisory lock (``"fsm_sch"``) a process holds while it creates or
upgrades the schema; on SQLite the migration's own ``BEGIN IMMEDIATE`` is the lock."""


def upgrade(
    engine: Engine, revision: str = "head", *, wait: float = 60.0, empty_only: bool = False
) -> tuple[str | None, str]:
    """Upgrade the database behind ``engine`` to ``revision``; returns the revision it
    was at and the one it ends at, both read under the schema lock.

    The whole upgrade is one transaction that first takes the schema lock: a PostgreSQL
    advisory lock, SQLite's write lock. Of several processes doing this at once on one
    database, one migrates; the others wait (up to ``wait`` seconds), then find the work
    done. ``empty_only`` (first use): only create an empty database's schema; a database
    that has one already is left as it is, one holding other tables is refused."""
    if revision != "head" and not is_known_revision(revision):
        raise InvalidInput(
            f"unknown schema revision {revision!r} (this fsm knows up to {HEAD})",
            ru=f"неизвестная редакция схемы {revision!r} (эта версия fsm знает до {HEAD})",
        )
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:
            # Batch migrations copy and drop tables; with foreign keys on, the drop would
            # cascade into child tables. SQLite only honours this outside a transaction,
            # so it goes to the driver before the transaction begins.
            raw.execute("PRAGMA foreign_keys=OFF")
            connection.execution_options(fsm_begin="IMMEDIATE")
        try:
            with connection.begin():
                if not sqlite:
                    _advisory_lock(connection, wait)
                before = _revision(connection)
                if before is not None:
                    refuse_unknown(before)
                if empty_only:
                    if before is not None:
                        return before, before  # another process made it meanwhile
                    if _table_names(connection):
                        url = engine.url.render_as_string(hide_password=True)
                        raise SchemaOutOfDate(
                            f"{url} holds tables but no fsm schema version",
                            hint="point --db at an fsm database or an empty one",
                            ru=f"в {url} есть таблицы, но нет версии схемы fsm",
                            hint_ru="укажите в --db базу fsm или пустую",
                        )
                _migrate(connection, before, revision)
                if raw is not None:
                    broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
                after = _revision(connection)
                if after is None:
                    raise RuntimeError("the upgrade left the database without a revision")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    return before, after


def create_in(connection: Any, *, wait: float = 60.0) -> None:
    """Create this fsm's schema in an empty PostgreSQL database, on ``connection`` and in
    its open transaction, which the caller commits or rolls back: a copy makes its
    target's schema and fills it in one transaction, so a copy stopped anywhere (killed,
    failed) leaves the target as empty as it was."""
    _advisory_lock(connection, wait)
    _migrate(connection, _revision(connection), "head")


def _migrate(connection: Any, before: str | None, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(connection), revision)
    except CommandError as exc:
        raise InvalidInput(
            f"cannot upgrade from schema revision {before} to {revision}: {exc}",
            ru=f"нельзя обновить схему с редакции {before} до {revision}: {exc}",
        ) from None


def _revision(connection: Any) -> str | None:
    if "alembic_version" not in _table_names(connection):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _table_names(connection: Any) -> list[str]:
    from sqlalchemy import inspect

    # inspect() caches what it read: a fresh one sees the tables another process made
    return list(inspect(connection).get_table_names())


def _advisory_lock(connection: Any, wait: float) -> None:
    """Take the schema lock for the rest of ``connection``'s transaction, waiting for
    another process's upgrade up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    pause = 0.01
    while not connection.exec_driver_sql(
        f"SELECT pg_try_advisory_xact_lock({SCHEMA_LOCK})"
    ).scalar():
        left = deadline - time.monotonic()
        if left <= 0:
            raise DatabaseUnavailable(
                f"another fsm has been creating or upgrading the schema for {wait:g} s",
                hint="try again when it is done",
                ru=f"другой экземпляр fsm создаёт или обновляет схему уже {wait:g} с",
                hint_ru="повторите, когда он закончит",
            )
        time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
        pause = min(pause * 2, 0.2)
