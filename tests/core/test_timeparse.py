"""One strict parser for every date and time the product reads: it reads a value whole or
refuses it with the field and the value; nothing is guessed from a part of it."""

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
