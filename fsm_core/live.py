"""Live updates across processes: learn that another dispatcher changed something.

``subscribe(database)`` gives a :class:`Subscription`; ``poll(timeout)`` waits up to
``timeout`` seconds and returns what changed since the last call, as :class:`Change`
records (an order changed, a visit was planned or moved, a message was written), each
with the order ids concerned. The dashboard polls it from a worker thread; ``fsm chat
watch`` from its loop.

What reports the changes is the database itself, so no writer can forget to:

- PostgreSQL: triggers (migration 0004) on ``order_history`` (every change of an order
  writes history, planning a visit too) and ``message`` send ``NOTIFY fsm_changes`` with
  the ids, in the writing transaction: delivered at commit, never for a rollback, even
  for orders written by the bulk importer's COPY. The subscription LISTENs on its own
  connection.
- SQLite: ``PRAGMA data_version`` on the subscription's own connection changes when any
  other connection commits; only then does it read the new ``order_history`` and
  ``message`` rows past the last ids it saw (SQLite writers take turns, so ids grow in
  commit order). An idle poll costs one PRAGMA.
"""

from __future__ import annotations

import json
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsm_core.errors import InvalidInput

if TYPE_CHECKING:
    from fsm_core.db import Database

CHANNEL = "fsm_changes"
_MANY = 200  # past this many ids a change says "many" (order_ids None): reload everything


@dataclass(frozen=True)
class Change:
    """Something changed: ``kind`` is ``order``, ``visit``, ``message`` or ``position``;
    ``order_ids`` the orders concerned (None: too many to list; always empty for
    positions); ``ids`` the new messages' ids, or for positions the employees whose
    positions came (None: too many to list)."""

    kind: str
    order_ids: tuple[int, ...] | None
    ids: tuple[int, ...] | None = ()


class Subscription(ABC):
    """Changes written by anyone (any process) to one database; see :func:`subscribe`."""

    @abstractmethod
    def poll(self, timeout: float = 1.0) -> list[Change]:
        """Wait up to ``timeout`` seconds for changes; returns them (empty: none came)."""

    @abstractmethod
    def close(self) -> None:
        """Stop listening and release the connection."""

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[list[Change]]:
        """Batches of changes as they come, forever (until closed)."""
        while True:
            changes = self.poll(1.0)
            if changes:
                yield changes


def subscribe(database: Database, *, interval: float = 0.2) -> Subscription:
    """Start listening for changes to ``database`` (written from now on)."""
    if database.is_sqlite:
        return _SqliteSubscription(database, interval=interval)
    return _PostgresSubscription(database)


def _ids(values: Any) -> tuple[int, ...] | None:
    if values is None:
        return None
    return tuple(int(v) for v in values)


def _merge(changes: list[Change]) -> list[Change]:
    """One change per kind, ids united (a burst of writes reads as one refresh)."""
    merged: dict[str, Change] = {}
    for change in changes:
        before = merged.get(change.kind)
        if before is None:
            merged[change.kind] = change
            continue
        orders = (
            None
            if before.order_ids is None or change.order_ids is None
            else tuple(dict.fromkeys(before.order_ids + change.order_ids))
        )
        ids = None if before.ids is None or change.ids is None else before.ids + change.ids
        merged[change.kind] = Change(change.kind, orders, ids)
    return list(merged.values())


class _PostgresSubscription(Subscription):
    def __init__(self, database: Database) -> None:
        import psycopg

        engine = database.engine
        args, params = engine.dialect.create_connect_args(engine.url)
        self._conn = psycopg.connect(*args, **params, autocommit=True)
        self._conn.execute(f"LISTEN {CHANNEL}")

    def poll(self, timeout: float = 1.0) -> list[Change]:
        changes: list[Change] = []
        for notify in self._conn.notifies(timeout=max(timeout, 0.0), stop_after=1):
            changes.append(self._parse(notify.payload))
        if changes:  # and whatever else has arrived meanwhile
            for notify in self._conn.notifies(timeout=0.0):
                changes.append(self._parse(notify.payload))
        return _merge(changes)

    @staticmethod
    def _parse(payload: str) -> Change:
        data = json.loads(payload)
        return Change(data["kind"], _ids(data.get("orders")), _ids(data.get("ids", ())))

    def close(self) -> None:
        if not self._conn.closed:
            self._conn.close()


class _SqliteSubscription(Subscription):
    def __init__(self, database: Database, *, interval: float) -> None:
        path = database.engine.url.database
        if not path or path == ":memory:":
            raise InvalidInput("live updates need a database file, not an in-memory database")
        self._interval = interval
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._version = self._data_version()
        self._history = self._max("order_history")
        self._message = self._max("message")
        self._position = self._max("position")

    def _data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _max(self, table: str) -> int:
        return int(self._conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])

    def poll(self, timeout: float = 1.0) -> list[Change]:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            version = self._data_version()
            if version != self._version:
                self._version = version
                changes = self._read()
                if changes:
                    return changes
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            time.sleep(min(self._interval, left))

    def _read(self) -> list[Change]:
        changes: list[Change] = []
        rows = self._conn.execute(
            "SELECT id, order_id, action FROM order_history WHERE id > ? ORDER BY id LIMIT ?",
            (self._history, _MANY * 50),
        ).fetchall()
        if rows:
            self._history = rows[-1][0] if len(rows) < _MANY * 50 else self._max("order_history")
            kinds: dict[str, list[int]] = {}
            for _, order_id, action in rows:
                kinds.setdefault("visit" if action == "visit" else "order", []).append(order_id)
            for kind, order_ids in kinds.items():
                unique = tuple(dict.fromkeys(order_ids))
                changes.append(Change(kind, unique if len(unique) <= _MANY else None))
        rows = self._conn.execute(
            "SELECT id, order_id FROM message WHERE id > ? ORDER BY id LIMIT ?",
            (self._message, _MANY + 1),
        ).fetchall()
        if rows:
            if len(rows) > _MANY:
                self._message = self._max("message")
                changes.append(Change("message", None, None))
            else:
                self._message = rows[-1][0]
                orders = tuple(dict.fromkeys(r[1] for r in rows))
                changes.append(Change("message", orders, tuple(r[0] for r in rows)))
        top, employees = self._conn.execute(
            "SELECT max(id), group_concat(DISTINCT employee_id) FROM position WHERE id > ?",
            (self._position,),
        ).fetchone()
        if top is not None:
            self._position = top
            ids = tuple(int(e) for e in str(employees).split(","))
            changes.append(Change("position", (), ids if len(ids) <= _MANY else None))
        return changes

    def close(self) -> None:
        self._conn.close()
