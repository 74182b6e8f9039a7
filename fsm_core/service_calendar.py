"""Service calendars: when SLA clocks run, and the arithmetic of time spent in them.

A calendar is either around the clock (24/7) or weekly opening hours in a time zone
(``Mon–Fri 09:00–18:00``; a span whose end is not after its start runs past midnight)
less whole closed days (holidays). It answers two questions, exactly inverse of each
other: which moment is ``delta`` of open time after ``start`` (:meth:`ServiceCalendar.add`:
a clock started outside hours starts at the next opening), and how much open time lies
between two moments (:meth:`ServiceCalendar.between`).

Pure: no database, no clock. Opening hours are local times, turned into UTC day by day
through the zone database, so 09:00 stays 09:00 across a DST change (that day is an hour
shorter or longer only when a span crosses the change itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fsm_core.errors import InvalidInput

Span = tuple[datetime, datetime]
Hours = tuple[tuple[time, time], ...]
"""One weekday's opening hours: (start, end) local times; end <= start ends the next day."""

MAX_DAYS = 3700  # about ten years: a calendar with no opening in that long is broken
_ZERO = timedelta(0)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WeeklyHours:
    """Opening hours for each weekday, Monday first."""

    days: tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours]

    def __post_init__(self) -> None:
        if not any(self.days):
            raise InvalidInput("a service calendar needs some opening hours")
        for spans in self.days:
            for start, end in spans:
                if start == end:
                    raise InvalidInput(f"opening hours {start:%H:%M}–{end:%H:%M} have no length")

    @classmethod
    def of(cls, spans: Iterable[tuple[int, time, time]]) -> WeeklyHours:
        """From (weekday, start, end) triples, weekday 0 for Monday."""
        days: list[list[tuple[time, time]]] = [[] for _ in range(7)]
        for weekday, start, end in spans:
            days[weekday].append((start, end))
        return cls(tuple(tuple(sorted(set(d))) for d in days))  # type: ignore[arg-type]


class ServiceCalendar:
    """Open time: around the clock (``hours`` None), or ``hours`` in ``tz`` less
    ``holidays`` (local days closed from midnight to midnight)."""

    def __init__(
        self,
        *,
        hours: WeeklyHours | None = None,
        tz: tzinfo = UTC,
        holidays: Iterable[date] = (),
    ) -> None:
        self.hours = hours
        self.tz = tz
        self.holidays = frozenset(holidays)
        self._days: dict[date, tuple[Span, ...]] = {}

    @property
    def always(self) -> bool:
        return self.hours is None

    # --- open spans ---------------------------------------------------------------------

    def _utc(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    def _closed(self, day: date) -> Span:
        return self._utc(day, time(0)), self._utc(day + _DAY, time(0))

    def open_on(self, day: date) -> tuple[Span, ...]:
        """The open spans that start on local ``day``, in UTC, in order (cached)."""
        found = self._days.get(day)
        if found is not None:
            return found
        assert self.hours is not None
        spans: list[Span] = []
        for start, end in self.hours.days[day.weekday()]:
            a = self._utc(day, start)
            b = self._utc(day + _DAY if end <= start else day, end)
            if b > a:
                spans.append((a, b))
        cuts = [self._closed(d) for d in (day, day + _DAY) if d in self.holidays]
        found = tuple(_merge(_subtract(spans, cuts)))
        if len(self._days) > 20000:
            self._days.clear()
        self._days[day] = found
        return found

    def _spans_from(self, moment: datetime) -> Iterator[Span]:
        """Open spans that end after ``moment``, in order, clipped not to overlap."""
        day = moment.astimezone(self.tz).date() - _DAY  # a night span of the day before
        cursor = moment
        for _ in range(MAX_DAYS):
            for start, end in self.open_on(day):
                if end <= cursor:
                    continue
                start = max(start, cursor)
                yield start, end
                cursor = end
            day += _DAY
        raise InvalidInput(
            "the service calendar has no open hours for years ahead (holidays cover them?)"
        )

    # --- arithmetic ---------------------------------------------------------------------

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """The moment ``delta`` of open time after ``start``: a clock that starts while
        closed starts at the next opening; a deadline may fall on a closing time.
        ``delta`` of zero (or less) is ``start`` itself."""
        if self.hours is None:
            return start + delta
        if delta <= _ZERO:
            return start
        left = delta
        for a, b in self._spans_from(start):
            if b - a >= left:
                return a + left
            left -= b - a
        raise AssertionError("unreachable: _spans_from raises first")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time from ``start`` to ``end`` (negative when ``end`` is before it)."""
        if end < start:
            return -self.between(end, start)
        if self.hours is None:
            return end - start
        spent = _ZERO
        for a, b in self._spans_from(start):
            if a >= end:
                break
            spent += min(b, end) - a
        return spent

    def is_open(self, moment: datetime) -> bool:
        """Whether the clock runs at ``moment`` (a span's start is open, its end is not)."""
        if self.hours is None:
            return True
        for a, b in self._spans_from(moment):
            return a <= moment < b
        return False


def _subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    for cut_start, cut_end in cuts:
        kept: list[Span] = []
        for start, end in spans:
            if cut_end <= start or cut_start >= end:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        spans = kept
    return spans


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out
