"""The planner: working time by rrule, every kind of conflict, visits through the order
service, free slots, the nearest technician and the unscheduled queue."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from fsm_core import clock
from fsm_core.errors import Conflict as VersionConflict
from fsm_core.errors import InvalidInput
from fsm_core.models import Order, OrderHistory
from fsm_core.services import objects, orders, planning, working_time
from fsm_core.services import settings as company_settings
from fsm_core.timeparse import zone

MSK = zone("Europe/Moscow")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


def hours(db, employee, *patterns, since=date(2026, 10, 1)):
    with db.transaction() as s:
        working_time.set_patterns(
            session=s, employee_id=employee.id, patterns=list(patterns), valid_from=since
        )


def visit(db, order, who, start, end, *, crew=False, allow_past=False):
    with db.transaction() as s:
        return planning.add_visit(
            session=s,
            order_id=order.id,
            employee_id=None if crew else who.id,
            crew_id=who.id if crew else None,
            start=start,
            end=end,
            actor="Орлова В. П.",
            allow_past=allow_past,
        )


def kinds(db, start, end, **kw):
    with db.reader() as s:
        return [
            (c.kind, c.visit_ids) for c in planning.conflicts(session=s, start=start, end=end, **kw)
        ]


@pytest.fixture
def far(world, db):
    """An object at Pulkovo, 15 km south of the Nevsky site."""
    with db.transaction() as s:
        return objects.create_object(
            session=s,
            data={
                "customer_id": world.customer.id,
                "name": "Склад у Пулково",
                "kind": "site",
                "latitude": 59.80,
                "longitude": 30.27,
            },
        )


# --- working time ------------------------------------------------------------------------


def test_weekly_hours_by_rrule_across_a_holiday_in_a_zone_without_dst(db, world):
    hours(db, world.ivanov, "пн-пт 09:00-18:00")
    with db.transaction() as s:
        working_time.add_holiday(session=s, day=date(2026, 11, 4), name="День народного единства")
    with db.reader() as s:
        # 19.10–08.11: Europe's clocks change on 25.10, Moscow's do not
        cal = working_time.load_calendar(
            session=s,
            employee_ids=[world.ivanov.id],
            first_day=date(2026, 10, 19),
            last_day=date(2026, 11, 8),
            tz=MSK,
        )
    days = cal.days[world.ivanov.id]
    working = {d for d, info in days.items() if info.working}
    weekdays = {d for d in days if d.weekday() < 5}
    assert working == weekdays - {date(2026, 11, 4)}
    for d in working:  # 09:00–18:00 Moscow is 06:00–15:00 UTC before and after 25.10
        start, end = days[d].working[0]
        assert (start.astimezone(UTC).hour, end.astimezone(UTC).hour) == (6, 15)
    holiday = days[date(2026, 11, 4)]
    assert holiday.shifts
    assert not holiday.working
    assert holiday.holiday == "День народного единства"


def test_local_hours_stay_local_across_a_dst_change(db, world):
    hours(db, world.ivanov, "Mon-Fri 9-18")
    with db.reader() as s:
        cal = working_time.load_calendar(
            session=s,
            employee_ids=[world.ivanov.id],
            first_day=date(2026, 10, 23),
            last_day=date(2026, 10, 26),
            tz=zone("Europe/Berlin"),
        )
    days = cal.days[world.ivanov.id]
    assert days[date(2026, 10, 23)].working[0][0].astimezone(UTC).hour == 7  # CEST
    assert days[date(2026, 10, 26)].working[0][0].astimezone(UTC).hour == 8  # CET
    assert not days[date(2026, 10, 24)].working


def test_shift_patterns_and_their_description(db, world):
    hours(db, world.petrov, "2/2 08:00-20:00 from 02.11.2026", since=date(2026, 11, 2))
    with db.reader() as s:
        cal = working_time.load_calendar(
            session=s,
            employee_ids=[world.petrov.id],
            first_day=date(2026, 11, 1),
            last_day=date(2026, 11, 10),
            tz=MSK,
        )
        rows = working_time.patterns_of(
            session=s, employee_ids=[world.petrov.id], on=date(2026, 11, 2)
        )
    on = sorted(d.day for d in cal.days[world.petrov.id].values() if d.working)
    assert on == [date(2026, 11, d) for d in (2, 3, 6, 7, 10)]
    assert working_time.describe_pattern(rows[world.petrov.id], lang="ru") == [
        "2/2 с 02.11.2026 08:00–20:00"
    ]
    assert working_time.describe_pattern(
        [
            type(
                "R",
                (),
                {
                    "rule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                    "start_time": t,
                    "end_time": u,
                    "valid_from": date(2026, 1, 1),
                    "anchor": date(2026, 1, 1),
                },
            )()
            for t, u in [(datetime(1, 1, 1, 9).time(), datetime(1, 1, 1, 18).time())]
        ],
        lang="en",
    ) == ["Mon–Fri 09:00–18:00"]


def test_new_hours_apply_from_their_day_and_keep_the_past(db, world):
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00", since=date(2026, 11, 1))
    hours(db, world.ivanov, "Mon-Fri 10:00-19:00", since=date(2026, 11, 16))
    with db.reader() as s:
        cal = working_time.load_calendar(
            session=s,
            employee_ids=[world.ivanov.id],
            first_day=date(2026, 11, 13),
            last_day=date(2026, 11, 16),
            tz=MSK,
        )
    days = cal.days[world.ivanov.id]
    assert days[date(2026, 11, 13)].working[0][0] == at(13, 9)
    assert days[date(2026, 11, 16)].working[0][0] == at(16, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("пн-пт", "give days and hours"),
        ("xx 9-18", "unknown day 'xx'"),
        ("Mon-Fri 9-9", "no length"),
        ("Mon 25:00-26:00", "is not a time"),
        ("FREQ=SOMETIMES 9-18", "bad recurrence rule"),
    ],
)
def test_unreadable_working_hours_are_refused(text, message):
    with pytest.raises(InvalidInput, match=message):
        working_time.parse_pattern(text)


# --- conflicts ----------------------------------------------------------------------------


def test_overlapping_visits_of_one_person_and_of_a_crew_member(db, world):
    hours(db, world.ivanov, "Mon-Fri 08:00-20:00")
    a, b, c = (world.order(object_id=world.ac.id) for _ in range(3))
    v1 = visit(db, a, world.ivanov, at(27, 10), at(27, 12))
    v2 = visit(db, b, world.ivanov, at(27, 11), at(27, 13))
    v3 = visit(db, c, world.crew, at(27, 12, 30), at(27, 14), crew=True)  # Ivanov is in it
    found = kinds(db, at(27, 0), at(28, 0))
    assert ("overlap", (v1.id, v2.id)) in found
    assert ("overlap", (v2.id, v3.id)) in found
    assert [k for k, _ in found].count("overlap") == 2


def test_visits_outside_hours_on_days_off_holidays_and_leave(db, world):
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00")
    with db.transaction() as s:
        working_time.add_holiday(session=s, day=date(2026, 12, 1), name="Корпоратив")
        working_time.add_time_off(
            session=s,
            employee_id=world.ivanov.id,
            kind="отпуск",
            start=at(2, 0, month=12),
            end=at(4, 0, month=12),
            actor="t",
        )
    orders_ = [world.order(object_id=world.ac.id) for _ in range(4)]
    late = visit(db, orders_[0], world.ivanov, at(27, 17), at(27, 19))
    weekend = visit(db, orders_[1], world.ivanov, at(28, 10), at(28, 12))
    holiday = visit(db, orders_[2], world.ivanov, at(1, 10, month=12), at(1, 12, month=12))
    leave = visit(db, orders_[3], world.ivanov, at(3, 10, month=12), at(3, 12, month=12))
    with db.reader() as s:
        found = {
            c.visit_ids[0]: c
            for c in planning.conflicts(session=s, start=at(27, 0), end=at(4, 0, month=12))
        }
    assert found[late.id].kind == "outside_hours"
    assert found[late.id].details["outside_minutes"] == 60
    assert planning.describe(found[late.id], lang="ru", tz=MSK) == (
        f"{orders_[0].number} 27.11 17:00–19:00 вне рабочего времени (09:00–18:00)"
    )
    assert (found[weekend.id].kind, found[weekend.id].details["reason"]) == (
        "day_off",
        "not_working_day",
    )
    assert found[holiday.id].details == {"reason": "holiday", "name": "Корпоратив"}
    assert found[leave.id].details["reason"] == "leave"
    assert "falls on time off: leave" in planning.describe(found[leave.id], tz=MSK)


def test_a_visit_ending_after_the_sla_deadline(db, world):
    order = world.order(object_id=world.ac.id, resolution_due=at(27, 11))
    kept = world.order(object_id=world.ac.id, resolution_due=at(27, 18))
    v = visit(db, order, world.ivanov, at(27, 10), at(27, 12))
    visit(db, kept, world.ivanov, at(27, 14), at(27, 16))
    with db.reader() as s:
        found = planning.conflicts(session=s, start=at(27, 0), end=at(28, 0))
    assert [(c.kind, c.visit_ids) for c in found] == [("after_deadline", (v.id,))]
    assert planning.describe(found[0], tz=MSK) == (
        f"{order.number} ends Nov 27 12:00, after its resolution deadline Nov 27 11:00"
    )


def test_travel_that_does_not_fit_between_visits_at_the_configured_speed(db, world, far):
    a = world.order(object_id=world.ac.id)  # equipment: the site's coordinates
    b = world.order(object_id=far.id)
    v1 = visit(db, a, world.ivanov, at(27, 10), at(27, 11))
    v2 = visit(db, b, world.ivanov, at(27, 11, 10), at(27, 12))
    with db.reader() as s:
        (found,) = planning.conflicts(session=s, start=at(27, 0), end=at(28, 0))
    assert (found.kind, found.visit_ids) == ("travel", (v1.id, v2.id))
    assert found.details["gap_minutes"] == 10
    assert 14 < found.details["distance_km"] < 16
    assert found.details["travel_minutes"] == math.ceil(found.details["distance_km"] * 2)
    with db.transaction() as s:
        company_settings.set_value(session=s, key="travel_speed_kmh", value="120")
    assert kinds(db, at(27, 0), at(28, 0)) == []


def test_an_object_without_coordinates_is_a_note(db, world):
    a = world.order(object_id=world.ac.id)
    b = world.order(customer_id=world.other_customer.id, object_id=world.foreign_object.id)
    visit(db, a, world.ivanov, at(27, 10), at(27, 11))
    v2 = visit(db, b, world.ivanov, at(27, 11, 30), at(27, 12))
    with db.reader() as s:
        (found,) = planning.conflicts(session=s, start=at(27, 0), end=at(28, 0))
    assert (found.kind, found.severity, found.visit_ids) == ("no_coordinates", "note", (v2.id,))
    assert planning.describe(found, tz=MSK) == (
        f"no coordinates for «АЗС № 12» ({b.number}): travel not checked"
    )


def test_conflicts_are_limited_to_the_range_and_the_people_asked(db, world):
    a, b = world.order(), world.order()
    visit(db, a, world.ivanov, at(27, 10), at(27, 12))
    visit(db, b, world.ivanov, at(27, 11), at(27, 13))
    assert kinds(db, at(28, 0), at(29, 0)) == []
    assert kinds(db, at(27, 0), at(28, 0), employee_ids=[world.petrov.id]) == []
    assert len(kinds(db, at(27, 0), at(28, 0), employee_ids=[world.ivanov.id])) == 1


# --- visits and the order -------------------------------------------------------------------


def test_a_visit_assigns_the_order_and_sets_its_planned_window(db, world):
    order = world.order(object_id=world.ac.id)
    v1 = visit(db, order, world.ivanov, at(27, 10), at(27, 12))
    v2 = visit(db, order, world.ivanov, at(30, 9), at(30, 10))
    with db.reader() as s:
        fresh = s.get(Order, order.id)
        history = s.exec(
            select(OrderHistory).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id)
        )
        actions = [(h.action, h.field, h.actor) for h in history]
    assert (fresh.assignee_id, fresh.stage_code) == (world.ivanov.id, "assigned")
    assert (fresh.planned_start, fresh.planned_end) == (at(27, 10), at(30, 10))
    assert ("assign", "assignee", "Орлова В. П.") in actions
    assert ("stage", "stage", "Орлова В. П.") in actions
    assert actions.count(("visit", "visit", "Орлова В. П.")) == 2
    with db.transaction() as s:  # moved to Petrov: the order follows
        planning.move_visit(
            session=s,
            visit_id=v2.id,
            start=at(30, 14),
            employee_id=world.petrov.id,
            actor="d",
            expected_version=v2.version,
        )
    with db.transaction() as s:
        planning.remove_visit(session=s, visit_id=v1.id, actor="d")
    with db.reader() as s:
        fresh = s.get(Order, order.id)
        (left,) = planning.visits_of_order(session=s, order_id=order.id)
    assert (fresh.assignee_id, fresh.planned_start, fresh.planned_end) == (
        world.petrov.id,
        at(30, 14),
        at(30, 15),
    )
    assert (left.employee, left.start, left.end) == ("Петров А. С.", at(30, 14), at(30, 15))
    with db.transaction() as s:
        planning.remove_visit(session=s, visit_id=left.id, actor="d")
    with db.reader() as s:
        fresh = s.get(Order, order.id)
    assert (fresh.planned_start, fresh.planned_end, fresh.assignee_id) == (
        None,
        None,
        world.petrov.id,
    )


def test_a_crew_visit_assigns_the_crew_and_default_length(db, world):
    order = world.order()
    with db.transaction() as s:
        v = planning.add_visit(
            session=s, order_id=order.id, crew_id=world.crew.id, start=at(27, 10), actor="d"
        )
    assert v.end_at - v.start_at == timedelta(minutes=120)  # the visit_minutes setting
    with db.reader() as s:
        assert s.get(Order, order.id).crew_id == world.crew.id


def test_visits_are_refused_for_closed_orders_bad_windows_and_stale_copies(db, world):
    order = world.order()
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="cancelled", actor="d")
    with pytest.raises(InvalidInput, match="only open orders get visits"):
        visit(db, order, world.ivanov, at(27, 10), at(27, 12))
    other = world.order()
    with pytest.raises(InvalidInput, match="ends before it starts"):
        visit(db, other, world.ivanov, at(27, 12), at(27, 10))
    with pytest.raises(InvalidInput, match="at most 24 hours"):
        visit(db, other, world.ivanov, at(27, 12), at(29, 10))
    v = visit(db, other, world.ivanov, at(27, 10), at(27, 12))
    with db.transaction() as s:
        planning.move_visit(session=s, visit_id=v.id, start=at(27, 11), actor="a")
    with pytest.raises(VersionConflict, match="changed by someone else"), db.transaction() as s:
        planning.move_visit(
            session=s, visit_id=v.id, start=at(27, 13), actor="b", expected_version=v.version
        )


def test_a_visit_in_the_past_is_refused_unless_allowed(db, world):
    """Now is 26.11 12:00 in Moscow: 11:50 is "now" (within the tolerance), 11:40 is not."""
    order = world.order()
    with pytest.raises(planning.VisitInThePast, match=r"start: 26\.11\.2026 11:40 is in the past"):
        visit(db, order, world.ivanov, at(26, 11, 40), at(26, 13))
    with db.reader() as s:
        assert s.get(Order, order.id).assignee_id is None  # nothing changed
    near = visit(db, order, world.ivanov, at(26, 11, 50), at(26, 13))
    with pytest.raises(planning.VisitInThePast), db.transaction() as s:
        planning.move_visit(session=s, visit_id=near.id, start=at(25, 10), actor="d")
    with db.transaction() as s:
        moved = planning.move_visit(
            session=s, visit_id=near.id, start=at(25, 10), actor="d", allow_past=True
        )
        assert moved.start_at == at(25, 10)
    with db.transaction() as s:  # a visit that started already may still change hands
        planning.move_visit(session=s, visit_id=near.id, employee_id=world.petrov.id, actor="d")
        late = planning.add_visit(
            session=s,
            order_id=order.id,
            employee_id=world.ivanov.id,
            start=at(26, 8),
            end=at(26, 9),
            actor="d",
            allow_past=True,
        )
        assert late.start_at == at(26, 8)


def test_typed_windows(db):
    start, end = planning.read_window("27.11.2026 10:00", "12:30", MSK)
    assert (start, end) == (at(27, 10), at(27, 12, 30))
    assert planning.read_window("27.11 10:00", "90m", MSK) == (at(27, 10), at(27, 11, 30))
    assert planning.read_window("завтра 10:00", None, MSK) == (at(27, 10), None)
    assert planning.read_window("14:00", "1h 30m", MSK) == (at(26, 14), at(26, 15, 30))
    assert planning.read_day("27.11", MSK) == date(2026, 11, 27)
    assert planning.read_day(None, MSK) == date(2026, 11, 26)


# --- free slots, the nearest technician, the queue --------------------------------------------


def test_free_slots_of_a_length_in_working_hours_and_never_in_the_past(db, world):
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00")
    a, b = world.order(object_id=world.ac.id), world.order(object_id=world.ac.id)
    visit(db, a, world.ivanov, at(27, 10), at(27, 12))
    visit(db, b, world.ivanov, at(27, 14), at(27, 15))

    def slots(day, minutes, **kw):
        with db.reader() as s:
            found = planning.free_slots(session=s, day=day, minutes=minutes, **kw)
        return [(x.employee, x.start.astimezone(MSK).strftime("%H:%M"), x.minutes) for x in found]

    assert slots(date(2026, 11, 27), 60) == [
        ("Иванов К. П.", "09:00", 60),
        ("Иванов К. П.", "12:00", 120),
        ("Иванов К. П.", "15:00", 180),
    ]
    assert [s[1] for s in slots(date(2026, 11, 27), 90)] == ["12:00", "15:00"]
    assert slots(date(2026, 11, 26), 60) == [("Иванов К. П.", "12:00", 360)]  # it is 12:00 now
    assert slots(date(2026, 11, 28), 60) == []  # Saturday; Petrov has no hours: not offered
    with clock.frozen(at(26, 12, 5)):
        assert slots(date(2026, 11, 26), 60)[0][1] == "12:15"  # rounded up to a quarter


def test_free_slots_leave_time_to_drive(db, world, far):
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00")
    visit(db, world.order(object_id=far.id), world.ivanov, at(27, 9), at(27, 12))
    with db.reader() as s:
        found = planning.free_slots(
            session=s, day=date(2026, 11, 27), minutes=60, object_id=world.ac.id
        )
    assert found[0].start == at(27, 12, 35)  # 15.3 km at 30 km/h from Pulkovo, to 5 minutes


def test_the_nearest_free_technician(db, world, far):
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00")
    hours(db, world.petrov, "Mon-Fri 09:00-18:00")
    with db.transaction() as s:  # Petrov lives near Pulkovo, Ivanov near Nevsky
        planning.set_home_base(
            session=s, employee_id=world.petrov.id, latitude=59.81, longitude=30.28
        )
        planning.set_home_base(
            session=s, employee_id=world.ivanov.id, latitude=59.93, longitude=30.35
        )
    with db.reader() as s:
        ranked = planning.nearest(session=s, object_id=far.id, start=at(27, 10), minutes=60)
    assert [(c.employee, c.origin, c.free) for c in ranked] == [
        ("Петров А. С.", "home", True),
        ("Иванов К. П.", "home", True),
    ]
    assert ranked[0].distance_km < 2 < 14 < ranked[1].distance_km
    # Ivanov's morning visit ends near Pulkovo; Petrov is busy then
    visit(db, world.order(object_id=far.id), world.ivanov, at(27, 8), at(27, 9, 30))
    visit(db, world.order(object_id=world.ac.id), world.petrov, at(27, 10), at(27, 11))
    with db.reader() as s:
        ranked = planning.nearest(session=s, object_id=far.id, start=at(27, 10), minutes=60)
    first = ranked[0]
    assert (first.employee, first.free, first.distance_km) == ("Иванов К. П.", True, 0.0)
    assert first.origin.startswith("visit ")
    assert ranked[1].busy_reason.startswith("visit ")


def test_the_unscheduled_queue_is_ordered_by_sla_urgency(db, world):
    with clock.frozen(at(20, 12)), db.transaction() as s:  # its resolution already violated
        late = orders.create_order(
            session=s,
            data={"customer_id": world.customer.id, "description": "старая"},
            actor="t",
        )
    low = world.order(criticality="low")  # 48 h-ish deadlines are further away
    critical = world.order(criticality="critical")
    normal = world.order()
    planned = world.order(criticality="critical")
    visit(db, planned, world.ivanov, at(27, 10), at(27, 12))
    held = world.order(criticality="critical", assignee_id=world.petrov.id)
    with db.transaction() as s:
        orders.move_order(session=s, order_id=held.id, stage="on_hold", actor="t")
    closed = world.order(criticality="critical")
    with db.transaction() as s:
        orders.move_order(session=s, order_id=closed.id, stage="cancelled", actor="t")
    with db.reader() as s:
        queue = planning.unscheduled(session=s)
    numbers = [r["number"] for r in queue]
    assert numbers == [late.number, critical.number, normal.number, low.number]
    assert queue[0]["sla_status"] == "violated"
    assert queue[1]["next_due_kind"] == "reaction"
    # a visit in the past does not take an order off the queue
    with clock.frozen(at(28, 12)), db.reader() as s:
        assert planned.number in [r["number"] for r in planning.unscheduled(session=s)]


def test_a_week_schedule_lists_days_hours_and_conflicts(db, world):
    hours(db, world.ivanov, "Mon-Fri 09:00-18:00")
    a, b = world.order(), world.order()
    visit(db, a, world.ivanov, at(27, 10), at(27, 12))
    visit(db, b, world.ivanov, at(27, 11), at(27, 13))
    with db.reader() as s:
        week = planning.schedule(
            session=s, first_day=date(2026, 11, 23), last_day=date(2026, 11, 29)
        )
    (person,) = week.people
    friday = person.days[4]
    assert person.name == "Иванов К. П."
    assert len(person.days) == 7
    assert [len(d.visits) for d in person.days] == [0, 0, 0, 0, 2, 0, 0]
    assert friday.booked == timedelta(hours=3)
    assert friday.work == timedelta(hours=9)
    assert [c.kind for c in friday.conflicts] == ["overlap"]
    assert [c.kind for c in week.conflicts] == ["overlap"]


def test_whom_a_visit_goes_to_and_which_visit_an_order_number_names(db, world):
    """Rules the CLI used to keep for itself: an employee else a crew; an order's only
    visit; and who did the work unless someone says otherwise."""
    from fsm_core.errors import NotFound
    from fsm_core.services import execution, lookup

    with db.reader() as s:
        assert lookup.resolve_assignee(session=s, ref=world.ivanov.short_name) == (
            world.ivanov.id,
            None,
        )
        assert lookup.resolve_assignee(session=s, ref=world.crew.name) == (None, world.crew.id)
        with pytest.raises(NotFound, match="no employee or crew matches 'Никто'"):
            lookup.resolve_assignee(session=s, ref="Никто")
    order = world.order(object_id=world.ac.id)
    with db.reader() as s:
        with pytest.raises(InvalidInput, match="has no visits"):
            planning.resolve_visit(session=s, ref=order.number)
        assert execution.default_executors(session=s, order=s.get(type(order), order.id)) == []
    first = visit(db, order, world.ivanov, at(27, 10), at(27, 12))
    with db.reader() as s:
        assert planning.resolve_visit(session=s, ref=order.number) == first.id
        assert planning.resolve_visit(session=s, ref=f"#{first.id}") == first.id
        assert execution.default_executors(session=s, order=s.get(type(order), order.id)) == [
            world.ivanov.id
        ]
    visit(db, order, world.crew, at(28, 10), at(28, 12), crew=True)
    with db.reader() as s, pytest.raises(InvalidInput, match="has several visits"):
        planning.resolve_visit(session=s, ref=order.number)
    with db.transaction() as s:  # the order goes to the crew alone: its members did it
        given = s.get(type(order), order.id)
        given.assignee_id = None
    with db.reader() as s:
        assert execution.default_executors(session=s, order=s.get(type(order), order.id)) == [
            world.ivanov.id
        ]
