"""Reading dates and times as users type them, in the company's time zone.

Day-first as Russians write (``14.04.2022 16:40``), ISO 8601, and a few words for the
command line (``today``, ``завтра 10:00``, ``+2h``). The common shapes are recognised by a
regular expression; only the rest go to dateutil, which is ten times slower.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fsm_core import clock
from fsm_core.errors import InvalidInput

_DAY_FIRST = re.compile(
    r"^(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_RELATIVE = re.compile(r"^([+-])\s*(\d+)\s*(m|min|h|d|w|мин|ч|д|н)$", re.IGNORECASE)
_WORD_DAY = {
    "today": 0,
    "сегодня": 0,
    "tomorrow": 1,
    "завтра": 1,
    "yesterday": -1,
    "вчера": -1,
}
_UNIT_MINUTES = {"m": 1, "min": 1, "мин": 1, "h": 60, "ч": 60, "d": 1440, "д": 1440}
_UNIT_MINUTES |= {"w": 10080, "н": 10080}
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", hint="e.g. Europe/Moscow") from None


def parse_datetime(
    value: str | datetime | None,
    *,
    tz: tzinfo,
    field: str = "date",
    end_of_day: bool = False,
) -> datetime | None:
    """The moment ``value`` names, in UTC. A date alone means the day's start, or its last
    minute with ``end_of_day`` (a deadline "до 14.04.2022" includes that day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    text = value.strip()
    if not text:
        return None
    local = _parse_local(text, tz=tz, end_of_day=end_of_day)
    if local is None:
        raise InvalidInput(f"{field}: cannot read date {value!r}", field=field)
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


def _parse_local(text: str, *, tz: tzinfo, end_of_day: bool) -> datetime | None:
    match = _DAY_FIRST.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        y = int(year)
        if len(year) == 2:
            y += 2000
        try:
            if hour is None:
                return _day_bound(date(y, int(month), int(day)), end_of_day)
            return datetime(y, int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            return None
    if _ISO_DATE.match(text):
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
        except ValueError:
            return None
        if len(text) == 10:
            return _day_bound(parsed.date(), end_of_day)
        return parsed
    lowered = text.lower()
    relative = _RELATIVE.match(lowered)
    if relative:
        sign, amount, unit = relative.groups()
        minutes = int(amount) * _UNIT_MINUTES[unit]
        return clock.now().astimezone(tz) + timedelta(minutes=-minutes if sign == "-" else minutes)
    if lowered == "now" or lowered == "сейчас":
        return clock.now().astimezone(tz)
    word, _, rest = lowered.partition(" ")
    if word in _WORD_DAY:
        day = clock.now().astimezone(tz).date() + timedelta(days=_WORD_DAY[word])
        if not rest:
            return _day_bound(day, end_of_day)
        hm = _CLOCK.match(rest.strip())
        if not hm or int(hm.group(1)) > 23 or int(hm.group(2)) > 59:
            return None
        return datetime.combine(day, time(int(hm.group(1)), int(hm.group(2))))
    return _parse_with_dateutil(text, end_of_day=end_of_day)


def _parse_with_dateutil(text: str, *, end_of_day: bool) -> datetime | None:
    from dateutil import parser

    if not any(ch.isdigit() for ch in text):
        return None
    try:
        parsed = parser.parse(text, dayfirst=True)
    except (ValueError, OverflowError):
        return None
    if end_of_day and parsed.time() == time(0) and not re.search(r"\d[:.]\d\d", text):
        return _day_bound(parsed.date(), True)
    return parsed


def _day_bound(day: date, end_of_day: bool) -> datetime:
    return datetime.combine(day, time(23, 59) if end_of_day else time(0))


def parse_date(value: str | date | None, *, tz: tzinfo, field: str = "date") -> date | None:
    """A calendar date in the company's zone (for ranges like ``--since 01.11.2026``)."""
    if value is None or isinstance(value, date):
        return value
    moment = parse_datetime(value, tz=tz, field=field)
    return moment.astimezone(tz).date() if moment else None


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC start and end of a local calendar day."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*(d|д|h|ч|m|min|мин)", re.IGNORECASE)


def parse_minutes(value: str, *, field: str = "duration") -> int:
    """``4h``, ``30m``, ``1d 4h``, ``1,5ч`` or plain minutes → whole minutes."""
    text = value.strip().lower()
    if text.isdigit():
        minutes = int(text)
    else:
        parts = _DURATION_PART.findall(text)
        if not parts or _DURATION_PART.sub("", text).strip():
            raise InvalidInput(
                f"{field}: cannot read duration {value!r}", field=field, hint="e.g. 30m, 4h, 2d"
            )
        minutes = round(sum(float(n.replace(",", ".")) * _UNIT_MINUTES[u] for n, u in parts))
    if minutes <= 0:
        raise InvalidInput(f"{field}: duration {value!r} must be positive", field=field)
    return minutes
