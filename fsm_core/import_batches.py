"""An SQLite import's orders: written ahead in short transactions, hidden until published.

Publishing 200,000 imported orders in one transaction held SQLite's write lock for 2.5–3 s
(inserting them into ``orders`` and its indexes alone took 1.3–1.5 s), and every other
writer waited that long. So an import on SQLite writes its new orders into ``orders`` as
it reads the file, some thousands at a time (:data:`fsm_core.services.orders.AHEAD_ROWS`),
each lot in a short write transaction of its own (:meth:`fsm_core.bulk.Staging.write_turn`,
with a pause after it while other writers wait for the lock), every row tagged with the
import's :class:`~fsm_core.models.ImportBatch`. Its
one publishing transaction then only flips the batch to ``published`` and writes the
orders' "create" history rows.

Until then the batch's orders are **hidden from every reader**: each ORM statement
(select, update, delete — the lists, counts, searches, reports, exports, a lookup by id)
run while some batch is unpublished gets the criterion "not one of those batches' orders"
(:func:`_hide`, a ``do_orm_execute`` event with ``with_loader_criteria``); when no batch
is unpublished — nearly always — statements run as they are. Within a transaction a
reader's snapshot holds the batch rows and the orders alike, so it sees a batch and its
orders consistently. The raw SQL that reads orders (the import's own lookups by number or
external id, the live updates' history polling) either wants every row (a number taken
by a batch is taken) or never meets a batch's orders (their history is written when they
are published).

The file as a whole stays all or nothing: an import that fails (an invalid row without
``--skip-invalid``, an error, Ctrl-C) deletes its batch's orders again in short
transactions (:func:`abandon`) and gives back the order numbers it took when no one
numbered an order after it; one killed outright (``kill -9``, a power cut) leaves its
batch unpublished, and the next program that opens the database deletes it
(:func:`drop_abandoned`, from :meth:`fsm_core.db.Database.ensure_schema`) once the
process that wrote it is gone.

PostgreSQL is not concerned: its writers lock rows, not the database, so an import there
holds its new orders back in temporary tables and publishes them with one INSERT ...
SELECT, as before (:class:`fsm_core.bulk.Staging`).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from typing import Any

from sqlalchemy import event, or_
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlmodel import col, select

from fsm_core.files import process_tag, tag_gone
from fsm_core.models import ImportBatch, Order

TABLE = "import_batch"
CHUNK = 5_000
"""Orders deleted per transaction when a batch is dropped."""
YIELD = 0.02
"""Seconds between two of a batch's write transactions, for the writers waiting meanwhile
(a writer waiting for the lock retries every 20 ms at most, see fsm_core.db.begin_writing)."""
COUNTER_LOG = "fsm_counter_log"
"""session.info key: the order counters a write-ahead turn moves (see record_bump)."""


def owner() -> str:
    """This process, as a batch's ``owner``: host and :func:`fsm_core.files.process_tag`."""
    return f"{socket.gethostname()}:{process_tag()}"


def owner_gone(name: str) -> bool:
    """Whether the process that wrote a batch is gone (known only on its own host: a
    batch of another machine's process on a shared file is left alone)."""
    host, _, tag = name.rpartition(":")
    return host == socket.gethostname() and tag_gone(tag)


# --- hiding -----------------------------------------------------------------------------


def _has_table(connection: Any) -> bool:
    known = connection.info.get("fsm_import_batch")
    if known is None:
        known = bool(
            connection.exec_driver_sql(
                f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'"
            ).scalar()
        )
        connection.info["fsm_import_batch"] = known
    return bool(known)


def hidden_batches(connection: Any) -> list[int]:
    """The batches whose orders the readers of ``connection`` (SQLAlchemy's) must not
    see: those not published (SQLite; none elsewhere)."""
    if connection.dialect.name != "sqlite" or not _has_table(connection):
        return []
    return [
        int(i) for (i,) in connection.exec_driver_sql(f"SELECT id FROM {TABLE} WHERE NOT published")
    ]


def _visible(cls: Any) -> Any:
    unpublished = select(ImportBatch.id).where(col(ImportBatch.published).is_(False))
    return or_(cls.import_batch_id.is_(None), cls.import_batch_id.not_in(unpublished))


_HIDDEN = "fsm_hidden_batches"  # session.info: (its transaction, the hidden batches)


@event.listens_for(Session, "do_orm_execute")
def _hide(state: ORMExecuteState) -> None:
    """Every ORM statement leaves out the orders of unpublished batches (see the module
    doc), wherever it names ``Order`` (joins and aliases too)."""
    session = state.session
    # asked once a transaction: its snapshot (SQLite's, from its first read on) holds the
    # batches and their orders alike
    transaction = session.get_transaction()
    known = session.info.get(_HIDDEN)
    if known is not None and known[0] is transaction:
        if not known[1]:
            return  # nearly always: no import is running
    elif not (state.is_select or state.is_update or state.is_delete):
        return
    else:
        connection = session.connection()
        hidden = hidden_batches(connection) if connection.dialect.name == "sqlite" else []
        session.info[_HIDDEN] = (transaction, hidden)
        if not hidden:
            return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.execution_options.get("fsm_every_order"):
        return
    state.statement = state.statement.options(
        with_loader_criteria(Order, _visible, include_aliases=True)
    )


# --- writing ----------------------------------------------------------------------------


def record_bump(session: Any, scope: str, value: int, amount: int) -> None:
    """Note that a write-ahead turn moved ``scope``'s order counter by ``amount`` to
    ``value``: the batch keeps, per scope, the value before it, the value after it, and
    whether someone else numbered an order in between (then the numbers are not given
    back if the batch is dropped)."""
    log = session.info.get(COUNTER_LOG)
    if log is None:
        return
    before = value - amount
    entry = log.get(scope)
    if entry is None:
        log[scope] = [before, value, True]
    else:
        entry[2] = entry[2] and entry[1] == before
        entry[1] = value


def open_batch(connection: Any, now: Any) -> int:
    """A new, unpublished batch (in a write turn); returns its id."""
    cursor = connection.exec_driver_sql(
        f"INSERT INTO {TABLE} (owner, started_at, published, counters) VALUES (?, ?, 0, '{{}}')",
        (owner(), now),
    )
    return int(cursor.lastrowid)


def note_written(
    connection: Any, batch: int, first: int, last: int, counters: dict[str, Any]
) -> None:
    """The batch's id range and counters after a write-ahead turn."""
    connection.exec_driver_sql(
        f"UPDATE {TABLE} SET first_id = coalesce(first_id, ?), last_id = ?, counters = ? "
        "WHERE id = ?",
        (first, last, json.dumps(counters), batch),
    )


def publish(connection: Any, batch: int) -> tuple[int, int] | None:
    """Make the batch's orders visible (in the publishing transaction); returns their id
    range (None: nothing was written)."""
    connection.exec_driver_sql(f"UPDATE {TABLE} SET published = 1 WHERE id = ?", (batch,))
    first, last = connection.exec_driver_sql(
        f"SELECT first_id, last_id FROM {TABLE} WHERE id = ?", (batch,)
    ).one()
    return None if first is None else (int(first), int(last))


def abandon(raw: sqlite3.Connection, batch: int, *, wait: float) -> None:
    """Delete an unpublished batch's orders, :data:`CHUNK` at a time in transactions of
    their own, give back the numbers it took where no one numbered an order after it,
    and forget the batch. ``raw``: an sqlite3 connection outside any transaction."""
    from fsm_core.db import begin_writing, let_others_in

    while True:
        begin_writing(raw, "IMMEDIATE", wait=wait)
        try:
            found = raw.execute(
                f"SELECT first_id, last_id, counters FROM {TABLE} WHERE id = ? AND NOT published",
                (batch,),
            ).fetchone()
            more = False
            if found is not None:
                first, last, counters = found
                if first is not None and first <= last:
                    upto = min(last, first + CHUNK - 1)
                    raw.execute(
                        "DELETE FROM orders WHERE id BETWEEN ? AND ? AND import_batch_id = ?",
                        (first, upto, batch),
                    )
                    raw.execute(f"UPDATE {TABLE} SET first_id = ? WHERE id = ?", (upto + 1, batch))
                    more = upto < last
                if not more:
                    for scope, (before, after, alone) in json.loads(counters).items():
                        if alone:
                            raw.execute(
                                "UPDATE order_counter SET value = ? WHERE scope = ? AND value = ?",
                                (before, scope, after),
                            )
                    raw.execute(f"DELETE FROM {TABLE} WHERE id = ?", (batch,))
                    _forget_pending(raw)
            raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
        if not more:
            return
        let_others_in(raw, time.monotonic() + YIELD)


def _forget_pending(raw: sqlite3.Connection) -> None:
    """The ranges of orders not yet indexed for the search that no order is left in
    (those of a dropped batch, whose orders were never indexed)."""
    from fsm_core import search_index

    if search_index.anything_pending(raw):
        raw.execute(
            f"DELETE FROM {search_index.PENDING} WHERE NOT EXISTS "
            f"(SELECT 1 FROM orders AS o WHERE o.id BETWEEN {search_index.PENDING}.lo "
            f"AND {search_index.PENDING}.hi)"
        )


def drop_abandoned(raw: sqlite3.Connection, *, wait: float) -> int:
    """Drop the unpublished batches whose process is gone (killed while importing);
    returns how many. ``raw``: an sqlite3 connection outside any transaction."""
    try:
        found = raw.execute(f"SELECT id, owner FROM {TABLE} WHERE NOT published").fetchall()
    except sqlite3.OperationalError:  # no such table: an older schema
        return 0
    dropped = 0
    for batch, name in found:
        if owner_gone(name):
            abandon(raw, batch, wait=wait)
            dropped += 1
    return dropped
