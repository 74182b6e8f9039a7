"""When the technician will arrive (ожидаемое время прибытия): the estimate a customer's
status page and the "on the way" notification show, as "приедет около 14:20".

An order is on its way when its stage is an active one and either the stage is
``en_route`` or the order has a visit today (in the company's time zone) that has not
ended. Who travels: that visit's employee, else the order's assignee.

Two bases, the better first:

* **position** — the technician's latest GPS fix, if it is at most ``gps_fresh_minutes``
  old, and the object's point (its own or its site's): the straight-line distance times
  ``travel_detour_factor`` (roads are longer than the line) at ``travel_speed_kmh``. The
  travel time counts from now (the fix's age is not subtracted: a technician who stood
  still since is no nearer). The window around the estimate is
  ``MARGIN_FLOOR + MARGIN_SHARE × travel time`` either side, never before now: 45 min
  away gives ±14 min, 10 min away ±5 min, on the doorstep ±2 min — it narrows as they
  approach.
* **plan** — without a fresh fix (or without the object's point): the planned start of
  today's visit (else the order's planned start), the window being the planned one (start
  to end); once the start has passed, "now" to the end.

None when neither is known, or the order is not on its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import authorize, requires
from fsm_core.errors import NotFound
from fsm_core.models import Employee, Order, ServiceObject, Stage, Visit
from fsm_core.models.orders import StageCategory
from fsm_core.services import settings as company_settings
from fsm_core.services.settings import CompanySettings

EN_ROUTE = "en_route"
MARGIN_FLOOR = timedelta(minutes=2)
"""The least half-width of a position-based window: a fix is metres off, a door is not."""
MARGIN_SHARE = 0.25
"""The share of the remaining travel time added to the half-width of the window."""


@dataclass(frozen=True)
class Arrival:
    at: datetime
    earliest: datetime
    latest: datetime
    basis: str  # "position" or "plan"
    technician: str | None


def travel_seconds(distance_m: float, *, detour: float, speed_kmh: float) -> float:
    """Seconds to drive a straight-line ``distance_m`` along roads ``detour`` times longer
    at ``speed_kmh``."""
    return distance_m * detour / (speed_kmh * 1000 / 3600)


def position_window(now: datetime, travel_s: float) -> Arrival:
    """The estimate and its window ``travel_s`` seconds of travel from now (no name)."""
    travel = timedelta(seconds=round(travel_s))
    at = now + travel
    margin = MARGIN_FLOOR + timedelta(seconds=round(travel_s * MARGIN_SHARE))
    return Arrival(at, max(now, at - margin), at + margin, "position", None)


def _today_visit(session: Session, order_id: int, now: datetime, tz: object) -> Visit | None:
    """The order's visit today (company time) that has not ended yet, the earliest."""
    local = now.astimezone(tz)  # type: ignore[arg-type]
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day_start = start_of_day.astimezone(now.tzinfo)
    day_end = (start_of_day + timedelta(days=1)).astimezone(now.tzinfo)
    return session.execute(
        select(Visit)
        .where(
            Visit.order_id == order_id,
            col(Visit.start_at) < day_end,
            col(Visit.end_at) > max(now, day_start),
        )
        .order_by(col(Visit.start_at))
        .limit(1)
    ).scalar_one_or_none()


def _object_point(
    session: Session, object_id: int, cfg: CompanySettings
) -> tuple[str, float, float, int] | None:
    """As :func:`~fsm_core.services.gps.proximity.object_point`, with the settings read."""
    from fsm_core.services.planning.loading import places

    place = places(session=session, object_ids=[object_id]).get(object_id)
    if place is None or place.point is None:
        return None
    radius = session.execute(
        select(ServiceObject.gps_radius_m).where(ServiceObject.id == object_id)
    ).scalar()
    return place.name, place.point[0], place.point[1], radius or cfg.gps_radius_m


@requires("orders.read", scoped=True)
def estimate(*, session: Session, order_id: int, now: datetime | None = None) -> Arrival | None:
    """The technician's expected arrival at the order's object (see the module)."""
    authorize(session, "orders.read", order_id=order_id)
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    stage = session.get(Stage, order.stage_code)
    category = stage.category if stage is not None else ""
    cfg = company_settings.load(session=session)
    return estimate_of(
        session=session, order=order, category=category, cfg=cfg, now=now or clock.now()
    )


@requires("orders.read", scoped=True)
def estimate_of(
    *, session: Session, order: Order, category: str, cfg: CompanySettings, now: datetime
) -> Arrival | None:
    """:func:`estimate` of an order already read, whose stage is of ``category`` (the
    status page reads them once for everything it shows)."""
    return _work_out(session, order, category, cfg, now)[0]


@requires("orders.read", scoped=True)
def estimate_until(
    *, session: Session, order: Order, category: str, cfg: CompanySettings, now: datetime
) -> tuple[Arrival | None, datetime | None]:
    """:func:`estimate_of`, and until when the clock alone leaves it of the same kind
    (None: it never does): until then, with nothing written, working it out again gives
    the same basis, and times that are either the same or as far from "now" as they were
    (a position's estimate moves with the clock: "in 12 minutes"). Past that moment a
    visit has ended or begun, a fix has grown stale, or a new day has begun."""
    return _work_out(session, order, category, cfg, now)


def _work_out(
    session: Session, order: Order, category: str, cfg: CompanySettings, now: datetime
) -> tuple[Arrival | None, datetime | None]:
    from fsm_core.services.gps.positions import latest_positions

    if category != StageCategory.ACTIVE.value or order.id is None:
        return None, None
    visit = _today_visit(session, order.id, now, cfg.tz)
    # which visit is today's changes when it ends, or when the day does
    local = now.astimezone(cfg.tz)
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    until = (start_of_day + timedelta(days=1)).astimezone(now.tzinfo)
    if visit is not None:
        until = min(until, visit.end_at)
    if order.stage_code != EN_ROUTE and visit is None:
        return None, until
    employee_id = visit.employee_id if visit is not None and visit.employee_id else None
    employee_id = employee_id or order.assignee_id
    technician = None
    if employee_id is not None:
        person = session.get(Employee, employee_id)
        technician = person.short_name if person is not None else None
        latest = None
        if order.object_id is not None:
            latest = latest_positions(session=session, employee_ids=[employee_id]).get(employee_id)
        fresh = timedelta(minutes=cfg.gps_fresh_minutes)
        if latest is not None:
            if now < latest.at:  # a fix from ahead of the clock: fresh once that comes
                until = min(until, latest.at)
            elif now - latest.at <= fresh:  # fresh until it is older than that
                until = min(until, latest.at + fresh)
        if latest is not None and timedelta(0) <= now - latest.at <= fresh:
            from fsm_core.services.gps.stays import metres

            assert order.object_id is not None
            point = _object_point(session, order.object_id, cfg)
            if point is not None:
                distance = metres(latest.latitude, latest.longitude, point[1], point[2])
                if distance <= point[3]:  # inside the object's radius: there
                    distance = 0.0
                seconds = travel_seconds(
                    distance,
                    detour=float(cfg["travel_detour_factor"]),
                    speed_kmh=cfg.travel_speed_kmh,
                )
                found = position_window(now, seconds)
                arrival = Arrival(found.at, found.earliest, found.latest, "position", technician)
                return arrival, until

    if visit is not None:
        start, end = visit.start_at, visit.end_at
    elif order.planned_start is not None:
        start = order.planned_start
        end = order.planned_end or start + timedelta(minutes=cfg.visit_minutes)
    else:
        return None, until
    if start >= now:
        return Arrival(start, start, max(end, start), "plan", technician), min(until, start)
    if end <= now:
        return Arrival(now, now, now, "plan", technician), until
    return Arrival(now, now, end, "plan", technician), min(until, end)
