"""The text a bulk write stores for a moment is what SQLAlchemy stores for it, to the
character, whatever the moment: rows written both ways sort and compare alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from fsm_core.bulk import sqlite_time

_BIND = DATETIME().bind_processor(SQLiteDialect())

moments = st.builds(
    lambda naive, minutes: naive.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 12, 30)),
    st.sampled_from([0, 0, 180, -300, 330, 0]),
)
whole_minutes = moments.map(lambda m: m.replace(second=0, microsecond=0))


@settings(max_examples=400)
@given(st.one_of(moments, whole_minutes))
def test_a_moment_is_stored_as_sqlalchemy_stores_it(moment: datetime):
    utc = moment.astimezone(UTC)
    assert sqlite_time(moment) == _BIND(utc.replace(tzinfo=None))
    assert sqlite_time(utc) == sqlite_time(moment)  # asked again: the same text


def test_the_hours_texts_are_reused_across_days_and_years():
    first = datetime(2026, 3, 1, 9, 7, tzinfo=UTC)
    seen = {
        sqlite_time(first + timedelta(hours=h, minutes=m))
        for h in range(0, 9000, 7)
        for m in (0, 59)
    }
    assert len(seen) == 2 * len(range(0, 9000, 7))
    assert sqlite_time(first) == "2026-03-01 09:07:00.000000"
    assert sqlite_time(datetime(2026, 3, 1, 9, 7, 0, 1, tzinfo=UTC)) == "2026-03-01 09:07:00.000001"
