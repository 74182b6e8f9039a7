"""Conflicts: the one place that knows them (overlaps, days off and hours, travel,
deadlines, objects without coordinates). They are shown, never refused."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from fsm_core.access import requires
from fsm_core.services import settings as company_settings
from fsm_core.services.planning.loading import _load, _local_days, _Plan
from fsm_core.services.planning.views import (
    _KIND_ORDER,
    Conflict,
    VisitView,
    haversine_km,
    travel_minutes,
)
from fsm_core.services.working_time import (
    subtract,
    total,
)


@requires("plan.read")
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
