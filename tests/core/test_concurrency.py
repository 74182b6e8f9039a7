"""Several dispatchers at once: numbers stay unique and gap-free, edits never overwrite.

The PostgreSQL tests hold real concurrent transactions on separate connections; SQLite
queues writers on BEGIN IMMEDIATE and its busy timeout, and must give the same results.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from fsm_core.errors import Conflict
from fsm_core.models import Order
from fsm_core.services import orders
from tests.conftest import World


def create_in_threads(db, customer_id: int, count: int) -> list[str]:
    barrier = threading.Barrier(count)

    def create(i: int) -> str:
        barrier.wait()
        with db.transaction() as s:
            order = orders.create_order(
                session=s,
                data={"customer_id": customer_id, "description": f"Заявка {i}"},
                actor=f"dispatcher-{i}",
            )
            return order.number

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(create, range(count)))


@pytest.mark.postgres
def test_eight_dispatchers_creating_at_once_get_consecutive_numbers_pg(pg_db):
    world = World(pg_db)
    numbers = create_in_threads(pg_db, world.customer.id, 8)
    assert sorted(numbers) == [f"26-{n:04d}" for n in range(1, 9)]


def test_eight_dispatchers_creating_at_once_get_consecutive_numbers(db, world):
    numbers = create_in_threads(db, world.customer.id, 8)
    assert sorted(numbers) == [f"26-{n:04d}" for n in range(1, 9)]


@pytest.mark.postgres
def test_two_open_transactions_editing_one_order_one_wins_pg(pg_db):
    """Both read version 1 inside open transactions; the second commit must not win."""
    world = World(pg_db)
    order = world.order()
    first_read = threading.Event()
    second_read = threading.Event()
    first_saved = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with pg_db.transaction() as s:
            mine = s.get(Order, order.id)  # held, as a screen holds what it shows
            first_read.set()
            second_read.wait(5)
            orders.update_order(
                session=s, order_id=order.id, data={"description": "Первый"}, actor="a"
            )
            assert mine.version == 2
        first_saved.set()
        results["first"] = "saved"

    def second() -> None:
        first_read.wait(5)
        try:
            with pg_db.transaction() as s:
                mine = s.get(Order, order.id)  # version 1, before the first one saves
                second_read.set()
                first_saved.wait(5)
                assert mine.version == 1
                orders.update_order(
                    session=s, order_id=order.id, data={"description": "Второй"}, actor="b"
                )
            results["second"] = "saved"
        except Conflict as exc:
            results["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results["first"] == "saved"
    assert isinstance(results["second"], Conflict)
    assert results["second"].current_version == 2
    with pg_db.reader() as s:
        saved = s.get(Order, order.id)
        assert (saved.description, saved.version) == ("Первый", 2)


@pytest.mark.postgres
def test_concurrent_moves_of_one_order_pg(pg_db):
    """Many dispatchers press "in progress" at once: exactly one move happens."""
    world = World(pg_db)
    order = world.order(assignee_id=world.ivanov.id)
    barrier = threading.Barrier(6)

    def move(_: int) -> str:
        barrier.wait()
        try:
            with pg_db.transaction() as s:
                orders.move_order(
                    session=s,
                    order_id=order.id,
                    stage="in_progress",
                    actor="x",
                    expected_version=order.version,
                )
            return "moved"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(move, range(6)))
    assert sorted(outcomes) == ["conflict"] * 5 + ["moved"]
    with pg_db.reader() as s:
        saved = s.exec(select(Order).where(Order.id == order.id)).one()
    assert (saved.stage_code, saved.version) == ("in_progress", order.version + 1)
