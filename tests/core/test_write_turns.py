"""A long job's short write turns on SQLite: it pauses for the other writers only while
one of them waits, and an import writes its new orders a turn's worth at a time.

The pause after each turn (as long as the turn held the lock) is what keeps a long import
from holding the others up; taken when no one waits, it only made the import slower. A
writer waiting for the lock says so (a shared lock on ``<database>-waiting``, see
fsm_core.db.begin_writing) and the job looks (:func:`fsm_core.db.writers_waiting`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fsm_core import bulk
from fsm_core import db as fsm_db
from fsm_core.db import WAITING_SUFFIX, begin_writing, let_others_in, writers_waiting
from fsm_core.errors import DatabaseUnavailable
from fsm_core.importing import engine
from fsm_core.importing.engine import ImportOptions, run_import
from fsm_core.importing.readers import open_source
from fsm_core.services import orders as order_service
from tests.core.test_contention import HeldLock, sqlite_path

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _connect(url: str) -> sqlite3.Connection:
    return sqlite3.connect(sqlite_path(url), isolation_level=None, check_same_thread=False)


class Waiter(threading.Thread):
    """A writer asking for the write lock while another holds it."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.conn = _connect(url)
        self.got = threading.Event()

    def run(self) -> None:
        begin_writing(self.conn, "IMMEDIATE", wait=20)
        self.got.set()
        self.conn.execute("ROLLBACK")


def _until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def test_a_waiting_writer_is_seen_while_it_waits_and_no_longer(with_demo, db_url):
    old = os.umask(0o022)
    try:
        _a_waiting_writer_is_seen(db_url)
    finally:
        os.umask(old)
    # the file's owner's and group's, like the database: the people of one company
    waiting = Path(sqlite_path(db_url) + WAITING_SUFFIX)
    assert stat.S_IMODE(waiting.stat().st_mode) == 0o660


def _a_waiting_writer_is_seen(db_url: str) -> None:
    looker = _connect(db_url)
    assert not writers_waiting(looker)  # no writer has ever waited: no file even
    held = HeldLock(db_url)
    held.start()
    assert held.taken.wait(10)
    waiter = Waiter(db_url)
    waiter.start()
    try:
        assert _until(lambda: writers_waiting(looker))
        assert not waiter.got.is_set()
    finally:
        held.release.set()
    assert waiter.got.wait(10)
    waiter.join(10)
    assert _until(lambda: not writers_waiting(looker))
    assert Path(sqlite_path(db_url) + WAITING_SUFFIX).exists()  # kept for the next waiter


def test_a_writer_that_gives_up_no_longer_counts_as_waiting(with_demo, db_url):
    looker = _connect(db_url)
    held = HeldLock(db_url)
    held.start()
    assert held.taken.wait(10)
    try:
        with pytest.raises(DatabaseUnavailable):
            begin_writing(_connect(db_url), "IMMEDIATE", wait=0.2)
        assert not writers_waiting(looker)
    finally:
        held.release.set()


class _Clock:
    """``time`` for fsm_core.db, recording its sleeps."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic()

    def perf_counter(self) -> float:
        return time.perf_counter()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        time.sleep(seconds)


def test_the_pause_is_taken_only_while_someone_waits(with_demo, db_url, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(fsm_db, "time", clock)
    conn = _connect(db_url)
    let_others_in(conn, time.monotonic() + 0.2)
    assert clock.slept == []  # no one waits: no pause at all
    # a writer waiting (its shared lock on the file) until the pause is half over
    fd = os.open(sqlite_path(db_url) + WAITING_SUFFIX, os.O_RDONLY | os.O_CREAT, 0o660)
    fcntl.flock(fd, fcntl.LOCK_SH)
    threading.Timer(0.1, os.close, (fd,)).start()
    started = time.monotonic()
    let_others_in(conn, started + 5)
    assert clock.slept  # paused while it waited ...
    assert time.monotonic() - started < 4  # ... and not for the whole 5 s once it got in


def _orders_file(path: Path, rows: int, numbers: dict[int, str] | None = None) -> Path:
    lines = ["Внешний код;Номер;Заказчик;Описание"]
    lines += [
        f"IMP-{i:05d};{(numbers or {}).get(i, '')};ООО «СМ-Трейд»;Заявка из файла {i}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def _a_writer_waiting(db_url: str) -> Iterator[None]:
    """A writer waiting for the lock all along, as begin_writing says it: its shared lock
    on the waiting file."""
    fd = os.open(sqlite_path(db_url) + WAITING_SUFFIX, os.O_RDONLY | os.O_CREAT, 0o660)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _import(db, tmp_path: Path, rows: int):
    """Import ``rows`` new orders in this process."""
    source = open_source(_orders_file(tmp_path / "o.csv", rows))
    return run_import(db, entity="orders", source=source, options=ImportOptions(workers=1))


@pytest.fixture
def turns(monkeypatch) -> list[int]:
    """The orders each write turn of an import added, in order."""
    counts: list[int] = []
    write_turn = bulk.Staging.write_turn

    def counted(self, write):
        before = self.session.connection().exec_driver_sql("SELECT count(*) FROM orders").scalar()
        result = write_turn(self, write)
        after = self.session.connection().exec_driver_sql("SELECT count(*) FROM orders").scalar()
        counts.append(after - before)
        return result

    monkeypatch.setattr(bulk.Staging, "write_turn", counted)
    return counts


def test_an_import_writes_its_orders_a_turns_worth_at_a_time(
    with_demo, db_url, db, tmp_path, monkeypatch, turns
):
    """Checked 250 rows at a time, written 1,000 a turn: 2,500 rows in three turns (the
    last, of 500, before publishing), not one turn per 250."""
    monkeypatch.setattr(engine, "CHECK_BATCH", 250)
    monkeypatch.setattr(order_service, "AHEAD_ROWS", 1000)
    report = _import(db, tmp_path, 2500)
    assert report.committed
    assert report.inserted == 2500
    assert turns == [1000, 1000, 500]


def test_while_others_wait_the_import_writes_shorter_turns(
    with_demo, db_url, db, tmp_path, monkeypatch, turns
):
    """A writer waiting all along (its shared lock on the waiting file): the turns are of
    AHEAD_ROWS_BUSY (250 here), each followed by its pause, not of AHEAD_ROWS (1,000)."""
    monkeypatch.setattr(engine, "CHECK_BATCH", 250)
    monkeypatch.setattr(order_service, "AHEAD_ROWS", 1000)
    monkeypatch.setattr(order_service, "AHEAD_ROWS_BUSY", 250)
    with _a_writer_waiting(db_url):
        report = _import(db, tmp_path, 1500)
    assert report.committed
    assert turns == [250] * 6


def test_a_number_given_twice_in_one_turn_is_refused_at_its_line(
    with_demo, db_url, db, tmp_path, monkeypatch
):
    """The second row giving a number that an earlier row of the same, not yet written
    turn gave is refused at its line, as when the first had been written already."""
    monkeypatch.setattr(engine, "CHECK_BATCH", 100)
    path = _orders_file(tmp_path / "o.csv", 300, numbers={10: "26-7777", 250: "26-7777"})
    source = open_source(path)
    report = run_import(db, entity="orders", source=source, options=ImportOptions(workers=1))
    assert not report.committed
    assert report.rejected == 1
    (problem,) = report.first_errors
    assert "252" in problem
    assert "order number '26-7777' is already taken" in problem


@pytest.fixture
def index_transactions(monkeypatch) -> list[int]:
    """The orders each catch-up transaction of the search index indexed, in order."""
    from fsm_core import search_index

    counts: list[int] = []
    real = search_index.index_chunk

    def pending(raw: sqlite3.Connection) -> int:
        found = raw.execute(f"SELECT sum(hi - lo + 1) FROM {search_index.PENDING}").fetchone()
        return int(found[0] or 0)

    def counted(raw, **kwargs):
        before = pending(raw)
        result = real(raw, **kwargs)
        if result:
            counts.append(before - pending(raw))
        return result

    monkeypatch.setattr(search_index, "index_chunk", counted)
    monkeypatch.setattr(search_index, "CHUNK", 1000)
    return counts


def test_the_index_catches_up_in_one_transaction_while_no_one_waits(
    with_demo, db_url, db, tmp_path, index_transactions
):
    """2,500 imported orders indexed 1,000 (CHUNK) a statement, all in one transaction:
    no commit between the chunks when no other writer wants the lock."""
    report = _import(db, tmp_path, 2500)
    assert report.committed
    assert index_transactions == [2500]


def test_while_others_wait_the_index_catches_up_a_chunk_a_transaction(
    with_demo, db_url, db, tmp_path, index_transactions
):
    """A writer waiting all along: each catch-up transaction indexes one chunk and lets
    it in."""
    with _a_writer_waiting(db_url):
        report = _import(db, tmp_path, 2500)
    assert report.committed
    assert index_transactions == [1000, 1000, 500]
