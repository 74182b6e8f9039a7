"""``fsm db copy --to URL``: SQLite → PostgreSQL → SQLite keeps every row of every table,
every attachment and what the order search finds; the sequences continue; a non-empty
target, a source at an older schema and a copy that fails its check leave the target as
it was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from fsm_core import clock
from fsm_core import db_copy as dc
from fsm_core.backup import what_is_there
from fsm_core.config import get_settings
from fsm_core.db import Database, normalize_url
from fsm_core.errors import FsmError
from tests.cli_runner import invoke

PHOTO = b"\xff\xd8\xff\xe0 a photo of the pump " * 64


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PostgreSQL database keeps its attachments under FSM_DATA_DIR: one per test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("FSM_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture
def source(demo_template: Path, tmp_path: Path) -> str:
    """The demo company in an SQLite file, with a morning of GPS positions and a photo."""
    import shutil

    from fsm_core.attachments import store
    from fsm_core.demo_gps import load_demo_positions

    path = tmp_path / "src" / "fsm.db"
    path.parent.mkdir()
    shutil.copyfile(demo_template, path)
    url = f"sqlite:///{path}"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(PHOTO)
    database = Database(url)
    try:
        with database.transaction() as session:
            assert load_demo_positions(session=session, now=clock.now()) > 0
            store(session, photo)
    finally:
        database.dispose()
    return url


@pytest.fixture
def new_pg(request: pytest.FixtureRequest) -> Callable[[], str]:
    """URLs of PostgreSQL databases that do not exist yet (dropped after the test)."""

    def make() -> str:
        server = request.getfixturevalue("pg_server")
        name = f"{server.prefix}_c{uuid.uuid4().hex[:8]}"
        request.addfinalizer(lambda: server.drop(name))
        return str(server.url_of(name))

    return make


def copy(source: str, to: str) -> dc.CopyResult:
    database = Database(source)
    try:
        return dc.copy_database(source=database, to_url=to)
    finally:
        database.dispose()


def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as both back-ends give them back."""
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(dc._same(value) for value in row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in dc.tables()
            }
    finally:
        engine.dispose()


def found(url: str, term: str) -> set[int]:
    from fsm_core.services.order_queries import OrderFilter, list_orders

    database = Database(url)
    try:
        with database.reader() as s:
            rows = list_orders(session=s, filters=OrderFilter(text=term), limit=None)
            return {row["id"] for row in rows}
    finally:
        database.dispose()


def attachment_store(url: str) -> Path:
    from fsm_core.attachments import store_folder_of

    return store_folder_of(normalize_url(url))


def new_order(url: str) -> str:
    """An order and a customer made after the copy: every id from a sequence."""
    from fsm_core.models import Company
    from fsm_core.services import orders, parties

    database = Database(url)
    try:
        with database.transaction() as s:
            from sqlmodel import select as query

            customer = s.exec(query(Company).order_by(Company.id)).first()
            assert customer is not None
            order = orders.create_order(
                session=s,
                data={"customer_id": customer.id, "description": "после переезда"},
                actor="dispatcher",
            )
            parties.create_company(session=s, data={"name": "ООО «Новый клиент»"})
            return str(order.number)
    finally:
        database.dispose()


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back_keeps_everything(source, new_pg, tmp_path):
    pg = new_pg()
    back = f"sqlite:///{tmp_path / 'back' / 'fsm.db'}"
    before = contents(source)
    assert before["position"]
    assert before["attachment"]
    terms = ["генератор", "26-00", "ДГУ"]
    searched = {term: found(source, term) for term in terms}
    assert all(searched.values())

    there = copy(source, pg)
    again = copy(pg, back)

    assert there.tables == again.tables == len(dc.tables())
    assert there.rows == again.rows == sum(len(rows) for rows in before.values())
    assert there.counts == again.counts == {name: len(rows) for name, rows in before.items()}
    assert there.attachments == again.attachments == 1
    assert there.sampled > 0
    assert contents(pg) == before
    assert contents(back) == before
    for url in (pg, back):
        assert {term: found(url, term) for term in terms} == searched
        assert sorted(p.name for p in attachment_store(url).iterdir()) == sorted(
            p.name for p in attachment_store(source).iterdir()
        )
    engine = create_engine(normalize_url(back))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "INSERT INTO order_search (order_search) VALUES ('integrity-check')"
            )
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()
    # the sequences go on after the largest id copied: no duplicate key
    assert new_order(pg) == new_order(back) == new_order(source)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, on each back-end: an SQLite file not made yet, a PostgreSQL
    database created empty (as its administrator would create it for the company)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'to' / 'fsm.db'}"
    url = str(request.getfixturevalue("new_pg")())
    request.getfixturevalue("pg_server").create(make_url(url).database)
    return url


def test_a_target_that_is_not_empty_is_refused_and_untouched(source, target):
    Database(target).upgrade()  # the schema and its seeded rows
    before = contents(target)
    with pytest.raises(FsmError, match=r"is not empty \(\d+ tables, \d+ rows\); nothing was"):
        copy(source, target)
    assert contents(target) == before
    assert not attachment_store(target).exists()


def test_a_source_at_an_older_schema_is_refused(tmp_path, target):
    old = f"sqlite:///{tmp_path / 'old.db'}"
    database = Database(old)
    database.upgrade("0010")
    database.dispose()
    with pytest.raises(
        FsmError, match=r"revision 0010, this fsm copies 00\d+: upgrade the source first"
    ):
        copy(old, target)
    assert what_is_there(normalize_url(target)) is None


SPOILT = {
    # before the check of orders, a position goes: the count of positions differs
    "count": (
        "orders",
        "DELETE FROM position WHERE id = (SELECT max(id) FROM position)",
        r"table position has \d+ rows in the copy, the source \d+",
    ),
    # every company's name changed: whichever rows the sample takes differ
    "value": (
        "company",
        "UPDATE company SET name = name || ' (x)'",
        r"table company: row id=\d+ differs in name",
    ),
}


@pytest.mark.parametrize("spoil", sorted(SPOILT))
def test_a_copy_that_fails_its_check_leaves_the_target_empty(source, target, spoil, monkeypatch):
    real = dc._compare_sample
    when, sql, message = SPOILT[spoil]

    def spoilt(src: Any, tgt: Any, table: Any, sample: int) -> int:
        if table.name == when:  # checked after every row of every table is in
            tgt.exec_driver_sql(sql)
        return real(src, tgt, table, sample)

    monkeypatch.setattr(dc, "_compare_sample", spoilt)
    with pytest.raises(FsmError, match=message):
        copy(source, target)
    assert what_is_there(normalize_url(target)) is None
    assert not any(attachment_store(target).glob("*"))
    if target.startswith("sqlite"):
        folder = Path(make_url(target).database or "").parent
        assert [p.name for p in folder.iterdir()] == []  # no file, no .part left behind
    monkeypatch.undo()
    assert copy(source, target).rows == sum(len(rows) for rows in contents(source).values())


def test_the_command_line_copies_and_says_what_is_wrong_in_one_line(source, target, tmp_path):
    done = json.loads(invoke(source, "db", "copy", "--to", target, "--json").stdout)
    assert done["tables"] == len(dc.tables())
    assert done["attachments"] == 1
    assert done["rows"] == sum(done["counts"].values()) > 0
    result = invoke(source, "db", "copy", "--to", target, code=1)
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "is not empty" in result.stderr
    empty = f"sqlite:///{tmp_path / 'none.db'}"
    result = invoke(empty, "db", "copy", "--to", target, code=1)
    assert "is empty: there is nothing to copy" in result.stderr
    result = invoke(source, "db", "copy", "--to", source, code=1)
    assert "is the source itself" in result.stderr
