"""How a moment reads on screen and in the command line's lists: one way, in the
user's language, the year only when it is not the current one."""

from datetime import UTC, date, datetime

import pytest

from fsm_core import clock
from fsm_core.formatting import day_text, moment
from fsm_core.timeparse import zone

MSK = zone("Europe/Moscow")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "lang", "shown"),
    [
        (datetime(2026, 12, 6, 12, 39, tzinfo=UTC), "ru", "06.12 15:39"),
        (datetime(2026, 12, 6, 12, 39, tzinfo=UTC), "en", "Dec 06 15:39"),
        (datetime(2026, 1, 2, 7, 5, tzinfo=UTC), "en", "Jan 02 10:05"),
        (datetime(2025, 12, 31, 20, 30, tzinfo=UTC), "ru", "31.12.2025 23:30"),
        (datetime(2025, 12, 31, 20, 30, tzinfo=UTC), "en", "Dec 31 2025 23:30"),
        (datetime(2027, 3, 1, 6, 0, tzinfo=UTC), "en", "Mar 01 2027 09:00"),
        # the company's zone decides the day and the year: 21:30 UTC is past midnight
        (datetime(2025, 12, 31, 21, 30, tzinfo=UTC), "ru", "01.01 00:30"),
    ],
)
def test_a_moment_reads_one_way_per_language(value, lang, shown):
    assert moment(value, MSK, lang=lang, now=NOW) == shown


def test_the_current_year_is_the_clocks_when_not_given():
    value = datetime(2026, 5, 9, 9, 0, tzinfo=UTC)
    with clock.frozen(NOW):
        assert moment(value, MSK, lang="ru") == "09.05 12:00"
    with clock.frozen(datetime(2027, 1, 1, 12, 0, tzinfo=UTC)):
        assert moment(value, MSK, lang="ru") == "09.05.2026 12:00"
    assert moment(None, MSK, lang="en") == ""


def test_seconds_and_days():
    value = datetime(2026, 12, 6, 12, 39, 7, tzinfo=UTC)
    assert moment(value, MSK, lang="en", now=NOW, seconds=True) == "Dec 06 15:39:07"
    assert day_text(date(2026, 12, 6), lang="ru", this_year=2026) == "06.12"
    assert day_text(date(2026, 12, 6), lang="en", this_year=2027) == "Dec 06 2026"
