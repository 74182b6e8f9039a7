"""One strict parser for every date and time the product reads: it reads a value whole or
refuses it with the field and the value; nothing is guessed from a part of it."""

import re
from datetime import UTC, date, datetime, time

import pytest

from fsm_core import clock
from fsm_core.errors import InvalidInput
from fsm_core.importing.fields import CellError, datetime_reader
from fsm_core.services import planning
from fsm_core.services.working_time import parse_pattern
from fsm_core.timeparse import parse_date, parse_datetime, zone

MSK = zone("Europe/Moscow")
NOON = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday 12:00 in Moscow

GARBAGE = ["10:0009:00", "25:00", "10:60", "31.02.2026", "1.1.1", "10:00 am", "10:00x", "1O:00"]


@pytest.mark.parametrize("bad", GARBAGE)
def test_the_command_line_and_the_planner_refuse_what_they_cannot_read_whole(bad):
    with clock.frozen(NOON):
        with pytest.raises(InvalidInput) as caught:
            parse_datetime(bad, tz=MSK, field="start", what="time")
        assert caught.value.one_line().startswith(f"start: cannot read time {bad!r}")
        assert "\n" not in caught.value.one_line()
        with pytest.raises(InvalidInput, match=f"START: cannot read time {bad!r}"):
            planning.read_window(bad, "1h", MSK, start_field="START")
        with pytest.raises(InvalidInput, match=f"END: cannot read time {bad!r}"):
            planning.read_window("10:00", bad, MSK, end_field="END")


@pytest.mark.parametrize("bad", ["10:0009:00", "25:00", "31.02.2026", "1.1.1", "32.01", "10:00"])
def test_a_day_is_read_whole_too(bad):
    with pytest.raises(InvalidInput, match=f"since: cannot read date {bad!r}"):
        parse_date(bad, tz=MSK, field="since")
    with pytest.raises(InvalidInput, match=f"day: cannot read date {bad!r}"):
        planning.read_day(bad, MSK, field="day")


@pytest.mark.parametrize(
    "bad", ["10:0009:00", "31.02.2026", "1.1.1", "14.04.2022 25:00", "14.04.2022 10:60", "10:00"]
)
def test_an_import_cell_is_read_whole(bad):
    for end_of_day in (False, True):
        read = datetime_reader(MSK, end_of_day=end_of_day)
        with pytest.raises(CellError, match=f"cannot read date {bad!r}"):
            read(bad)


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("10:00", datetime(2026, 11, 26, 10, 0)),
        ("9.45", datetime(2026, 11, 26, 9, 45)),
        ("27.11 10:00", datetime(2026, 11, 27, 10, 0)),
        ("27.11.2026 10:00", datetime(2026, 11, 27, 10, 0)),
        ("27.11.2026, 10.00", datetime(2026, 11, 27, 10, 0)),
        ("27/11/26 10:00:30", datetime(2026, 11, 27, 10, 0, 30)),
        ("2026-11-27T10:00", datetime(2026, 11, 27, 10, 0)),
        ("2026/11/27 10:00", datetime(2026, 11, 27, 10, 0)),
        ("27 ноября 2026 г. 10:00", datetime(2026, 11, 27, 10, 0)),
        ("27 Nov 2026", datetime(2026, 11, 27, 0, 0)),
        ("завтра 10:00", datetime(2026, 11, 27, 10, 0)),
        ("  27.11.2026   10:00 ", datetime(2026, 11, 27, 10, 0)),
    ],
)
def test_what_people_type_is_still_read(typed, local):
    with clock.frozen(NOON):
        assert parse_datetime(typed, tz=MSK, what="time") == local.replace(tzinfo=MSK).astimezone(
            UTC
        )


def test_a_date_or_a_time_is_not_guessed():
    with clock.frozen(NOON):
        with pytest.raises(InvalidInput, match=r"start: '10\.11' could be the date 10\.11\.2026"):
            parse_datetime("10.11", tz=MSK, field="start")
        # where a day is wanted it is a day
        assert parse_date("10.11", tz=MSK) == date(2026, 11, 10)


def test_working_hours_read_their_clock_times_the_same_way():
    from fsm_core.timeparse import parse_clock

    assert parse_clock("9") == time(9)
    assert parse_clock("24:00", allow_24=True) == time(0)
    assert parse_clock("24:00") is None
    for bad in ("mon-fri 09:00-1800", "mon-fri 09:00-25:00", "mon-fri 9:60-18", "mon-fri 0900-18"):
        with pytest.raises(InvalidInput, match="working hours"):
            parse_pattern(bad)


@pytest.fixture
def date_window(monkeypatch):
    """Set FSM_DATE_WINDOW for one test (the settings are read once per process)."""
    from fsm_core.config import get_settings

    def set_to(value):
        monkeypatch.setenv("FSM_DATE_WINDOW", value)
        get_settings.cache_clear()

    yield set_to
    monkeypatch.delenv("FSM_DATE_WINDOW", raising=False)
    get_settings.cache_clear()


OUTSIDE = ["01.01.0001", "31.12.9999", "0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00"]
OUTSIDE += ["01.01.1969 23:59", "01.01.2101", "+99999999999w", "-9999999w", "1 января 0001"]


@pytest.mark.parametrize("typed", OUTSIDE)
def test_a_date_outside_the_window_is_refused_naming_the_field(typed):
    """Year 1 and 9999 raised OverflowError from moving the moment to UTC (issue 15
    item 10), or were accepted silently from an import."""
    with clock.frozen(NOON):
        with pytest.raises(InvalidInput) as caught:
            parse_datetime(typed, tz=MSK, field="--due")
        assert caught.value.one_line().startswith(
            f"--due: {typed!r} is outside the years fsm accepts (1970-2100)"
        )
        assert "FSM_DATE_WINDOW" in caught.value.one_line()
        if typed[0].isdigit():
            with pytest.raises(InvalidInput, match=f"since: {re.escape(repr(typed))} is outside"):
                parse_date(typed, tz=MSK, field="since")
            with pytest.raises(InvalidInput, match=r"day: .* is outside"):
                planning.read_day(typed, MSK, field="day")
            for end_of_day in (False, True):  # a file has no "+2h"
                with pytest.raises(CellError, match=f"{re.escape(repr(typed))} is outside"):
                    datetime_reader(MSK, end_of_day=end_of_day)(typed)


@pytest.mark.parametrize(
    "value", [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59), date(1, 1, 1), 2958465.5]
)
def test_a_typed_cell_outside_the_window_is_refused_too(value):
    """An Excel date cell or serial, a JSON value: not only text goes through the window."""
    with pytest.raises(CellError, match="is outside the years fsm accepts"):
        datetime_reader(MSK)(value)
    if isinstance(value, datetime):
        with pytest.raises(InvalidInput, match=r"start: .* is outside"):
            parse_datetime(value, tz=MSK, field="start")


def test_the_window_is_a_setting(date_window):
    date_window("1900 - 2200")
    with clock.frozen(NOON):
        assert parse_date("01.01.1901", tz=MSK) == date(1901, 1, 1)
        assert parse_datetime("31.12.2199 10:00", tz=MSK) == datetime(2199, 12, 31, 7, tzinfo=UTC)
        with pytest.raises(InvalidInput, match=r"\(1900-2200\)"):
            parse_date("31.12.1899", tz=MSK)
    assert datetime_reader(UTC)("01.01.1901") == datetime(1901, 1, 1, tzinfo=UTC)
    date_window("2-9998")  # the widest: a day of room at both ends of the calendar
    assert parse_datetime("01.01.0002", tz=MSK) == datetime(2, 1, 1, tzinfo=MSK).astimezone(UTC)
    assert parse_date("31.12.9998", tz=MSK) == date(9998, 12, 31)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2100-1970", "the first year is after the last"),
        ("1970", "give two years joined by '-'"),
        ("x-y", "give two years joined by '-'"),
        ("1-9999", "the years must be from 2 to 9998"),
    ],
)
def test_a_window_that_is_not_one_is_refused_in_one_line(date_window, value, why):
    from fsm_core.config import get_settings

    date_window(value)
    with pytest.raises(InvalidInput) as caught:
        get_settings()
    assert caught.value.one_line() == f"FSM_DATE_WINDOW={value!r}: {why}" + (
        ", e.g. 1970-2100" if "joined" in why else ""
    )
