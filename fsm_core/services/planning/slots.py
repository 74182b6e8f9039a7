"""Where a visit fits: free slots, the nearest technician, an offer of times for a
visit, and the queue of orders that have none."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import (
    Company,
    Crew,
    Employee,
    Order,
    ServiceObject,
    StageCategory,
    Visit,
)
from fsm_core.services import settings as company_settings
from fsm_core.services import sla
from fsm_core.services.planning.loading import _load, _Plan, places
from fsm_core.services.planning.views import Place, VisitView, haversine_km, travel_minutes
from fsm_core.services.stages import load_workflow
from fsm_core.services.working_time import (
    subtract,
)
from fsm_core.timeparse import local_day_bounds


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


@requires("plan.read")
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
    lo, hi = local_day_bounds(day, plan.tz)
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


@requires("plan.read")
def nearest(
    *,
    session: Session,
    object_id: int,
    start: datetime,
    minutes: int,
    employee_ids: Sequence[int] | None = None,
    ignore_visit_ids: Collection[int] = (),
    preferred: int | None = None,
) -> list[Candidate]:
    """Technicians ranked for a visit to ``object_id`` at ``start``: ``preferred`` (the
    order's assignee) first when free, then the free ones, nearest first, by the distance
    from their previous visit of that day, or from their home base before the first one.
    ``ignore_visit_ids``: visits that do not hold their time (one being moved)."""
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
            not (preferred is not None and c.employee_id == preferred),
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


@requires("plan.edit")
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


@requires("plan.read")
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
