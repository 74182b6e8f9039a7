"""``fsm db copy --to URL``: move a company's database to another one — the embedded
SQLite file to a PostgreSQL server, or back, or between two of a kind.

The target must be empty (the same check as a restore's). It gets its schema from this
fsm's migrations — so the triggers, SQLite's order text index and PostgreSQL's trigram
indexes and NOTIFY triggers are the target's own, made for its back-end, not copied —
and then every table's rows, in foreign-key order, in batches — on PostgreSQL the schema
and the rows in **one transaction**, on SQLite in a private file renamed into place:
the rows the migrations seed (stages, transitions, SLA defaults, the default user) are
deleted first and replaced by the source's, the PostgreSQL sequences are set past the
largest id, and the counts of every table and a random sample of rows (compared column
by column) are checked before the commit. Anything failing rolls it all back and the
target is left empty as it was, even by a process killed mid-way: an SQLite target is
built in a private file beside it and renamed into place only when verified; a
PostgreSQL target's schema and rows are one transaction (a database the copy created is
dropped again when it fails). The attachments (files named by their
SHA-256) are copied into the target's store, each checked against its name.

The source is read in one transaction (SQLite: one read transaction in WAL mode,
PostgreSQL: REPEATABLE READ), so the copy is one moment of it while others keep working;
it must be at this fsm's schema revision.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, create_engine, func, or_, select, text
from sqlalchemy.engine import URL, Connection

from fsm_core.backup import BackupError, in_russian, what_is_there
from fsm_core.db import Database, normalize_url
from fsm_core.errors import InvalidInput, SchemaOutOfDate
from fsm_core.files import open_part

BATCH = 5_000
"""Rows read and inserted at a time."""
SAMPLE = 50
"""Rows per table compared column by column after the copy."""
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")
_CHUNK = 1024 * 1024


class CopyError(BackupError):
    """A database cannot be copied, or the copy does not match its source."""


@dataclass
class CopyResult:
    source: str
    target: str
    tables: int
    rows: int
    attachments: int
    sampled: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def tables() -> list[Table]:
    """Every table of the models, parents before children (``alembic_version`` and the
    order text index's tables are the migrations', made in the target by them)."""
    from sqlmodel import SQLModel

    from fsm_core.models import load_all

    load_all()
    return list(SQLModel.metadata.sorted_tables)


def copy_database(*, source: Database, to_url: str, sample: int = SAMPLE) -> CopyResult:
    """Copy every row and attachment of ``source`` into the empty database at ``to_url``."""
    from fsm_core.access import demand
    from fsm_core.migrations import HEAD, is_known_revision

    started = time.monotonic()
    url = normalize_url(to_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise InvalidInput(
            f"{to_url}: give a file: sqlite:///PATH",
            ru=f"{to_url}: укажите файл: sqlite:///ПУТЬ",
        )
    revision = source.current_revision()
    was = source.display_url
    if revision is None:
        raise CopyError(
            f"{was} is empty: there is nothing to copy", ru=f"{was} пуста: копировать нечего"
        )
    if revision != HEAD:
        if is_known_revision(revision):
            raise SchemaOutOfDate(
                f"{was} is at schema revision {revision}, this fsm copies {HEAD}: "
                "upgrade the source first",
                hint="back it up, then run `fsm db upgrade`",
                ru=f"{was} в редакции схемы {revision}, а эта версия fsm копирует {HEAD}: "
                "сначала обновите исходную базу",
                hint_ru="сделайте резервную копию, затем `fsm db upgrade`",
            )
        raise SchemaOutOfDate(
            f"{was} is at schema revision {revision}, newer than this fsm knows (up to {HEAD})",
            hint="copy it with the version of fsm that wrote it, or a newer one",
            ru=f"{was} в редакции схемы {revision}, более новой, чем знает эта версия fsm "
            f"(до {HEAD})",
            hint_ru="копируйте той версией fsm, которая её записала, или более новой",
        )
    demand(source.principal, "database.admin")  # who acts, asked of a database in use
    if _same_database(source.engine.url, url):
        raise CopyError(
            f"{shown} is the source itself: give another database",
            ru=f"{shown} — это сама исходная база: укажите другую",
        )
    found = what_is_there(url)
    if found:
        raise CopyError(
            f"{shown} is not empty ({found}); nothing was copied",
            hint="copy into a new, empty database",
            ru=f"{shown} не пуста ({in_russian(found)}); ничего не скопировано",
            hint_ru="копируйте в новую, пустую базу",
        )
    if url.get_backend_name() == "sqlite":
        counts, sampled, attachments = _into_sqlite(source, url, sample)
    else:
        counts, sampled, attachments = _into_pg(source, url, sample)
    return CopyResult(
        source=source.display_url,
        target=shown,
        tables=len(counts),
        rows=sum(counts.values()),
        attachments=attachments,
        sampled=sampled,
        seconds=round(time.monotonic() - started, 2),
        counts=counts,
    )


def _same_database(a: URL, b: URL) -> bool:
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return Path(a.database or "").expanduser().resolve() == (
            Path(b.database or "").expanduser().resolve()
        )
    return (a.host, a.port or 5432, a.database) == (b.host, b.port or 5432, b.database)


def _into_sqlite(source: Database, url: URL, sample: int) -> tuple[dict[str, int], int, int]:
    """Build the copy in a private file beside the target; rename it when verified."""
    target = Path(url.database or "").expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    f, partial = open_part(str(target.parent), target.name)
    f.close()
    copy: Database | None = None
    added: list[Path] = []
    try:
        copy = Database(f"sqlite:///{partial}")
        copy.upgrade()
        with copy.engine.connect() as conn, conn.begin():
            counts, sampled = _copy_rows(source, conn, sample)
            check = conn.exec_driver_sql(
                "INSERT INTO order_search (order_search) VALUES ('integrity-check')"
            )
            check.close()
            attachments = _copy_attachments(source.engine.url, url, added)
        with copy.engine.connect() as conn:
            problem = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if problem != "ok":
                raise CopyError(
                    f"the copy fails SQLite's integrity check: {problem}",
                    ru=f"копия не проходит проверку целостности SQLite: {problem}",
                )
        with copy.engine.connect() as conn:  # its own: not inside the check's read
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.dispose()
        copy = None
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{partial}{suffix}")
        os.replace(partial, target)
    except BaseException:
        if copy is not None:
            copy.dispose()
        for name in (partial, f"{partial}-wal", f"{partial}-shm"):
            with contextlib.suppress(OSError):
                os.unlink(name)
        _remove(added)
        raise
    return counts, sampled, attachments


def _into_pg(source: Database, url: URL, sample: int) -> tuple[dict[str, int], int, int]:
    """The target's schema and rows in one transaction (a rollback, or a process killed
    anywhere, leaves the target as empty as it was); the database is dropped again if
    the copy created it and fails."""
    from fsm_core.migrations import create_in

    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    created = False
    copy: Database | None = None
    added: list[Path] = []
    try:
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            ).first():
                conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
                created = True
        try:
            copy = Database(url.render_as_string(hide_password=False))
            with copy.engine.connect() as conn, conn.begin():
                create_in(conn, wait=copy.write_wait)
                counts, sampled = _copy_rows(source, conn, sample)
                attachments = _copy_attachments(source.engine.url, url, added)
        except BaseException:
            _remove(added)
            if copy is not None:
                copy.dispose()
                copy = None
            if created:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
            raise
    finally:
        if copy is not None:
            copy.dispose()
        admin.dispose()
    return counts, sampled, attachments


# --- the rows ----------------------------------------------------------------------------


def _copy_rows(source: Database, target: Connection, sample: int) -> tuple[dict[str, int], int]:
    """Every table's rows from one moment of ``source`` into ``target`` (in its open
    transaction), then its sequences set and the counts and a sample checked."""
    everything = tables()
    reader = source.engine.connect()
    if not source.is_sqlite:
        reader = reader.execution_options(isolation_level="REPEATABLE READ")
    with reader as src, src.begin():
        for table in reversed(everything):  # what the migrations seeded
            target.execute(table.delete())
        counts: dict[str, int] = {}
        for table in everything:
            counts[table.name] = _copy_table(src, target, table)
        if target.dialect.name == "postgresql":
            _set_sequences(target, everything)
        sampled = 0
        for table in everything:
            have = target.execute(select(func.count()).select_from(table)).scalar_one()
            if have != counts[table.name]:
                raise CopyError(
                    f"table {table.name} has {have} rows in the copy, the source "
                    f"{counts[table.name]}; nothing was copied",
                    ru=f"в таблице {table.name} в копии строк: {have}, в исходной базе: "
                    f"{counts[table.name]}; ничего не скопировано",
                )
            sampled += _compare_sample(src, target, table, sample)
    return counts, sampled


def _copy_table(src: Connection, target: Connection, table: Table) -> int:
    key = list(table.primary_key.columns)
    # a column pointing at its own table (an object's parent, a forwarded message) is
    # filled in after all the table's rows are in: a parent may have the larger id
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later: list[dict[str, Any]] = []
    n = 0
    result = src.execution_options(yield_per=BATCH).execute(_published(select(table), table))
    for batch in result.partitions(BATCH):
        values = [dict(row._mapping) for row in batch]
        for row in values:
            if any(row[name] is not None for name in own):
                later.append(
                    {f"k_{c.name}": row[c.name] for c in key}
                    | {f"v_{name}": row[name] for name in own}
                )
                for name in own:
                    row[name] = None
        target.execute(table.insert(), values)
        n += len(values)
    if later:
        from sqlalchemy import bindparam

        where = and_(*(c == bindparam(f"k_{c.name}") for c in key))
        update = table.update().where(where).values({name: bindparam(f"v_{name}") for name in own})
        for start in range(0, len(later), BATCH):
            target.execute(update, later[start : start + BATCH])
    return n


def _set_sequences(target: Connection, everything: list[Table]) -> None:
    """Each serial or identity column's sequence continues after the largest id copied."""
    for table in everything:
        for column in table.primary_key.columns:
            sequence = target.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": f'public."{table.name}"', "c": column.name},
            ).scalar()
            if sequence is None:
                continue
            target.execute(
                text(
                    f'SELECT setval(:s, coalesce((SELECT max("{column.name}") '
                    f'FROM public."{table.name}"), 0) + 1, false)'
                ),
                {"s": sequence},
            )


def _published(query: Any, table: Table) -> Any:
    """``query`` of ``table``'s rows in key order, without the orders of an import still
    running (SQLite: written ahead, hidden until it publishes; see
    fsm_core/import_batches.py), which a copy must not make visible, nor their batch."""
    if table.name == "import_batch":
        query = query.where(table.c.published.is_(True))
    elif table.name == "orders":
        batches = tables_by_name()["import_batch"]
        unpublished = select(batches.c.id).where(batches.c.published.is_(False))
        query = query.where(
            or_(table.c.import_batch_id.is_(None), table.c.import_batch_id.not_in(unpublished))
        )
    return query.order_by(*table.primary_key.columns)


def tables_by_name() -> dict[str, Table]:
    return {t.name: t for t in tables()}


def _compare_sample(src: Connection, target: Connection, table: Table, sample: int) -> int:
    """Up to ``sample`` random rows of the source, each compared with the copy's."""
    if sample <= 0:
        return 0
    key = list(table.primary_key.columns)
    picked = src.execute(
        _published(select(table), table).order_by(None).order_by(func.random()).limit(sample)
    ).all()
    for row in picked:
        theirs = row._mapping
        where = and_(*(c == theirs[c.name] for c in key))
        ours = target.execute(select(table).where(where)).first()
        ident = ", ".join(f"{c.name}={theirs[c.name]!r}" for c in key)
        if ours is None:
            raise CopyError(
                f"table {table.name}: row {ident} is missing from the copy",
                ru=f"таблица {table.name}: строки {ident} нет в копии",
            )
        for column in table.columns:
            if _same(theirs[column.name]) != _same(ours._mapping[column.name]):
                source_value, copied = theirs[column.name], ours._mapping[column.name]
                raise CopyError(
                    f"table {table.name}: row {ident} differs in {column.name} "
                    f"({source_value!r} in the source, {copied!r} in the copy); "
                    "nothing was copied",
                    ru=f"таблица {table.name}: строка {ident} отличается в {column.name} "
                    f"({source_value!r} в исходной базе, {copied!r} в копии); "
                    "ничего не скопировано",
                )
    return len(picked)


def _same(value: Any) -> Any:
    """A value as both back-ends give it back: numbers exact, times in UTC, JSON
    canonical."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


# --- the attachments ---------------------------------------------------------------------


def _copy_attachments(source: URL, target: URL, added: list[Path]) -> int:
    """Copy the source's attachment files into the target's store (those already there,
    named by their hash, are the same files); ``added`` collects the new ones, for
    removal if the copy fails."""
    from fsm_core.attachments import store_folder_of

    folder = store_folder_of(source)
    if not folder.is_dir():
        return 0
    store = store_folder_of(target)
    n = 0
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or not _SHA256.match(entry.name):
            continue
        n += 1
        final = store / entry.name
        if final.exists():
            continue
        store.mkdir(parents=True, exist_ok=True, mode=0o700)
        f, partial = open_part(str(store), entry.name)
        try:
            digest = hashlib.sha256()
            with f, open(entry, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    f.write(chunk)
            if digest.hexdigest() != entry.name:
                raise CopyError(
                    f"attachment {entry} does not match its name (changed or damaged); "
                    "nothing was copied",
                    ru=f"вложение {entry} не совпадает со своим именем (изменено или "
                    "повреждено); ничего не скопировано",
                )
            os.replace(partial, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
        added.append(final)
    return n


def _remove(files: list[Path]) -> None:
    for path in files:
        with contextlib.suppress(OSError):
            path.unlink()
