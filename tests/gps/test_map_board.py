"""What the dashboard's map shows, as the core computes it (map_view): who is on site, en
route or without a position, their current or next order and the distance to it, the
open orders' markers, the day's track; the `/` search; distances and ages in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fsm_core.services import gps, settings
from fsm_core.services.gps import board
from fsm_core.services.planning import commands as planning
from tests.conftest import NOW

SITE = (59.931172, 30.360891)  # the world's shop on Nevsky


def fix(device: str, minutes: float, lat: float, lon: float, **fields: object) -> gps.Fix:
    return gps.Fix(
        at=NOW + timedelta(minutes=minutes), latitude=lat, longitude=lon, device=device, **fields
    )  # type: ignore[arg-type]


def setup(world, *fixes: gps.Fix) -> None:
    with world.db.transaction() as s:
        gps.bind_device(session=s, identifier="ivanov-phone", employee=world.ivanov.id)
        gps.bind_device(session=s, identifier="petrov-phone", employee=world.petrov.id)
        if fixes:
            recorded = gps.record_fixes(session=s, fixes=list(fixes))
            assert recorded.count(gps.Outcome.STORED) == len(fixes), recorded.outcomes


def view(world, **kwargs: object) -> board.MapView:
    with world.db.reader() as s:
        return board.map_view(session=s, now=NOW, **kwargs)  # type: ignore[arg-type]


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 110_574.0, point[1]


def test_on_site_within_the_radius_with_a_fresh_fix_since_the_run_began(world) -> None:
    order = world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    far = north_of(SITE, 3000)
    near = north_of(SITE, 60)
    setup(
        world,
        fix("ivanov-phone", -40, *far),
        fix("ivanov-phone", -30, *near),  # arrived: the run within the radius starts here
        fix("ivanov-phone", -20, *SITE),
        fix("ivanov-phone", -2, *near, accuracy_m=12.0),
    )
    tech = view(world).technician(world.ivanov.id)
    assert tech is not None
    assert tech.state == board.ON_SITE
    assert tech.order is not None
    assert tech.order.order_id == order.id
    assert tech.order_why == "here"
    assert tech.since == NOW - timedelta(minutes=30)
    assert tech.distance_m == pytest.approx(60, abs=1)


def test_a_fresh_fix_outside_the_radius_is_en_route_with_the_distance(world) -> None:
    world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    setup(world, fix("ivanov-phone", -1, *north_of(SITE, 2900)))
    tech = view(world).technician(world.ivanov.id)
    assert tech is not None
    assert tech.state == board.EN_ROUTE
    assert tech.since is None
    assert board.format_distance(tech.distance_m, "ru") == "2,9 км"
    assert board.format_distance(tech.distance_m, "en") == "2.9 km"


def test_the_object_s_own_radius_decides_and_the_setting_otherwise(world) -> None:
    world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    setup(world, fix("ivanov-phone", -1, *north_of(SITE, 200)))
    assert view(world).technician(world.ivanov.id).state == board.EN_ROUTE  # 150 m default
    with world.db.transaction() as s:
        settings.set_value(session=s, key="gps_radius_m", value="250")
    assert view(world).technician(world.ivanov.id).state == board.ON_SITE
    with world.db.transaction() as s:
        from fsm_core.models import ServiceObject

        s.get(ServiceObject, world.site.id).gps_radius_m = 100
    assert view(world).technician(world.ivanov.id).state == board.EN_ROUTE


def test_a_stale_fix_is_no_position_and_a_technician_without_fixes_too(world) -> None:
    world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    world.order(object_id=world.site.id, assignee_id=world.petrov.id)
    setup(world, fix("ivanov-phone", -16, *SITE))  # on the spot, but 16 minutes ago
    shown = view(world)
    ivanov = shown.technician(world.ivanov.id)
    petrov = shown.technician(world.petrov.id)
    assert ivanov is not None
    assert ivanov.state == board.NO_POSITION
    assert ivanov.fix_at == NOW - timedelta(minutes=16)
    assert petrov is not None
    assert petrov.state == board.NO_POSITION
    assert not petrov.located
    assert petrov.distance_m is None


def test_the_visit_under_way_is_the_current_order_then_the_next_one(world) -> None:
    first = world.order(object_id=world.site.id)
    second = world.order(object_id=world.ac.id)  # equipment: the site's coordinates
    with world.db.transaction() as s:
        for order, start in ((first, NOW - timedelta(hours=1)), (second, NOW + timedelta(hours=2))):
            planning.add_visit(
                session=s,
                order_id=order.id,
                start=start,
                end=start + timedelta(hours=2),
                employee_id=world.petrov.id,
                actor="tester",
                allow_past=True,
            )
    setup(world)
    tech = view(world).technician(world.petrov.id)
    assert tech.order.order_id == first.id
    assert tech.order_why == "now"
    with world.db.reader() as s:
        later = board.map_view(session=s, now=NOW + timedelta(hours=1, minutes=30))
    tech = later.technician(world.petrov.id)
    assert tech.order.order_id == second.id
    assert tech.order_why == "next"
    assert tech.order.latitude == pytest.approx(SITE[0])  # inherited from the site


def test_a_crew_s_visit_is_each_member_s(world) -> None:
    order = world.order(object_id=world.site.id)
    with world.db.transaction() as s:
        planning.add_visit(
            session=s,
            order_id=order.id,
            start=NOW + timedelta(hours=1),
            end=NOW + timedelta(hours=2),
            crew_id=world.crew.id,
            actor="tester",
        )
    tech = view(world).technician(world.ivanov.id)  # the crew's only member
    assert tech is not None
    assert tech.order.order_id == order.id
    assert tech.order_why == "next"


def test_markers_are_open_orders_with_coordinates_and_their_sla(world) -> None:
    on_map = world.order(object_id=world.site.id)
    world.order(customer_id=world.other_customer.id, object_id=world.foreign_object.id)  # no coords
    world.order()  # no object
    shown = view(world)
    assert [o.order_id for o in shown.orders] == [on_map.id]
    assert shown.orders[0].sla_status in {"ok", "at_risk", "violated", "none"}
    assert shown.without_coordinates == 2


def test_unknown_devices_are_listed_and_the_day_s_track_is_today_s(world) -> None:
    with world.db.transaction() as s:
        settings.set_value(session=s, key="gps_working_hours_only", value="no")
    setup(
        world,
        fix("ivanov-phone", -60 * 13, *SITE),  # 23:00 in Moscow yesterday: not today's
        fix("ivanov-phone", -30, *north_of(SITE, 500)),
        fix("ivanov-phone", -10, *SITE),
    )
    with world.db.transaction() as s:
        gps.record_fixes(session=s, fixes=[fix("stranger", -1, *SITE)])
    shown = view(world, track_of=world.ivanov.id)
    assert shown.unknown_devices == ("stranger",)
    # 09:00 UTC is 12:00 in Moscow; the day began at 21:00 UTC yesterday
    assert shown.day_start == NOW - timedelta(hours=12)
    assert shown.track == (north_of(SITE, 500), SITE)


def test_find_on_map_by_order_number_then_by_name(world) -> None:
    order = world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    setup(world, fix("ivanov-phone", -1, *SITE))
    shown = view(world)
    assert board.find_on_map(shown, order.number) == ("order", order.id, *SITE)
    assert board.find_on_map(shown, order.number[-2:])[:2] == ("order", order.id)
    assert board.find_on_map(shown, "иванов") == ("tech", world.ivanov.id, *SITE)
    assert board.find_on_map(shown, "петр")[:2] == ("tech", world.petrov.id)
    assert board.find_on_map(shown, "нет такого") is None
    assert board.find_on_map(shown, "  ") is None


@pytest.mark.parametrize(
    ("metres", "ru", "en"),
    [
        (4.4, "4 м", "4 m"),
        (346, "350 м", "350 m"),
        (994, "990 м", "990 m"),
        (999, "1,0 км", "1.0 km"),
        (2949, "2,9 км", "2.9 km"),
        (12_400, "12 км", "12 km"),
        (None, "", ""),
    ],
)
def test_distances_in_words(metres, ru, en) -> None:
    assert board.format_distance(metres, "ru") == ru
    assert board.format_distance(metres, "en") == en


@pytest.mark.parametrize(
    ("minutes", "ru", "en"),
    [
        (0.5, "только что", "just now"),
        (3, "3 мин назад", "3 min ago"),
        (130, "2 ч назад", "2 h ago"),
        (60 * 50, "2 дн назад", "2 d ago"),
    ],
)
def test_ages_in_words(minutes, ru, en) -> None:
    then = NOW - timedelta(minutes=minutes)
    assert board.format_age(then, NOW, "ru") == ru
    assert board.format_age(then, NOW, "en") == en
