"""Arrival and departure read from generated tracks (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fsm_core.services.gps.stays import (
    RawStay,
    Target,
    Thresholds,
    detect,
    label,
    metres,
    usable,
    utc,
)
from tests.gps.tracks import HOME, Track, offset

T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 10:00 Moscow
TH = Thresholds()
A = Target(1, HOME[0], HOME[1], 150.0)
B = Target(2, *offset(100, 0), 150.0)  # 100 m east of A


def at_objects(stays: list[RawStay]) -> list[RawStay]:
    return [s for s in stays if s.object_id is not None]


def inside(t: Track, target: Target = A) -> list[datetime]:
    return [
        p.at
        for p in t.points
        if metres(p.latitude, p.longitude, target.latitude, target.longitude) <= target.radius_m
    ]


def test_arrival_is_back_dated_to_the_first_fix_inside_and_departure_to_the_last():
    t = Track(T0).drive((-3000, 0), (0, 0)).stay(0, 0, 60).drive((0, 0), (3000, 0))
    stays = detect(t.points, [A], TH)
    assert len(stays) == 1
    inside_at = inside(t)
    assert stays[0].object_id == 1
    assert utc(stays[0].arrived) == inside_at[0]
    assert utc(stays[0].left) == inside_at[-1]
    assert stays[0].left is not None
    assert stays[0].left - stays[0].arrived > 60 * 60


def test_a_drive_past_the_object_is_not_a_visit():
    for kmh in (60, 40, 15):
        t = Track(T0).drive((-3000, 0), (3000, 0), kmh=kmh)
        assert inside(t)  # the drive did pass through the radius
        assert detect(t.points, [A], TH) == [], kmh


def test_passing_twice_within_minutes_is_still_two_drive_bys():
    t = Track(T0).drive((-600, 0), (600, 0), kmh=30).drive((600, 0), (-600, 0), kmh=30)
    assert len(inside(t)) >= 6
    assert at_objects(detect(t.points, [A], TH)) == []


def test_a_short_stop_at_the_object_is_not_a_visit_but_three_minutes_is():
    short = Track(T0).drive((-2000, 0), (-100, 0)).stay(0, 0, 1.5).drive((100, 0), (2000, 0))
    assert at_objects(detect(short.points, [A], TH)) == []
    enough = Track(T0).drive((-2000, 0), (-100, 0)).stay(0, 0, 3.5).drive((100, 0), (2000, 0))
    assert len(at_objects(detect(enough.points, [A], TH))) == 1


def test_parking_jitter_does_not_end_the_stay():
    t = Track(T0).stay(0, 0, 30).fix(300, 0).wait(0.5).stay(0, 0, 30)
    t.fix(0, 320).wait(0.1).fix(280, -30).wait(0.1).stay(0, 0, 20)  # two more, close together
    stays = detect(t.points, [A], TH)
    assert len(stays) == 1
    assert stays[0].left is not None
    assert utc(stays[0].left) == t.points[-1].at


def test_a_phone_reporting_two_kilometres_neither_makes_nor_breaks_a_stay():
    guessing = Track(T0).stay(0, 0, 30, accuracy=2000)
    assert detect(guessing.points, [A], TH) == []
    t = Track(T0).stay(0, 0, 20).stay(3000, 0, 20, accuracy=2000).stay(0, 0, 20)
    stays = detect(t.points, [A], TH)
    assert [(s.object_id, utc(s.arrived)) for s in stays] == [(1, T0)]
    assert utc(stays[0].last_inside) == t.points[-1].at


def test_fixes_without_an_accuracy_count():
    t = Track(T0).stay(0, 0, 20, accuracy=None)  # type: ignore[arg-type]
    assert len(detect(t.points, [A], TH)) == 1


def test_a_gap_inside_does_not_break_the_stay_but_a_long_one_ends_it_at_the_last_fix():
    t = Track(T0).stay(0, 0, 20).wait(40).stay(0, 0, 20)
    stays = detect(t.points, [A], TH)
    assert len(stays) == 1
    assert stays[0].left is not None
    assert stays[0].left - stays[0].arrived > 75 * 60
    long = Track(T0).stay(0, 0, 20)
    before_gap = long.points[-1].at
    long.wait(180).stay(0, 0, 20)
    stays = detect(long.points, [A], TH)
    assert len(stays) == 2
    assert utc(stays[0].left) == before_gap


def test_two_objects_a_hundred_metres_apart():
    t = Track(T0).stay(0, 0, 30).drive((0, 0), (100, 0), kmh=5).stay(100, 0, 30)
    stays = detect(t.points, [A, B], TH)
    assert [s.object_id for s in stays] == [1, 2]
    assert stays[0].left is not None
    assert stays[0].left <= stays[1].arrived


def test_fixes_alternating_between_two_near_objects_do_not_flap():
    t = Track(T0)
    for _ in range(40):  # 40 m from A and 60 m from B, then the other way round
        t.fix(40, 0).wait(0.5).fix(60, 0).wait(0.5)
    labels = label(usable(t.points, TH.max_accuracy_m), [A, B], TH.hysteresis_m)
    assert set(labels) == {1}
    stays = detect(t.points, [A, B], TH)
    assert [s.object_id for s in stays] == [1]


def test_a_long_stop_away_from_every_object_is_a_stay_without_one():
    t = Track(T0).drive((0, 0), (2000, 0)).stay(2000, 0, 15).drive((2000, 0), (4000, 0))
    stays = detect(t.points, [A], TH)
    assert [s.object_id for s in stays] == [None]
    assert stays[0].left is not None
    assert 14 * 60 <= stays[0].left - stays[0].arrived <= 16 * 60
    short = Track(T0).drive((0, 0), (2000, 0)).stay(2000, 0, 5).drive((2000, 0), (4000, 0))
    assert detect(short.points, [A], TH) == []


def test_still_there_when_the_last_fixes_are_inside():
    t = Track(T0).drive((-2000, 0), (0, 0)).stay(0, 0, 20)
    now = t.points[-1].at + timedelta(minutes=1)
    (stay,) = detect(t.points, [A], TH, now=now)
    assert stay.left is None
    # read later, with nothing new for hours: he left at the last fix
    (stay,) = detect(t.points, [A], TH, now=now + timedelta(hours=3))
    assert utc(stay.left) == t.points[-1].at


def test_arriving_elsewhere_ends_the_stay_at_once():
    far = Target(3, *offset(400, 0), 150.0)
    t = Track(T0).stay(0, 0, 20).drive((0, 0), (400, 0), kmh=30).stay(400, 0, 10)
    stays = detect(t.points, [A, far], TH)
    assert [s.object_id for s in stays] == [1, 3]
