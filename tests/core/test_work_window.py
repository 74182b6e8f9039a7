"""When recorded work most likely happened: the planned time of the order's visit that
has begun (up to now while it is on), else its planned window, else the last hour."""

from datetime import timedelta

from fsm_core import clock
from fsm_core.services import orders, planning
from tests.core.test_planning import MSK, at
from tests.core.test_planning import visit as planned_visit


def visit(*args, **kw):
    # work is recorded after the visit: these visits are planned (by then) in the past
    return planned_visit(*args, allow_past=True, **kw)


def window(db, order, now):
    with db.reader() as s:
        return planning.work_window(session=s, order_id=order.id, now=now)


def early_order(world, **fields):
    with clock.frozen(at(25, 9)):
        return world.order(object_id=world.ac.id, **fields)


def test_a_visit_that_is_over_gives_its_planned_time(db, world):
    order = early_order(world)
    v = visit(db, order, world.ivanov, at(26, 9, 30), at(26, 11, 30))
    got = window(db, order, at(26, 12))
    assert (got.start, got.end, got.visit_id, got.employee_id) == (
        at(26, 9, 30),
        at(26, 11, 30),
        v.id,
        world.ivanov.id,
    )


def test_a_visit_still_on_ends_now_to_five_minutes(db, world):
    order = early_order(world)
    visit(db, order, world.ivanov, at(26, 11), at(26, 13))
    got = window(db, order, at(26, 12, 7))
    assert (got.start, got.end) == (at(26, 11), at(26, 12, 5))


def test_the_latest_visit_that_has_begun_wins_and_a_future_one_is_ignored(db, world):
    order = early_order(world)
    visit(db, order, world.ivanov, at(25, 10), at(25, 11))
    second = visit(db, order, world.petrov, at(26, 9), at(26, 10))
    visit(db, order, world.ivanov, at(26, 15), at(26, 16))  # later today
    got = window(db, order, at(26, 12))
    assert (got.start, got.visit_id) == (at(26, 9), second.id)


def test_without_a_visit_the_planned_window_else_the_last_hour(db, world):
    order = early_order(world)
    got = window(db, order, at(26, 12, 3))
    assert (got.start, got.end, got.visit_id) == (at(26, 11), at(26, 12), None)
    with db.transaction() as s:
        orders.update_order(
            session=s,
            order_id=order.id,
            data={"planned_start": at(26, 8), "planned_end": at(26, 9)},
            actor="t",
        )
    got = window(db, order, at(26, 12, 3))
    assert (got.start, got.end) == (at(26, 8), at(26, 9))


def test_never_before_the_order_was_created(db, world):
    with clock.frozen(at(26, 11, 40)):
        order = world.order(object_id=world.ac.id)
    got = window(db, order, at(26, 12, 3))
    assert got.start.astimezone(MSK) == at(26, 11, 40)
    assert got.end - got.start == timedelta(minutes=20)


def test_a_given_start_gets_the_end_that_goes_with_it(db, world):
    order = early_order(world)
    visit(db, order, world.ivanov, at(26, 9, 30), at(26, 11))
    with db.reader() as s:
        inside = planning.work_window(
            session=s, order_id=order.id, now=at(26, 12), start=at(26, 10)
        )
        after = planning.work_window(
            session=s, order_id=order.id, now=at(26, 12), start=at(26, 11, 15)
        )
    assert (inside.start, inside.end) == (at(26, 10), at(26, 11))
    assert (after.start, after.end) == (at(26, 11, 15), at(26, 12))
