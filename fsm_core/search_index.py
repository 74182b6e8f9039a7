"""SQLite's order text index (migrations 0008 and 0010) when a large import publishes.

The FTS5 table ``order_search`` is kept in step with ``orders`` by triggers. Indexing
200,000 imported orders that way costs about as much again as inserting them, and all of
it under the write lock: the other writers waited 5.5 s. So each short transaction in
which an import writes its orders ahead (see fsm_core/import_batches.py) notes the ids it
adds as *not yet indexed* (a row of ``order_search_pending``: ``lo``..``hi``), which the
triggers skip, and once the import has published them it indexes them in short
transactions of their own (:func:`catch_up`), a chunk at a time, the others' writes going
on between them. (An import that is dropped deletes its orders unindexed, and the ranges
left empty with them.)

Meanwhile nothing is lost: the search reads the orders of the pending ranges themselves
(``_pending_ids`` in :mod:`fsm_core.services.order_queries`), with the same folded
comparison as the index; an order of a pending range that is changed or deleted is left
out of the index by the triggers too, and indexed as it is by then. A process killed
before the index caught up leaves the ranges in the database: they are indexed the next
time a program opens it (:meth:`fsm_core.db.Database.ensure_schema`), and searched
correctly until then.

All of this is SQLite's only: PostgreSQL's trigram indexes are kept by the server, and
its writers lock rows, not the database.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

PENDING = "order_search_pending"
CHUNK = 10_000
"""Orders indexed per statement of a catch-up transaction: ~0.1–0.2 s of the write lock
on two cores. A transaction goes on with the next chunk while no other writer waits for
the lock (10 transactions of 10,000 took 1.2 times as long as one of 100,000 statements
in ten chunks: each commit writes the index's pending segment)."""
YIELD = 0.03
"""Seconds between two catch-up transactions, for the writers waiting meanwhile."""

_FOLD = "replace(replace(coalesce({0}, ''), 'ё', 'е'), 'Ё', 'Е')"
_COLUMNS = ("number", "description", "external_id")
_INDEX = (
    "INSERT INTO order_search (rowid, number, description, external_id) "
    f"SELECT o.id, {', '.join(_FOLD.format('o.' + c) for c in _COLUMNS)} "
    "FROM orders AS o WHERE o.id BETWEEN ? AND ?"
)
_LAST_ID = 9223372036854775807


def has_pending_table(connection: Any) -> bool:
    """Whether the database has the table of not yet indexed ids (an SQLite with the
    FTS5 index, at revision 0010 or later). ``connection``: SQLAlchemy's."""
    if connection.dialect.name != "sqlite":
        return False
    known = connection.info.get("fsm_search_pending")
    if known is None:
        known = bool(
            connection.exec_driver_sql(
                f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{PENDING}'"
            ).scalar()
        )
        connection.info["fsm_search_pending"] = known
    return bool(known)


def defer_from(connection: Any, first_id: int) -> int:
    """In a publishing transaction, before it inserts its orders: every id from
    ``first_id`` on is not indexed by the triggers (no one else inserts meanwhile: this
    transaction holds the write lock). Returns the pending range's row id, for
    :func:`defer_until`. A range that ends just before ``first_id`` (the same import's
    last write-ahead turn, when no one inserted since) is extended rather than a new one
    added: :func:`catch_up` then indexes :data:`CHUNK` ids a transaction, not one turn's
    2,000 (50 transactions and pauses for 100,000 orders instead of 20)."""
    before = connection.exec_driver_sql(
        f"SELECT rowid FROM {PENDING} WHERE hi = ? LIMIT 1", (first_id - 1,)
    ).scalar()
    if before is not None:
        connection.exec_driver_sql(
            f"UPDATE {PENDING} SET hi = ? WHERE rowid = ?", (_LAST_ID, before)
        )
        return int(before)
    cursor = connection.exec_driver_sql(
        f"INSERT INTO {PENDING} (lo, hi) VALUES (?, ?)", (first_id, _LAST_ID)
    )
    return int(cursor.lastrowid)


def defer_until(connection: Any, pending: int) -> None:
    """After the inserts: the range ends at the last id they made, so that the orders
    others add after the commit are indexed by the triggers as usual."""
    connection.exec_driver_sql(
        f"UPDATE {PENDING} SET hi = (SELECT coalesce(max(id), 0) FROM orders) WHERE rowid = ?",
        (pending,),
    )


def catch_up(raw: sqlite3.Connection, *, wait: float, chunk: int | None = None) -> None:
    """Index the pending ranges' orders, ``chunk`` ids (default :data:`CHUNK`) per
    transaction, each taking its turn among the writers (waiting up to ``wait`` seconds).
    ``raw``: an sqlite3 connection outside any transaction. Several processes catching
    up at once share the work: each chunk reads the ranges under the lock."""
    from fsm_core.db import let_others_in

    while index_chunk(raw, wait=wait, chunk=chunk or CHUNK):
        # the others' turn, if any waits: a writer waiting for the lock retries every
        # 20 ms at most (fsm_core.db.begin_writing); taking it again at once would keep
        # it from them
        let_others_in(raw, time.monotonic() + YIELD)


def index_chunk(raw: sqlite3.Connection, *, wait: float, chunk: int) -> bool:
    """One transaction of :func:`catch_up`: the first ``chunk`` ids of the first pending
    range indexed, the range shortened (or gone), and so on with the next ``chunk`` for as
    long as no other writer waits for the lock. False: nothing was pending."""
    from fsm_core.db import begin_writing, writers_waiting

    begin_writing(raw, "IMMEDIATE", wait=wait)
    indexed = False
    try:
        while _index_next(raw, chunk):
            indexed = True
            if writers_waiting(raw):
                break
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return indexed


def _index_next(raw: sqlite3.Connection, chunk: int) -> bool:
    """Within a catch-up transaction: index the first ``chunk`` ids of the first pending
    range and shorten it (or drop it). False: nothing was pending."""
    found = raw.execute(f"SELECT rowid, lo, hi FROM {PENDING} ORDER BY lo LIMIT 1").fetchone()
    if found is None:
        return False
    rowid, lo, hi = found
    last = min(hi, lo + chunk - 1)
    if last >= lo:
        raw.execute(_INDEX, (lo, last))
    if last >= hi:
        raw.execute(f"DELETE FROM {PENDING} WHERE rowid = ?", (rowid,))
    else:
        raw.execute(f"UPDATE {PENDING} SET lo = ? WHERE rowid = ?", (last + 1, rowid))
    return True


def anything_pending(raw: sqlite3.Connection) -> bool:
    try:
        return raw.execute(f"SELECT 1 FROM {PENDING} LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # no such table: an SQLite without FTS5
        return False
