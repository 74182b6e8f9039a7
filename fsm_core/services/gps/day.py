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
from fsm_core.access import requires
from fsm_core.models import CrewMember, Order, Stage, WorkEntry, WorkExecutor
from fsm_core.services.gps.stays import M_PER_DEG, Usable, utc
from fsm_core.services.gps.visits import DONE_CATEGORIES, How, Stay, day_stays

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


def distance_km(good: Sequence[Usable]) -> float:
    """Kilometres along the usable fixes (:func:`.stays.usable`), jitter and glitches
    filtered (see the module)."""
    n = len(good)
    if n < 2:
        return 0.0
    total = 0.0
    a_t, a_lat, a_lon, _ = good[0]
    max_ms = MAX_KMH / 3.6
    kx = M_PER_DEG * math.cos(math.radians(a_lat))  # a day's drive: one latitude will do
    for i in range(1, n):
        at, lat, lon, accuracy = good[i]
        dx, dy = (lon - a_lon) * kx, (lat - a_lat) * M_PER_DEG
        d2 = dx * dx + dy * dy
        still = accuracy if accuracy > STILL_M else STILL_M
        if d2 < still * still:
            continue
        d = math.sqrt(d2)
        dt = at - a_t
        if dt <= 0 or d / dt > max_ms:
            continue
        if i + 1 < n:  # out and straight back: a spike, not a move
            _, q_lat, q_lon, _ = good[i + 1]
            qx, qy = (q_lon - a_lon) * kx, (q_lat - a_lat) * M_PER_DEG
            if qx * qx + qy * qy < still * still and d > 2 * still:
                continue
        total += d
        a_t, a_lat, a_lon = at, lat, lon
    return total / 1000


def _travel_minutes(times: Sequence[float], stays: Sequence[Stay], end: datetime) -> int:
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
    for at in times:
        while k < len(spans) and spans[k][1] <= at:
            k += 1
        inside = k < len(spans) and spans[k][0] <= at < spans[k][1]
        if previous is not None and not previous_inside and at - previous <= limit:
            total += at - previous
        previous, previous_inside = at, inside
    return round(total / 60)


@requires("gps.read")
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


@requires("gps.read")
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
    ids = sorted(read.stays)
    done = orders_done(session=session, start=read.start, end=read.end, employee_ids=ids)
    until = min(now, read.end)
    reports = []
    for employee_id in ids:
        times = read.times.get(employee_id, [])
        stays = read.stays[employee_id]
        gap, gap_from = 0.0, None
        for i in range(1, len(times)):
            seconds = times[i] - times[i - 1]
            if seconds > gap:
                gap, gap_from = seconds, times[i - 1]
        reports.append(
            DayReport(
                employee_id=employee_id,
                employee=read.names.get(employee_id, ""),
                km=round(distance_km(read.good.get(employee_id, [])), 1),
                on_site_minutes=sum(
                    s.minutes or 0
                    for s in stays
                    if s.how == How.DETECTED and s.object_id is not None
                ),
                travel_minutes=_travel_minutes(times, stays, until),
                orders_done=done.get(employee_id, []),
                first_at=utc(times[0]) if times else None,
                last_at=utc(times[-1]) if times else None,
                largest_gap_minutes=round(gap / 60),
                largest_gap_from=utc(gap_from) if gap_from is not None else None,
                stays=stays,
            )
        )
    reports.sort(key=lambda r: r.employee)
    return reports
