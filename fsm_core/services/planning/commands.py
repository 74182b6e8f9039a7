"""Changing the plan: adding, moving and removing visits (each assigns the order
through the order service, with history, and keeps its planned window), reading one
visit, a work entry's default window and an employee's home base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import Conflict as VersionConflict
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import (
    Crew,
    Employee,
    Order,
    OrderHistory,
    Visit,
)
from fsm_core.services import orders as order_service
from fsm_core.services import settings as company_settings
from fsm_core.services.notify import outbox as notify_outbox
from fsm_core.services.planning.loading import _visit_views
from fsm_core.services.planning.views import MAX_VISIT, PAST_TOLERANCE, VisitView
from fsm_core.services.stages import load_workflow
from fsm_core.values import only_digits, record_id


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


@requires("plan.edit")
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
    notify_outbox.visit_planned(session=session, visit=visit)
    return visit


@requires("plan.read")
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


@requires("plan.edit")
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
    start_end = (visit.start_at, visit.end_at)
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
    if (visit.start_at, visit.end_at) != start_end:  # another time: the customer is told
        notify_outbox.visit_planned(session=session, visit=visit)
    return visit


def _who_loose(session: Session, visit: Visit) -> str:
    if visit.employee_id is not None:
        employee = session.get(Employee, visit.employee_id)
        return employee.short_name if employee else f"#{visit.employee_id}"
    crew = session.get(Crew, visit.crew_id) if visit.crew_id is not None else None
    return crew.name if crew else f"#{visit.crew_id}"


@requires("plan.edit")
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


@requires("plan.read")
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


@requires("plan.read")
def visits_of_order(*, session: Session, order_id: int) -> list[VisitView]:
    far = datetime(9999, 1, 1, tzinfo=UTC)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    return _visit_views(
        session, start=start, end=far, employee_ids=None, crew_ids=None, order_id=order_id
    )


@requires("plan.read")
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


@requires("plan.read")
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


@requires("staff.edit")
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
