"""A day's stays of each technician read against their work: which objects they were sent
to (their visits that day, alone or in a crew, and the open orders assigned to them), when
they arrived and left (:mod:`.stays`), which order each stay served, and the manual
check-ins that no detected stay confirms. Computed on read from the fixes, never stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Float, cast, func, or_, type_coerce
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import (
    ChecklistAnswer,
    ChecklistItem,
    CrewMember,
    Employee,
    Order,
    Position,
    ServiceObject,
    Stage,
    Visit,
)
from fsm_core.services import settings as company_settings
from fsm_core.services.gps.proximity import Verdict, check_in_employee
from fsm_core.services.gps.stays import (
    RawStay,
    Target,
    Thresholds,
    Usable,
    detect,
    utc,
)
from fsm_core.timeparse import local_day_bounds

OPEN_CATEGORIES = ("new", "active", "paused")
DONE_CATEGORIES = ("done", "closed")


class How:
    DETECTED = "detected"
    MANUAL_NEAR = "manual near"
    MANUAL_FAR = "manual far"
    NO_FIX = "no fix"
    UNVERIFIED = "manual unverified"


_HOW_OF_VERDICT = {
    Verdict.NEAR.value: How.MANUAL_NEAR,
    Verdict.FAR.value: How.MANUAL_FAR,
    Verdict.NO_FIX.value: How.NO_FIX,
    Verdict.STALE.value: How.NO_FIX,
    Verdict.NO_COORDINATES.value: How.UNVERIFIED,
}
"""A check-in's verdict as a stay's ``how``; a check-in of someone not tracked (no verdict)
is not a stay at all."""


@dataclass(frozen=True)
class Stay:
    """A stay of one employee: at an object (``object_id``) or a long stop elsewhere
    (None); ``left_at`` None while still there; ``minutes`` on site (None for a manual
    check-in, which has no departure)."""

    employee_id: int
    employee: str
    object_id: int | None
    object_name: str | None
    order_id: int | None
    order: str | None
    visit_id: int | None
    arrived_at: datetime
    left_at: datetime | None
    minutes: int | None
    how: str
    distance_m: float | None = None


class Link(NamedTuple):
    """Why an employee goes to an object: an order, through a visit or not."""

    order_id: int
    number: str
    visit_id: int | None
    start: datetime | None
    end: datetime | None


@dataclass
class DayStays:
    """What :func:`day_stays` read: the stays and the fixes they came from."""

    day: date
    start: datetime
    end: datetime
    names: dict[int, str]
    # every fix's time (Unix seconds), per employee, whatever its accuracy
    times: dict[int, list[float]]
    stays: dict[int, list[Stay]]
    # objects the employee was sent to that cannot be verified: id -> name
    unverifiable: dict[int, dict[int, str]] = field(default_factory=dict)
    # the fixes good enough to count (stays.Usable tuples), per employee
    good: dict[int, list[Usable]] = field(default_factory=dict)


@requires("gps.read")
def read_day_fixes(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    employee_ids: Sequence[int] | None,
    max_accuracy_m: float,
) -> tuple[dict[int, list[float]], dict[int, list[Usable]]]:
    """Each employee's fixes with ``start <= at < end`` as detection reads them: every
    fix's time, and the usable fixes (:data:`.stays.Usable`, accuracy within
    ``max_accuracy_m`` or unknown). The times come from the database as Unix seconds
    (rounded to the millisecond): no datetime is made for a day of 5-second fixes."""
    if session.get_bind().dialect.name == "sqlite":
        epoch: Any = func.round((func.julianday(Position.fix_at) - 2440587.5) * 86400.0, 3)
    else:
        epoch = cast(func.extract("epoch", Position.fix_at), Float)
    query = select_columns(
        Position.employee_id,
        type_coerce(epoch, Float),
        Position.latitude,
        Position.longitude,
        Position.accuracy_m,
    ).where(col(Position.fix_at) >= start, col(Position.fix_at) < end)
    if employee_ids is not None:
        query = query.where(col(Position.employee_id).in_(list(employee_ids)))
    query = query.order_by(col(Position.employee_id), col(Position.fix_at))
    times: dict[int, list[float]] = {}
    good: dict[int, list[Usable]] = {}
    current = None
    mine_t: list[float] = []
    mine_g: list[Usable] = []
    for employee_id, at, lat, lon, accuracy in session.connection().execute(query).all():
        if employee_id != current:
            current = employee_id
            mine_t = times.setdefault(employee_id, [])
            mine_g = good.setdefault(employee_id, [])
        mine_t.append(at)
        if accuracy is None:
            mine_g.append((at, lat, lon, 0.0))
        elif accuracy <= max_accuracy_m:
            mine_g.append((at, lat, lon, accuracy))
    return times, good


@requires("settings.read")
def thresholds(session: Session) -> Thresholds:
    cfg = company_settings.load(session=session)
    return Thresholds(
        arrival_fixes=cfg.gps_arrival_fixes,
        arrival_s=cfg.gps_arrival_minutes * 60.0,
        departure_s=cfg.gps_departure_minutes * 60.0,
        max_accuracy_m=float(cfg.gps_max_accuracy_m),
    )


def _crews_of(session: Session, employee_ids: Sequence[int]) -> dict[int, list[int]]:
    """crew id -> its members among ``employee_ids``."""
    rows = session.execute(
        select_columns(CrewMember.crew_id, CrewMember.employee_id).where(
            col(CrewMember.employee_id).in_(list(employee_ids))
        )
    ).all()
    found: dict[int, list[int]] = {}
    for crew_id, employee_id in rows:
        found.setdefault(crew_id, []).append(employee_id)
    return found


@requires("gps.read")
def links(
    *, session: Session, start: datetime, end: datetime, employee_ids: Sequence[int]
) -> dict[int, dict[int, list[Link]]]:
    """employee -> object -> why they go there: visits within the day (theirs or their
    crew's), open orders assigned to them, orders they finished that day."""
    found: dict[int, dict[int, list[Link]]] = {e: {} for e in employee_ids}
    if not employee_ids:
        return found
    crews = _crews_of(session, employee_ids)
    people_filter = [col(Visit.employee_id).in_(list(employee_ids))]
    if crews:
        people_filter.append(col(Visit.crew_id).in_(list(crews)))
    visits = session.execute(
        select_columns(
            Visit.id,
            Visit.employee_id,
            Visit.crew_id,
            Visit.start_at,
            Visit.end_at,
            Order.id,
            Order.number,
            Order.object_id,
        )
        .join(Order, col(Order.id) == col(Visit.order_id))
        .where(
            col(Visit.start_at) < end,
            col(Visit.end_at) > start,
            or_(*people_filter),
            col(Order.object_id).is_not(None),
        )
    ).all()
    for visit_id, employee_id, crew_id, v_start, v_end, order_id, number, object_id in visits:
        people = [employee_id] if employee_id is not None else crews.get(crew_id, [])
        for person in people:
            found[person].setdefault(object_id, []).append(
                Link(order_id, number, visit_id, v_start, v_end)
            )
    orders = session.execute(
        select_columns(Order.id, Order.number, Order.object_id, Order.assignee_id)
        .join(Stage, col(Stage.code) == col(Order.stage_code))
        .where(
            col(Order.assignee_id).in_(list(employee_ids)),
            col(Order.object_id).is_not(None),
            or_(
                col(Stage.category).in_(OPEN_CATEGORIES),
                (col(Stage.category).in_(DONE_CATEGORIES))
                & (col(Order.resolved_at) >= start)
                & (col(Order.resolved_at) < end),
            ),
        )
    ).all()
    for order_id, number, object_id, assignee_id in orders:
        linked = found[assignee_id].setdefault(object_id, [])
        if not any(link.order_id == order_id for link in linked):
            linked.append(Link(order_id, number, None, None, None))
    return found


def _targets(
    session: Session, object_ids: Iterable[int], default_radius: int
) -> tuple[dict[int, Target], dict[int, str]]:
    """Objects with a point (their own or their site's) as targets, and every object's
    name."""
    from fsm_core.services.planning.loading import places

    wanted = sorted(set(object_ids))
    found = places(session=session, object_ids=wanted)
    radii = dict(
        session.execute(
            select_columns(ServiceObject.id, ServiceObject.gps_radius_m).where(
                col(ServiceObject.id).in_(wanted)
            )
        ).all()
    )
    targets = {
        i: Target(i, p.point[0], p.point[1], float(radii.get(i) or default_radius))
        for i, p in found.items()
        if p.point is not None
    }
    return targets, {i: p.name for i, p in found.items()}


def _pick(links_: Sequence[Link], arrived: datetime, left: datetime) -> Link | None:
    """The order a stay served: the visit overlapping it most, else the visit nearest in
    time, else an order without a visit."""
    if not links_:
        return None

    def score(link: Link) -> tuple[int, float]:
        if link.start is None or link.end is None:
            return (2, 0.0)
        overlap = (min(left, link.end) - max(arrived, link.start)).total_seconds()
        if overlap > 0:
            return (0, -overlap)
        return (
            1,
            min(
                abs((link.start - left).total_seconds()), abs((arrived - link.end).total_seconds())
            ),
        )

    return min(links_, key=score)


def _minutes(arrived: datetime, until: datetime) -> int:
    return max(0, round((until - arrived).total_seconds() / 60))


@requires("gps.read")
def day_stays(
    *,
    session: Session,
    day: date,
    employee_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> DayStays:
    """Each employee's stays on a local day (every employee with fixes that day when
    ``employee_ids`` is None): detected ones, long stops, and manual check-ins no detected
    stay confirms."""
    cfg = company_settings.load(session=session)
    now = now or clock.now()
    employee_ids = list(employee_ids) if employee_ids is not None else None
    start, end = local_day_bounds(day, cfg.tz)
    times, good_fixes = read_day_fixes(
        session=session,
        start=start,
        end=end,
        employee_ids=employee_ids,
        max_accuracy_m=cfg.gps_max_accuracy_m,
    )
    check_ins = _check_ins(session, start, end)
    ids = sorted(
        set(employee_ids)
        if employee_ids is not None
        else set(times) | {c.employee_id for c in check_ins}
    )
    names: dict[int, str] = (
        dict(
            session.execute(
                select_columns(Employee.id, Employee.short_name).where(col(Employee.id).in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    th = thresholds(session)
    linked = links(session=session, start=start, end=end, employee_ids=ids)
    targets, object_names = _targets(
        session, {o for per in linked.values() for o in per}, cfg.gps_radius_m
    )
    live = now if start <= now < end + timedelta(seconds=th.max_gap_s) else None
    result = DayStays(day, start, end, names, times, {})
    for employee_id in ids:
        mine = linked.get(employee_id, {})
        result.unverifiable[employee_id] = {
            o: object_names.get(o, f"#{o}") for o in mine if o not in targets
        }
        good = result.good[employee_id] = good_fixes.get(employee_id, [])
        raw = detect([], [targets[o] for o in mine if o in targets], th, now=live, good=good)
        result.stays[employee_id] = [
            _stay(employee_id, names.get(employee_id, ""), r, mine, object_names, now) for r in raw
        ]
    _add_check_ins(result, check_ins, linked, object_names, th)
    return result


def _stay(
    employee_id: int,
    name: str,
    raw: RawStay,
    mine: dict[int, list[Link]],
    object_names: dict[int, str],
    now: datetime,
) -> Stay:
    arrived = utc(raw.arrived)
    left = utc(raw.left) if raw.left is not None else None
    link = (
        _pick(mine.get(raw.object_id, []), arrived, left or now)
        if raw.object_id is not None
        else None
    )
    return Stay(
        employee_id=employee_id,
        employee=name,
        object_id=raw.object_id,
        object_name=object_names.get(raw.object_id) if raw.object_id is not None else None,
        order_id=link.order_id if link else None,
        order=link.number if link else None,
        visit_id=link.visit_id if link else None,
        arrived_at=arrived,
        left_at=left,
        minutes=_minutes(arrived, left or max(now, utc(raw.last_inside))),
        how=How.DETECTED,
    )


class _CheckIn(NamedTuple):
    at: datetime
    verdict: str | None
    distance_m: float | None
    order: Order
    employee_id: int


def _check_ins(session: Session, start: datetime, end: datetime) -> list[_CheckIn]:
    """The day's check-ins, each with the employee it was read against."""
    rows = session.execute(
        select_columns(
            ChecklistAnswer.answered_at,
            ChecklistAnswer.answered_by,
            ChecklistAnswer.check_in_verdict,
            ChecklistAnswer.check_in_distance_m,
            Order,
        )
        .join(ChecklistItem, col(ChecklistItem.id) == col(ChecklistAnswer.item_id))
        .join(Order, col(Order.id) == col(ChecklistAnswer.order_id))
        .where(
            ChecklistItem.kind == "check_in",
            col(ChecklistAnswer.answered_at) >= start,
            col(ChecklistAnswer.answered_at) < end,
            col(ChecklistAnswer.value).is_not(None),
            # read against nobody's position (the technician is not tracked): only a time
            col(ChecklistAnswer.check_in_verdict).is_not(None),
        )
    ).all()
    found = []
    for at, actor, verdict, distance, order in rows:
        employee_id = check_in_employee(session, order, actor)
        if employee_id is not None:
            found.append(_CheckIn(at, verdict, distance, order, employee_id))
    return found


def _add_check_ins(
    result: DayStays,
    check_ins: list[_CheckIn],
    linked: dict[int, dict[int, list[Link]]],
    object_names: dict[int, str],
    th: Thresholds,
) -> None:
    """Manual check-ins of the day not confirmed by a detected stay at that object."""
    slack = timedelta(seconds=th.departure_s)
    for at, verdict, distance, order, employee_id in check_ins:
        if employee_id not in result.stays:
            continue
        stays = result.stays[employee_id]
        if any(
            s.how == How.DETECTED
            and s.object_id == order.object_id
            and s.arrived_at - slack <= at <= (s.left_at or result.end) + slack
            for s in stays
        ):
            continue
        mine = linked.get(employee_id, {}).get(order.object_id or -1, [])
        visit = next((v.visit_id for v in mine if v.order_id == order.id and v.visit_id), None)
        stays.append(
            Stay(
                employee_id=employee_id,
                employee=result.names.get(employee_id, ""),
                object_id=order.object_id,
                object_name=object_names.get(order.object_id)
                if order.object_id is not None
                else None,
                order_id=order.id,
                order=order.number,
                visit_id=visit,
                arrived_at=at,
                left_at=None,
                minutes=None,
                how=_HOW_OF_VERDICT.get(verdict or "", How.NO_FIX),
                distance_m=distance,
            )
        )
        stays.sort(key=lambda s: s.arrived_at)


# --- visits and orders ------------------------------------------------------------------


@dataclass(frozen=True)
class Actual:
    """What happened on a visit, beside its plan: arrival, departure and time on site
    (None: never came, or not yet); ``how`` as in :class:`Stay`; ``reason`` why it
    cannot be verified (the object has no coordinates)."""

    arrived_at: datetime | None
    left_at: datetime | None
    minutes: int | None
    how: str | None
    reason: str | None = None
    distance_m: float | None = None


def _people_of(session: Session, visits: Sequence[Visit]) -> dict[int | None, list[int]]:
    """visit id -> who goes: its employee, or its crew's members (one query for every
    crew of the visits)."""
    crews = {v.crew_id for v in visits if v.employee_id is None and v.crew_id is not None}
    members: dict[int, list[int]] = {}
    if crews:
        for crew_id, employee_id in session.execute(
            select_columns(CrewMember.crew_id, CrewMember.employee_id).where(
                col(CrewMember.crew_id).in_(crews)
            )
        ):
            members.setdefault(crew_id, []).append(employee_id)
    return {
        v.id: [v.employee_id] if v.employee_id is not None else members.get(v.crew_id or 0, [])
        for v in visits
    }


@requires("gps.read")
def visit_actuals(
    *,
    session: Session,
    visit_ids: Iterable[int] | None = None,
    day: date | None = None,
    now: datetime | None = None,
) -> dict[int, Actual]:
    """Each visit's actual arrival, departure and minutes on site (the visits named, or
    those of a local day). A crew's visit: the first member to arrive, the last to leave."""
    cfg = company_settings.load(session=session)
    query = select_columns(Visit, Order.object_id).join(Order, col(Order.id) == col(Visit.order_id))
    if visit_ids is not None:
        query = query.where(col(Visit.id).in_(list(visit_ids)))
    elif day is not None:
        start, end = local_day_bounds(day, cfg.tz)
        query = query.where(col(Visit.start_at) < end, col(Visit.end_at) > start)
    else:
        return {}
    by_day: dict[date, list[tuple[Visit, int | None, list[int]]]] = {}
    rows = session.execute(query).all()
    people_of = _people_of(session, [visit for visit, _ in rows])
    for visit, object_id in rows:
        local = visit.start_at.astimezone(cfg.tz).date()
        by_day.setdefault(local, []).append((visit, object_id, people_of[visit.id]))
    found: dict[int, Actual] = {}
    for local, items in by_day.items():
        people = sorted({p for _, _, ps in items for p in ps})
        read = day_stays(session=session, day=local, employee_ids=people, now=now)
        for visit, object_id, ps in items:
            assert visit.id is not None
            found[visit.id] = _actual(read, visit, object_id, ps, session)
    return found


def _actual(
    read: DayStays,
    visit: Visit,
    object_id: int | None,
    people: list[int],
    session: Session,
    *,
    whole_order: bool = False,
) -> Actual:
    """``whole_order``: any stay for the visit's order counts, whichever of its visits it
    was matched to (a technician who came before the planned start of the order's next
    visit has arrived on the order all the same)."""
    if object_id is None:
        return Actual(None, None, None, None, reason="no object")
    mine = [
        s
        for p in people
        for s in read.stays.get(p, [])
        if s.object_id == object_id
        and (
            s.visit_id == visit.id
            or (s.visit_id is None and s.order_id in (None, visit.order_id))
            or (whole_order and s.order_id == visit.order_id)
        )
    ]
    detected = [s for s in mine if s.how == How.DETECTED]
    if detected:
        arrived = min(s.arrived_at for s in detected)
        lefts = [s.left_at for s in detected]
        left = None if any(x is None for x in lefts) else max(x for x in lefts if x is not None)
        minutes = sum(s.minutes or 0 for s in detected)
        return Actual(arrived, left, minutes, How.DETECTED)
    reason = None
    for p in people:
        name = read.unverifiable.get(p, {}).get(object_id)
        if name is not None:
            reason = f"object «{name}» has no coordinates"
    if mine:
        first = min(mine, key=lambda s: s.arrived_at)
        return Actual(first.arrived_at, None, None, first.how, reason, first.distance_m)
    return Actual(None, None, None, None, reason)


@requires("gps.read")
def order_arrival(*, session: Session, order_id: int, now: datetime | None = None) -> Actual | None:
    """The verified arrival on an order: its latest visit that has begun, else today's
    stay of its assignee at its object; None when nothing is planned or assigned."""
    now = now or clock.now()
    order = session.get(Order, order_id)
    if order is None:
        return None
    visit_id = session.execute(
        select_columns(Visit.id)
        .where(Visit.order_id == order_id, col(Visit.start_at) <= now)
        .order_by(col(Visit.start_at).desc())
        .limit(1)
    ).scalar_one_or_none()
    if visit_id is not None:
        return visit_actuals(session=session, visit_ids=[visit_id], now=now).get(visit_id)
    if order.assignee_id is None:
        return None
    if order.object_id is None:
        return Actual(None, None, None, None, reason="no object")
    cfg = company_settings.load(session=session)
    read = day_stays(
        session=session,
        day=now.astimezone(cfg.tz).date(),
        employee_ids=[order.assignee_id],
        now=now,
    )
    fake = Visit(
        id=-1,
        order_id=order_id,
        employee_id=order.assignee_id,
        start_at=now,
        end_at=now,
        created_by="",
    )
    return _actual(read, fake, order.object_id, [order.assignee_id], session, whole_order=True)


# --- the planner's marks ----------------------------------------------------------------

LATE = timedelta(minutes=15)
"""An arrival this long after the visit's planned start is late."""


@dataclass(frozen=True)
class DayMarks:
    """What the planner draws under the planned blocks: each tracked employee's stays
    (start, end — None while there —, object or None), and the visits of the day whose
    people were tracked that came late or never."""

    stays: dict[int, list[tuple[datetime, datetime | None, int | None]]]
    late: frozenset[int]
    missed: frozenset[int]
    actuals: dict[int, Actual]


@requires("gps.read")
def day_marks(*, session: Session, day: date, now: datetime | None = None) -> DayMarks:
    """The planner's marks for a local day; empty when nobody has a fix that day."""
    now = now or clock.now()
    read = day_stays(session=session, day=day, now=now)
    tracked = {e for e, times in read.times.items() if times}
    if not tracked:
        return DayMarks({}, frozenset(), frozenset(), {})
    visits = session.execute(
        select_columns(Visit, Order.object_id)
        .join(Order, col(Order.id) == col(Visit.order_id))
        .where(col(Visit.start_at) < read.end, col(Visit.end_at) > read.start)
    ).all()
    late: set[int] = set()
    missed: set[int] = set()
    actuals: dict[int, Actual] = {}
    people_of = _people_of(session, [visit for visit, _ in visits])
    for visit, object_id in visits:
        people = [p for p in people_of[visit.id] if p in tracked]
        if not people or visit.id is None:
            continue
        actual = actuals[visit.id] = _actual(read, visit, object_id, people, session)
        if actual.reason is not None:
            continue
        if actual.arrived_at is None or actual.how != How.DETECTED:
            if visit.end_at <= now:
                missed.add(visit.id)
        elif actual.arrived_at > visit.start_at + LATE:
            late.add(visit.id)
    stays = {
        e: [
            (s.arrived_at, s.left_at, s.object_id)
            for s in read.stays.get(e, [])
            if s.how == How.DETECTED
        ]
        for e in tracked
    }
    return DayMarks(stays, frozenset(late), frozenset(missed), actuals)
