"""The planner (планировщик заявок): visits, schedules, conflicts, free slots, the queue.

A visit puts an employee or a crew on an order's object for a span of time; planning it
assigns the order through the order service (with history) and keeps the order's planned
window equal to the span of its visits. Conflicts are never refused, only shown: every
view of a schedule asks :func:`conflicts`, the one place that knows them:

- ``overlap``: one person has two visits at once (a crew's visit occupies every member);
- ``day_off`` / ``outside_hours``: a visit on a holiday, on leave or sick days, on a day
  the working pattern has no shift, or partly outside the day's working hours;
- ``after_deadline``: the visit ends after the order's SLA resolution deadline;
- ``travel``: the gap between two consecutive visits of a day is shorter than the drive
  (great-circle distance between the objects at the ``travel_speed_kmh`` setting);
- ``no_coordinates``: a note that travel could not be checked for an object.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.errors import Conflict as VersionConflict
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.formatting import moment
from fsm_core.models import (
    Company,
    Crew,
    CrewMember,
    Employee,
    Order,
    OrderHistory,
    ServiceObject,
    StageCategory,
    Visit,
    WorkPattern,
)
from fsm_core.services import orders as order_service
from fsm_core.services import settings as company_settings
from fsm_core.services import sla
from fsm_core.services.stages import load_workflow
from fsm_core.services.working_time import (
    Calendar,
    Span,
    day_bounds,
    load_calendar,
    merge,
    subtract,
    total,
)
from fsm_core.values import only_digits, record_id

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


# --- loading a range once ------------------------------------------------------------------


@dataclass
class _Plan:
    tz: tzinfo
    speed: float
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    people: dict[int, str]
    visits: list[VisitView]
    by_person: dict[int, list[VisitView]]
    calendar: Calendar
    places: dict[int, Place]
    homes: dict[int, tuple[float, float] | None]

    def booked(self, employee_id: int) -> list[VisitView]:
        """The person's visits that still hold their time (not of a done order)."""
        return [v for v in self.by_person.get(employee_id, []) if not v.done]


def _finished(session: Session) -> tuple[set[str], set[str]]:
    """The stage codes of orders whose visits are a record (done, closed) and of those
    whose visits never happen (cancelled)."""
    done, cancelled = set(), set()
    for stage in load_workflow(session=session).stages.values():
        if stage.category == StageCategory.CANCELLED:
            cancelled.add(stage.code)
        elif stage.finished:
            done.add(stage.code)
    return done, cancelled


def _crew_members(session: Session) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {}
    for crew_id, employee_id in session.exec(select(CrewMember.crew_id, CrewMember.employee_id)):
        members.setdefault(crew_id, []).append(employee_id)
    return members


def places(*, session: Session, object_ids: Sequence[int]) -> dict[int, Place]:
    """Objects with the address and coordinates they have or inherit from their site."""
    wanted = {i for i in object_ids if i is not None}
    rows: dict[int, tuple[Any, ...]] = {}
    frontier = set(wanted)
    while frontier:
        found = session.execute(
            sa_select(
                ServiceObject.id,
                ServiceObject.parent_id,
                ServiceObject.name,
                ServiceObject.address,
                ServiceObject.latitude,
                ServiceObject.longitude,
            ).where(col(ServiceObject.id).in_(list(frontier)))
        ).all()
        for row in found:
            rows[row[0]] = tuple(row)
        frontier = {r[1] for r in found if r[1] is not None and r[1] not in rows}
    result: dict[int, Place] = {}
    for object_id in wanted:
        if object_id not in rows:
            continue
        node = rows[object_id]
        address, lat, lon = node[3], node[4], node[5]
        seen = {object_id}
        while (address is None or lat is None or lon is None) and node[1] in rows:
            if node[1] in seen:
                break
            seen.add(node[1])
            node = rows[node[1]]
            if address is None and node[3]:
                address = node[3]
            if (lat is None or lon is None) and node[4] is not None and node[5] is not None:
                lat, lon = node[4], node[5]
        result[object_id] = Place(object_id, rows[object_id][2], address, lat, lon)
    return result


def _visit_views(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    employee_ids: Sequence[int] | None,
    crew_ids: Sequence[int] | None,
    order_id: int | None = None,
) -> list[VisitView]:
    query = (
        sa_select(
            Visit.id,
            Visit.order_id,
            Order.number,
            Visit.employee_id,
            Employee.short_name,
            Visit.crew_id,
            Crew.name,
            Visit.start_at,
            Visit.end_at,
            Visit.note,
            Visit.version,
            Order.stage_code,
            Company.name,
            Order.object_id,
            ServiceObject.name,
            ServiceObject.address,
            Order.resolution_due,
            Order.resolved_at,
            Order.description,
        )
        .join(Order, col(Order.id) == Visit.order_id)
        .join(Company, col(Company.id) == Order.customer_id)
        .outerjoin(ServiceObject, col(ServiceObject.id) == Order.object_id)
        .outerjoin(Employee, col(Employee.id) == Visit.employee_id)
        .outerjoin(Crew, col(Crew.id) == Visit.crew_id)
        .where(Visit.start_at < end, Visit.end_at > start)
        .order_by(col(Visit.start_at), col(Visit.id))
    )
    if order_id is not None:
        query = query.where(Visit.order_id == order_id)
    if employee_ids is not None:
        who: ColumnElement[bool] = col(Visit.employee_id).in_(list(employee_ids))
        if crew_ids:
            who = who | col(Visit.crew_id).in_(list(crew_ids))
        query = query.where(who)
    return [VisitView(*row) for row in session.execute(query)]


def _planner_people(
    session: Session, employee_ids: Sequence[int] | None, first_day: date, last_day: date
) -> dict[int, str]:
    """Who the planner shows: the given employees, or every active employee with working
    hours in the range or a visit in it."""
    query = select(Employee.id, Employee.short_name).order_by(col(Employee.short_name))
    if employee_ids is not None:
        return dict(session.exec(query.where(col(Employee.id).in_(list(employee_ids)))).all())
    with_hours = select(WorkPattern.employee_id).where(
        WorkPattern.valid_from <= last_day,
        (col(WorkPattern.valid_to).is_(None)) | (col(WorkPattern.valid_to) >= first_day),
    )
    found = dict(
        session.exec(
            query.where(col(Employee.active).is_(True), col(Employee.id).in_(with_hours))
        ).all()
    )
    return found


def _load(
    session: Session,
    *,
    first_day: date,
    last_day: date,
    employee_ids: Sequence[int] | None,
) -> _Plan:
    settings = company_settings.load(session=session)
    tz = settings.tz
    start, end = day_bounds(first_day, tz)[0], day_bounds(last_day, tz)[1]
    people = _planner_people(session, employee_ids, first_day, last_day)
    members = _crew_members(session)
    crews_of: dict[int, list[int]] = {}
    for crew_id, ids in members.items():
        for e in ids:
            crews_of.setdefault(e, []).append(crew_id)
    if employee_ids is None:
        visits = _visit_views(session, start=start, end=end, employee_ids=None, crew_ids=None)
        extra = {v.employee_id for v in visits if v.employee_id is not None}
        for v in visits:
            if v.crew_id is not None:
                extra.update(members.get(v.crew_id, []))
        missing = extra - people.keys()
        if missing:
            people.update(
                session.exec(
                    select(Employee.id, Employee.short_name).where(
                        col(Employee.id).in_(list(missing))
                    )
                ).all()
            )
            people = dict(sorted(people.items(), key=lambda kv: kv[1]))
    else:
        crew_ids = sorted({c for e in people for c in crews_of.get(e, [])})
        visits = _visit_views(
            session, start=start, end=end, employee_ids=list(people), crew_ids=crew_ids
        )
    done, cancelled = _finished(session)
    visits = [v for v in visits if v.stage_code not in cancelled]  # they will not happen
    for v in visits:
        v.done = v.stage_code in done
    by_person: dict[int, list[VisitView]] = {e: [] for e in people}
    for v in visits:
        targets = [v.employee_id] if v.employee_id is not None else members.get(v.crew_id or 0, [])
        for e in targets:
            if e in by_person:
                by_person[e].append(v)
    calendar = load_calendar(
        session=session,
        employee_ids=list(people),
        first_day=first_day - timedelta(days=1),
        last_day=last_day,
        tz=tz,
    )
    homes = {
        i: (lat, lon) if lat is not None and lon is not None else None
        for i, lat, lon in session.exec(
            select(Employee.id, Employee.home_latitude, Employee.home_longitude).where(
                col(Employee.id).in_(list(people))
            )
        )
    }
    return _Plan(
        tz=tz,
        speed=settings.travel_speed_kmh,
        first_day=first_day,
        last_day=last_day,
        start=start,
        end=end,
        people=people,
        visits=visits,
        by_person=by_person,
        calendar=calendar,
        places=places(
            session=session, object_ids=[v.object_id for v in visits if v.object_id is not None]
        ),
        homes=homes,
    )


def _local_days(start: datetime, end: datetime, tz: tzinfo) -> tuple[date, date]:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return first, max(first, last)


# --- conflicts -----------------------------------------------------------------------------


def conflicts(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    employee_ids: Sequence[int] | None = None,
) -> list[Conflict]:
    """Every conflict of the visits between ``start`` and ``end`` (of everyone the planner
    shows, or of ``employee_ids``), in time order."""
    tz = company_settings.load(session=session).tz
    first, last = _local_days(start, end, tz)
    plan = _load(session, first_day=first, last_day=last, employee_ids=employee_ids)
    return [c for c in _conflicts(plan) if c.start < end and c.end > start]


def _conflicts(plan: _Plan) -> list[Conflict]:
    found: list[Conflict] = []
    deadline_seen: set[int] = set()
    for employee_id in plan.by_person:
        name = plan.people[employee_id]
        ordered = sorted(plan.booked(employee_id), key=lambda v: (v.start, v.id))
        found.extend(_overlaps(employee_id, name, ordered))
        if plan.calendar.has_hours.get(employee_id):
            found.extend(_hours(plan, employee_id, name, ordered))
        found.extend(_travel(plan, employee_id, name, ordered))
        for v in ordered:
            if v.id in deadline_seen:
                continue
            deadline_seen.add(v.id)
            if v.resolution_due is not None and v.resolved_at is None and v.end > v.resolution_due:
                found.append(
                    Conflict(
                        "after_deadline",
                        v.employee_id,
                        v.who,
                        (v.id,),
                        (v.number,),
                        v.start,
                        v.end,
                        {"resolution_due": v.resolution_due},
                    )
                )
    found.sort(key=lambda c: (c.start, c.employee or "", _KIND_ORDER.index(c.kind), c.visit_ids))
    return found


def _overlaps(employee_id: int, name: str, ordered: list[VisitView]) -> list[Conflict]:
    found = []
    active: list[VisitView] = []
    for v in ordered:
        active = [a for a in active if a.end > v.start]
        for a in active:
            found.append(
                Conflict(
                    "overlap",
                    employee_id,
                    name,
                    (a.id, v.id),
                    (a.number, v.number),
                    max(a.start, v.start),
                    min(a.end, v.end),
                    {"spans": [(a.start, a.end), (v.start, v.end)]},
                )
            )
        active.append(v)
    return found


def _hours(plan: _Plan, employee_id: int, name: str, ordered: list[VisitView]) -> list[Conflict]:
    found = []
    working = plan.calendar.working(employee_id)
    offs = plan.calendar.time_off(employee_id)
    tz = plan.tz
    for v in ordered:
        outside = subtract([(v.start, v.end)], working)
        if not outside:
            continue
        day = v.start.astimezone(tz).date()
        info = plan.calendar.day(employee_id, day)
        details: dict[str, Any]
        hit = [t for t in offs for s, e in outside if t.start < e and t.end > s]
        if hit:
            details = {"reason": hit[0].kind, "note": hit[0].note, "time_off_id": hit[0].id}
            kind = "day_off"
        elif info.holiday:
            details = {"reason": "holiday", "name": info.holiday}
            kind = "day_off"
        elif not info.shifts and not any(s < v.end and e > v.start for s, e in working):
            details = {"reason": "not_working_day"}
            kind = "day_off"
        else:
            day_spans = [(s, e) for s, e in working if s < v.end + timedelta(hours=12)]
            day_spans = [
                (s, e) for s, e in day_spans if s.astimezone(tz).date() == day
            ] or info.working
            details = {"working": day_spans, "outside_minutes": int(total(outside).seconds // 60)}
            kind = "outside_hours"
        found.append(
            Conflict(kind, employee_id, name, (v.id,), (v.number,), v.start, v.end, details)
        )
    return found


def _travel(plan: _Plan, employee_id: int, name: str, ordered: list[VisitView]) -> list[Conflict]:
    found = []
    noted: set[tuple[str, int]] = set()
    tz = plan.tz

    def note(v: VisitView) -> None:
        key = ("object", v.object_id) if v.object_id is not None else ("order", v.order_id)
        if key in noted:  # once per object (or object-less order) and person
            return
        noted.add(key)
        place = plan.places.get(v.object_id) if v.object_id is not None else None
        found.append(
            Conflict(
                "no_coordinates",
                employee_id,
                name,
                (v.id,),
                (v.number,),
                v.start,
                v.end,
                {"object": place.name if place else None, "object_id": v.object_id},
            )
        )

    for a, b in itertools.pairwise(ordered):
        if a.end > b.start or a.start.astimezone(tz).date() != b.start.astimezone(tz).date():
            continue
        if a.object_id is not None and a.object_id == b.object_id:
            continue
        pa = plan.places.get(a.object_id) if a.object_id is not None else None
        pb = plan.places.get(b.object_id) if b.object_id is not None else None
        if pa is None or pa.point is None:
            note(a)
        if pb is None or pb.point is None:
            note(b)
        if pa is None or pb is None or pa.point is None or pb.point is None:
            continue
        distance = haversine_km(*pa.point, *pb.point)
        minutes = travel_minutes(distance, plan.speed)
        gap = int((b.start - a.end).total_seconds() // 60)
        if minutes > gap:
            found.append(
                Conflict(
                    "travel",
                    employee_id,
                    name,
                    (a.id, b.id),
                    (a.number, b.number),
                    a.end,
                    b.start if b.start > a.end else a.end + timedelta(minutes=1),
                    {
                        "distance_km": round(distance, 1),
                        "travel_minutes": minutes,
                        "gap_minutes": gap,
                        "speed_kmh": plan.speed,
                    },
                )
            )
    return found


# --- schedules -------------------------------------------------------------------------------


def schedule(
    *,
    session: Session,
    first_day: date,
    last_day: date,
    employee_ids: Sequence[int] | None = None,
) -> Schedule:
    """Everyone's (or ``employee_ids``') days from ``first_day`` to ``last_day``: working
    time, time off, visits and the conflicts of each day."""
    if last_day < first_day:
        raise InvalidInput("the schedule ends before it starts")
    if (last_day - first_day).days > 62:
        raise InvalidInput("a schedule covers at most two months")
    plan = _load(session, first_day=first_day, last_day=last_day, employee_ids=employee_ids)
    found = [c for c in _conflicts(plan) if c.start < plan.end and c.end > plan.start]
    tz = plan.tz
    people = []
    for employee_id, name in plan.people.items():
        days = []
        mine = [c for c in found if employee_id in _people_of(plan, c)]
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            info = plan.calendar.day(employee_id, day)
            lo, hi = day_bounds(day, tz)
            visits = [v for v in plan.by_person.get(employee_id, []) if v.start < hi and v.end > lo]
            days.append(
                PersonDay(
                    day=day,
                    shifts=info.shifts,
                    working=info.working,
                    holiday=info.holiday,
                    time_off=[
                        {"id": t.id, "kind": t.kind, "note": t.note, "start": t.start, "end": t.end}
                        for t in info.time_off
                    ],
                    visits=sorted(visits, key=lambda v: (v.start, v.id)),
                    conflicts=[c for c in mine if c.start < hi and c.end > lo],
                )
            )
        people.append(
            PersonSchedule(employee_id, name, bool(plan.calendar.has_hours.get(employee_id)), days)
        )
    return Schedule(first_day, last_day, tz, people, found)


def _people_of(plan: _Plan, conflict: Conflict) -> set[int]:
    if conflict.employee_id is not None:
        return {conflict.employee_id}
    ids = set(conflict.visit_ids)
    return {e for e, visits in plan.by_person.items() if any(v.id in ids for v in visits)}


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


# --- free slots and the nearest technician -------------------------------------------------


@dataclass
class FreeSlot:
    employee_id: int
    employee: str
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "minutes": self.minutes}


def _round_up(moment: datetime, minutes: int = 15) -> datetime:
    step = minutes * 60
    seconds = moment.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds / step) * step, UTC)


def free_slots(
    *,
    session: Session,
    day: date,
    minutes: int,
    employee_ids: Sequence[int] | None = None,
    object_id: int | None = None,
    now: datetime | None = None,
    ignore_visit_ids: Collection[int] = (),
) -> list[FreeSlot]:
    """Free spans of at least ``minutes`` on ``day`` in each person's working hours
    (people without working hours are not offered), never in the past. With
    ``object_id``, each span leaves time to drive there from the previous visit and on to
    the next one. ``ignore_visit_ids``: visits that do not hold their time (one being
    moved)."""
    if minutes <= 0:
        raise InvalidInput("a slot needs a positive length")
    now = now or clock.now()
    plan = _load(session, first_day=day, last_day=day, employee_ids=employee_ids)
    target = (
        places(session=session, object_ids=[object_id]).get(object_id)
        if object_id is not None
        else None
    )
    earliest = _round_up(now)
    lo, hi = day_bounds(day, plan.tz)
    slots: list[FreeSlot] = []
    for employee_id, name in plan.people.items():
        if not plan.calendar.has_hours.get(employee_id):
            continue
        working = [
            (max(s, lo), e) for s, e in plan.calendar.working(employee_id) if s < hi and e > lo
        ]
        busy = [v for v in plan.booked(employee_id) if v.id not in ignore_visit_ids]
        busy.sort(key=lambda v: v.start)
        for start, end in subtract(working, [(v.start, v.end) for v in busy]):
            start = max(start, earliest)
            if target is not None and target.point is not None:
                before = [v for v in busy if v.end <= start]
                after = [v for v in busy if v.start >= end]
                if before:
                    start = _round_up(
                        start + timedelta(minutes=_drive(plan, before[-1], target)), 5
                    )
                if after:
                    end -= timedelta(minutes=_drive(plan, after[0], target))
            if end - start >= timedelta(minutes=minutes):
                slots.append(FreeSlot(employee_id, name, start, end))
    slots.sort(key=lambda s: (s.start, s.employee))
    return slots


def _drive(plan: _Plan, visit: VisitView, target: Place) -> int:
    place = plan.places.get(visit.object_id) if visit.object_id is not None else None
    if place is None or place.point is None or target.point is None:
        return 0
    return travel_minutes(haversine_km(*place.point, *target.point), plan.speed)


@dataclass
class Candidate:
    employee_id: int
    employee: str
    free: bool
    busy_reason: str | None
    distance_km: float | None
    travel_minutes: int | None
    origin: str | None  # "visit 26-0012", "home", None (unknown)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def nearest(
    *,
    session: Session,
    object_id: int,
    start: datetime,
    minutes: int,
    employee_ids: Sequence[int] | None = None,
    ignore_visit_ids: Collection[int] = (),
) -> list[Candidate]:
    """Technicians ranked for a visit to ``object_id`` at ``start``: the free ones first,
    nearest first, by the distance from their previous visit of that day, or from their
    home base before the first one. ``ignore_visit_ids``: visits that do not hold their
    time (one being moved)."""
    tz = company_settings.load(session=session).tz
    day = start.astimezone(tz).date()
    end = start + timedelta(minutes=minutes)
    plan = _load(session, first_day=day, last_day=day, employee_ids=employee_ids)
    target = places(session=session, object_ids=[object_id]).get(object_id)
    if target is None:
        raise NotFound("object", f"#{object_id}")
    result = []
    for employee_id, name in plan.people.items():
        if not plan.calendar.has_hours.get(employee_id):
            continue
        visits = sorted(plan.by_person.get(employee_id, []), key=lambda v: v.start)
        reason = None
        if subtract([(start, end)], plan.calendar.working(employee_id)):
            reason = "not working"
        clash = [
            v
            for v in visits
            if not v.done and v.id not in ignore_visit_ids and v.start < end and v.end > start
        ]
        if clash:
            reason = f"visit {clash[0].number}"
        before = [
            v
            for v in visits
            if v.id not in ignore_visit_ids
            and v.end <= start
            and v.start.astimezone(tz).date() == day
        ]
        origin_point, origin = None, None
        if before:
            place = plan.places.get(before[-1].object_id) if before[-1].object_id else None
            origin = f"visit {before[-1].number}"
            origin_point = place.point if place else None
        elif plan.homes.get(employee_id):
            origin, origin_point = "home", plan.homes[employee_id]
        distance = (
            haversine_km(*origin_point, *target.point)
            if origin_point is not None and target.point is not None
            else None
        )
        result.append(
            Candidate(
                employee_id,
                name,
                reason is None,
                reason,
                round(distance, 1) if distance is not None else None,
                travel_minutes(distance, plan.speed) if distance is not None else None,
                origin,
            )
        )
    result.sort(
        key=lambda c: (
            not c.free,
            c.distance_km is None,
            c.distance_km or 0.0,
            c.employee,
        )
    )
    return result


@dataclass
class VisitOffer:
    """What to offer for a visit of an order: when (the first free moment of whom the
    order is for, else of anyone), for how long, and who — the order's assignee first,
    then the free and nearest — with everyone's free slots of that day."""

    day: date
    start: datetime
    minutes: int
    candidates: list[Candidate]
    slots: list[FreeSlot]
    preferred: int | None
    """The employee the order is for (its assignee; for a move, the visit's)."""

    @property
    def first(self) -> int | None:
        """Which candidate to offer first: the preferred one when free then, else the
        first free one (None: nobody is free)."""
        for i, c in enumerate(self.candidates):
            if c.employee_id == self.preferred and c.free:
                return i
        return next((i for i, c in enumerate(self.candidates) if c.free), None)


OFFER_DAYS = 7


def offer_visit(
    *,
    session: Session,
    order_id: int,
    day: date | None = None,
    start: datetime | None = None,
    minutes: int | None = None,
    employee_id: int | None = None,
    moving_visit_id: int | None = None,
    now: datetime | None = None,
) -> VisitOffer:
    """Who and when for a visit of ``order_id``.

    ``start`` given: that moment. Else the first free moment, on ``day`` (the planner's
    day) or, without one, from today on over the next :data:`OFFER_DAYS` days: of the
    preferred technician — ``employee_id``, else the order's assignee — when they have one,
    else of anyone. ``minutes``: the visit's length (default: the ``visit_minutes``
    setting). ``moving_visit_id``: the visit being moved does not keep its own time busy.

    The candidates are :func:`nearest`'s (whoever works that day, by name, for an order
    without an object), with the preferred technician moved to the top."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    settings = company_settings.load(session=session)
    tz = settings.tz
    now = now or clock.now()
    minutes = minutes or settings.visit_minutes
    preferred = employee_id if employee_id is not None else order.assignee_id
    object_id = order.object_id

    own = (moving_visit_id,) if moving_visit_id is not None else ()  # its time is free for it

    def slots_of(d: date) -> list[FreeSlot]:
        return free_slots(
            session=session,
            day=d,
            minutes=minutes,
            object_id=object_id,
            now=now,
            ignore_visit_ids=own,
        )

    if start is not None:
        day = start.astimezone(tz).date()
        slots = slots_of(day)
    else:
        today = now.astimezone(tz).date()
        days = [day] if day is not None else [today + timedelta(days=i) for i in range(OFFER_DAYS)]
        chosen: tuple[date, list[FreeSlot], datetime] | None = None
        fallback: tuple[date, list[FreeSlot], datetime] | None = None
        for d in days:
            slots = slots_of(d)
            mine = [x for x in slots if x.employee_id == preferred]
            if mine:
                chosen = (d, slots, min(x.start for x in mine))
                break
            if slots and fallback is None:
                fallback = (d, slots, min(x.start for x in slots))
                if preferred is None:
                    break
        if chosen is None:
            chosen = fallback
        if chosen is None:  # nobody is free: the first day, from 09:00 (never the past)
            d = days[0]
            at_nine = datetime.combine(d, datetime.min.time(), tzinfo=tz).replace(hour=9)
            chosen = (d, slots_of(d), max(at_nine, _round_up(now)))
        day, slots, start = chosen
    if object_id is not None:
        candidates = nearest(
            session=session, object_id=object_id, start=start, minutes=minutes, ignore_visit_ids=own
        )
    else:  # no object, no distances: whoever works that day, by name
        seen = sorted({(x.employee, x.employee_id) for x in slots})
        candidates = [Candidate(i, name, True, None, None, None, None) for name, i in seen]
    candidates.sort(key=lambda c: (c.employee_id != preferred, not c.free))  # stable
    return VisitOffer(day, start, minutes, candidates, slots, preferred)


# --- the unscheduled queue --------------------------------------------------------------------


def unscheduled(
    *, session: Session, now: datetime | None = None, limit: int | None = 50
) -> list[dict[str, Any]]:
    """Open orders with no visit ahead (new, assigned, en route, in progress; not on hold),
    most urgent first: the nearest SLA deadline still to meet (reaction, then resolution),
    violated ones first, then by criticality and age."""
    now = now or clock.now()
    workflow = load_workflow(session=session)
    open_stages = [
        s.code
        for s in workflow.stages.values()
        if s.category in (StageCategory.NEW, StageCategory.ACTIVE)
    ]
    planned = select(Visit.order_id).where(Visit.end_at > now)
    query = (
        sa_select(
            Order.id,
            Order.number,
            Order.stage_code,
            Order.criticality,
            Order.created_at,
            Order.reaction_due,
            Order.reacted_at,
            Order.resolution_due,
            Order.description,
            Order.object_id,
            Company.name.label("customer"),
            ServiceObject.name.label("object"),
            Employee.short_name.label("assignee"),
            Crew.name.label("crew"),
            sla.status_expression(now).label("sla_status"),
        )
        .join(Company, col(Company.id) == Order.customer_id)
        .outerjoin(ServiceObject, col(ServiceObject.id) == Order.object_id)
        .outerjoin(Employee, col(Employee.id) == Order.assignee_id)
        .outerjoin(Crew, col(Crew.id) == Order.crew_id)
        .where(col(Order.stage_code).in_(open_stages), col(Order.id).not_in(planned))
    )
    rank = {"critical": 0, "high": 1, "normal": 2, "low": 3}
    rows = []
    for row in session.execute(query):
        item = dict(row._mapping)
        due = item["resolution_due"]
        if item["reacted_at"] is None and item["reaction_due"] is not None:
            due = min(d for d in (item["reaction_due"], due) if d is not None)
        item["next_due"] = due
        item["next_due_kind"] = (
            "reaction"
            if due is not None and due == item["reaction_due"] and item["reacted_at"] is None
            else ("resolution" if due is not None else None)
        )
        rows.append(item)
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(
        key=lambda r: (
            r["next_due"] or far,
            rank.get(r["criticality"], 9),
            r["created_at"],
            r["number"],
        )
    )
    return rows[:limit] if limit else rows


# --- changing the plan ---------------------------------------------------------------------


def _who(session: Session, employee_id: int | None, crew_id: int | None) -> str:
    if employee_id is not None:
        employee = session.get(Employee, employee_id)
        if employee is None:
            raise NotFound("employee", f"#{employee_id}")
        if not employee.active:
            raise InvalidInput(f"employee {employee.short_name} is not active", field="employee")
        return employee.short_name
    if crew_id is not None:
        crew = session.get(Crew, crew_id)
        if crew is None:
            raise NotFound("crew", f"#{crew_id}")
        if not crew.active:
            raise InvalidInput(f"crew {crew.name} is not active", field="crew")
        return crew.name
    raise InvalidInput("a visit needs an employee or a crew", field="employee")


def _visit_text(who: str, start: datetime, end: datetime) -> str:
    a = start.astimezone(UTC).isoformat(timespec="minutes")
    b = end.astimezone(UTC).isoformat(timespec="minutes")
    return f"{who}: {a} – {b}"


class VisitInThePast(InvalidInput):
    """A visit would start in the past: refused unless the caller says ``allow_past``
    (the CLI's ``--allow-past``, a yes in the dashboard's confirmation)."""

    def __init__(self, start: datetime, tz: tzinfo) -> None:
        local = start.astimezone(tz)
        super().__init__(
            f"start: {local:%d.%m.%Y %H:%M} is in the past",
            field="start",
            hint="confirm to plan the visit anyway",
        )
        self.start = start


def is_past(start: datetime, *, now: datetime | None = None) -> bool:
    """Whether a visit starting at ``start`` is in the past (beyond :data:`PAST_TOLERANCE`)."""
    return start < (now or clock.now()) - PAST_TOLERANCE


def _check_past(session: Session, start: datetime, allow_past: bool) -> None:
    if not allow_past and is_past(start):
        raise VisitInThePast(start, company_settings.load(session=session).tz)


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("visit times must carry a time zone")
    if end <= start:
        raise InvalidInput("the visit ends before it starts", field="end")
    if end - start > MAX_VISIT:
        raise InvalidInput("a visit is at most 24 hours long; plan several", field="end")


def _open_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    stage = load_workflow(session=session).stages[order.stage_code]
    if stage.finished:
        raise InvalidInput(
            f"order {order.number} is {stage.name_en.lower()} ({stage.code}); "
            "only open orders get visits"
        )
    return order


def _history(
    session: Session, order: Order, *, actor: str, old: str | None, new: str | None
) -> None:
    session.add(
        OrderHistory(
            order_id=order.id,
            at=clock.now(),
            actor=actor,
            action="visit",
            field="visit",
            old_value=old,
            new_value=new,
        )
    )


def _follow(
    session: Session, order: Order, *, employee_id: int | None, crew_id: int | None, actor: str
) -> None:
    """The order goes to whom its visit is planned for (assigning a new order moves it on)."""
    if employee_id is not None and order.assignee_id != employee_id:
        order_service.assign_order(
            session=session, order_id=order.id, assignee_id=employee_id, actor=actor
        )
    elif crew_id is not None and order.crew_id != crew_id:
        order_service.assign_order(session=session, order_id=order.id, crew_id=crew_id, actor=actor)


def _sync_window(session: Session, order: Order, *, actor: str) -> None:
    """The order's planned window is the span of its visits (cleared with the last one)."""
    session.flush()
    first, last = session.exec(
        select(func.min(Visit.start_at), func.max(Visit.end_at)).where(Visit.order_id == order.id)
    ).one()
    if first is not None and first.tzinfo is None:
        first, last = first.replace(tzinfo=UTC), last.replace(tzinfo=UTC)
    if (first, last) != (order.planned_start, order.planned_end):
        order_service.update_order(
            session=session,
            order_id=order.id,
            data={"planned_start": first, "planned_end": last},
            actor=actor,
        )


def add_visit(
    *,
    session: Session,
    order_id: int,
    start: datetime,
    end: datetime | None = None,
    employee_id: int | None = None,
    crew_id: int | None = None,
    actor: str,
    note: str | None = None,
    allow_past: bool = False,
) -> Visit:
    """Plan a visit for an employee or a crew; the order is assigned to them (through
    the order service) and its planned window follows its visits. A start in the past
    (see :func:`is_past`) raises :class:`VisitInThePast` unless ``allow_past``."""
    if (employee_id is None) == (crew_id is None):
        raise InvalidInput("a visit is for one employee or one crew", field="employee")
    order = _open_order(session, order_id)
    if end is None:
        end = start + timedelta(minutes=company_settings.load(session=session).visit_minutes)
    _check_window(start, end)
    _check_past(session, start, allow_past)
    who = _who(session, employee_id, crew_id)
    visit = Visit(
        order_id=order_id,
        employee_id=employee_id,
        crew_id=crew_id,
        start_at=start,
        end_at=end,
        note=(note or "").strip()[:500] or None,
        created_by=actor,
    )
    session.add(visit)
    _history(session, order, actor=actor, old=None, new=_visit_text(who, start, end))
    session.flush()
    _follow(session, order, employee_id=employee_id, crew_id=crew_id, actor=actor)
    _sync_window(session, order, actor=actor)
    return visit


def get_visit(*, session: Session, visit_id: int, expected_version: int | None = None) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("visit", f"#{visit_id}", hint="the day view shows visit numbers: #12")
    if expected_version is not None and visit.version != expected_version:
        raise VersionConflict(
            f"visit #{visit_id}",
            expected_version=expected_version,
            current_version=visit.version,
        )
    return visit


_KEEP = order_service.KEEP


def move_visit(
    *,
    session: Session,
    visit_id: int,
    actor: str,
    start: datetime | None = None,
    end: datetime | None = None,
    employee_id: int | Any | None = _KEEP,
    crew_id: int | Any | None = _KEEP,
    expected_version: int | None = None,
    allow_past: bool = False,
) -> Visit:
    """Move a visit in time (keeping its length unless ``end`` is given) and/or to another
    employee or crew (the order follows). A new start in the past raises
    :class:`VisitInThePast` unless ``allow_past``; a visit that already started may still
    change hands."""
    visit = get_visit(session=session, visit_id=visit_id, expected_version=expected_version)
    order = _open_order(session, visit.order_id)
    old = _visit_text(_who_loose(session, visit), visit.start_at, visit.end_at)
    new_start = start or visit.start_at
    if end is None:
        end = new_start + (visit.end_at - visit.start_at) if start is not None else visit.end_at
    _check_window(new_start, end)
    if new_start != visit.start_at:
        _check_past(session, new_start, allow_past)
    new_employee, new_crew = visit.employee_id, visit.crew_id
    if employee_id is not _KEEP and employee_id is not None:
        new_employee, new_crew = employee_id, None
    elif crew_id is not _KEEP and crew_id is not None:
        new_employee, new_crew = None, crew_id
    who = _who(session, new_employee, new_crew)
    changed = (new_start, end, new_employee, new_crew) != (
        visit.start_at,
        visit.end_at,
        visit.employee_id,
        visit.crew_id,
    )
    if not changed:
        return visit
    visit.start_at, visit.end_at = new_start, end
    visit.employee_id, visit.crew_id = new_employee, new_crew
    _history(session, order, actor=actor, old=old, new=_visit_text(who, new_start, end))
    try:
        session.flush()
    except StaleDataError:
        raise VersionConflict(
            f"visit #{visit_id}", expected_version=expected_version, current_version=-1
        ) from None
    _follow(session, order, employee_id=new_employee, crew_id=new_crew, actor=actor)
    _sync_window(session, order, actor=actor)
    return visit


def _who_loose(session: Session, visit: Visit) -> str:
    if visit.employee_id is not None:
        employee = session.get(Employee, visit.employee_id)
        return employee.short_name if employee else f"#{visit.employee_id}"
    crew = session.get(Crew, visit.crew_id) if visit.crew_id is not None else None
    return crew.name if crew else f"#{visit.crew_id}"


def remove_visit(
    *, session: Session, visit_id: int, actor: str, expected_version: int | None = None
) -> Visit:
    """Take a visit off the plan (the order keeps its assignee)."""
    visit = get_visit(session=session, visit_id=visit_id, expected_version=expected_version)
    order = session.get(Order, visit.order_id)
    assert order is not None
    old = _visit_text(_who_loose(session, visit), visit.start_at, visit.end_at)
    session.delete(visit)
    _history(session, order, actor=actor, old=old, new=None)
    try:
        session.flush()
    except StaleDataError:
        raise VersionConflict(
            f"visit #{visit_id}", expected_version=expected_version, current_version=-1
        ) from None
    _sync_window(session, order, actor=actor)
    return visit


def resolve_visit(*, session: Session, ref: str) -> int:
    """A visit by ``#id``, or by its order's number when the order has exactly one."""
    from fsm_core.services import lookup

    text = ref.strip().lstrip("#")
    visit_id = record_id(text)
    if visit_id is not None:
        return visit_id
    if only_digits(text):
        raise NotFound("visit", ref, hint="fsm plan day shows the visits' #ids")
    order = lookup.resolve_order(session=session, ref=ref)
    visits = visits_of_order(session=session, order_id=order.id)
    if len(visits) == 1:
        return visits[0].id
    if not visits:
        raise InvalidInput(f"order {order.number} has no visits")
    ids = ", ".join(f"#{v.id}" for v in visits)
    raise InvalidInput(f"order {order.number} has several visits ({ids}); name one by #id")


def visits_of_order(*, session: Session, order_id: int) -> list[VisitView]:
    far = datetime(9999, 1, 1, tzinfo=UTC)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    return _visit_views(
        session, start=start, end=far, employee_ids=None, crew_ids=None, order_id=order_id
    )


def visit_view(*, session: Session, visit_id: int) -> VisitView:
    visit = get_visit(session=session, visit_id=visit_id)
    for view in visits_of_order(session=session, order_id=visit.order_id):
        if view.id == visit_id:
            return view
    raise NotFound("visit", f"#{visit_id}")


@dataclass(frozen=True)
class WorkWindow:
    """When work on an order most likely happened, to record it (выполненная работа)."""

    start: datetime
    end: datetime
    visit_id: int | None
    """The visit it comes from (None: the last hour, no visit has begun)."""
    employee_id: int | None = None  # the visit's technician


def _five(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) - timedelta(minutes=moment.minute % 5)


def work_window(
    *,
    session: Session,
    order_id: int,
    now: datetime | None = None,
    start: datetime | None = None,
) -> WorkWindow:
    """The default start and end of work recorded on ``order_id`` (the dashboard's work
    form and ``fsm work add`` without ``--start``/``--end``): the planned time of the
    order's latest visit that has begun — up to now while it is still going on — else of
    its planned window, else the last hour; never before the order was created, never in
    the future, to five minutes. With ``start`` (given by the user), only the end is
    chosen: that window's, or now when the window ends before ``start``."""
    if start is not None:
        found = work_window(session=session, order_id=order_id, now=now)
        end = found.end if found.end > start else (now or clock.now())
        return WorkWindow(start, end, found.visit_id, found.employee_id)
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    now = now or clock.now()
    begun = [v for v in visits_of_order(session=session, order_id=order_id) if v.start <= now]
    source: tuple[datetime, datetime, int | None, int | None] | None = None
    if begun:
        visit = max(begun, key=lambda v: (v.start, v.id))
        source = (visit.start, visit.end, visit.id, visit.employee_id)
    elif order.planned_start is not None and order.planned_start <= now:
        planned_end = order.planned_end or order.planned_start + timedelta(hours=1)
        source = (order.planned_start, planned_end, None, None)
    if source is not None:
        start, end, visit_id, employee_id = source
        if end > now:  # still going on: until now
            end = _five(now) if _five(now) > start else now
        return WorkWindow(start, end, visit_id, employee_id)
    end = _five(now)
    start = max(end - timedelta(hours=1), order.created_at)
    if start >= end:
        end = now
    return WorkWindow(start, end, None, None)


def set_home_base(
    *,
    session: Session,
    employee_id: int,
    latitude: float | None,
    longitude: float | None,
) -> Employee:
    """Where the employee starts the day; None clears it."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("employee", f"#{employee_id}")
    if (latitude is None) != (longitude is None):
        raise InvalidInput("latitude and longitude go together")
    if latitude is not None and not -90 <= latitude <= 90:
        raise InvalidInput(f"latitude {latitude} is not between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise InvalidInput(f"longitude {longitude} is not between -180 and 180")
    employee.home_latitude, employee.home_longitude = latitude, longitude
    session.flush()
    return employee


# --- reading what people type ---------------------------------------------------------------

_DURATION = re.compile(
    r"^\+?\s*\d+(?:[.,]\d+)?\s*(?:m|min|h|ч|мин|d|д)(?:\s*\d+\s*(?:m|min|мин))?$"
)


def read_day(text: str | None, tz: tzinfo, *, field: str = "date") -> date:
    """A local calendar day: ``27.11.2026``, ``27.11`` (this year), ISO, ``today``,
    ``завтра``; None is today. Read by :mod:`fsm_core.timeparse`, strictly."""
    from fsm_core.timeparse import parse_date

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
    from fsm_core.timeparse import parse_datetime

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
    from fsm_core.timeparse import parse_minutes

    start = read_moment(start_text, tz, field=start_field)
    if end_text is None or not end_text.strip():
        return start, None
    value = end_text.strip()
    if _DURATION.match(value.lower()):
        return start, start + timedelta(minutes=parse_minutes(value.lstrip("+ "), field=end_field))
    return start, read_moment(value, tz, day=start.astimezone(tz).date(), field=end_field)
