"""Working time (рабочее время): weekly or shift patterns, time off and company holidays.

A pattern is an RFC 5545 recurrence rule evaluated by dateutil's ``rrule`` in the
company's local time (so 09:00 stays 09:00 across a DST change where a zone has one),
minus the employee's time off and the company's holidays. People type patterns the way
they say them: ``пн-пт 09:00-18:00``, ``Mon-Fri 9-18``, ``sat 10:00-15:00``,
``2/2 08:00-20:00`` (two days on, two off, counted from the pattern's first day), or a raw
rule ``FREQ=WEEKLY;BYDAY=MO,WE 09:00-13:00``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from dateutil.rrule import rrule, rrulestr
from sqlmodel import Session, col, select

from fsm_core.access import requires
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Employee, Holiday, TimeOff, TimeOffKind, WorkPattern
from fsm_core.models.planning import TIME_OFF_NAMES
from fsm_core.timeparse import local_day_bounds

Span = tuple[datetime, datetime]

_DAYS = {
    "MO": ("mo", "mon", "monday", "пн", "пон", "понедельник"),
    "TU": ("tu", "tue", "tues", "tuesday", "вт", "вторник"),
    "WE": ("we", "wed", "wednesday", "ср", "среда"),
    "TH": ("th", "thu", "thur", "thurs", "thursday", "чт", "четверг"),
    "FR": ("fr", "fri", "friday", "пт", "пятница"),
    "SA": ("sa", "sat", "saturday", "сб", "суббота"),
    "SU": ("su", "sun", "sunday", "вс", "воскресенье"),
}
DAY_CODES = list(_DAYS)
_DAY_CODES = DAY_CODES
_DAY_OF = {alias: code for code, aliases in _DAYS.items() for alias in aliases}
_EVERY_DAY = ("daily", "everyday", "ежедневно", "каждый день")
_TIME_RANGE = re.compile(
    r"(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*[-–—]\s*(?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?$"
)
_SHIFT = re.compile(r"^(?P<on>\d)\s*/\s*(?P<off>\d)$")
_FROM = re.compile(r"\s+(?:from|с|начиная с)\s+(?P<day>\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class PatternSpec:
    """One row to store: a rule, its anchor (as days after the pattern's first day) and
    the local shift times."""

    rule: str
    anchor_offset: int
    start_time: time
    end_time: time


def _clock(hour: str, minute: str | None, text: str) -> time:
    """A shift's start or end (``9``, ``09:00``, ``24:00`` for midnight), read by the
    product's one time parser."""
    from fsm_core.timeparse import parse_clock

    typed = f"{hour}:{minute}" if minute is not None else hour
    found = parse_clock(typed, allow_24=True)
    if found is None:
        raise InvalidInput(f"working hours {text!r}: {typed} is not a time")
    return found


def _days(text: str, spec: str) -> list[str]:
    codes: list[str] = []
    for part in re.split(r"\s*,\s*", text.strip().lower()):
        if not part:
            continue
        bounds = re.split(r"\s*[-–—]\s*", part)
        if len(bounds) == 1:
            if part not in _DAY_OF:
                raise InvalidInput(
                    f"working hours {spec!r}: unknown day {part!r}",
                    hint="e.g. 'Mon-Fri 09:00-18:00', 'пн-пт 9-18', 'sat 10-15', '2/2 08-20'",
                )
            codes.append(_DAY_OF[part])
            continue
        if len(bounds) != 2 or bounds[0] not in _DAY_OF or bounds[1] not in _DAY_OF:
            raise InvalidInput(f"working hours {spec!r}: cannot read days {part!r}")
        first, last = _DAY_CODES.index(_DAY_OF[bounds[0]]), _DAY_CODES.index(_DAY_OF[bounds[1]])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        codes.extend(_DAY_CODES[i] for i in span)
    if not codes:
        raise InvalidInput(f"working hours {spec!r}: which days?")
    return list(dict.fromkeys(codes))


def parse_pattern(text: str) -> tuple[list[PatternSpec], date | None]:
    """Rows for one pattern as typed, and the first day it names (``from 01.12.2026``)."""
    spec = " ".join(text.split())
    first_day = None
    found = _FROM.search(spec)
    if found:
        from fsm_core.timeparse import parse_date

        first_day = parse_date(found.group("day"), tz=UTC, field="from")
        spec = spec[: found.start()]
    head, _, times = spec.rpartition(" ")
    match = _TIME_RANGE.match(times)
    if not head or not match:
        raise InvalidInput(
            f"working hours {text!r}: give days and hours",
            hint="e.g. 'Mon-Fri 09:00-18:00', 'пн-пт 9-18', '2/2 08:00-20:00'",
        )
    start = _clock(match.group("h1"), match.group("m1"), text)
    end = _clock(match.group("h2"), match.group("m2"), text)
    if start == end:
        raise InvalidInput(f"working hours {text!r}: the shift has no length")
    head = head.strip()
    lowered = head.lower()
    shift = _SHIFT.match(lowered)
    if lowered.startswith(("freq=", "rrule:")):
        rule = head.split(":", 1)[1] if lowered.startswith("rrule:") else head
        rule = rule.upper()
        try:
            rrulestr(rule, dtstart=datetime(2026, 1, 1))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"working hours {text!r}: bad recurrence rule: {exc}") from None
        if len(rule) > 200:
            raise InvalidInput(f"working hours {text!r}: the rule is too long")
        return [PatternSpec(rule, 0, start, end)], first_day
    if lowered in _EVERY_DAY:
        return [PatternSpec("FREQ=DAILY", 0, start, end)], first_day
    if shift:
        on, off = int(shift.group("on")), int(shift.group("off"))
        if on < 1 or off < 1:
            raise InvalidInput(f"working hours {text!r}: a shift pattern needs days on and off")
        rule = f"FREQ=DAILY;INTERVAL={on + off}"
        return [PatternSpec(rule, i, start, end) for i in range(on)], first_day
    codes = _days(head, text)
    return [PatternSpec(f"FREQ=WEEKLY;BYDAY={','.join(codes)}", 0, start, end)], first_day


@lru_cache(maxsize=256)
def _recurrence(rule: str, anchor: date, start: time) -> rrule:
    return rrulestr(rule, dtstart=datetime.combine(anchor, start))  # type: ignore[return-value]


def describe_pattern(rows: Sequence[WorkPattern], *, lang: str = "en") -> list[str]:
    """How people say the stored rows: ``Mon–Fri 09:00–18:00``, ``2/2 from 01.12 08:00–20:00``."""
    out: list[str] = []
    shifts: dict[tuple[str, time, time, date], list[date]] = {}
    for row in rows:
        hours = f"{row.start_time:%H:%M}–{row.end_time:%H:%M}"
        daily = re.fullmatch(r"FREQ=DAILY;INTERVAL=(\d+)", row.rule)
        weekly = re.fullmatch(r"FREQ=WEEKLY;BYDAY=([A-Z,]+)", row.rule)
        if daily:
            shifts.setdefault((row.rule, row.start_time, row.end_time, row.valid_from), []).append(
                row.anchor
            )
        elif weekly:
            out.append(f"{_describe_days(weekly.group(1).split(','), lang)} {hours}")
        elif row.rule == "FREQ=DAILY":
            out.append(f"{'ежедневно' if lang == 'ru' else 'daily'} {hours}")
        else:
            out.append(f"{row.rule} {hours}")
    for (rule, start, end, _), anchors in shifts.items():
        cycle = int(rule.rsplit("=", 1)[1])
        first = min(anchors)
        since = "с" if lang == "ru" else "from"
        out.append(
            f"{len(anchors)}/{cycle - len(anchors)} {since} {first:%d.%m.%Y} "
            f"{start:%H:%M}–{end:%H:%M}"
        )
    return out


def describe_days(codes: list[str], lang: str) -> str:
    """``Mon–Fri``, ``Mon, Wed`` (``пн–пт``) for RFC 5545 day codes."""
    return _describe_days(codes, lang)


def _describe_days(codes: list[str], lang: str) -> str:
    from fsm_core.i18n import WEEKDAYS

    names = WEEKDAYS["ru" if lang == "ru" else "en"]
    indexes = sorted(_DAY_CODES.index(c) for c in codes if c in _DAY_CODES)
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = [
        f"{names[r[0]]}–{names[r[-1]]}" if len(r) > 2 else ", ".join(names[i] for i in r)
        for r in runs
    ]
    return ", ".join(parts)


# --- computing working time ------------------------------------------------------------


def subtract(spans: Iterable[Span], cuts: Iterable[Span]) -> list[Span]:
    """``spans`` with every part covered by ``cuts`` removed (both sorted or not)."""
    result = sorted(spans)
    for cut_start, cut_end in sorted(cuts):
        kept: list[Span] = []
        for start, end in result:
            if cut_end <= start or cut_start >= end:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        result = kept
    return result


def merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def total(spans: Iterable[Span]) -> timedelta:
    return sum((end - start for start, end in spans), timedelta(0))


@dataclass
class TimeOffView:
    id: int
    kind: str
    start: datetime
    end: datetime
    note: str | None

    def name(self, lang: str) -> str:
        return TIME_OFF_NAMES[TimeOffKind(self.kind)]["ru" if lang == "ru" else "en"]


@dataclass
class DayInfo:
    """One employee's working time on one local day."""

    day: date
    shifts: list[Span] = field(default_factory=list)  # what the pattern says
    working: list[Span] = field(default_factory=list)  # less time off and holidays
    holiday: str | None = None
    time_off: list[TimeOffView] = field(default_factory=list)


@dataclass
class Calendar:
    """Working time of some employees over a range of local days."""

    tz: tzinfo
    first_day: date
    last_day: date
    days: dict[int, dict[date, DayInfo]]
    has_hours: dict[int, bool]  # False: no pattern set, availability unknown
    holidays: dict[date, str]

    def day(self, employee_id: int, day: date) -> DayInfo:
        return self.days.get(employee_id, {}).get(day) or DayInfo(day)

    def working(self, employee_id: int) -> list[Span]:
        """Every working span of the range, in order (night shifts included once)."""
        spans = [s for info in self.days.get(employee_id, {}).values() for s in info.working]
        return sorted(spans)

    def time_off(self, employee_id: int) -> list[TimeOffView]:
        seen: dict[int, TimeOffView] = {}
        for info in self.days.get(employee_id, {}).values():
            for item in info.time_off:
                seen[item.id] = item
        return sorted(seen.values(), key=lambda t: t.start)


def _local(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=tz).astimezone(UTC)


@requires("settings.read")
def load_calendar(
    *, session: Session, employee_ids: Sequence[int], first_day: date, last_day: date, tz: tzinfo
) -> Calendar:
    """Shifts by the patterns (rrule), less time off and holidays, per employee and day."""
    ids = list(dict.fromkeys(employee_ids))
    holidays = {
        h.day: h.name
        for h in session.exec(
            select(Holiday).where(Holiday.day >= first_day, Holiday.day <= last_day)
        )
    }
    days: dict[int, dict[date, DayInfo]] = {
        e: {
            first_day + timedelta(days=i): DayInfo(first_day + timedelta(days=i))
            for i in range((last_day - first_day).days + 1)
        }
        for e in ids
    }
    has_hours = dict.fromkeys(ids, False)
    if not ids:
        return Calendar(tz, first_day, last_day, days, has_hours, holidays)
    patterns = session.exec(
        select(WorkPattern).where(
            col(WorkPattern.employee_id).in_(ids),
            WorkPattern.valid_from <= last_day,
            (col(WorkPattern.valid_to).is_(None)) | (col(WorkPattern.valid_to) >= first_day),
        )
    ).all()
    range_start, range_end = local_day_bounds(first_day, tz)[0], local_day_bounds(last_day, tz)[1]
    offs = session.exec(
        select(TimeOff).where(
            col(TimeOff.employee_id).in_(ids),
            TimeOff.start_at < range_end,
            TimeOff.end_at > range_start,
        )
    ).all()
    for pattern in patterns:
        has_hours[pattern.employee_id] = True
        lo = max(pattern.valid_from, first_day)
        hi = min(pattern.valid_to or last_day, last_day)
        if hi < lo:
            continue
        recurrence = _recurrence(pattern.rule, pattern.anchor, pattern.start_time)
        overnight = pattern.end_time <= pattern.start_time
        for occurrence in recurrence.between(
            datetime.combine(lo, time(0)), datetime.combine(hi, time(23, 59, 59)), inc=True
        ):
            day = occurrence.date()
            start = _local(day, pattern.start_time, tz)
            end = _local(day + timedelta(days=1 if overnight else 0), pattern.end_time, tz)
            days[pattern.employee_id][day].shifts.append((start, end))
    for off in offs:
        view = TimeOffView(off.id or 0, off.kind, off.start_at, off.end_at, off.note)
        for day, info in days[off.employee_id].items():
            lo, hi = local_day_bounds(day, tz)
            if off.start_at < hi and off.end_at > lo:
                info.time_off.append(view)
    for employee_days in days.values():
        for day, info in employee_days.items():
            info.shifts = merge(info.shifts)
            cuts: list[Span] = [(t.start, t.end) for t in info.time_off]
            if day in holidays:
                info.holiday = holidays[day]
                cuts.append(local_day_bounds(day, tz))
            info.working = subtract(info.shifts, cuts)
    return Calendar(tz, first_day, last_day, days, has_hours, holidays)


# --- changing working time --------------------------------------------------------------


def _employee(session: Session, employee_id: int) -> Employee:
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("employee", f"#{employee_id}")
    return employee


@requires("staff.edit")
def set_patterns(
    *, session: Session, employee_id: int, patterns: Sequence[str], valid_from: date
) -> list[WorkPattern]:
    """Replace the employee's working-hours patterns from ``valid_from`` on.

    Earlier days keep the patterns they had (the planner's past stays as it was); no
    pattern at all clears the working hours from that day.
    """
    _employee(session, employee_id)
    specs: list[tuple[PatternSpec, date]] = []
    for text in patterns:
        rows, first = parse_pattern(text)
        specs.extend((row, first or valid_from) for row in rows)
    current = session.exec(
        select(WorkPattern).where(
            WorkPattern.employee_id == employee_id,
            (col(WorkPattern.valid_to).is_(None)) | (col(WorkPattern.valid_to) >= valid_from),
        )
    ).all()
    for row in current:
        if row.valid_from >= valid_from:
            session.delete(row)
        else:
            row.valid_to = valid_from - timedelta(days=1)
    created = []
    for spec, first in specs:
        row = WorkPattern(
            employee_id=employee_id,
            rule=spec.rule,
            anchor=first + timedelta(days=spec.anchor_offset),
            start_time=spec.start_time,
            end_time=spec.end_time,
            valid_from=valid_from,
        )
        session.add(row)
        created.append(row)
    session.flush()
    return created


@requires("parties.read")
def patterns_of(
    *, session: Session, employee_ids: Sequence[int] | None = None, on: date
) -> dict[int, list[WorkPattern]]:
    """The patterns in force on ``on`` (or starting later), per employee."""
    query = select(WorkPattern).where(
        (col(WorkPattern.valid_to).is_(None)) | (col(WorkPattern.valid_to) >= on)
    )
    if employee_ids is not None:
        query = query.where(col(WorkPattern.employee_id).in_(list(employee_ids)))
    found: dict[int, list[WorkPattern]] = {}
    for row in session.exec(query.order_by(col(WorkPattern.valid_from), col(WorkPattern.id))):
        found.setdefault(row.employee_id, []).append(row)
    return found


def parse_time_off_kind(value: str) -> TimeOffKind:
    text = value.strip().lower().replace("-", "_").replace(" ", "_")
    for kind, names in TIME_OFF_NAMES.items():
        if text in (kind.value, names["en"].replace(" ", "_"), names["ru"]):
            return kind
    aliases = {"vacation": TimeOffKind.LEAVE, "off": TimeOffKind.DAY_OFF, "больничный_лист": "sick"}
    if text in aliases:
        return TimeOffKind(aliases[text])
    known = ", ".join(f"{k.value} ({n['ru']})" for k, n in TIME_OFF_NAMES.items())
    raise InvalidInput(f"unknown kind of time off {value!r}; known: {known}", field="kind")


@requires("staff.edit")
def add_time_off(
    *,
    session: Session,
    employee_id: int,
    kind: TimeOffKind | str,
    start: datetime,
    end: datetime,
    actor: str,
    note: str | None = None,
) -> TimeOff:
    """Record a day off, leave or sick days (a span of UTC time, usually whole local days)."""
    _employee(session, employee_id)
    kind = kind if isinstance(kind, TimeOffKind) else parse_time_off_kind(kind)
    if end <= start:
        raise InvalidInput("time off: the end is not after the start", field="end")
    if end - start > timedelta(days=366):
        raise InvalidInput("time off: longer than a year", field="end")
    row = TimeOff(
        employee_id=employee_id,
        kind=kind.value,
        start_at=start,
        end_at=end,
        note=(note or "").strip() or None,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


@requires("staff.edit")
def remove_time_off(*, session: Session, time_off_id: int) -> TimeOff:
    row = session.get(TimeOff, time_off_id)
    if row is None:
        raise NotFound("time off", f"#{time_off_id}")
    session.delete(row)
    session.flush()
    return row


@requires("parties.read")
def list_time_off(
    *, session: Session, employee_ids: Sequence[int] | None = None, since: datetime
) -> list[dict[str, Any]]:
    query = (
        select(TimeOff, Employee.short_name)
        .join(Employee, col(Employee.id) == TimeOff.employee_id)
        .where(TimeOff.end_at > since)
        .order_by(col(TimeOff.start_at), col(TimeOff.id))
    )
    if employee_ids is not None:
        query = query.where(col(TimeOff.employee_id).in_(list(employee_ids)))
    return [
        {
            "id": row.id,
            "employee_id": row.employee_id,
            "employee": name,
            "kind": row.kind,
            "start": row.start_at,
            "end": row.end_at,
            "note": row.note,
        }
        for row, name in session.exec(query)
    ]


@requires("settings.edit")
def add_holiday(*, session: Session, day: date, name: str) -> Holiday:
    text = " ".join(name.split())
    if not text:
        raise InvalidInput("a holiday needs a name", field="name")
    row = session.get(Holiday, day)
    if row is None:
        row = Holiday(day=day, name=text[:200])
        session.add(row)
    else:
        row.name = text[:200]
    session.flush()
    return row


@requires("settings.edit")
def remove_holiday(*, session: Session, day: date) -> None:
    row = session.get(Holiday, day)
    if row is None:
        raise NotFound("holiday", day.strftime("%d.%m.%Y"))
    session.delete(row)
    session.flush()


@requires("settings.read")
def list_holidays(*, session: Session, since: date | None = None) -> list[Holiday]:
    query = select(Holiday).order_by(col(Holiday.day))
    if since is not None:
        query = query.where(Holiday.day >= since)
    return list(session.exec(query))
