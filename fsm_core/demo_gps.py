"""A morning of positions for the demo company, so that its map looks alive: four
technicians' phones bound (Traccar Client device ids), their fixes from 09:30 local time
to "now" every :data:`STEP` seconds, and one phone that nobody has bound yet.

- Петров drives to the object of his current visit and is on site since ~10:15;
- Волков finishes at one object and is on his way to the next, a few minutes out;
- Иванов is driving to his order's object;
- Соколов's phone went quiet two hours ago (no position).

Routes go along one coordinate, then the other (as streets do, roughly), with a few
metres of GPS jitter; everything is deterministic (a seeded generator), so a test that
loads it sees the same map every time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from fsm_core.models import Employee
from fsm_core.services.gps import Fix, Outcome, bind_device, record_fixes
from fsm_core.services.gps.board import map_view

STEP = 30
"""Seconds between demo fixes (Traccar Client's default interval is 300 s standing, its
distance filter reports more often on the move)."""
UNKNOWN_DEVICE = "359881030314123"


@dataclass(frozen=True)
class _Plan:
    external_id: str
    device: str
    story: str  # on_site / en_route / driving / quiet


PLANS = (
    _Plan("E-02", "tc-petrov", "on_site"),
    _Plan("E-07", "tc-volkov", "en_route"),
    _Plan("E-01", "tc-ivanov", "driving"),
    _Plan("E-03", "tc-sokolov", "quiet"),
)


def _route(
    a: tuple[float, float], b: tuple[float, float], start: datetime, end: datetime
) -> list[tuple[datetime, float, float, float]]:
    """(at, lat, lon, km/h) every STEP seconds from a to b, longitude first."""
    (lat1, lon1), (lat2, lon2) = a, b
    corner = (lat1, lon2)
    leg1 = abs(lon2 - lon1) * math.cos(math.radians(lat1)) * 111.32
    leg2 = abs(lat2 - lat1) * 110.57
    total = max(leg1 + leg2, 0.01)
    seconds = max((end - start).total_seconds(), STEP)
    speed = total / (seconds / 3600)
    points = []
    n = max(int(seconds // STEP), 1)
    for i in range(n + 1):
        done = total * i / n
        if done <= leg1:
            share = done / leg1 if leg1 else 1.0
            lat, lon = lat1, lon1 + (corner[1] - lon1) * share
        else:
            share = (done - leg1) / leg2 if leg2 else 1.0
            lat, lon = lat1 + (lat2 - lat1) * share, lon2
        points.append((start + timedelta(seconds=i * STEP), lat, lon, speed))
    return points


def _stay(
    at: tuple[float, float], start: datetime, end: datetime, rng: random.Random
) -> list[tuple[datetime, float, float, float]]:
    points = []
    moment = start
    while moment <= end:
        points.append(
            (moment, at[0] + rng.uniform(-8e-5, 8e-5), at[1] + rng.uniform(-1.5e-4, 1.5e-4), 0.0)
        )
        moment += timedelta(seconds=STEP)
    return points


def load_demo_positions(*, session: Session, now: datetime) -> int:
    """Bind the demo phones and store the last three hours up to ``now``; returns how many
    fixes were stored. They are kept at any hour: someone trying the product on a Sunday
    evening should see the map as it looks on a working morning."""
    rng = random.Random(17)
    people = {
        e.external_id: e
        for e in session.exec(
            select(Employee).where(Employee.external_id.in_([p.external_id for p in PLANS]))
        )
    }
    view = map_view(session=session, now=now)
    start = now.replace(minute=30, second=0, microsecond=0) - timedelta(hours=3)
    fixes: list[Fix] = []
    for index, plan in enumerate(PLANS):
        employee = people.get(plan.external_id)
        if employee is None or employee.id is None:
            continue
        tech = view.technician(employee.id)
        if tech is None or tech.order is None:
            continue
        bind_device(
            session=session, identifier=plan.device, employee=employee.id, name="Traccar Client"
        )
        target = (tech.order.latitude, tech.order.longitude)
        # where the morning starts: a few kilometres off, each from another side
        angle = 0.9 + index * 1.7
        home = (target[0] + 0.035 * math.sin(angle), target[1] + 0.06 * math.cos(angle))
        track: list[tuple[datetime, float, float, float]]
        if plan.story == "on_site":
            arrive = now - timedelta(minutes=105)
            track = _route(home, target, start, arrive) + _stay(
                target, arrive + timedelta(seconds=STEP), now - timedelta(minutes=1), rng
            )
        elif plan.story == "en_route":
            first = (home[0] + (target[0] - home[0]) * 0.2, home[1] + 0.004)
            leave = now - timedelta(minutes=40)
            track = (
                _route(home, first, start, start + timedelta(minutes=25))
                + _stay(first, start + timedelta(minutes=26), leave, rng)
                + _route(first, target, leave + timedelta(seconds=STEP), now + timedelta(minutes=8))
            )
            track = [p for p in track if p[0] <= now - timedelta(minutes=2)]
        elif plan.story == "driving":
            track = _route(home, target, now - timedelta(minutes=50), now + timedelta(minutes=25))
            track = [p for p in track if p[0] <= now - timedelta(minutes=3)]
        else:  # quiet: the phone stopped reporting two hours ago
            track = _route(home, target, start, now + timedelta(hours=1))
            track = [p for p in track if p[0] <= now - timedelta(hours=2)]
        for at, lat, lon, speed in track:
            fixes.append(
                Fix(
                    at=at,
                    latitude=round(lat + rng.uniform(-2e-5, 2e-5), 6),
                    longitude=round(lon + rng.uniform(-3e-5, 3e-5), 6),
                    device=plan.device,
                    accuracy_m=round(rng.uniform(4, 14), 1),
                    speed_kmh=round(speed, 1),
                    battery=round(90 - (at - start).total_seconds() / 600, 1),
                )
            )
    fixes.append(
        Fix(at=now - timedelta(minutes=7), latitude=59.95, longitude=30.32, device=UNKNOWN_DEVICE)
    )
    recorded = record_fixes(session=session, fixes=fixes, any_hour=True)
    return recorded.count(Outcome.STORED)
