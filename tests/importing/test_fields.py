"""Reading date cells: the cached fast path must give what the zone database gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fsm_core.importing.fields import CellError, datetime_reader


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Moscow",
        "Europe/Berlin",
        "Asia/Kolkata",
        "America/St_Johns",
        "Australia/Lord_Howe",
        "America/Santiago",
    ],
)
def test_dates_read_through_the_hour_cache_match_the_zone_database(zone):
    tz = ZoneInfo(zone)
    read = datetime_reader(tz)
    # every 7 minutes across both of 2024's daylight-saving changes (where the zone has them)
    for start in (datetime(2024, d[0], d[1]) for d in ((3, 30), (10, 26), (4, 6), (10, 5))):
        moment = start
        while moment < start + timedelta(days=2):
            expected = moment.replace(tzinfo=tz).astimezone(UTC)
            for text in (moment.strftime("%d.%m.%Y %H:%M"), moment.strftime("%Y-%m-%d %H:%M")):
                assert read(text) == expected, (zone, text)
                assert read(text) == expected, (zone, text, "again, from the cache")
            # a workbook's date cell: a naive datetime, cached by its hour as well
            assert read(moment) == expected, (zone, moment)
            assert read(moment) == expected, (zone, moment, "again, from the cache")
            moment += timedelta(minutes=7)


def test_a_date_cell_outside_the_window_or_not_a_whole_minute_goes_the_long_way():
    read = datetime_reader(ZoneInfo("Europe/Moscow"))
    for _ in range(2):
        assert read(datetime(2024, 1, 1, 10, 5, 7)) == datetime(2024, 1, 1, 7, 5, 7, tzinfo=UTC)
        with pytest.raises(CellError, match="outside the years"):
            read(datetime(2150, 1, 1, 10, 5))


def test_a_plain_date_and_a_deadline_are_cached_apart():
    tz = ZoneInfo("Europe/Moscow")
    start, deadline = datetime_reader(tz), datetime_reader(tz, end_of_day=True)
    for _ in range(2):
        assert start("14.04.2022") == datetime(2022, 4, 13, 21, 0, tzinfo=UTC)
        assert deadline("14.04.2022") == datetime(2022, 4, 14, 20, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["31.02.2024 10:15", "31.02.2024", "14.04.2022 24:10", "14.04.2022 10:6x", "1.1.2024 1:05:07"],
)
def test_what_the_fast_path_cannot_read_goes_the_long_way(text):
    read = datetime_reader(ZoneInfo("Europe/Moscow"))
    for _ in range(2):  # the second time from whatever the first left in the cache
        if text == "1.1.2024 1:05:07":
            assert read(text) == datetime(2023, 12, 31, 22, 5, 7, tzinfo=UTC)
            continue
        with pytest.raises(CellError, match="cannot read date"):
            read(text)
