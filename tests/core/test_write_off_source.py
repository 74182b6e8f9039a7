"""Where a write-off for an order comes from by default: its reservation, the technician's
van when it has enough, else the nearest warehouse that has enough, else the one with the
most — never another technician's van."""

from decimal import Decimal

import pytest

from fsm_core.services import planning, stock, stock_queries

ACTOR = "Орлова В. П."


@pytest.fixture
def store(db, world):
    """Near the Nevsky shop: a small central warehouse; far away: a big regional one;
    Ivanov's van (empty), Petrov's van (full, and Petrov lives next door)."""
    with db.transaction() as s:
        pump = stock.create_item(session=s, data={"sku": "PUMP", "name": "Помпа", "unit": "шт"})
        near = stock.create_warehouse(
            session=s,
            data={"name": "Склад Центр", "latitude": "59.93", "longitude": "30.35"},
        )
        far = stock.create_warehouse(
            session=s,
            data={"name": "Склад Юг", "kind": "regional", "latitude": 59.80, "longitude": 30.27},
        )
        ivanov_van = stock.create_warehouse(session=s, data={"employee_id": world.ivanov.id})
        petrov_van = stock.create_warehouse(session=s, data={"employee_id": world.petrov.id})
        planning.set_home_base(
            session=s, employee_id=world.petrov.id, latitude=59.931, longitude=30.36
        )
        for warehouse, amount in ((near, 2), (far, 10), (petrov_van, 5)):
            stock.receive(
                session=s, item_id=pump.id, warehouse_id=warehouse.id, quantity=amount, actor=ACTOR
            )
        ids = {
            "pump": pump.id,
            "near": near.id,
            "far": far.id,
            "ivanov_van": ivanov_van.id,
            "petrov_van": petrov_van.id,
        }
    order = world.order(object_id=world.ac.id, assignee_id=world.ivanov.id)
    return order, ids


def suggested(db, order, item_id, quantity=None):
    with db.reader() as s:
        found = stock_queries.suggest_write_off(
            session=s,
            order=s.get(type(order), order.id),
            item_id=item_id,
            quantity=Decimal(quantity) if quantity is not None else None,
        )
        return found.id if found else None


def test_an_empty_van_is_passed_over_for_the_nearest_warehouse_that_has_enough(db, store):
    order, ids = store
    assert suggested(db, order, ids["pump"], 1) == ids["near"]  # not Ivanov's empty van
    assert suggested(db, order, ids["pump"], 3) == ids["far"]  # the near one has only 2
    assert suggested(db, order, ids["pump"]) == ids["near"]  # no quantity yet: any will do


def test_the_technicians_van_first_when_it_has_enough(db, store):
    order, ids = store
    with db.transaction() as s:
        stock.transfer(
            session=s,
            item_id=ids["pump"],
            from_warehouse_id=ids["far"],
            to_warehouse_id=ids["ivanov_van"],
            quantity=2,
            actor=ACTOR,
        )
    assert suggested(db, order, ids["pump"], 2) == ids["ivanov_van"]
    assert suggested(db, order, ids["pump"], 3) == ids["far"]  # the van has only 2


def test_the_orders_reservation_comes_first(db, store):
    order, ids = store
    with db.transaction() as s:
        stock.reserve(
            session=s,
            order_id=order.id,
            item_id=ids["pump"],
            warehouse_id=ids["far"],
            quantity=1,
            actor=ACTOR,
        )
    assert suggested(db, order, ids["pump"], 1) == ids["far"]


def test_short_everywhere_the_one_with_the_most(db, store):
    order, ids = store
    assert suggested(db, order, ids["pump"], 50) == ids["far"]


def test_another_technicians_van_is_never_suggested(db, store, world):
    order, ids = store
    other = world.order()
    with db.transaction() as s:  # only Petrov's van has it now
        for key in ("near", "far"):
            stock.write_off(
                session=s,
                order_id=other.id,
                item_id=ids["pump"],
                warehouse_id=ids[key],
                quantity=2 if key == "near" else 10,
                actor=ACTOR,
            )
    assert suggested(db, order, ids["pump"], 1) == ids["ivanov_van"]  # where it would come
