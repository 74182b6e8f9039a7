"""Live updates: a change written through one database connection (another dispatcher's
process) reaches a subscriber on another within 2 seconds, on SQLite and PostgreSQL."""

import time

import pytest

from fsm_core import live
from fsm_core.db import Database
from fsm_core.services import chat, orders, planning, users
from fsm_core.timeparse import zone

MSK = zone("Europe/Moscow")


@pytest.fixture
def other(db_url):
    """A second Database on the same URL: another dispatcher's process."""
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


def wait_for(subscription, kind, seconds=2.0):
    """The changes of ``kind`` that arrive within ``seconds``, and how long it took."""
    started = time.monotonic()
    while (left := seconds - (time.monotonic() - started)) > 0:
        found = [c for c in subscription.poll(left) if c.kind == kind]
        if found:
            return found, time.monotonic() - started
    return [], seconds


def test_a_message_written_elsewhere_arrives_within_two_seconds(db, other, world):
    order = world.order()
    with db.transaction() as s:
        author = users.find_user(session=s, name="dispatcher")
    with live.subscribe(other) as subscription:
        assert subscription.poll(0.1) == []
        with db.transaction() as s:
            (message,) = chat.send_message(session=s, order_id=order.id, user=author, text="Едем")
        found, took = wait_for(subscription, "message")
    assert took < 2.0
    assert found[0].order_ids == (order.id,)
    assert found[0].ids == (message.id,)


def test_order_and_visit_changes_arrive_and_rollbacks_do_not(db, other, world):
    order = world.order()
    with live.subscribe(other) as subscription:
        with db.transaction() as s:
            orders.update_order(
                session=s, order_id=order.id, data={"description": "Не холодит"}, actor="a"
            )
        found, took = wait_for(subscription, "order")
        assert took < 2.0
        assert found[0].order_ids == (order.id,)

        with db.transaction() as s:
            start, end = planning.read_window("27.11.2026 10:00", "12:00", MSK)
            planning.add_visit(
                session=s,
                order_id=order.id,
                employee_id=world.ivanov.id,
                start=start,
                end=end,
                actor="a",
            )
        found, took = wait_for(subscription, "visit")
        assert took < 2.0
        assert found[0].order_ids == (order.id,)
        subscription.poll(0.3)  # the assignment that came with it

        def change_then_fail() -> None:
            with db.transaction() as s:
                orders.update_order(
                    session=s, order_id=order.id, data={"description": "Передумали"}, actor="a"
                )
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            change_then_fail()
        assert subscription.poll(0.6) == []


def test_a_burst_of_changes_reads_as_one_change_per_kind(db, other, world):
    a, b = world.order(), world.order()
    with live.subscribe(other) as subscription:
        for order in (a, b):
            with db.transaction() as s:
                orders.update_order(
                    session=s, order_id=order.id, data={"description": "y"}, actor="a"
                )
        time.sleep(0.3)
        changes = subscription.poll(2.0)
    assert [c.kind for c in changes] == ["order"]
    assert set(changes[0].order_ids) == {a.id, b.id}
