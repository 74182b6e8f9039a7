"""What the dashboard's map shows, computed here and drawn by the dashboard: each
technician's latest position, their current or next order and how far they are from its
object, the objects of open orders with their SLA status, and the day's track of one.

Where a technician is, by a simple rule (the detailed arrival detection, from runs of
fixes, is another module's; the map needs only "now"):

- **on site** — the latest fix is fresh (at most :data:`FRESH` old) and within the
  object's radius (``service_object.gps_radius_m``, else the ``gps_radius_m`` setting),
  the radius widened by the fix's accuracy up to :data:`MAX_ACCURACY_SLACK_M`; *since*
  is the first of today's fixes in the unbroken run of fixes within that radius;
- **en route** — the latest fix is fresh and elsewhere;
- **no position** — no fix, or the latest is older than :data:`FRESH`.

"Current or next order": the order whose object the technician is at; else the visit
(today, not finished) whose window holds now; else the next visit today; else a visit
earlier today whose order is still open (late); else the first open order assigned to
them (planned start first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from fsm_core.access import requires
from fsm_core.models import CrewMember, Employee, GpsDevice, Order, ServiceObject
from fsm_core.services import settings as company_settings
from fsm_core.services import sla
from fsm_core.services.gps.positions import Latest, Point, latest_positions, read_fixes
from fsm_core.services.planning.loading import places
from fsm_core.services.stages import load_workflow

FRESH = timedelta(minutes=15)
"""A fix older than this says nothing about where the technician is now (Traccar Client
sends every 5 min by default when still; OsmAnd every 5–30 s moving)."""
MAX_ACCURACY_SLACK_M = 100.0
"""How much of a fix's reported inaccuracy widens an object's radius, at most."""

ON_SITE = "on_site"
EN_ROUTE = "en_route"
NO_POSITION = "no_position"

_STATE_TEXT = {
    ON_SITE: ("on site", "на объекте"),
    EN_ROUTE: ("en route", "в пути"),
    NO_POSITION: ("no position", "нет позиции"),
}


@dataclass(frozen=True)
class MapOrder:
    """An open order whose object has coordinates (its own or its site's)."""

    order_id: int
    number: str
    object_id: int
    object_name: str
    latitude: float
    longitude: float
    radius_m: int
    sla_status: str  # ok / at_risk / violated / none
    assignee_id: int | None
    stage_code: str


@dataclass(frozen=True)
class MapTechnician:
    employee_id: int
    name: str
    state: str  # ON_SITE / EN_ROUTE / NO_POSITION
    latitude: float | None = None
    longitude: float | None = None
    fix_at: datetime | None = None
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    order: MapOrder | None = None
    order_why: str = ""  # here / now / next / late / assigned ("" without an order)
    distance_m: float | None = None  # from the latest fix to the order's object
    since: datetime | None = None  # on site since

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class MapView:
    now: datetime
    technicians: tuple[MapTechnician, ...]
    orders: tuple[MapOrder, ...]
    unknown_devices: tuple[str, ...]  # identifiers of devices bound to nobody
    track_of: int | None = None
    track: tuple[tuple[float, float], ...] = ()  # (lat, lon) in time order, today
    day_start: datetime | None = None
    without_coordinates: int = 0  # open orders whose object has no coordinates

    def technician(self, employee_id: int) -> MapTechnician | None:
        return next((t for t in self.technicians if t.employee_id == employee_id), None)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    from fsm_core.services.planning.views import haversine_km

    return haversine_km(lat1, lon1, lat2, lon2) * 1000.0


def format_distance(metres: float | None, lang: str) -> str:
    """``350 м``, ``2,9 км``, ``12 км`` (``2.9 km`` in English); empty for None."""
    if metres is None:
        return ""
    if metres < 995:  # 996 m would round to "1000 м": that is "1,0 км"
        value = round(metres / 10.0) * 10 if metres >= 100 else round(metres)
        return f"{value} м" if lang == "ru" else f"{value} m"
    km = metres / 1000.0
    text = f"{km:.1f}" if km < 10 else f"{round(km):d}"
    if lang == "ru":
        return text.replace(".", ",") + " км"
    return text + " km"


def format_age(then: datetime | None, now: datetime, lang: str) -> str:
    """``только что``/``just now``, ``3 мин назад``/``3 min ago``, ``2 ч назад``/``2 h ago``,
    ``3 дн назад``/``3 d ago``."""
    if then is None:
        return ""
    seconds = max((now - then).total_seconds(), 0.0)
    ru = lang == "ru"
    if seconds < 60:
        return "только что" if ru else "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} мин назад" if ru else f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} ч назад" if ru else f"{hours} h ago"
    days = hours // 24
    return f"{days} дн назад" if ru else f"{days} d ago"


def state_text(state: str, lang: str) -> str:
    pair = _STATE_TEXT[state]
    return pair[1] if lang == "ru" else pair[0]


def _open_orders(
    session: Session, now: datetime, default_radius: int
) -> tuple[list[MapOrder], dict[int, dict[str, Any]], int]:
    """Open (not finished) orders: those whose objects have coordinates as markers; every
    open order's row by id (for the technicians' queue); how many have no coordinates."""
    workflow = load_workflow(session=session)
    finished = [code for code, stage in workflow.stages.items() if stage.finished]
    query = select_columns(
        Order.id,
        Order.number,
        Order.object_id,
        Order.assignee_id,
        Order.crew_id,
        Order.stage_code,
        Order.planned_start,
        Order.created_at,
        sla.status_expression(now).label("sla_status"),
    ).where(col(Order.stage_code).not_in(finished))
    rows = [dict(r._mapping) for r in session.execute(query)]
    object_ids = sorted({r["object_id"] for r in rows if r["object_id"] is not None})
    where = places(session=session, object_ids=object_ids)
    radii: dict[int, int | None] = {}
    if object_ids:
        radii = dict(
            session.execute(
                select_columns(ServiceObject.id, ServiceObject.gps_radius_m).where(
                    col(ServiceObject.id).in_(object_ids)
                )
            ).all()
        )
    markers: list[MapOrder] = []
    missing = 0
    by_id: dict[int, dict[str, Any]] = {}
    for row in rows:
        place = where.get(row["object_id"]) if row["object_id"] is not None else None
        if place is None or place.point is None:
            missing += 1
            by_id[row["id"]] = row
            continue
        marker = MapOrder(
            order_id=row["id"],
            number=row["number"],
            object_id=place.id,
            object_name=place.name,
            latitude=place.point[0],
            longitude=place.point[1],
            radius_m=radii.get(place.id) or default_radius,
            sla_status=str(row["sla_status"]),
            assignee_id=row["assignee_id"],
            stage_code=row["stage_code"],
        )
        row["marker"] = marker
        by_id[row["id"]] = row
        markers.append(marker)
    markers.sort(key=lambda m: m.number)
    return markers, by_id, missing


def _day_visits(
    session: Session, start: datetime, end: datetime, open_ids: Iterable[int]
) -> dict[int, list[tuple[datetime, datetime, int]]]:
    """Each employee's visits overlapping [start, end) of open orders, by start:
    (start, end, order id); a crew's visits go to each member."""
    from fsm_core.models import Visit

    ids = set(open_ids)
    members: dict[int, list[int]] = {}
    for crew_id, employee_id in session.execute(
        select_columns(CrewMember.crew_id, CrewMember.employee_id)
    ):
        members.setdefault(crew_id, []).append(employee_id)
    found: dict[int, list[tuple[datetime, datetime, int]]] = {}
    query = select_columns(
        Visit.employee_id, Visit.crew_id, Visit.start_at, Visit.end_at, Visit.order_id
    ).where(col(Visit.start_at) < end, col(Visit.end_at) > start)
    for employee_id, crew_id, a, b, order_id in session.execute(query):
        if order_id not in ids:
            continue
        people = [employee_id] if employee_id is not None else members.get(crew_id, [])
        for person in people:
            found.setdefault(person, []).append((a, b, order_id))
    for visits in found.values():
        visits.sort()
    return found


def _radius(order: MapOrder, accuracy: float | None) -> float:
    return order.radius_m + min(accuracy or 0.0, MAX_ACCURACY_SLACK_M)


def _pick_order(
    latest: Latest | None,
    fresh: bool,
    visits: Sequence[tuple[datetime, datetime, int]],
    assigned: Sequence[dict[str, Any]],
    orders: dict[int, dict[str, Any]],
    now: datetime,
) -> tuple[MapOrder | None, str]:
    # (rank, marker): the visit under way first, then today's other visits, then the rest
    candidates: list[tuple[int, MapOrder]] = []
    for a, b, order_id in visits:
        marker = orders.get(order_id, {}).get("marker")
        if marker is not None:
            candidates.append((0 if a <= now < b else 1, marker))
    candidates.extend((2, r["marker"]) for r in assigned if r.get("marker") is not None)
    if latest is not None and fresh:
        inside = []
        for rank, m in candidates:
            d = distance_m(latest.latitude, latest.longitude, m.latitude, m.longitude)
            if d <= _radius(m, latest.accuracy_m):
                inside.append((rank, d, m))
        if inside:
            return min(inside, key=lambda x: (x[0], x[1]))[2], "here"

    def marker_of(order_id: int) -> MapOrder | None:
        marker: MapOrder | None = orders.get(order_id, {}).get("marker")
        return marker

    for a, b, order_id in visits:
        if a <= now < b and marker_of(order_id) is not None:
            return marker_of(order_id), "now"
    for a, _b, order_id in visits:
        if a >= now and marker_of(order_id) is not None:
            return marker_of(order_id), "next"
    for _a, b, order_id in reversed(visits):
        if b <= now and marker_of(order_id) is not None:
            return marker_of(order_id), "late"
    for row in assigned:
        if row.get("marker") is not None:
            return row["marker"], "assigned"
    return None, ""


def _since(fixes: list[Point], order: MapOrder) -> datetime | None:
    """The first fix of today's unbroken run of fixes (``fixes``, in time order) within the
    order's radius that ends with the latest one."""
    since = None
    for point in reversed(fixes):
        d = distance_m(point.latitude, point.longitude, order.latitude, order.longitude)
        if d > _radius(order, point.accuracy_m):
            break
        since = point.at
    return since


@requires("gps.read")
def day_start_of(*, session: Session, now: datetime) -> datetime:
    """The start of the company's local day that holds ``now`` (in UTC)."""
    tz = company_settings.load(session=session).tz
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(now.tzinfo)


@requires("gps.read")
def day_track(
    *, session: Session, employee_id: int, now: datetime
) -> tuple[tuple[float, float], ...]:
    """The technician's fixes today (company zone) up to now, as (lat, lon)."""
    start = day_start_of(session=session, now=now)
    fixes = read_fixes(
        session=session, start=start, end=now + timedelta(minutes=10), employee_ids=[employee_id]
    ).get(employee_id, [])
    return tuple((p.latitude, p.longitude) for p in fixes)


@requires("gps.read")
def map_view(
    *,
    session: Session,
    now: datetime,
    track_of: int | None = None,
    fresh: timedelta = FRESH,
) -> MapView:
    """Everything the map draws at ``now``: the technicians (anyone with a bound device, a
    position, a visit today or an open order assigned), the open orders with coordinates,
    the number of unknown devices, and the day's track of ``track_of``."""
    settings = company_settings.load(session=session)
    default_radius = settings.gps_radius_m
    tz = settings.tz
    local = now.astimezone(tz)
    day_start = datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(now.tzinfo)
    day_end = day_start + timedelta(days=1)
    markers, orders, missing = _open_orders(session, now, default_radius)
    visits = _day_visits(session, day_start, day_end, orders)
    assigned: dict[int, list[dict[str, Any]]] = {}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    for row in sorted(
        orders.values(),
        key=lambda r: (r["planned_start"] or far, r["created_at"], r["id"]),
    ):
        if row["assignee_id"] is not None:
            assigned.setdefault(row["assignee_id"], []).append(row)
    # not list_devices: that counts every stored position of every device
    devices = list(session.execute(select_columns(GpsDevice.identifier, GpsDevice.employee_id)))
    bound = [eid for _identifier, eid in devices]
    unknown = tuple(sorted(identifier for identifier, eid in devices if eid is None))
    latest = latest_positions(session=session)
    people = set(latest) | set(visits) | set(assigned)
    people |= {eid for eid in bound if eid is not None}
    names = {
        eid: name
        for eid, name, active in session.execute(
            select_columns(Employee.id, Employee.short_name, Employee.active).where(
                col(Employee.id).in_(sorted(people))
            )
        )
        if active
    }
    placed = []
    for eid, name in names.items():
        fix = latest.get(eid)
        is_fresh = fix is not None and now - fix.at <= fresh
        order, why = _pick_order(
            fix, is_fresh, visits.get(eid, ()), assigned.get(eid, ()), orders, now
        )
        distance = (
            distance_m(fix.latitude, fix.longitude, order.latitude, order.longitude)
            if fix is not None and order is not None
            else None
        )
        if fix is None or not is_fresh:
            state = NO_POSITION
        elif why == "here":
            state = ON_SITE
        else:
            state = EN_ROUTE
        placed.append((eid, name, fix, order, why, distance, state))
    # "on site since": today's fixes of those on site, in one read
    on_site = [p[0] for p in placed if p[6] == ON_SITE and p[3] is not None]
    todays = (
        read_fixes(
            session=session,
            start=day_start,
            end=now + timedelta(minutes=10),
            employee_ids=on_site,
        )
        if on_site
        else {}
    )
    technicians: list[MapTechnician] = []
    for eid, name, fix, order, why, distance, state in placed:
        since = (
            _since(todays.get(eid, []), order) if state == ON_SITE and order is not None else None
        )
        technicians.append(
            MapTechnician(
                employee_id=eid,
                name=name,
                state=state,
                latitude=fix.latitude if fix else None,
                longitude=fix.longitude if fix else None,
                fix_at=fix.at if fix else None,
                accuracy_m=fix.accuracy_m if fix else None,
                speed_kmh=fix.speed_kmh if fix else None,
                order=order,
                order_why=why,
                distance_m=distance,
                since=since,
            )
        )
    technicians.sort(key=lambda t: (t.name.casefold(), t.employee_id))
    track: tuple[tuple[float, float], ...] = ()
    if track_of is not None:
        track = day_track(session=session, employee_id=track_of, now=now)
    return MapView(
        now=now,
        technicians=tuple(technicians),
        orders=tuple(markers),
        unknown_devices=unknown,
        track_of=track_of,
        track=track,
        day_start=day_start,
        without_coordinates=missing,
    )


def find_on_map(view: MapView, text: str) -> tuple[str, int, float | None, float | None] | None:
    """What a dispatcher's ``/`` search names: an order by its number (exact, else the
    only one ending so), else a technician by a part of the name. ``("order", id, lat,
    lon)`` or ``("tech", employee id, lat, lon)`` (no position: None, None)."""
    wanted = text.strip().casefold()
    if not wanted:
        return None
    exact = [o for o in view.orders if o.number.casefold() == wanted]
    ending = [o for o in view.orders if o.number.casefold().endswith(wanted)]
    for found in (exact, ending[:1] if len(ending) == 1 else []):
        if found:
            order = found[0]
            return "order", order.order_id, order.latitude, order.longitude
    for tech in view.technicians:
        if wanted in tech.name.casefold():
            return "tech", tech.employee_id, tech.latitude, tech.longitude
    return None
