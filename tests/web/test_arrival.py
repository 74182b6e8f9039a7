"""The arrival estimate (fsm_core.services.arrival) with figures worked out by hand.

The object (the air conditioner in the shop on Nevsky) takes its site's point,
59.931172 N 30.360891 E. Travel at 30 km/h along roads 1.4 times the straight line.
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fsm_core import clock
from fsm_core.models import Position
from fsm_core.services import arrival, customer_pages, orders, settings
from fsm_core.services.gps.stays import M_PER_DEG
from fsm_core.services.planning import commands as planning
from tests.conftest import NOW

LAT, LON = 59.931172, 30.360891


def configure(world) -> None:
    with world.db.transaction() as s:
        settings.set_value(session=s, key="travel_speed_kmh", value="30")
        settings.set_value(session=s, key="travel_detour_factor", value="1.4")
        settings.set_value(session=s, key="gps_fresh_minutes", value="10")


def fix(world, *, north_m: float, age: timedelta) -> None:
    with world.db.transaction() as s:
        s.add(
            Position(
                employee_id=world.ivanov.id,
                fix_at=NOW - age,
                latitude=LAT + north_m / M_PER_DEG,
                longitude=LON,
                source="osmand",
            )
        )


def en_route(world):
    order = world.order(object_id=world.ac.id)
    with world.db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=world.ivanov.id, actor="t")
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
    return order


def estimate(world, order_id: int, now=NOW):
    with world.db.reader() as s:
        return arrival.estimate(session=s, order_id=order_id, now=now)


def test_from_a_fresh_position_two_kilometres_away(world) -> None:
    configure(world)
    order = en_route(world)
    fix(world, north_m=2000, age=timedelta(minutes=2))
    found = estimate(world, order.id)
    # 2,000 m x 1.4 = 2,800 m at 30 km/h (8.333 m/s) = 336 s; margin 120 s + 336 / 4 = 204 s
    assert found == arrival.Arrival(
        at=NOW + timedelta(seconds=336),
        earliest=NOW + timedelta(seconds=132),
        latest=NOW + timedelta(seconds=540),
        basis="position",
        technician="Иванов К. П.",
    )


def test_the_window_narrows_as_the_technician_approaches(world) -> None:
    configure(world)
    order = en_route(world)
    fix(world, north_m=10_000, age=timedelta(minutes=3))
    far = estimate(world, order.id)
    fix(world, north_m=500, age=timedelta(minutes=1))
    near = estimate(world, order.id)
    # 10 km: 14,000 m / 8.333 = 1,680 s, margin 120 + 420 = 540 s; 500 m: 84 s, margin 141 s
    assert (far.at - NOW, far.latest - far.at) == (timedelta(seconds=1680), timedelta(seconds=540))
    assert (near.at - NOW, near.latest - near.at) == (timedelta(seconds=84), timedelta(seconds=141))
    assert near.earliest == NOW  # never before now
    fix(world, north_m=40, age=timedelta(seconds=30))  # inside the 150 m radius: there
    there = estimate(world, order.id)
    assert (there.at, there.latest) == (NOW, NOW + timedelta(minutes=2))


def test_from_the_plan_without_a_fresh_position(world) -> None:
    configure(world)
    order = world.order(object_id=world.ac.id)
    start = NOW + timedelta(hours=2)
    with world.db.transaction() as s:
        planning.add_visit(
            session=s,
            order_id=order.id,
            start=start,
            end=start + timedelta(hours=1, minutes=30),
            employee_id=world.ivanov.id,
            actor="t",
        )
    fix(world, north_m=2000, age=timedelta(minutes=11))  # older than 10 minutes: stale
    found = estimate(world, order.id)
    assert found == arrival.Arrival(
        at=start,
        earliest=start,
        latest=start + timedelta(hours=1, minutes=30),
        basis="plan",
        technician="Иванов К. П.",
    )
    # once the planned start has passed: from now to the planned end
    later = estimate(world, order.id, now=start + timedelta(minutes=20))
    assert (later.at, later.earliest, later.latest) == (
        start + timedelta(minutes=20),
        start + timedelta(minutes=20),
        start + timedelta(hours=1, minutes=30),
    )


def test_nothing_known_or_not_on_the_way(world) -> None:
    configure(world)
    waiting = world.order(object_id=world.ac.id)
    assert estimate(world, waiting.id) is None  # new: nobody is on the way
    order = en_route(world)
    assert estimate(world, order.id) is None  # no fix, no plan
    fix(world, north_m=2000, age=timedelta(minutes=1))
    with world.db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
    assert estimate(world, order.id) is None  # on site already: no visit today, not en route


def test_a_customer_may_ask_only_of_their_own_orders(world) -> None:
    configure(world)
    order = en_route(world)
    other = world.order(customer_id=world.other_customer.id)
    with world.db.transaction() as s:
        link = customer_pages.status_token(session=s, order_id=order.id)
    with world.db.reader() as s:
        who = customer_pages.visitor(session=s, token=link, lang="ru")
    assert who.customer_id == world.customer.id
    with world.db.reader(principal=who) as s:
        assert arrival.estimate(session=s, order_id=order.id, now=NOW) is None
        from fsm_core.access import Forbidden

        with pytest.raises(Forbidden):
            arrival.estimate(session=s, order_id=other.id, now=NOW)


def until(world, order_id: int, now=NOW):
    from fsm_core.models import Order, Stage
    from fsm_core.services import settings as company_settings

    with world.db.reader() as s:
        order = s.get(Order, order_id)
        category = s.get(Stage, order.stage_code).category
        cfg = company_settings.load(session=s)
        return arrival.estimate_until(session=s, order=order, category=category, cfg=cfg, now=now)


def same_kind(first: arrival.Arrival | None, later: arrival.Arrival | None, moved) -> bool:
    """Whether ``later`` (worked out ``moved`` after ``first``) has the same basis, and
    each time the same or as far from "now" as it was."""
    if first is None or later is None:
        return first is later
    return first.basis == later.basis and all(
        b in (a, a + moved)
        for a, b in zip(
            (first.at, first.earliest, first.latest),
            (later.at, later.earliest, later.latest),
            strict=True,
        )
    )


@pytest.mark.parametrize("case", ["position", "plan ahead", "plan under way", "none"])
def test_until_the_moment_it_gives_the_clock_changes_nothing_but_now(world, case) -> None:
    configure(world)
    if case == "position":
        order = en_route(world)
        fix(world, north_m=2000, age=timedelta(minutes=4))
        expected = NOW + timedelta(minutes=6)  # the fix is stale after 10 minutes
    elif case == "none":
        order = en_route(world)  # no fix, no plan: nothing until the day ends (09:00 UTC
        expected = None  # is noon in Moscow): a visit of tomorrow may be today's then
    else:
        order = world.order(object_id=world.ac.id)
        start = NOW + (timedelta(hours=2) if case == "plan ahead" else timedelta(hours=-1))
        with clock.frozen(NOW - timedelta(hours=2)), world.db.transaction() as s:
            planning.add_visit(
                session=s,
                order_id=order.id,
                start=start,
                end=start + timedelta(hours=1, minutes=30),
                employee_id=world.ivanov.id,
                actor="t",
            )
        expected = start if case == "plan ahead" else start + timedelta(hours=1, minutes=30)
    first, moment = until(world, order.id)
    if expected is None:
        assert first is None
        assert moment is not None
        assert moment.astimezone(ZoneInfo("Europe/Moscow")).time() == time(0, 0)
    else:
        assert first is not None
        assert moment == expected
    for step in (timedelta(seconds=1), (moment - NOW) / 2, moment - NOW - timedelta(seconds=1)):
        assert same_kind(first, until(world, order.id, NOW + step)[0], step)
    after = moment + timedelta(seconds=1) - NOW
    if case != "none":
        assert not same_kind(first, until(world, order.id, NOW + after)[0], after)


def test_a_stage_not_in_work_never_changes_with_the_clock(world) -> None:
    configure(world)
    order = world.order(object_id=world.ac.id)
    assert until(world, order.id) == (None, None)
