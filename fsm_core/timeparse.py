"""Reading dates and times as users type them, in the company's time zone: the one parser
every command, form and import goes through.

It reads a value completely or not at all: what is left over after a date, an hour past
23, a minute past 59, a day a month does not have or a one-digit year is refused with
the field and the value, never guessed at. Accepted:

- day-first, as Russians write: ``14.04.2022``, ``14.04.22``, ``14/04/2022``, with a time
  ``14.04.2022 16:40``, ``14.04.2022, 16.40``, ``14.04.2022 16:40:05``;
- ISO 8601 (``2022-04-14``, ``2022-04-14T16:40``, with an offset or ``Z``), and
  ``2022/04/14`` or ``2022.04.14`` with the year first;
- month names, English or Russian: ``14 April 2022``, ``14 апреля 2022 г. 16:40``;
- where a base day is known (the command line, a form): ``27.11`` (its year), ``10:00``
  (on that day), ``завтра 10:00``, ``today``, ``now``, ``+2h``, ``-30m``.

``10.11`` alone could be the 10th of November or ten past ten: it is refused as ambiguous
where both make sense, and read as the only one that does otherwise (``27.11``, ``9.45``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fsm_core import clock
from fsm_core.errors import InvalidInput

_TIME = r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
_AFTER_DATE = rf"(?:(?:\s+|\s*,\s*){_TIME})?"
_DAY_FIRST = re.compile(
    rf"(?P<d>\d{{1,2}})(?P<sep>[./])(?P<mo>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_AFTER_DATE}"
)
_YEAR_FIRST = re.compile(
    rf"(?P<y>\d{{4}})(?P<sep>[./])(?P<mo>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_AFTER_DATE}"
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].+)?")
_NO_YEAR = re.compile(rf"(?P<d>\d{{1,2}})\.(?P<mo>\d{{1,2}}){_AFTER_DATE}")
_AMBIGUOUS = re.compile(r"(?P<a>\d{1,2})\.(?P<b>\d{2})")
_CLOCK = re.compile(_TIME)
_NAMED_MONTH = re.compile(
    rf"(?P<d>\d{{1,2}})\s+(?P<name>[^\W\d_]+)\.?\s+(?P<y>\d{{4}})(?:\s*г\.?)?{_AFTER_DATE}"
)
_RELATIVE = re.compile(r"([+-])\s*(\d+)\s*(m|min|h|d|w|мин|ч|д|н)", re.IGNORECASE)
_WORD_DAY = {
    "today": 0,
    "сегодня": 0,
    "tomorrow": 1,
    "завтра": 1,
    "yesterday": -1,
    "вчера": -1,
}
_NOW = ("now", "сейчас")
_UNIT_MINUTES = {"m": 1, "min": 1, "мин": 1, "h": 60, "ч": 60, "d": 1440, "д": 1440}
_UNIT_MINUTES |= {"w": 10080, "н": 10080}


def _months() -> dict[str, int]:
    names = {
        1: "january jan январь января янв",
        2: "february feb февраль февраля фев",
        3: "march mar март марта мар",
        4: "april apr апрель апреля апр",
        5: "may май мая",
        6: "june jun июнь июня июн",
        7: "july jul июль июля июл",
        8: "august aug август августа авг",
        9: "september sep sept сентябрь сентября сен сент",
        10: "october oct октябрь октября окт",
        11: "november nov ноябрь ноября ноя нояб",
        12: "december dec декабрь декабря дек",
    }
    return {word: month for month, words in names.items() for word in words.split()}


_MONTHS = _months()

HINT = "e.g. 27.11.2026 10:00, 27.11.2026, 2026-11-27T10:00"
_HINT_WITH_BASE = "e.g. 27.11.2026 10:00, 27.11 10:00, 10:00, завтра 10:00, +2h"


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", hint="e.g. Europe/Moscow") from None


def clock_time(hour: str | int, minute: str | int, second: str | int | None = 0) -> time | None:
    """The time of day, or None when it is not one (25:00, 10:60)."""
    h, m, s = int(hour), int(minute), int(second or 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return time(h, m, s)


def parse_clock(text: str, *, allow_24: bool = False) -> time | None:
    """``9:05``, ``09:05``, ``9.05``, ``18`` (a whole hour) as a time of day, or None.
    ``allow_24``: ``24:00`` (the end of a day, in working hours) is midnight."""
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) <= 2:
        hour, minute = value, "0"
    else:
        match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", value)
        if match is None:
            return None
        hour, minute = match.groups()
    if allow_24 and int(hour) == 24 and int(minute) == 0:
        return time(0)
    return clock_time(hour, minute)


def _day(year: str | int, month: str | int, day: str | int) -> date | None:
    y = int(year)
    if isinstance(year, str) and len(year) == 2:
        y += 2000
    try:
        return date(y, int(month), int(day))
    except ValueError:
        return None


def _on(day: date | None, match: re.Match[str], end_of_day: bool) -> datetime | None:
    """``day`` at the match's time, or at the day's bound when it has none."""
    if day is None:
        return None
    if match.group("h") is None:
        return datetime.combine(day, time(23, 59) if end_of_day else time(0))
    at = clock_time(match.group("h"), match.group("mi"), match.group("s"))
    return datetime.combine(day, at) if at is not None else None


class OutOfWindow(InvalidInput):
    """A date outside the years fsm accepts: the ``date_window`` setting
    (``FSM_DATE_WINDOW``, default 1970-2100). Year 1 or 9999 is a typing slip or another
    program's "no date", never a visit or a deadline, and at the calendar's ends moving a
    moment into UTC overflows."""


def date_years() -> tuple[int, int]:
    """The first and the last year a date may fall in (the ``date_window`` setting)."""
    from fsm_core.config import get_settings

    return get_settings().date_years()


def check_window(
    value: date,
    *,
    shown: str | None = None,
    years: tuple[int, int] | None = None,
    field: str | None = None,
) -> None:
    """Refuse a date or moment (naive or in any zone) outside ``years`` (default: the
    ``date_window`` setting), naming ``field``; ``shown`` is how the value was written."""
    first, last = years or date_years()
    if first <= value.year <= last:
        return
    where = f"{field}: " if field else ""
    raise OutOfWindow(
        f"{where}{shown or value.isoformat()!r} is outside the years fsm accepts ({first}-{last})",
        field=field,
        hint="the date_window setting, FSM_DATE_WINDOW, sets them",
    )


def read_local(
    text: str,
    *,
    tz: tzinfo,
    end_of_day: bool = False,
    base: date | None = None,
    words: bool = True,
) -> datetime | None:
    """The moment ``text`` names: a naive local datetime, or an aware one (ISO with an
    offset, ``now``, ``+2h``); None when it cannot be read completely. A moment outside
    the ``date_window`` years raises :class:`OutOfWindow`: every date and time typed or
    imported is read here, so this is where the window is kept.

    ``base``: the day that a time alone, or a date without a year, belongs to; without
    it those are refused (an imported file has no "today"). ``words``: today, завтра, now,
    +2h. ``end_of_day``: a date alone means its last minute (a deadline "до 14.04").
    """
    try:
        local = _read_local(text, tz=tz, end_of_day=end_of_day, base=base, words=words)
    except OverflowError:  # +99999999w: beyond any calendar
        local = datetime.max
    if local is not None:
        check_window(local, shown=" ".join(text.split()))
    return local


def _read_local(
    text: str,
    *,
    tz: tzinfo,
    end_of_day: bool = False,
    base: date | None = None,
    words: bool = True,
) -> datetime | None:
    value = " ".join(text.split())
    if not value:
        return None
    first = value[0]
    if first.isdigit():
        match = _DAY_FIRST.fullmatch(value)
        if match:
            return _on(_day(match["y"], match["mo"], match["d"]), match, end_of_day)
        if _ISO.fullmatch(value):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return None
            if len(value) == 10:
                return datetime.combine(parsed.date(), time(23, 59) if end_of_day else time(0))
            return parsed
        match = _YEAR_FIRST.fullmatch(value)
        if match:
            return _on(_day(match["y"], match["mo"], match["d"]), match, end_of_day)
        match = _NAMED_MONTH.fullmatch(value)
        if match:
            month = _MONTHS.get(match["name"].lower())
            return _on(_day(match["y"], month, match["d"]) if month else None, match, end_of_day)
        if base is None:
            return None
        return _with_base(value, base=base, end_of_day=end_of_day)
    if not words:
        return None
    lowered = value.lower()
    if first in "+-":
        relative = _RELATIVE.fullmatch(lowered)
        if relative is None:
            return None
        sign, amount, unit = relative.groups()
        minutes = int(amount) * _UNIT_MINUTES[unit]
        return clock.now().astimezone(tz) + timedelta(minutes=-minutes if sign == "-" else minutes)
    if lowered in _NOW:
        return clock.now().astimezone(tz)
    word, _, rest = lowered.partition(" ")
    if word not in _WORD_DAY:
        return None
    day = clock.now().astimezone(tz).date() + timedelta(days=_WORD_DAY[word])
    if not rest:
        return datetime.combine(day, time(23, 59) if end_of_day else time(0))
    match = _CLOCK.fullmatch(rest)
    return _on(day, match, end_of_day) if match else None


class Ambiguity(InvalidInput):
    """``10.11`` alone: a date or a time (both make sense)."""


def _with_base(value: str, *, base: date, end_of_day: bool) -> datetime | None:
    """``10:00`` on ``base``; ``27.11`` or ``27.11 10:00`` in ``base``'s year."""
    match = _AMBIGUOUS.fullmatch(value)
    if match:
        a, b = match["a"], match["b"]
        as_day = _day(base.year, b, a)
        as_time = clock_time(a, b)
        if as_day is not None and as_time is not None:
            raise Ambiguity(
                f"{value!r} could be the date {as_day:%d.%m.%Y} or the time {as_time:%H:%M}",
                hint=f"write {a}:{b} for the time, or {a}.{b}.{base.year} for the date",
            )
        if as_time is not None:
            return datetime.combine(base, as_time)
    match = _CLOCK.fullmatch(value)
    if match and ":" in value:
        return _on(base, match, end_of_day)
    match = _NO_YEAR.fullmatch(value)
    if match:
        return _on(_day(base.year, match["mo"], match["d"]), match, end_of_day)
    return None


def parse_datetime(
    value: str | datetime | None,
    *,
    tz: tzinfo,
    field: str = "date",
    end_of_day: bool = False,
    day: date | None = None,
    what: str = "date",
) -> datetime | None:
    """The moment ``value`` names, in UTC; None for nothing typed. A date alone means the
    day's start, or its last minute with ``end_of_day`` (a deadline "до 14.04.2022"
    includes that day). A time alone, or a date without a year, is on ``day`` (default:
    today in ``tz``). What cannot be read completely raises, naming ``field`` and the
    value (``what``: "date" or "time", as the message calls it)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        check_window(value, field=field)
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    if not value.strip():
        return None
    base = day or clock.now().astimezone(tz).date()
    try:
        local = read_local(value, tz=tz, end_of_day=end_of_day, base=base)
    except (Ambiguity, OutOfWindow) as exc:
        raise InvalidInput(f"{field}: {exc.message}", field=field, hint=exc.hint) from None
    if local is None:
        raise InvalidInput(
            f"{field}: cannot read {what} {value!r}", field=field, hint=_HINT_WITH_BASE
        )
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


def parse_date(
    value: str | date | None, *, tz: tzinfo, field: str = "date", base: date | None = None
) -> date | None:
    """A calendar date in the company's zone (``--since 01.11.2026``, ``27.11`` in
    ``base``'s year, default this year; ``today``, ``завтра``). A time alone is not a
    date; ``10.11`` is the 10th of November here."""
    if value is None:
        return None
    if isinstance(value, date):
        check_window(value, field=field)
        return value
    text = " ".join(value.split())
    if not text:
        return None
    today = base or clock.now().astimezone(tz).date()
    local: datetime | None = None
    match = _NO_YEAR.fullmatch(text)
    if match and match["h"] is None:
        found = _day(today.year, match["mo"], match["d"])
        local = datetime.combine(found, time(0)) if found else None
    elif not _CLOCK.fullmatch(text):
        try:
            local = read_local(text, tz=tz)
        except OutOfWindow as exc:
            raise InvalidInput(f"{field}: {exc.message}", field=field, hint=exc.hint) from None
    if local is None:
        raise InvalidInput(
            f"{field}: cannot read date {value!r}",
            field=field,
            hint="e.g. 27.11.2026, 27.11, 2026-11-27, today, завтра",
        )
    if local.tzinfo is not None:
        return local.astimezone(tz).date()
    return local.date()


def day_range(
    since: str | None, until: str | None, *, tz: tzinfo
) -> tuple[datetime | None, datetime | None]:
    """``--since DAY`` / ``--until DAY`` as UTC moments: the start of the first day and
    the end of the last (it is included); None for a side not given."""
    start = end = None
    if since:
        day = parse_date(since, tz=tz, field="since")
        start = local_day_bounds(day, tz)[0] if day else None
    if until:
        day = parse_date(until, tz=tz, field="until")
        end = local_day_bounds(day, tz)[1] if day else None
    return start, end


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC start and end of a local calendar day."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


#: the longest duration read (about ten years): no deadline or visit is longer, and a
#: longer one overflowed on its way to the database or a timedelta
MAX_MINUTES = 3660 * 1440

_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*(d|д|h|ч|m|min|мин)", re.IGNORECASE)


def parse_minutes(value: str, *, field: str = "duration") -> int:
    """``4h``, ``30m``, ``1d 4h``, ``1,5ч`` or plain minutes → whole minutes."""
    text = value.strip().lower()
    if text.isascii() and text.isdigit():
        minutes = int(text)
    else:
        parts = _DURATION_PART.findall(text)
        if not parts or _DURATION_PART.sub("", text).strip():
            raise InvalidInput(
                f"{field}: cannot read duration {value!r}", field=field, hint="e.g. 30m, 4h, 2d"
            )
        # Decimal, not float: '9…9.5h' with 300 nines is a number too, not infinity
        minutes = round(sum(Decimal(n.replace(",", ".")) * _UNIT_MINUTES[u] for n, u in parts))
    if minutes <= 0:
        raise InvalidInput(f"{field}: duration {value!r} must be positive", field=field)
    if minutes > MAX_MINUTES:
        raise InvalidInput(
            f"{field}: duration {value!r} is longer than {MAX_MINUTES // 1440} days", field=field
        )
    return minutes


# --- what people type in the planner: a day, a moment, a visit's window ----------------

_DURATION = re.compile(
    r"^\+?\s*\d+(?:[.,]\d+)?\s*(?:m|min|h|ч|мин|d|д)(?:\s*\d+\s*(?:m|min|мин))?$"
)


def read_day(text: str | None, tz: tzinfo, *, field: str = "date") -> date:
    """A local calendar day: ``27.11.2026``, ``27.11`` (this year), ISO, ``today``,
    ``завтра``; None is today. Read by :mod:`fsm_core.timeparse`, strictly."""
    today = clock.now().astimezone(tz).date()
    if text is None or not text.strip():
        return today
    found = parse_date(text, tz=tz, field=field, base=today)
    assert found is not None
    return found


def read_moment(text: str, tz: tzinfo, *, day: date | None = None, field: str = "time") -> datetime:
    """A moment: ``27.11.2026 10:00``, ``27.11 10:00``, ``10:00`` (on ``day``, default
    today), ``завтра 10:00``, ISO; returned in UTC. What :mod:`fsm_core.timeparse` cannot
    read completely (``10:0009:00``, ``25:00``) is refused, naming ``field``."""
    if not text.strip():
        raise InvalidInput(f"{field}: give a time", field=field, hint="e.g. 10:00, 27.11 10:00")
    found = parse_datetime(text, tz=tz, field=field, day=day, what="time")
    assert found is not None
    return found


def read_window(
    start_text: str,
    end_text: str | None,
    tz: tzinfo,
    *,
    start_field: str = "start",
    end_field: str = "end",
) -> tuple[datetime, datetime | None]:
    """A visit's start and end as typed: the end may be a time (``14:00``, the start's day),
    a length (``90m``, ``2h``, ``1h 30m``) or a full date and time; None leaves it to the
    ``visit_minutes`` setting."""
    start = read_moment(start_text, tz, field=start_field)
    if end_text is None or not end_text.strip():
        return start, None
    value = end_text.strip()
    if _DURATION.match(value.lower()):
        return start, start + timedelta(minutes=parse_minutes(value.lstrip("+ "), field=end_field))
    return start, read_moment(value, tz, day=start.astimezone(tz).date(), field=end_field)
