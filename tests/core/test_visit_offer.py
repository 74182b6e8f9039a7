"""What the planner offers for a visit: the order's assignee first, at their first free
moment; and the visits of finished orders: a done one is the day's record and frees its
time, a cancelled one leaves the planner."""

from datetime import date

import pytest

from fsm_core import clock
from fsm_core.services import orders, planning
from tests.core.test_planning import MSK, at, hours, visit


@pytest.fixture
def two(db, world):
    """Ivanov lives by the Nevsky shop, Petrov far away; both work Mon–Fri 09–18."""
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00")
    hours(db, world.petrov, "Mon-Fri 09:00-18:00")
    with db.transaction() as s:
        planning.set_home_base(
            session=s, employee_id=world.ivanov.id, latitude=59.93, longitude=30.36
        )
        planning.set_home_base(
            session=s, employee_id=world.petrov.id, latitude=59.80, longitude=30.27
        )
    return world


def offer(db, order, **kw):
    with db.reader() as s:
        return planning.offer_visit(session=s, order_id=order.id, **kw)


def test_an_assigned_order_offers_its_assignee_first_at_their_first_free_moment(db, two):
    world = two
    order = world.order(object_id=world.ac.id, assignee_id=world.petrov.id)
    # Petrov is busy at the shop until 14:00 today (it is 12:00 now)
    visit(db, world.order(object_id=world.ac.id), world.petrov, at(26, 12), at(26, 14))
    made = offer(db, order)
    assert made.day == date(2026, 11, 26)
    assert made.start == at(26, 14)
    assert made.candidates[0].employee == "Петров А. С."  # though Ivanov is nearer
    assert made.first == 0
    assert made.minutes == 120  # the visit_minutes setting


def test_an_unassigned_order_offers_the_free_and_nearest(db, two):
    world = two
    order = world.order(object_id=world.ac.id)
    made = offer(db, order)
    assert made.start == at(26, 12)
    assert [c.employee for c in made.candidates] == ["Иванов К. П.", "Петров А. С."]
    assert made.first == 0


def test_a_typed_start_keeps_the_assignee_on_top_busy_or_not(db, two):
    world = two
    order = world.order(object_id=world.ac.id, assignee_id=world.petrov.id)
    visit(db, world.order(object_id=world.ac.id), world.petrov, at(27, 10), at(27, 12))
    made = offer(db, order, start=at(27, 10), minutes=60)
    assert made.candidates[0].employee == "Петров А. С."
    assert not made.candidates[0].free
    assert made.candidates[made.first].employee == "Иванов К. П."  # the first free one


def test_on_a_weekend_the_offer_is_the_assignees_next_working_day(db, two):
    world = two
    order = world.order(object_id=world.ac.id, assignee_id=world.petrov.id)
    with clock.frozen(at(28, 12)):  # Saturday
        made = offer(db, order)
        on_the_day = offer(db, order, day=date(2026, 11, 28))
    assert (made.day, made.start) == (date(2026, 11, 30), at(30, 9))
    assert made.candidates[0].employee == "Петров А. С."
    assert on_the_day.day == date(2026, 11, 28)  # the planner's own day is kept
    assert on_the_day.first is None  # nobody works then


def test_a_moved_visit_does_not_hold_its_own_time(db, two):
    world = two
    order = world.order(object_id=world.ac.id)
    moved = visit(db, order, world.petrov, at(27, 9), at(27, 18))
    made = offer(
        db, order, day=date(2026, 11, 27), moving_visit_id=moved.id, employee_id=world.petrov.id
    )
    assert made.candidates[0].employee == "Петров А. С."
    assert made.candidates[0].free
    assert made.start == at(27, 9)


def advance(db, order, *stages):
    with db.transaction() as s:
        for stage in stages:
            orders.move_order(session=s, order_id=order.id, stage=stage, actor="t")


def test_a_done_orders_visit_stays_as_a_record_and_frees_its_time(db, two):
    world = two
    done = world.order(object_id=world.ac.id)
    v = visit(db, done, world.ivanov, at(27, 10), at(27, 12))
    other = world.order(object_id=world.ac.id)
    visit(db, other, world.ivanov, at(27, 11), at(27, 13))
    assert ("overlap", (v.id, v.id + 1)) in [(c.kind, c.visit_ids) for c in _conflicts(db)]
    advance(db, done, "in_progress", "done")
    with db.reader() as s:
        day = planning.schedule(
            session=s, first_day=date(2026, 11, 27), last_day=date(2026, 11, 27)
        )
        slots = planning.free_slots(
            session=s, day=date(2026, 11, 27), minutes=60, employee_ids=[world.ivanov.id]
        )
        ranked = planning.nearest(session=s, object_id=world.ac.id, start=at(27, 10), minutes=60)
    ivanov = next(p for p in day.people if p.name == "Иванов К. П.")
    shown = {x.id: x.done for x in ivanov.days[0].visits}
    assert shown == {v.id: True, v.id + 1: False}  # still on the timeline, marked done
    assert not [c for c in _conflicts(db) if v.id in c.visit_ids]
    assert [x.start.astimezone(MSK).strftime("%H:%M") for x in slots] == ["09:00", "13:00"]
    assert ivanov.days[0].booked.total_seconds() == 2 * 3600  # only the other visit
    assert next(c for c in ranked if c.employee == "Иванов К. П.").free


def test_a_cancelled_orders_visit_leaves_the_planner(db, two):
    world = two
    order = world.order(object_id=world.ac.id)
    v = visit(db, order, world.ivanov, at(27, 10), at(27, 12))
    advance(db, order, "cancelled")
    with db.reader() as s:
        day = planning.schedule(
            session=s, first_day=date(2026, 11, 27), last_day=date(2026, 11, 27)
        )
        slots = planning.free_slots(
            session=s, day=date(2026, 11, 27), minutes=540, employee_ids=[world.ivanov.id]
        )
    assert v.id not in [x.id for p in day.people for x in p.days[0].visits]
    assert [x.minutes for x in slots] == [540]  # the whole day is free again


def _conflicts(db):
    with db.reader() as s:
        return planning.conflicts(session=s, start=at(27, 0), end=at(28, 0))


def test_fsm_plan_day_marks_a_done_orders_visit(db, two, db_url):
    """`fsm plan day` shows a done order's visit as the dashboard does: marked ✓, its time
    not booked (issue 14's leftover: the CLI drew it as any other visit)."""
    from tests.cli_runner import invoke

    world = two
    done = world.order(object_id=world.ac.id)
    v = visit(db, done, world.ivanov, at(27, 10), at(27, 12))
    advance(db, done, "in_progress", "done")
    out = invoke(db_url, "plan", "day", "27.11.2026", "--employee", "Иванов К. П.").stdout
    (line,) = [x for x in out.splitlines() if f"#{v.id} " in x]
    assert "✓ 10:00–12:00" in line
    assert "✓" in out.splitlines()[2]  # the day's bar draws it as done, not as booked time
