"""The order search through the text index (migration 0008) finds exactly what reading
every order finds: numbers, descriptions, external ids, customer and object names and
addresses; case- and ё-insensitive; ``%`` and ``_`` literal; on both back-ends. And the
index follows every change of an order, a customer or an object."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from fsm_core.db import Database, search_fold
from fsm_core.models import Company, Order, ServiceObject
from fsm_core.services import objects, order_queries, orders, parties
from fsm_core.services.order_queries import (
    OrderFilter,
    _scanning_condition,
    count_orders,
    list_orders,
    stage_counts,
    text_index,
)

CUSTOMERS = ["ООО «Ёлка»", "ИП Зайцев_и_К", "АО 100% Сервис"]
OBJECTS = [
    ("Магазин на Литейном", "Санкт-Петербург, Литейный пр., 10"),
    ("Склад ЁЖ", "Пушкин, ул. Ленина, 5"),
    ('Офис "Север"', "Мурино, Охтинская аллея, 2"),
]
DESCRIPTIONS = [
    "Течёт вода из внутреннего блока",
    "ТЕЧЕТ ВОДА, капает на витрину",
    "Скидка 50% не пробивается",
    "код ошибки E_12 на ТРК",
    'Табличка "Выход" не горит',
    "дгу не запускается",
    "Кондиционер шумит",
]
EXTERNAL = [None, "1C-000017", "ext_42", "Ё-7"]
TERMS = [
    "течет",
    "ТЕЧЁТ",
    "ёлк",
    "ЕЛКА",
    "50%",
    "100%",
    "%",
    "0%",
    "_",
    "e_1",
    "E_12",
    "зайцев_и",
    "в_",
    '"выход"',
    '"',
    "литейн",
    "ленина, 5",
    "ёж",
    "1c-0000",
    "ext_",
    "Ё-7",
    "26-00",
    "ко",
    "к",
    "  шумит  ",
    "нет такого",
    "pyx",
]


@pytest.fixture
def world(db: Database) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {"customers": [], "objects": [], "orders": []}
    with db.transaction() as s:
        for name in CUSTOMERS:
            ids["customers"].append(parties.create_company(session=s, data={"name": name}).id)
        for i, (name, address) in enumerate(OBJECTS):
            customer = ids["customers"][i % len(CUSTOMERS)]
            obj = objects.create_object(
                session=s, data={"customer_id": customer, "name": name, "address": address}
            )
            ids["objects"].append(obj.id)
        for i, description in enumerate(DESCRIPTIONS * 2):
            order = orders.create_order(
                session=s,
                data={
                    "customer_id": ids["customers"][i % 3],
                    "object_id": ids["objects"][i % 3] if i % 4 else None,
                    "description": description,
                    "external_id": EXTERNAL[i % 4] and f"{EXTERNAL[i % 4]}-{i}",
                },
                actor="t",
            )
            ids["orders"].append(order.id)
    return ids


def expected(db: Database, term: str) -> set[int]:
    """What the search means, in Python: any of the six texts contains the folded term."""
    key = search_fold(term.strip())
    found = set()
    with db.reader() as s:
        rows = s.execute(
            select(
                Order.id,
                Order.number,
                Order.description,
                Order.external_id,
                Company.name,
                ServiceObject.name,
                ServiceObject.address,
            )
            .join(Company, Company.id == Order.customer_id)
            .outerjoin(ServiceObject, ServiceObject.id == Order.object_id)
        ).all()
    for order_id, *texts in rows:
        if any(key in (search_fold(t) or "") for t in texts if t is not None):
            found.add(order_id)
    return found


def searched(db: Database, term: str) -> tuple[set[int], int, dict[str, int], set[int]]:
    """The search's page (all of it), its count and stage counts, and the old reading."""
    flt = OrderFilter(text=term)
    with db.reader() as s:
        page = {row["id"] for row in list_orders(session=s, filters=flt, limit=None)}
        count = count_orders(session=s, filters=flt)
        stages = stage_counts(session=s, filters=flt)
        scanned = set(s.execute(select(Order.id).where(*_scanning_condition(term))).scalars())
    return page, count, stages, scanned


def test_the_index_is_there_on_both_back_ends(db: Database, world: Any) -> None:
    with db.reader() as s:
        assert text_index(s) == ("fts5" if db.is_sqlite else "pg_trgm")


def test_results_are_those_of_reading_every_order(db: Database, world: Any) -> None:
    # one database for all the terms (a fresh PostgreSQL one costs seconds)
    for term in TERMS:
        page, count, stages, scanned = searched(db, term)
        want = expected(db, term)
        assert page == want == scanned, term
        assert count == len(want), term
        assert sum(stages.values()) == len(want), term
    assert expected(db, "течет")  # the terms do find something
    assert expected(db, "нет такого") == set()


def test_common_terms_give_the_same_results(db: Database, world: Any, monkeypatch: Any) -> None:
    """A term the index finds in many orders is looked for in date order for a page (and
    on PostgreSQL for the counts too): the results are the same."""
    monkeypatch.setattr(order_queries, "COMMON_TERM", 2)
    for term in TERMS:
        page, count, stages, scanned = searched(db, term)
        want = expected(db, term)
        assert page == want == scanned, term
        assert count == len(want), term
        assert sum(stages.values()) == len(want), term
        with db.reader() as s:
            first = order_queries.list_orders(session=s, filters=OrderFilter(text=term), limit=3)
        newest = sorted(want, reverse=True)[:3]  # created in order: the newest has the largest id
        assert [row["id"] for row in first] == newest, term


def test_the_search_is_not_a_pattern(db: Database, world: Any) -> None:
    assert len(searched(db, "50%")[0]) == 2  # the two "Скидка 50%" orders
    assert searched(db, "5_%")[0] == set()  # as a LIKE pattern it would find them
    assert searched(db, "к_д")[0] == set()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.integers(0, len(DESCRIPTIONS) - 1),
    offset=st.integers(0, 20),
    length=st.integers(1, 8),
    upper=st.booleans(),
)
def test_any_piece_of_a_description_finds_it(
    db: Database, world: Any, start: int, offset: int, length: int, upper: bool
) -> None:
    description = DESCRIPTIONS[start]
    term = description[offset : offset + length] or description[:length]
    if upper:
        term = term.upper()
    if not term.strip():
        return
    page, count, _, scanned = searched(db, term)
    assert page == expected(db, term) == scanned
    assert count == len(page)


def test_changes_keep_the_index_in_step(db: Database, world: Any) -> None:
    first, second = world["orders"][:2]
    with db.transaction() as s:
        orders.update_order(
            session=s, order_id=first, data={"description": "Замена ёмкости насоса"}, actor="t"
        )
        parties.update_company(
            session=s, company_id=world["customers"][1], data={"name": "ООО Вектор-Плюс"}
        )
        objects.update_object(
            session=s, object_id=world["objects"][2], data={"address": "Гатчина, ул. Новая, 3"}
        )
        created = orders.create_order(
            session=s,
            data={"customer_id": world["customers"][0], "description": "Новый ремонт щита"},
            actor="t",
        ).id
    for term, must, must_not in (
        ("емкости", {first}, set()),
        ("течёт вода из", set(), {first}),
        ("вектор-плюс", {second}, set()),
        ("зайцев", set(), {second}),
        ("гатчина", set(), set()),
        ("охтинская", set(), set()),
        ("ремонт щита", {created}, set()),
    ):
        page, count, _, scanned = searched(db, term)
        assert page == expected(db, term) == scanned, term
        assert must <= page, term
        assert not must_not & page, term
        assert count == len(page)
    assert searched(db, "гатчина")[0]  # the object's orders, by its new address
    assert not searched(db, "охтинская")[0]


def test_orders_written_outside_the_services_are_found(db: Database, world: Any) -> None:
    """The index is kept by the database (triggers on SQLite, indexes on PostgreSQL): rows
    written in plain SQL, as a bulk import or another program writes them, are in it."""
    with db.transaction() as s:
        s.execute(
            text("UPDATE orders SET description = 'Проверка щёток' WHERE id = :id"),
            {"id": world["orders"][3]},
        )
        s.execute(
            text("DELETE FROM order_history WHERE order_id = :id"), {"id": world["orders"][4]}
        )
        s.execute(text("DELETE FROM orders WHERE id = :id"), {"id": world["orders"][4]})
    assert searched(db, "щеток")[0] == {world["orders"][3]}
    for term in ("ТРК", "дгу", "шумит"):
        page, _, _, scanned = searched(db, term)
        assert page == expected(db, term) == scanned
        assert world["orders"][4] not in page


def test_the_migration_goes_down_and_up_again(db: Database, world: Any) -> None:
    from alembic import command

    from fsm_core import migrations

    if db.is_sqlite:
        left = "SELECT name FROM sqlite_master WHERE name LIKE 'order_search%'"
    else:
        left = "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'"
    with db.engine.connect() as conn:
        assert len(conn.execute(text(left)).all()) >= 3
        command.downgrade(migrations.alembic_config(conn), "0007")
        conn.commit()
    db.dispose()
    with db.engine.connect() as conn:
        assert conn.execute(text(left)).all() == []
        conn.execute(
            text("UPDATE orders SET description = 'Между миграциями' WHERE id = :id"),
            {"id": world["orders"][0]},
        )
        conn.commit()
    db.upgrade()
    db.dispose()
    page, count, _, scanned = searched(db, "между миграц")
    assert page == {world["orders"][0]} == scanned
    assert count == 1
    assert searched(db, "внутреннего блока")[0] == expected(db, "внутреннего блока")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL indexes at once
def test_orders_an_import_has_not_indexed_yet_are_found_and_indexed_later(
    db: Database, world: Any
) -> None:
    """SQLite: an import's publishing transaction leaves its orders out of the FTS5 index
    (a pending range) and indexes them after its commit. Meanwhile the search reads them
    itself; changed or deleted before they are indexed, they end up in the index as they
    are by then (fsm_core/search_index.py)."""
    from fsm_core import search_index

    with db.transaction() as s:
        conn = s.connection()
        first = conn.exec_driver_sql("SELECT max(id) FROM orders").scalar_one() + 1
        pending = search_index.defer_from(conn, first)
        held = [
            orders.create_order(
                session=s,
                data={"customer_id": world["customers"][i % 3], "description": description},
                actor="t",
            ).id
            for i, description in enumerate(
                ["Щит учёта искрит", "Течёт крыша над щитом", "Искрит розетка, код E_12"]
            )
        ]
        search_index.defer_until(conn, pending)

    def indexed(term: str) -> set[int]:
        with db.reader() as s:
            phrase = '"' + search_fold(term) + '"'
            return set(
                s.execute(
                    text("SELECT rowid FROM order_search WHERE order_search MATCH :p"),
                    {"p": phrase},
                ).scalars()
            )

    def same_as_reading(terms: list[str]) -> None:
        for term in terms:
            page, count, stages, scanned = searched(db, term)
            want = expected(db, term)
            assert page == want == scanned, term
            assert count == len(want) == sum(stages.values()), term

    terms = [*TERMS, "искрит", "щит", "ТЕЧЁТ", "e_12", "крыша"]
    assert not indexed("искрит")  # the index has not got them: the search reads them
    same_as_reading(terms)
    assert held[0] in searched(db, "искрит")[0]
    with db.transaction() as s:
        s.execute(
            text("UPDATE orders SET description = 'Щит учёта в порядке' WHERE id = :id"),
            {"id": held[0]},
        )
        s.execute(text("DELETE FROM order_history WHERE order_id = :id"), {"id": held[1]})
        s.execute(text("DELETE FROM orders WHERE id = :id"), {"id": held[1]})
    same_as_reading(terms)

    with db.engine.connect() as c:
        search_index.catch_up(c.connection.driver_connection, wait=5, chunk=1)
    with db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM order_search_pending")).scalar() == 0
        s.execute(text("INSERT INTO order_search (order_search) VALUES ('integrity-check')"))
    assert indexed("искрит") == {held[2]}
    assert indexed("в порядке") == {held[0]}
    assert not indexed("крыша")
    same_as_reading(terms)


@pytest.mark.parametrize("scan", [False, True], ids=["through-the-index", "reading-in-order"])
@pytest.mark.parametrize("cap", [2, 5, 100])
def test_board_counts_count_a_search_up_to_the_cap(
    db: Database, world: Any, monkeypatch: pytest.MonkeyPatch, cap: int, scan: bool
) -> None:
    """Under the cap the counts are exact; over it the total is the cap, said to be
    capped ("1000+"), and each stage's number is at most its real one. The same either way
    the first orders are found (``CAPPED_SCAN_TERM`` decides which)."""
    monkeypatch.setattr(order_queries, "COUNT_CAP", cap)
    monkeypatch.setattr(order_queries, "CAPPED_SCAN_TERM", 1 if scan else 10**9)
    for term in TERMS:
        flt = OrderFilter(text=term)
        with db.reader() as s:
            exact = stage_counts(session=s, filters=flt)
            counted = order_queries.board_counts(session=s, filters=flt)
        n = sum(exact.values())
        assert n == len(expected(db, term)) or not term.strip(), term
        if n <= cap:
            assert (counted.by_stage, counted.total, counted.capped) == (exact, n, False), term
        else:
            assert (counted.total, counted.capped) == (cap, True), term
            assert sum(counted.by_stage.values()) == cap + 1, term
            assert all(0 < k <= exact[code] for code, k in counted.by_stage.items()), term


def test_board_counts_without_a_term_are_exact(
    db: Database, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap is the search's: the unfiltered board (and any filter but a term) counts
    every order."""
    monkeypatch.setattr(order_queries, "COUNT_CAP", 1)
    for flt in (OrderFilter(), OrderFilter(text="  "), OrderFilter(stages=["new"])):
        with db.reader() as s:
            exact = stage_counts(session=s, filters=flt)
            counted = order_queries.board_counts(session=s, filters=flt)
        assert sum(exact.values()) > 1
        assert (counted.by_stage, counted.total, counted.capped) == (
            exact,
            sum(exact.values()),
            False,
        )


@pytest.mark.parametrize("window", [2, 5, 9])
def test_pages_found_among_the_newest_orders_are_the_pages(
    db: Database, world: Any, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """PostgreSQL looks for a page among the ``PAGE_WINDOW`` newest orders first, and
    through the index when they hold too few: either way each page is the one reading
    every order in date order gives (SQLite reads them as before)."""
    monkeypatch.setattr(order_queries, "PAGE_WINDOW", window)
    with db.transaction() as s:  # dates out of the ids' order, some the same
        for order in s.execute(select(Order)).scalars():
            order.created_at = datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(
                minutes=order.id * 7 % 11
            )
    with db.reader() as s:
        dated = s.execute(select(Order.id, Order.created_at)).all()
    newest_first = [i for i, _ in sorted(dated, key=lambda r: (r[1], r[0]), reverse=True)]
    for term in TERMS:
        want = expected(db, term) if term.strip() else set(newest_first)
        ordered = [i for i in newest_first if i in want]
        for offset, limit in ((0, 1), (0, 3), (1, 2), (2, 5)):
            flt = OrderFilter(text=term)
            with db.reader() as s:
                page = list_orders(session=s, filters=flt, limit=limit, offset=offset)
            assert [row["id"] for row in page] == ordered[offset : offset + limit], (term, offset)


def test_board_counts_count_an_order_found_twice_once(
    db: Database, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order whose own text and customer's name both hold the term is counted once,
    under the cap and over it, and the other filters narrow the capped count as they do
    the exact one."""
    with db.transaction() as s:
        customer = world["customers"][0]  # ООО «Ёлка»
        for text in ("Ёлка упала на витрину", "ёлку не привезли"):
            orders.create_order(
                session=s, data={"customer_id": customer, "description": text}, actor="t"
            )
    for cap in (2, 100):
        monkeypatch.setattr(order_queries, "COUNT_CAP", cap)
        for flt in (
            OrderFilter(text="ёлк"),
            OrderFilter(text="ЁЛКА", stages=["new"]),
            OrderFilter(text="ёлк", stages=["closed"]),
            OrderFilter(text="ёлк", open_only=True, criticalities=["normal"]),
        ):
            with db.reader() as s:
                exact = stage_counts(session=s, filters=flt)
                counted = order_queries.board_counts(session=s, filters=flt)
            n = sum(exact.values())
            if n <= cap:
                assert (counted.by_stage, counted.total, counted.capped) == (exact, n, False), flt
            else:
                assert (counted.total, counted.capped) == (cap, True), flt
                assert all(0 < k <= exact[code] for code, k in counted.by_stage.items()), flt
    with db.reader() as s:
        assert sum(stage_counts(session=s, filters=OrderFilter(text="ёлк")).values()) == len(
            expected(db, "ёлк")
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL indexes by itself
def test_pending_ranges_one_after_the_other_make_one(db: Database, world: Any) -> None:
    """SQLite: an import's write-ahead turns defer the indexing of ids that follow on from
    the last turn's: the range is extended (indexed later CHUNK ids a transaction), while
    ids after someone else's orders (indexed by the triggers) start a range of their own."""
    from fsm_core import search_index

    def turn(s: Any) -> int:
        conn = s.connection()
        first = conn.exec_driver_sql("SELECT max(id) FROM orders").scalar_one() + 1
        pending = search_index.defer_from(conn, first)
        orders.create_order(
            session=s, data={"customer_id": world["customers"][0], "description": "x"}, actor="t"
        )
        search_index.defer_until(conn, pending)
        return pending

    with db.transaction() as s:
        a = turn(s)
    with db.transaction() as s:
        b = turn(s)
    with db.transaction() as s:  # someone else's order, indexed at once
        orders.create_order(
            session=s, data={"customer_id": world["customers"][1], "description": "y"}, actor="t"
        )
    with db.transaction() as s:
        c = turn(s)
    assert a == b != c
    with db.reader() as s:
        ranges = s.execute(text("SELECT lo, hi FROM order_search_pending ORDER BY lo")).all()
        last = s.execute(text("SELECT max(id) FROM orders")).scalar_one()
    assert [(hi - lo + 1) for lo, hi in ranges] == [2, 1]
    assert ranges[1][0] == ranges[0][1] + 2
    assert ranges[1][1] == last
