"""An import half-way through shows nothing of its file to anyone, by any path.

On SQLite the import writes its orders ahead, tagged with an unpublished import batch
(fsm_core/import_batches.py); on PostgreSQL it holds them back in temporary tables. Either
way, while it is paused half-way, every list, search, count, lookup, export and command
sees the database as it was, and after it publishes every one of them sees the file.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import func, select

from fsm_core import import_batches
from fsm_core.errors import NotFound
from fsm_core.exporting.tables import export_rows
from fsm_core.models import ImportBatch, Order, OrderHistory
from fsm_core.services import lookup, orders
from fsm_core.services.order_queries import (
    board_counts,
    count_orders,
    filter_from_text,
    list_orders,
    stage_counts,
)
from tests.cli_runner import invoke
from tests.core.test_contention import PausedImport, _orders_file, sqlite_path

TERM = "из файла"  # in every description of the file, in none of the demo's


def _hidden_ids(url: str) -> list[int]:
    with sqlite3.connect(sqlite_path(url)) as conn:
        return [i for (i,) in conn.execute("SELECT id FROM orders WHERE import_batch_id > 0")]


def _everything_a_reader_sees(db, url: str) -> dict[str, object]:
    """What each path shows of the orders, by path."""
    seen: dict[str, object] = {}
    with db.reader() as s:
        text = filter_from_text(session=s, text=TERM)
        by_id = filter_from_text(session=s, text="IMP-0000")
        seen["count"] = count_orders(session=s)
        seen["stage counts"] = sum(stage_counts(session=s).values())
        seen["board counts"] = board_counts(session=s).total
        seen["board counts, searched"] = board_counts(session=s, filters=text).total
        seen["list"] = len(list_orders(session=s, limit=None))
        seen["list, searched"] = len(list_orders(session=s, filters=text, limit=None))
        seen["list, searched by external id"] = len(
            list_orders(session=s, filters=by_id, limit=None)
        )
        seen["count, searched"] = count_orders(session=s, filters=text)
        seen["ORM count"] = s.exec(select(func.count()).select_from(Order)).one()
        seen["ORM rows"] = len(s.exec(select(Order)).all())
        seen["ORM join"] = s.exec(select(func.count()).select_from(OrderHistory).join(Order)).one()
        _, rows = export_rows(s, "orders")
        seen["export"] = sum(1 for _ in rows)
        found = []
        for ref in ("IMP-00001", "IMP-01000"):
            with contextlib.suppress(NotFound):
                found.append(lookup.resolve_order(session=s, ref=ref).number)
        seen["lookup by external id"] = found
    listed = invoke(url, "orders", "list", "--search", TERM, "--json").stdout
    seen["fsm orders list --search"] = listed.count("IMP-")
    exported = invoke(url, "export", "orders", "-o", "-", "--format", "csv").stdout
    seen["fsm export orders"] = exported.count("IMP-")
    return seen


def test_no_reader_sees_an_import_half_way(with_demo, db_url, db, tmp_path: Path):
    before = _everything_a_reader_sees(db, db_url)
    importing = PausedImport(db_url, _orders_file(tmp_path / "o.csv", 3000))
    try:
        if db.is_sqlite:  # the orders are in the file, written ahead: the test means something
            hidden = _hidden_ids(db_url)
            assert len(hidden) >= 1500
            with db.reader() as s:
                assert s.get(Order, hidden[0]) is None
                with pytest.raises(NotFound):
                    lookup.resolve_order(session=s, ref=f"#{hidden[0]}")
            with db.transaction() as s, pytest.raises(NotFound):
                orders.move_order(session=s, order_id=hidden[0], stage="cancelled", actor="t")
        during = _everything_a_reader_sees(db, db_url)
    finally:
        report = importing.finish()
    assert during == before
    assert report.committed
    after = _everything_a_reader_sees(db, db_url)
    assert after["count"] == before["count"] + 3000
    assert after["board counts, searched"] == 1000  # capped: "1000+"
    assert after["list, searched"] == after["export"] - before["export"] == 3000
    assert len(after["lookup by external id"]) == 2
    assert after["fsm orders list --search"] > 0


def test_a_failed_import_takes_back_what_it_wrote_ahead(with_demo, db_url, db, tmp_path: Path):
    """An invalid row at the end of the file (no --skip-invalid): nothing is written,
    and on SQLite the orders written ahead are gone again, the numbers given back."""
    path = _orders_file(tmp_path / "o.csv", 3000)
    with path.open("a", encoding="utf-8") as f:
        f.write("IMP-99999;Нет такого заказчика;Последняя строка\n")
    with db.reader() as s:
        count = s.exec(select(func.count()).select_from(Order)).one()
    number_before = _next_number(db)
    result = invoke(db_url, "import", "orders", str(path), "--batch-size", "500", code=1)
    assert "nothing written" in result.stderr
    with db.reader() as s:
        assert s.exec(select(func.count()).select_from(Order)).one() == count
        assert s.exec(select(ImportBatch)).all() == []
    if db.is_sqlite:
        assert _hidden_ids(db_url) == []
    assert _next_number(db) == number_before


def _next_number(db) -> str:
    from fsm_core import clock

    with db.reader() as s:
        return orders.next_number(session=s, created_at=clock.now())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_batch_of_a_living_process_is_left_alone(with_demo, db_url, db):
    """Opening the database drops the batches of processes that are gone, not those of
    an import still running elsewhere."""
    with sqlite3.connect(sqlite_path(db_url), isolation_level=None) as conn:
        conn.execute(
            "INSERT INTO import_batch (owner, started_at, published, counters) "
            "VALUES (?, '2026-12-07 00:00:00.000000', 0, '{}')",
            (import_batches.owner(),),  # this very process: alive
        )
        assert import_batches.drop_abandoned(conn, wait=1) == 0
        conn.execute("UPDATE import_batch SET owner = ?", (_gone_owner(),))
        assert import_batches.drop_abandoned(conn, wait=1) == 1
        assert conn.execute("SELECT count(*) FROM import_batch").fetchone() == (0,)


def _gone_owner() -> str:
    import subprocess
    import sys

    from fsm_core.files import process_tag

    tag = subprocess.run(
        [sys.executable, "-c", "from fsm_core.files import process_tag; print(process_tag())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert tag != process_tag()
    return import_batches.owner().rsplit(":", 1)[0] + ":" + tag


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_copy_made_while_an_import_runs_leaves_its_orders_out(
    with_demo, db_url, db, tmp_path: Path
):
    """`fsm db copy` reads the tables as they are, not through the ORM: an import's
    orders written ahead (and their batch) stay out of the copy, where no reader would
    hide them (a PostgreSQL target does not)."""
    from fsm_core import db_copy

    with db.reader() as s:
        before = s.exec(select(func.count()).select_from(Order)).one()
    importing = PausedImport(db_url, _orders_file(tmp_path / "o.csv", 3000))
    try:
        assert _hidden_ids(db_url)
        target = f"sqlite:///{tmp_path / 'copy.db'}"
        db_copy.copy_database(source=db, to_url=target)
    finally:
        assert importing.finish().committed
    with sqlite3.connect(sqlite_path(target)) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (before,)
        assert conn.execute("SELECT count(*) FROM import_batch").fetchone() == (0,)
