"""A technician's day by their fixes: kilometres driven, time on site and on the road, the
orders they finished, the first and last sign of life, and the longest silence.

Kilometres are summed over fixes of good accuracy with the jitter taken out: a parked
phone wanders by tens of metres, so a move counts only once it leaves
:data:`STILL_M` (25 m, or the fix's own accuracy if worse) of the last counted point; a
fix that would need more than :data:`MAX_KMH` (160 km/h) to reach, or that jumps away and
straight back, is a glitch and is skipped. Time on the road is the time between fixes
outside every stay, counting no interval longer than :data:`NO_DATA` (10 min): a silence
is a gap, not a drive."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.models import CrewMember, Order, Stage, WorkEntry, WorkExecutor
from fsm_core.services.gps.positions import Point
from fsm_core.services.gps.stays import M_PER_DEG
from fsm_core.services.gps.visits import DONE_CATEGORIES, How, Stay, day_stays, thresholds

STILL_M = 25.0
MAX_KMH = 160.0
NO_DATA = timedelta(minutes=10)


@dataclass(frozen=True)
class DayReport:
    employee_id: int
    employee: str
    km: float
    on_site_minutes: int
    travel_minutes: int
    orders_done: list[str]
    first_at: datetime | None
    last_at: datetime | None
    largest_gap_minutes: int
    largest_gap_from: datetime | None
    stays: list[Stay]


def distance_km(points: Sequence[Point], max_accuracy_m: float) -> float:
    """Kilometres along the fixes, jitter and glitches filtered (see the module)."""
    good = [p for p in points if p[3] is None or p[3] <= max_accuracy_m]
    if len(good) < 2:
        return 0.0
    ts = [p[0].timestamp() for p in good]
    total = 0.0
    a_lat, a_lon, a_t = good[0][1], good[0][2], ts[0]
    max_ms = MAX_KMH / 3.6
    n = len(good)
    for i in range(1, n):
        p = good[i]
        lat, lon = p[1], p[2]
        kx = M_PER_DEG * math.cos(math.radians(lat))
        dx, dy = (lon - a_lon) * kx, (lat - a_lat) * M_PER_DEG
        d = math.sqrt(dx * dx + dy * dy)
        still = max(STILL_M, p[3] or 0.0)
        if d < still:
            continue
        dt = ts[i] - a_t
        if dt <= 0 or d / dt > max_ms:
            continue
        if i + 1 < n:  # out and straight back: a spike, not a move
            q = good[i + 1]
            qx, qy = (q[2] - a_lon) * kx, (q[1] - a_lat) * M_PER_DEG
            if math.sqrt(qx * qx + qy * qy) < still and d > 2 * still:
                continue
        total += d
        a_lat, a_lon, a_t = lat, lon, ts[i]
    return total / 1000


def _travel_minutes(points: Sequence[Point], stays: Sequence[Stay], end: datetime) -> int:
    spans = sorted(
        (s.arrived_at.timestamp(), (s.left_at or end).timestamp())
        for s in stays
        if s.how == How.DETECTED
    )
    limit = NO_DATA.total_seconds()
    total = 0.0
    k = 0
    previous: float | None = None
    previous_inside = False
    for p in points:
        at = p[0].timestamp()
        while k < len(spans) and spans[k][1] <= at:
            k += 1
        inside = k < len(spans) and spans[k][0] <= at < spans[k][1]
        if previous is not None and not previous_inside and at - previous <= limit:
            total += at - previous
        previous, previous_inside = at, inside
    return round(total / 60)


def orders_done(
    *, session: Session, start: datetime, end: datetime, employee_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Orders finished (stage done or closed) within the time, per employee: as the
    assignee, a member of the assigned crew, or an executor of its work."""
    found: dict[int, set[str]] = {e: set() for e in employee_ids}
    if not employee_ids:
        return {}
    finished = (
        select_columns(Order.id, Order.number, Order.assignee_id, Order.crew_id)
        .join(Stage, col(Stage.code) == col(Order.stage_code))
        .where(
            col(Stage.category).in_(DONE_CATEGORIES),
            col(Order.resolved_at) >= start,
            col(Order.resolved_at) < end,
        )
    )
    rows = session.execute(finished).all()
    if not rows:
        return {e: [] for e in employee_ids}
    ids = {r[0] for r in rows}
    crews: dict[int, set[int]] = {}
    for crew_id, employee_id in session.execute(
        select_columns(CrewMember.crew_id, CrewMember.employee_id).where(
            col(CrewMember.employee_id).in_(list(employee_ids))
        )
    ):
        crews.setdefault(crew_id, set()).add(employee_id)
    executors: dict[int, set[int]] = {}
    for order_id, employee_id in session.execute(
        select_columns(WorkEntry.order_id, WorkExecutor.employee_id)
        .join(WorkExecutor, col(WorkExecutor.work_entry_id) == col(WorkEntry.id))
        .where(
            col(WorkEntry.order_id).in_(list(ids)),
            or_(col(WorkExecutor.employee_id).in_(list(employee_ids))),
        )
    ):
        executors.setdefault(order_id, set()).add(employee_id)
    for order_id, number, assignee_id, crew_id in rows:
        who = set(executors.get(order_id, set()))
        if assignee_id is not None:
            who.add(assignee_id)
        if crew_id is not None:
            who |= crews.get(crew_id, set())
        for e in who:
            if e in found:
                found[e].add(number)
    return {e: sorted(n) for e, n in found.items()}


def day_report(
    *,
    session: Session,
    day: date,
    employee_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[DayReport]:
    """Each employee's day (every employee with fixes that day when ``employee_ids`` is
    None), by short name."""
    now = now or clock.now()
    read = day_stays(session=session, day=day, employee_ids=employee_ids, now=now)
    th = thresholds(session)
    ids = sorted(read.stays)
    done = orders_done(session=session, start=read.start, end=read.end, employee_ids=ids)
    until = min(now, read.end)
    reports = []
    for employee_id in ids:
        points = read.fixes.get(employee_id, [])
        stays = read.stays[employee_id]
        gap, gap_from = 0.0, None
        for a, b in zip(points, points[1:], strict=False):
            seconds = (b[0] - a[0]).total_seconds()
            if seconds > gap:
                gap, gap_from = seconds, a[0]
        reports.append(
            DayReport(
                employee_id=employee_id,
                employee=read.names.get(employee_id, ""),
                km=round(distance_km(points, th.max_accuracy_m), 1),
                on_site_minutes=sum(
                    s.minutes or 0
                    for s in stays
                    if s.how == How.DETECTED and s.object_id is not None
                ),
                travel_minutes=_travel_minutes(points, stays, until),
                orders_done=done.get(employee_id, []),
                first_at=points[0][0] if points else None,
                last_at=points[-1][0] if points else None,
                largest_gap_minutes=round(gap / 60),
                largest_gap_from=gap_from,
                stays=stays,
            )
        )
    reports.sort(key=lambda r: r.employee)
    return reports
