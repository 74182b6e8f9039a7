"""Many writers at once, and a long import among them: no action is lost, an import lets
the others write meanwhile and stays all or nothing (killed, too), and a new SQLite
database is its owner's alone.

Timings are not asserted (bench/contention.py measures them): where a test needs a bound,
the writer itself carries it (a short busy timeout, a lock timeout), and the test asserts
what happened.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text
from sqlmodel import Session, func, select

from fsm_core.db import Database
from fsm_core.errors import DatabaseUnavailable, FsmError
from fsm_core.models import Message, Order, OrderHistory
from fsm_core.services import orders
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


@pytest.fixture
def sqlite_url(db_url: str) -> str:
    """The test's SQLite database (a test taking it runs on SQLite alone)."""
    assert db_url.startswith("sqlite"), "parametrize db_url with ['sqlite']"
    return db_url


class HeldLock(threading.Thread):
    """Another program holding SQLite's write lock until told to let go."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.path = sqlite_path(url)
        self.taken = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        self.taken.set()
        self.release.wait(30)
        conn.execute("COMMIT")
        conn.close()


def new_order(db: Database, customer_id: int, description: str) -> str:
    with db.transaction() as s:
        return orders.create_order(
            session=s,
            data={"customer_id": customer_id, "description": description},
            actor="dispatcher",
        ).number


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's write lock
def test_a_write_waits_its_turn_longer_than_the_busy_timeout(sqlite_url, db):
    """A busy database is retried (backoff with jitter) up to write_wait, whatever the
    statement's busy timeout: the action is not lost."""
    world = World(db)
    writer = Database(sqlite_url, busy_timeout_ms=50)
    holder = HeldLock(sqlite_url)
    holder.start()
    assert holder.taken.wait(10)
    timer = threading.Timer(1.0, holder.release.set)  # the other program finishes later
    timer.start()
    try:
        number = new_order(writer, world.customer.id, "Ждали своей очереди")
    finally:
        holder.release.set()
        holder.join()
        writer.dispose()
    with db.reader() as s:
        saved = s.exec(select(Order).where(Order.number == number)).one()
    assert saved.description == "Ждали своей очереди"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's write lock
def test_a_write_that_never_gets_its_turn_gives_up_in_one_line(sqlite_url, db):
    world = World(db)
    writer = Database(sqlite_url, busy_timeout_ms=50, write_wait=0.3)
    holder = HeldLock(sqlite_url)
    holder.start()
    assert holder.taken.wait(10)
    ran = []

    def action() -> None:
        with writer.transaction() as s:
            ran.append("body")  # never: the turn comes before the action
            orders.create_order(
                session=s, data={"customer_id": world.customer.id, "description": "x"}, actor="x"
            )

    try:
        with pytest.raises(DatabaseUnavailable) as err:
            action()
    finally:
        holder.release.set()
        holder.join()
        writer.dispose()
    assert ran == []
    assert err.value.one_line() == (
        "the database is busy: another program has been writing to it for 0.3 s; nothing "
        "was changed (try again; if it stays busy, see what else uses the database)"
    )
    with db.reader() as s:
        assert s.exec(select(func.count()).select_from(Order)).one() == 0


# --- many processes at once -----------------------------------------------------------------

_DISPATCHER = """
import sys
from fsm_core.db import Database
from fsm_core.services import chat, orders
from fsm_core.services.users import find_user

url, index, customer, employee, at = sys.argv[1:6]
import time
while time.time() < float(at):
    time.sleep(0.002)
db = Database(url, busy_timeout_ms=50)  # waiting is the unit of work's, not SQLite's
with db.reader() as s:
    user = find_user(session=s, name="dispatcher")
    s.expunge(user)
for n in range(3):
    with db.transaction() as s:
        order = orders.create_order(
            session=s,
            data={"customer_id": int(customer), "description": f"{index}-{n}"},
            actor=f"d{index}",
        )
    with db.transaction() as s:
        orders.assign_order(
            session=s, order_id=order.id, actor=f"d{index}", assignee_id=int(employee)
        )
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor=f"d{index}")
    with db.transaction() as s:
        chat.send_message(session=s, order_id=order.id, user=user, text=f"{index}-{n}")
db.dispose()
"""


def test_many_processes_writing_at_once_lose_no_action(db_url, db):
    world = World(db)
    start = time.time() + 4.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _DISPATCHER,
                db_url,
                str(i),
                str(world.customer.id),
                str(world.ivanov.id),
                str(start),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(10)
    ]
    errors = []
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        if proc.returncode:
            errors.append(err.strip().splitlines()[-1])
    assert errors == []
    with db.reader() as s:
        made = s.exec(select(Order)).all()
        assert len(made) == 30
        assert {o.stage_code for o in made} == {"en_route"}
        assert len({o.number for o in made}) == 30
        assert s.exec(select(func.count()).select_from(Message)).one() == 30


# --- an import among the writers ------------------------------------------------------------


def _orders_file(path: Path, rows: int) -> Path:
    lines = ["Внешний код;Заказчик;Описание"]
    lines += [f"IMP-{i:05d};ООО «СМ-Трейд»;Заявка из файла {i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class PausedImport:
    """``fsm import orders`` of ``rows`` rows in a thread, stopping after 2,000 rows (a few
    batches held back) until :meth:`finish`; :attr:`result` is its report or error."""

    def __init__(self, url: str, path: Path) -> None:
        from fsm_core.importing.engine import ImportOptions, run_import
        from fsm_core.importing.readers import open_source

        self.halfway = threading.Event()
        self.resume = threading.Event()
        self.result: list = []
        source = open_source(path)
        rows = source.rows

        def paused_rows():
            for n, row in enumerate(rows()):
                if n == 2000:
                    self.halfway.set()
                    assert self.resume.wait(60)
                yield row

        source.rows = paused_rows
        self.database = Database(url)
        options = ImportOptions(workers=1, batch_size=500)

        def work() -> None:
            try:
                self.result.append(
                    run_import(self.database, entity="orders", source=source, options=options)
                )
            except Exception as exc:
                self.result.append(exc)

        self.thread = threading.Thread(target=work)
        self.thread.start()
        assert self.halfway.wait(60)

    def finish(self) -> object:
        self.resume.set()
        self.thread.join(120)
        self.database.dispose()
        return self.result[0] if self.result else None


def dispatcher_creates(url: str, data: dict) -> str:
    """An order created by another dispatcher, who waits for the write lock (SQLite) or a
    row lock (PostgreSQL) at most 2 s: the bound is the dispatcher's own."""
    dispatcher = Database(url, busy_timeout_ms=2000)
    if not dispatcher.is_sqlite:
        event.listen(dispatcher.engine, "connect", _bounded_lock_wait)
    try:
        with dispatcher.transaction() as s:
            return orders.create_order(session=s, data=data, actor="dispatcher").number
    finally:
        dispatcher.dispose()


def test_an_import_lets_others_write_while_it_runs_and_shows_nothing_until_done(
    with_demo, db_url, db, tmp_path
):
    with db.reader() as s:
        before = s.exec(select(func.count()).select_from(Order)).one()
        customer = s.exec(select(Order.customer_id)).first()
    importing = PausedImport(db_url, _orders_file(tmp_path / "o.csv", 3000))
    try:
        number = dispatcher_creates(
            db_url, {"customer_id": customer, "description": "Пока шёл импорт"}
        )
        with db.reader() as s:  # the import's rows are not there yet
            count = s.exec(select(func.count()).select_from(Order)).one()
        assert count == before + 1
    finally:
        report = importing.finish()
    assert (report.inserted, report.committed) == (3000, True)
    with db.reader() as s:
        numbers = s.exec(select(Order.number)).all()
        assert len(numbers) == before + 3001 == len(set(numbers))
        assert number in numbers
        creations = s.exec(
            select(func.count()).select_from(OrderHistory).where(OrderHistory.action == "create")
        ).one()
        assert creations == len(numbers)


def test_a_key_both_an_import_and_a_dispatcher_want_goes_to_one_of_them_whole(
    with_demo, db_url, db, tmp_path
):
    with db.reader() as s:
        before = s.exec(select(func.count()).select_from(Order)).one()
        customer = s.exec(select(Order.customer_id)).first()
    importing = PausedImport(db_url, _orders_file(tmp_path / "o.csv", 3000))
    data = {"customer_id": customer, "description": "Раньше импорта", "external_id": "IMP-00009"}
    try:  # the file's line 11 names IMP-00009: someone creates an order with that id now
        if db.is_sqlite:
            # SQLite: the import has written that order ahead (hidden until it publishes,
            # see fsm_core/import_batches.py), so its id is taken: the dispatcher is refused
            with pytest.raises(FsmError, match="external id 'IMP-00009' is already used"):
                dispatcher_creates(db_url, data)
        else:
            dispatcher_creates(db_url, data)
    finally:
        error = importing.finish()
    if db.is_sqlite:
        assert (error.inserted, error.committed) == (3000, True)
        with db.reader() as s:
            assert s.exec(select(func.count()).select_from(Order)).one() == before + 3000
        return
    assert isinstance(error, FsmError)
    assert error.one_line() == (
        "external id 'IMP-00009' was taken by another order while the import ran; nothing "
        "was written (run the import again)"
    )
    with db.reader() as s:
        assert s.exec(select(func.count()).select_from(Order)).one() == before + 1


def _bounded_lock_wait(dbapi_conn, _record) -> None:
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")


def fingerprint(url: str) -> str:
    """Every row of every table, as a digest: the same digest, the same database."""
    database = Database(url)
    digest = hashlib.sha256()
    try:
        with database.engine.connect() as conn:
            for table in sorted(inspect(conn).get_table_names()):
                rows = sorted(
                    repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table}"'))
                )
                digest.update(f"{table}:{len(rows)}:{'|'.join(rows)}".encode())
    finally:
        database.dispose()
    return digest.hexdigest()


def count_orders(url: str) -> int:
    """The orders a reader sees, read without opening the database as a program does
    (which would tidy it up first)."""
    database = Database(url)
    try:
        with database.engine.connect() as conn, Session(bind=conn) as s:
            return s.exec(select(func.count()).select_from(Order)).one()
    finally:
        database.dispose()


_KILLED_IMPORT = """
import os, signal, sys
from fsm_core import bulk
from fsm_cli.launch import main

url, path, when = sys.argv[1:4]
if when == "staging":  # killed while the file is being read: a few batches held back
    # (PostgreSQL) or written ahead, hidden (SQLite: see fsm_core/import_batches.py)
    real_add, real_turn = bulk.Staging.add, bulk.Staging.write_turn
    calls = []

    def add(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_add(self, *args, **kwargs)

    def write_turn(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # after three committed turns
            os.kill(os.getpid(), signal.SIGKILL)
        return real_turn(self, *args, **kwargs)

    bulk.Staging.add, bulk.Staging.write_turn = add, write_turn
else:  # killed while publishing: the rows are written, the commit not yet
    real_publish = bulk.Staging.publish

    def publish(self):
        real_publish(self)
        os.kill(os.getpid(), signal.SIGKILL)

    bulk.Staging.publish = publish
sys.argv = ["fsm", "--db", url, "import", "orders", path, "--batch-size", "500", "--workers", "1"]
main()
"""


@pytest.mark.parametrize("when", ["staging", "publishing"])
def test_a_killed_import_leaves_the_database_as_it_was(with_demo, db_url, tmp_path, when):
    path = _orders_file(tmp_path / "o.csv", 3000)
    # the first command binds the test's account to the demo's admin (fsm_core.identity):
    # a change of its own, made before the import starts
    subprocess.run([sys.executable, "-m", "fsm_cli", "--db", db_url, "users", "me"], check=True,
                   cwd=ROOT, capture_output=True)  # fmt: skip
    before = fingerprint(db_url)
    orders_before = count_orders(db_url)
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_IMPORT, db_url, str(path), when],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    if db_url.startswith("sqlite") and when == "staging":
        # the orders written ahead are in the file, and no reader sees them ...
        with sqlite3.connect(sqlite_path(db_url)) as conn:
            hidden = conn.execute(
                "SELECT count(*) FROM orders WHERE import_batch_id IS NOT NULL"
            ).fetchone()[0]
        assert hidden == 1500
        assert count_orders(db_url) == orders_before
        assert fingerprint(db_url) != before
    # ... until the next program that opens the database deletes them (the process that
    # wrote them is gone); then it is exactly as it was
    opened = Database(db_url)
    opened.ensure_schema()
    opened.dispose()
    assert fingerprint(db_url) == before
    # and the database works on: the same import, not killed, goes in whole
    env = {**os.environ, "FSM_LANG": "en"}
    done = subprocess.run(
        [sys.executable, "-m", "fsm_cli", "--db", db_url, "import", "orders", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "3000 inserted" in done.stderr


_KILLED_INDEXING = """
import os, signal, sys
from fsm_core import db, search_index
from fsm_cli.launch import main

url, path = sys.argv[1:3]
search_index.CHUNK = 1000
# as if another writer waited all along: each catch-up transaction indexes one chunk
db.writers_waiting = lambda raw: True
real_chunk = search_index.index_chunk
calls = []


def index_chunk(*args, **kwargs):  # killed after the commit, once 1,000 orders are indexed
    calls.append(1)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_chunk(*args, **kwargs)


search_index.index_chunk = index_chunk
sys.argv = ["fsm", "--db", url, "import", "orders", path, "--batch-size", "500", "--workers", "1"]
main()
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL indexes at once
def test_an_import_killed_while_indexing_its_orders_loses_nothing(
    with_demo, sqlite_url, tmp_path, monkeypatch
):
    """SQLite: the import's orders are in once it commits; their search index is written
    after, in short transactions. Killed between them, the orders not indexed yet are
    found all the same, and indexed when a program next opens the database."""
    from fsm_core import search_index
    from fsm_core.services.order_queries import OrderFilter, count_orders, list_orders

    path = _orders_file(tmp_path / "o.csv", 3000)
    with Database(sqlite_url).reader() as s:
        before = s.exec(select(func.count()).select_from(Order)).one()
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_INDEXING, sqlite_url, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    raw = sqlite3.connect(sqlite_path(sqlite_url))
    try:
        assert raw.execute("SELECT count(*) FROM orders").fetchone()[0] == before + 3000
        # the batches the import wrote ahead one after the other (see
        # fsm_core/import_batches.py), no one inserting between them, make one range
        ranges = raw.execute("SELECT lo, hi FROM order_search_pending").fetchall()
        assert len(ranges) == 1
        # a transaction of the indexing takes CHUNK ids (1,000 here) of it: the first
        # was indexed, the second transaction killed
        assert sum(hi - lo + 1 for lo, hi in ranges) == 2000
        last = raw.execute("SELECT id FROM orders WHERE external_id = 'IMP-02999'").fetchone()[0]
        assert any(lo <= last <= hi for lo, hi in ranges)
    finally:
        raw.close()

    def found(term: str) -> tuple[list[str], int]:
        with database.reader() as s:
            flt = OrderFilter(text=term)
            rows = list_orders(session=s, filters=flt)
            return [r["external_id"] for r in rows], count_orders(session=s, filters=flt)

    # a program that found them pending and could not index them (read-only, say)
    monkeypatch.setattr(Database, "_index_pending_orders", lambda self: None)
    database = Database(sqlite_url)
    try:
        assert found("из файла 2999") == (["IMP-02999"], 1)
        assert found("из файла 29")[1] == 111  # 29, 290-299, 2900-2999
    finally:
        database.dispose()
    monkeypatch.undo()
    database = Database(sqlite_url)  # the next program to open it indexes them
    try:
        with database.reader() as s:
            conn = s.connection()
            assert not search_index.anything_pending(conn.connection.driver_connection)
            matched = conn.exec_driver_sql(
                "SELECT count(*) FROM order_search WHERE order_search MATCH '\"из файла 29\"'"
            ).scalar()
        assert matched == 111
        assert found("из файла 2999") == (["IMP-02999"], 1)
    finally:
        database.dispose()


# --- a new database is private ----------------------------------------------------------------


def test_a_new_sqlite_database_and_its_folder_are_its_owner_and_groups_alone(tmp_path):
    """Each person who opens the file acts as the product user their operating-system
    account is bound to (fsm_core.identity): the people of one company share the file
    through its group; nobody else may read it."""
    old = os.umask(0o022)
    try:
        folder = tmp_path / "data" / "fsm"
        database = Database(f"sqlite:///{folder / 'fsm.db'}")
        with database.transaction() as s:  # creates the schema: the -wal and -shm files too
            s.execute(text("SELECT 1"))
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        database.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o770
    assert files == {"fsm.db": 0o660, "fsm.db-wal": 0o660, "fsm.db-shm": 0o660}
