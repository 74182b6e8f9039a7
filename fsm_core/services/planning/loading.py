"""Loading a range of the plan once: visits, people, calendars and places, for the
schedule, the conflicts and the slots to share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fsm_core.access import requires
from fsm_core.models import (
    Company,
    Crew,
    CrewMember,
    Employee,
    Order,
    ServiceObject,
    StageCategory,
    Visit,
    WorkPattern,
)
from fsm_core.services import settings as company_settings
from fsm_core.services.planning.views import Place, VisitView
from fsm_core.services.stages import load_workflow
from fsm_core.services.working_time import (
    Calendar,
    load_calendar,
)
from fsm_core.timeparse import local_day_bounds


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


@requires("plan.read")
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
    start, end = local_day_bounds(first_day, tz)[0], local_day_bounds(last_day, tz)[1]
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
