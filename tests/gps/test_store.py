"""Keeping positions: devices bound to employees, duplicates, working hours, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fsm_core import live
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.services import gps, settings
from tests.conftest import NOW


def fix(device: str = "phone-1", minutes: float = 0, **fields: object) -> gps.Fix:
    values: dict[str, object] = {
        "at": NOW + timedelta(minutes=minutes),
        "latitude": 59.93,
        "longitude": 30.36,
        "device": device,
    }
    values.update(fields)
    return gps.Fix(**values)  # type: ignore[arg-type]


def bind(world, identifier: str = "phone-1", who: int | None = None) -> None:
    with world.db.transaction() as s:
        gps.bind_device(session=s, identifier=identifier, employee=who or world.ivanov.id)


def record(world, fixes: list[gps.Fix]) -> gps.Recorded:
    with world.db.transaction() as s:
        return gps.record_fixes(session=s, fixes=fixes)


def test_fixes_of_a_bound_device_are_stored_once(world) -> None:
    bind(world)
    first = record(world, [fix(minutes=-2), fix(minutes=-1), fix(minutes=-1)])
    assert first.outcomes == [gps.Outcome.STORED, gps.Outcome.STORED, gps.Outcome.DUPLICATE]
    again = record(world, [fix(minutes=-2), fix(minutes=0)])
    assert again.outcomes == [gps.Outcome.DUPLICATE, gps.Outcome.STORED]
    with world.db.reader() as s:
        assert gps.count_positions(session=s) == 3
        fixes = gps.read_fixes(session=s, start=NOW - timedelta(hours=1), end=NOW + timedelta(1))
    assert [p.at for p in fixes[world.ivanov.id]] == [
        NOW - timedelta(minutes=2),
        NOW - timedelta(minutes=1),
        NOW,
    ]


def test_an_unknown_device_is_refused_and_listed_for_binding(world) -> None:
    result = record(world, [fix("unknown-7"), fix("unknown-7", minutes=-1)])
    assert result.outcomes == [gps.Outcome.UNKNOWN_DEVICE] * 2
    with world.db.reader() as s:
        assert gps.count_positions(session=s) == 0
        unknown = gps.list_devices(session=s, unknown=True)
    assert [(d.identifier, d.refused, d.employee) for d in unknown] == [("unknown-7", 2, None)]
    bind(world, "unknown-7", world.petrov.id)
    assert record(world, [fix("unknown-7")]).outcomes == [gps.Outcome.STORED]
    with world.db.reader() as s:
        assert gps.list_devices(session=s, unknown=True) == []
        (device,) = gps.list_devices(session=s)
    assert (device.employee, device.positions) == ("Петров А. С.", 1)


def test_unbinding_refuses_the_next_fixes(world) -> None:
    bind(world)
    with world.db.transaction() as s:
        gps.unbind_device(session=s, identifier="phone-1")
    assert record(world, [fix()]).outcomes == [gps.Outcome.UNKNOWN_DEVICE]
    with world.db.transaction() as s, pytest.raises(NotFound):
        gps.unbind_device(session=s, identifier="nobody's")


def test_positions_outside_working_hours_are_not_kept_unless_the_company_says_so(world) -> None:
    bind(world)
    # Thursday 26.11.2026, Moscow: company hours mon-fri 09:00-18:00, an hour either side
    evening = datetime(2026, 11, 26, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    early = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)  # 08:30: the drive to the first job
    result = record(world, [fix(at=evening), fix(at=early)])
    assert result.outcomes == [gps.Outcome.OFF_HOURS, gps.Outcome.STORED]
    with world.db.transaction() as s:
        settings.set_value(session=s, key="gps_working_hours_only", value="нет")
    assert record(world, [fix(at=evening)]).outcomes == [gps.Outcome.STORED]


def test_the_demo_keeps_its_made_up_day_at_any_hour(world) -> None:
    bind(world)
    evening = datetime(2026, 11, 29, 20, 30, tzinfo=UTC)  # a Sunday, 23:30 in Moscow
    with world.db.transaction() as s:
        kept = gps.record_fixes(session=s, fixes=[fix(at=evening)], any_hour=True)
    assert kept.outcomes == [gps.Outcome.STORED]


def test_an_employees_own_pattern_decides_their_hours(world) -> None:
    from fsm_core.services import working_time

    bind(world)
    with world.db.transaction() as s:
        working_time.set_patterns(
            session=s,
            employee_id=world.ivanov.id,
            patterns=["daily 20:00-08:00"],
            valid_from=datetime(2026, 11, 1).date(),
        )
    night = datetime(2026, 11, 26, 20, 30, tzinfo=UTC)  # 23:30 in Moscow: on shift
    noon = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 12:00: off
    assert record(world, [fix(at=night), fix(at=noon)]).outcomes == [
        gps.Outcome.STORED,
        gps.Outcome.OFF_HOURS,
    ]


def test_an_inactive_employees_device_is_refused(world) -> None:
    from fsm_core.models import Employee

    bind(world)
    with world.db.transaction() as s:
        s.get(Employee, world.ivanov.id).active = False
    assert record(world, [fix()]).outcomes == [gps.Outcome.INACTIVE]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"latitude": 91.0}, "lat 91.0 is out of range"),
        ({"longitude": float("nan")}, "lon nan is out of range"),
        ({"at": NOW + timedelta(minutes=11)}, "more than 10 minutes in the future"),
        ({"at": NOW - timedelta(days=181)}, "older than the retention period"),
        ({"at": datetime(2026, 11, 26, 9, 0)}, "must say its time zone"),
        ({"battery": 300.0}, "batt 300.0 is out of range"),
        ({"speed_kmh": -1.0}, "speed -1.0 is out of range"),
    ],
)
def test_a_fix_out_of_range_is_refused_with_its_reason(fields, reason) -> None:
    with pytest.raises(InvalidInput, match=reason):
        gps.check_fix(fix(**fields), now=NOW, oldest=NOW - timedelta(days=180))


def test_the_latest_position_of_each_employee(world) -> None:
    bind(world)
    bind(world, "phone-2", world.petrov.id)
    record(world, [fix(minutes=-5), fix(minutes=-1, latitude=60.0), fix("phone-2", minutes=-3)])
    with world.db.reader() as s:
        latest = gps.latest_positions(session=s)
    assert {e: (p.at, p.latitude) for e, p in latest.items()} == {
        world.ivanov.id: (NOW - timedelta(minutes=1), 60.0),
        world.petrov.id: (NOW - timedelta(minutes=3), 59.93),
    }


def test_prune_removes_what_is_past_the_retention_in_chunks(world) -> None:
    bind(world)
    with world.db.transaction() as s:
        settings.set_value(session=s, key="gps_working_hours_only", value="no")
    record(world, [fix(at=NOW - timedelta(days=170, minutes=m)) for m in range(5)] + [fix()])
    later = NOW + timedelta(days=11)
    assert gps.prune(database=world.db, now=later, chunk=2) == 5
    with world.db.reader() as s:
        assert gps.count_positions(session=s) == 1


def test_binding_checks_the_identifier_and_the_employee(world) -> None:
    with world.db.transaction() as s:
        with pytest.raises(InvalidInput, match="control characters"):
            gps.bind_device(session=s, identifier="ph\x1bone", employee=world.ivanov.id)
        with pytest.raises(InvalidInput, match="at most 100"):
            gps.bind_device(session=s, identifier="x" * 101, employee=world.ivanov.id)
        with pytest.raises(NotFound):
            gps.bind_device(session=s, identifier="phone", employee="Сидоров")


def test_new_positions_reach_live_listeners(world) -> None:
    bind(world)
    subscription = live.subscribe(world.db, interval=0.05)
    try:
        record(world, [fix(minutes=-1)])
        changes: list[live.Change] = []
        for _ in range(20):
            changes += subscription.poll(0.5)
            if any(c.kind == "position" for c in changes):
                break
    finally:
        subscription.close()
    assert live.Change("position", (), (world.ivanov.id,)) in changes
