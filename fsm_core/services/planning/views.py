"""What the planner's views show: places, visits, conflicts and their sentences, a
person's days; distances and drives between objects."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from fsm_core.formatting import moment
from fsm_core.services.working_time import (
    Span,
    merge,
    total,
)

EARTH_RADIUS_KM = 6371.0088
MAX_VISIT = timedelta(hours=24)
PAST_TOLERANCE = timedelta(minutes=15)
"""A visit may start this much before now without counting as "in the past": a time
typed as "now" (10:00 at 10:07) is not a plan for yesterday."""

SEVERITY = {
    "overlap": "error",
    "after_deadline": "error",
    "day_off": "warning",
    "outside_hours": "warning",
    "travel": "warning",
    "no_coordinates": "note",
}
_KIND_ORDER = list(SEVERITY)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_minutes(distance_km: float, speed_kmh: float) -> int:
    return math.ceil(distance_km / speed_kmh * 60) if distance_km > 0 else 0


# --- what the views show ----------------------------------------------------------------


@dataclass
class Place:
    """An object with the address and coordinates it has or inherits from its site."""

    id: int
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None

    @property
    def point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude


@dataclass
class VisitView:
    id: int
    order_id: int
    number: str
    employee_id: int | None
    employee: str | None
    crew_id: int | None
    crew: str | None
    start: datetime
    end: datetime
    note: str | None
    version: int
    stage_code: str
    customer: str
    object_id: int | None
    object: str | None
    address: str | None
    resolution_due: datetime | None
    resolved_at: datetime | None
    description: str
    done: bool = False
    """The order is done or closed: the visit is the day's record, no longer a booking
    (it frees its time and raises no conflict). Visits of cancelled orders are not shown."""

    @property
    def who(self) -> str:
        return self.employee or self.crew or ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Conflict:
    """One problem in a schedule. ``start``/``end`` is the span it concerns."""

    kind: str
    employee_id: int | None
    employee: str | None
    visit_ids: tuple[int, ...]
    orders: tuple[str, ...]
    start: datetime
    end: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return SEVERITY[self.kind]

    def as_dict(self, *, lang: str = "en", tz: tzinfo = UTC) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "employee_id": self.employee_id,
            "employee": self.employee,
            "visit_ids": list(self.visit_ids),
            "orders": list(self.orders),
            "start": self.start,
            "end": self.end,
            "details": self.details,
            "message": describe(self, lang=lang, tz=tz),
        }


def _hm(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%H:%M")


def _at(value: datetime, tz: tzinfo, lang: str) -> str:
    return moment(value, tz, lang=lang)


def _span(start: datetime, end: datetime, tz: tzinfo, lang: str = "en") -> str:
    """``26.11 10:00–12:00`` (ru), ``Nov 26 10:00–Nov 27 09:00`` (en): as screens show it."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() == b.date():
        return f"{_at(start, tz, lang)}–{b:%H:%M}"
    return f"{_at(start, tz, lang)}–{_at(end, tz, lang)}"


def _number(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "ru" else text


_REASONS = {
    "holiday": ("holiday", "праздник"),
    "not_working_day": ("not a working day", "нерабочий день по графику"),
    "day_off": ("day off", "отгул"),
    "leave": ("leave", "отпуск"),
    "sick": ("sick", "больничный"),
}


def describe(conflict: Conflict, *, lang: str = "en", tz: tzinfo = UTC) -> str:
    """The conflict in one sentence, in ``lang``, times in the company's zone."""
    ru = lang == "ru"
    d = conflict.details
    orders = conflict.orders
    if conflict.kind == "overlap":
        a, b = d["spans"]
        first = f"{orders[0]} {_span(a[0], a[1], tz, lang)}"
        second = f"{orders[1]} {_span(b[0], b[1], tz, lang)}"
        return f"{first} пересекается с {second}" if ru else f"{first} overlaps {second}"
    if conflict.kind == "outside_hours":
        hours = ", ".join(f"{_hm(s, tz)}–{_hm(e, tz)}" for s, e in d["working"])
        span = _span(conflict.start, conflict.end, tz, lang)
        if ru:
            return f"{orders[0]} {span} вне рабочего времени ({hours})"
        return f"{orders[0]} {span} is outside working hours ({hours})"
    if conflict.kind == "day_off":
        en, rus = _REASONS[d["reason"]]
        reason = rus if ru else en
        if d.get("name"):
            reason += f" «{d['name']}»"
        span = _span(conflict.start, conflict.end, tz, lang)
        if ru:
            return f"{orders[0]} {span} — нерабочее время: {reason}"
        return f"{orders[0]} {span} falls on time off: {reason}"
    if conflict.kind == "after_deadline":
        due = _at(d["resolution_due"], tz, lang)
        end = _at(conflict.end, tz, lang)
        if ru:
            return f"{orders[0]} заканчивается {end}, позже срока решения {due}"
        return f"{orders[0]} ends {end}, after its resolution deadline {due}"
    if conflict.kind == "travel":
        km = _number(d["distance_km"], lang)
        if ru:
            return (
                f"не успеть доехать от {orders[0]} до {orders[1]}: {km} км ≈ "
                f"{d['travel_minutes']} мин, а между визитами {d['gap_minutes']} мин"
            )
        return (
            f"no time to travel from {orders[0]} to {orders[1]}: {km} km ≈ "
            f"{d['travel_minutes']} min, {d['gap_minutes']} min between the visits"
        )
    if conflict.kind == "no_coordinates":
        what = d.get("object")
        if what is None:
            return (
                f"{orders[0]}: у заявки нет объекта, дорога не проверена"
                if ru
                else f"{orders[0]}: the order has no object, travel not checked"
            )
        if ru:
            return f"нет координат у объекта «{what}» ({orders[0]}): дорога не проверена"
        return f"no coordinates for «{what}» ({orders[0]}): travel not checked"
    return conflict.kind


@dataclass
class PersonDay:
    day: date
    shifts: list[Span]
    working: list[Span]
    holiday: str | None
    time_off: list[dict[str, Any]]
    visits: list[VisitView]
    conflicts: list[Conflict]

    @property
    def booked(self) -> timedelta:
        """The time the day's visits still hold (a done order's visit holds none)."""
        return total(merge((v.start, v.end) for v in self.visits if not v.done))

    @property
    def work(self) -> timedelta:
        return total(self.working)


@dataclass
class PersonSchedule:
    employee_id: int
    name: str
    has_hours: bool
    days: list[PersonDay]


@dataclass
class Schedule:
    first_day: date
    last_day: date
    tz: tzinfo
    people: list[PersonSchedule]
    conflicts: list[Conflict]

    def hour_range(self) -> tuple[int, int]:
        """The hours a drawing of the first day shows: 08–20, widened to every shift and
        visit on it (what starts the day before from 0, what ends the day after to 24)."""
        day = self.first_day
        first, last = 8, 20
        for person in self.people:
            d = person.days[0]
            for start, end in [*d.shifts, *((v.start, v.end) for v in d.visits)]:
                a, b = start.astimezone(self.tz), end.astimezone(self.tz)
                first = min(first, a.hour if a.date() == day else 0)
                last = max(last, (b.hour + (1 if b.minute else 0)) if b.date() == day else 24)
        return first, min(last, 24)
