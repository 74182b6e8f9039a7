"""The customer's pages as rendered, kept while the database has not changed.

A page a phone opens is the same HTML for every visitor but three fields: the form's CSRF
field and the name and phone the ``fsm_who`` cookie prefills. A page is rendered once with
markers in those places (:data:`SLOTS`), split at them, and kept; each request joins the
pieces with its own values, escaped (:meth:`Page.fill`).

What makes a kept page safe to serve is :class:`Changes`: SQLite's ``PRAGMA data_version``
read on a connection of its own that never writes. It changes whenever any other
connection commits — another process (``fsm labels revoke``, the dashboard), and this
server's own writes too, which go through its engine's pool, never through this
connection. The version is read *before* a page's data, so a commit that lands while a
page is being read leaves that page under the older version: asked again, it is read
anew. A kept page is served only while the version is the one it was read under, so a
revoked label or link, a moved stage, a new message or position shows on the very next
request, as if nothing were kept.

What the clock alone changes is bounded separately: a page may carry the first moment it
could read otherwise with nothing written (a finished order's link expires; an arrival
estimate's minute moves on, or its basis changes: see
:func:`fsm_core.services.arrival.estimate_until`), and is not served from then on.

PostgreSQL has no such counter on a connection (its NOTIFY triggers cover orders and
messages, not a rotated label): there :meth:`Changes.version` is None and nothing is kept.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from markupsafe import escape

from fsm_core import clock
from fsm_core.db import Database

PAGES_KEPT = 2048
"""Pages kept at most (tokens × browser languages); the least recently used goes first."""

_NONCE = secrets.token_hex(16)
SLOTS = {name: f"fsm-slot-{_NONCE}-{name}" for name in ("csrf", "name", "phone")}
"""The markers a page is rendered with where a visitor's own values go: random per
process, so no text of the database can contain one."""
_SPLIT = re.compile(f"fsm-slot-{_NONCE}-(csrf|name|phone)")


class Changes:
    """SQLite's change counter for ``database`` (None for PostgreSQL, an in-memory
    database, or when it cannot be read: then nothing is kept)."""

    def __init__(self, database: Database) -> None:
        self._path: Path | None = None
        name = database.engine.url.database
        if database.is_sqlite and name and name != ":memory:" and not name.startswith("file:"):
            self._path = Path(name)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._path is not None

    def version(self) -> int | None:
        """The database's version as this connection sees it: equal between two calls
        exactly when no other connection committed in between."""
        if self._path is None:
            return None
        with self._lock:
            try:
                if self._conn is None:
                    # nothing but PRAGMA data_version is ever run on it: every commit is
                    # another connection's (not opened read-only: SQLite cannot open a WAL
                    # database so while its -shm file is missing)
                    self._conn = sqlite3.connect(
                        self._path, check_same_thread=False, isolation_level=None
                    )
                    self._conn.execute("PRAGMA busy_timeout=100")  # the event loop waits meanwhile
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                self._close()
                return None

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._close()


@dataclass(frozen=True)
class Page:
    """A rendered page: literal pieces with the names of the slots between them."""

    pieces: tuple[str, ...]
    """literal, slot name, literal, slot name, ..., literal"""
    version: Hashable
    until: datetime | None = None
    """the moment from which it may read otherwise with nothing written (None: never)"""

    @classmethod
    def of(cls, html: str, *, version: Hashable, until: datetime | None = None) -> Page:
        return cls(pieces=tuple(_SPLIT.split(html)), version=version, until=until)

    def fill(self, **values: str) -> str:
        """The page with ``values`` (escaped) in its slots; a slot not given is empty."""
        pieces = list(self.pieces)
        for i in range(1, len(pieces), 2):
            pieces[i] = str(escape(values.get(pieces[i], "")))
        return "".join(pieces)

    def usable(self, version: Hashable) -> bool:
        if version != self.version:
            return False
        return self.until is None or clock.now() < self.until


class PageCache:
    """Rendered pages by key (page, token, the browser's languages); bounded."""

    def __init__(self, size: int = PAGES_KEPT) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable | None) -> Page | None:
        """The page kept for ``key`` if it is still what reading it now would give."""
        if version is None:
            return None
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if not page.usable(version):
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: Page) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)
