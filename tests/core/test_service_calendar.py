"""The service calendar's arithmetic: open time across weekends, holidays, nights and DST,
and a property test that adding open time and measuring it are exact inverses."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm_core.errors import InvalidInput
from fsm_core.service_calendar import ServiceCalendar, WeeklyHours
from fsm_core.timeparse import zone

MSK = zone("Europe/Moscow")
BERLIN = zone("Europe/Berlin")
NINE_TO_SIX = WeeklyHours.of((d, time(9), time(18)) for d in range(5))  # Mon–Fri
H = timedelta(hours=1)


def local(tz, y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def test_a_weekend_waits_for_monday():
    cal = ServiceCalendar(hours=NINE_TO_SIX, tz=MSK)
    saturday = local(MSK, 2026, 11, 28, 12)
    assert cal.add(saturday, timedelta(minutes=30)) == local(MSK, 2026, 11, 30, 9, 30)
    assert cal.between(saturday, local(MSK, 2026, 11, 30, 9, 30)) == timedelta(minutes=30)
    friday_evening = local(MSK, 2026, 11, 27, 17)
    assert cal.add(friday_evening, 2 * H) == local(MSK, 2026, 11, 30, 10)


def test_outside_hours_the_clock_starts_at_the_next_opening():
    cal = ServiceCalendar(hours=NINE_TO_SIX, tz=MSK)
    assert cal.add(local(MSK, 2026, 11, 26, 7), H) == local(MSK, 2026, 11, 26, 10)
    assert cal.add(local(MSK, 2026, 11, 26, 20), H) == local(MSK, 2026, 11, 27, 10)
    # a deadline may fall on the closing time itself
    assert cal.add(local(MSK, 2026, 11, 26, 17), H) == local(MSK, 2026, 11, 26, 18)


def test_a_deadline_spans_several_days():
    cal = ServiceCalendar(hours=NINE_TO_SIX, tz=MSK)
    # Mon 10:00 + 20 h of work: Mon 8 h, Tue 9 h, Wed 3 h
    assert cal.add(local(MSK, 2026, 11, 23, 10), 20 * H) == local(MSK, 2026, 11, 25, 12)
    # 5 working days from Thursday cross the weekend
    assert cal.add(local(MSK, 2026, 11, 26, 9), 45 * H) == local(MSK, 2026, 12, 2, 18)


def test_a_holiday_on_a_working_day_is_closed_all_day():
    cal = ServiceCalendar(hours=NINE_TO_SIX, tz=MSK, holidays=[date(2026, 11, 4)])  # a Wednesday
    tuesday = local(MSK, 2026, 11, 3, 17)
    assert cal.add(tuesday, 2 * H) == local(MSK, 2026, 11, 5, 10)
    assert cal.between(tuesday, local(MSK, 2026, 11, 5, 10)) == 2 * H
    assert not cal.is_open(local(MSK, 2026, 11, 4, 12))


def test_night_hours_run_past_midnight():
    nights = WeeklyHours.of((d, time(20), time(8)) for d in range(5))  # Mon–Fri 20:00–08:00
    cal = ServiceCalendar(hours=nights, tz=MSK)
    friday_noon = local(MSK, 2026, 11, 27, 12)
    assert cal.add(friday_noon, 13 * H) == local(MSK, 2026, 11, 30, 21)  # Fri night, then Mon
    assert cal.is_open(local(MSK, 2026, 11, 28, 7))  # Friday's night, on Saturday morning
    assert not cal.is_open(local(MSK, 2026, 11, 28, 9))


def test_daylight_saving_changes_keep_local_hours():
    cal = ServiceCalendar(hours=NINE_TO_SIX, tz=BERLIN)
    # spring forward on Sunday 29.03.2026: Friday is +01:00, Monday +02:00
    friday = local(BERLIN, 2026, 3, 27, 17)
    monday = cal.add(friday, 2 * H)
    assert monday == local(BERLIN, 2026, 3, 30, 10)
    assert monday.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)
    # fall back on Sunday 25.10.2026
    assert cal.add(local(BERLIN, 2026, 10, 23, 17), 2 * H) == local(BERLIN, 2026, 10, 26, 10)
    # a span across the change itself is an hour shorter (or longer) in real time
    night = ServiceCalendar(hours=WeeklyHours.of([(6, time(1), time(4))]), tz=BERLIN)
    sunday = local(BERLIN, 2026, 3, 29)
    assert night.between(sunday, sunday + timedelta(days=1)) == 2 * H
    autumn = local(BERLIN, 2026, 10, 25)
    assert night.between(autumn, autumn + timedelta(days=1)) == 4 * H


def test_around_the_clock_is_plain_arithmetic():
    cal = ServiceCalendar()
    start = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert cal.always
    assert cal.add(start, 30 * H) == start + 30 * H
    assert cal.between(start, start - H) == -H


def test_a_calendar_without_hours_is_refused():
    with pytest.raises(InvalidInput, match="needs some opening hours"):
        WeeklyHours.of([])
    everything_closed = ServiceCalendar(
        hours=WeeklyHours.of([(0, time(9), time(18))]),
        tz=MSK,
        holidays=[date(2026, 11, 30) + timedelta(weeks=w) for w in range(600)],
    )
    with pytest.raises(InvalidInput, match="no open hours"):
        everything_closed.add(local(MSK, 2026, 11, 26), H)


# --- the property ---------------------------------------------------------------------------

quarter_hours = st.integers(0, 95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def calendars(draw):
    spans = []
    for weekday in range(7):
        for _ in range(draw(st.integers(0, 2))):
            start, end = draw(quarter_hours), draw(quarter_hours)
            if start != end:  # end before start: the span runs past midnight
                spans.append((weekday, start, end))
    if not spans:
        spans.append((draw(st.integers(0, 6)), time(9), time(18)))
    tz = zone(draw(st.sampled_from(["Europe/Berlin", "Europe/Moscow", "America/New_York"])))
    first = date(2026, 3, 20)
    holidays = draw(st.sets(st.integers(0, 240).map(lambda n: first + timedelta(days=n))))
    return ServiceCalendar(hours=WeeklyHours.of(spans), tz=tz, holidays=holidays)


# around both 2026 DST changes in Europe and America, minutes from a whole-minute start
starts = st.integers(0, 240 * 24 * 60).map(
    lambda m: datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=m)
)


@settings(max_examples=400, deadline=None)
@given(cal=calendars(), start=starts, minutes=st.integers(0, 6000))
def test_adding_open_time_then_measuring_it_gives_it_back(cal, start, minutes):
    delta = timedelta(minutes=minutes)
    end = cal.add(start, delta)
    assert end >= start
    assert cal.between(start, end) == delta
    if end != start:  # never inside a closed period: open, or exactly a closing time
        assert cal.is_open(end) or cal.is_open(end - timedelta(microseconds=1))
        assert cal.is_open(end - timedelta(microseconds=1))  # the last moment counted
