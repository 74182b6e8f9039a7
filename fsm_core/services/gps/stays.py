"""Stays read from one employee's fixes: when they arrived at an object, when they left, and
the long stops they made away from any object. Pure functions over tuples: no database.

The rules, and why each threshold is what it is (each is a company setting):

- A fix counts only if its accuracy is at most ``gps_max_accuracy_m`` (100 m). A phone that
  reports 2 km is guessing from cell towers: such a fix neither makes nor breaks a stay, it
  is skipped. A fix without an accuracy (GPX files, many trackers) is taken as it is —
  refusing them would make every imported day undetectable.
- Arrived: ``gps_arrival_fixes`` (3) fixes inside the object's radius spanning at least
  ``gps_arrival_minutes`` (3) of time inside. One fix is a drive-by; ServiceM8's automatic
  check-in likewise "may take multiple GPS updates … to gain confidence that you have
  arrived" (support.servicem8.com, How Automated Time Tracking Works). Three minutes is
  shorter than Traccar's 300 s parking time (``report.trip.minimalParkingDuration``)
  because we ask a narrower question — is he at *this* object, which he was sent to —
  while a car passing through a 150 m radius at 30 km/h is inside for about 36 s. The time
  counted is time *inside*: passing twice within minutes is still two drive-bys. The
  arrival is back-dated to the first of those fixes, as ServiceM8 back-dates its
  check-in to "the time that you actually arrived".
- Left: out of the radius for ``gps_departure_minutes`` (5), the same 300 s Traccar waits
  in motion before it calls a stop over (``report.trip.minimalTripDuration``). A shorter
  excursion — a fix that jumps 300 m while parked, a walk to the van — does not end the
  stay. The departure is back-dated to the last fix inside. Arriving at another object
  ends the stay at once (he cannot be at two).
- A gap in the fixes (phone asleep, a basement) shorter than :data:`MAX_GAP` (2 h) with
  fixes inside on both sides does not break the stay; a longer one ends it at the last fix
  before the gap. Traccar counts a gap of an hour (``minimalNoDataDuration`` 3600 s) as a
  stop; for a technician already on site, two hours without signal inside a plant room is
  common and still one visit.
- Two objects closer than their radii: a fix belongs to the nearest object whose radius
  contains it, but it stays with the object of the previous fix unless it is
  :data:`HYSTERESIS_M` (30 m) nearer the other one — alternating fixes in the middle do
  not flap between the two.
- Away from every candidate object, a stop of at least :data:`STOP_MINUTES` (10) within
  :data:`STOP_RADIUS_M` (100 m) is a stay with no object: "where was he".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from fsm_core.services.gps.positions import Point

MAX_GAP_S = 2 * 3600.0
MAX_GAP = MAX_GAP_S
"""Seconds without fixes after which a stay ends at the last fix before the gap."""
HYSTERESIS_M = 30.0
STOP_MINUTES = 10
STOP_RADIUS_M = 100.0
M_PER_DEG = 111_195.0  # metres per degree of latitude (mean Earth radius 6371.0 km)
MAX_SPEED_MS = 70.0
"""250 km/h: no technician's car does more, so a fix 7 km from every object cannot be
inside a radius within the next 100 s; fixes in between are not measured (a fix that
jumps there faster is a glitch, ignored anyway)."""


@dataclass(frozen=True)
class Thresholds:
    arrival_fixes: int = 3
    arrival_s: float = 180.0
    departure_s: float = 300.0
    max_accuracy_m: float = 100.0
    max_gap_s: float = MAX_GAP_S
    stop_s: float = STOP_MINUTES * 60.0
    stop_radius_m: float = STOP_RADIUS_M
    hysteresis_m: float = HYSTERESIS_M


class Target(NamedTuple):
    """An object a fix may belong to: its point and radius in metres."""

    object_id: int
    latitude: float
    longitude: float
    radius_m: float


class RawStay(NamedTuple):
    """A stay as detected: times as Unix seconds; ``left`` None while still there."""

    object_id: int | None
    arrived: float
    last_inside: float
    left: float | None
    fixes: int


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres, the equirectangular approximation: within 0.1 % of the
    great circle for the few kilometres it is used for."""
    dy = (lat2 - lat1) * M_PER_DEG
    dx = (lon2 - lon1) * M_PER_DEG * math.cos(math.radians((lat1 + lat2) / 2))
    return math.sqrt(dx * dx + dy * dy)


Usable = tuple[float, float, float, float]
"""A fix good enough to count: (Unix seconds, latitude, longitude, accuracy or 0)."""


def usable(points: Sequence[Point], max_accuracy_m: float) -> list[Usable]:
    """The fixes good enough to count, as :data:`Usable` tuples."""
    return [
        (p[0].timestamp(), p[1], p[2], p[3] or 0.0)
        for p in points
        if p[3] is None or p[3] <= max_accuracy_m
    ]


def label(
    fixes: Sequence[Usable], targets: Sequence[Target], hysteresis_m: float
) -> list[int | None]:
    """Each fix's object: the nearest whose radius contains it, keeping the previous
    fix's object unless another is ``hysteresis_m`` nearer; None outside every radius."""
    if not targets:
        return [None] * len(fixes)
    prepared = []
    lat_lo = lon_lo = math.inf
    lat_hi = lon_hi = -math.inf
    for t in targets:
        kx = M_PER_DEG * math.cos(math.radians(t.latitude))
        prepared.append((t.object_id, t.latitude, t.longitude, kx, t.radius_m * t.radius_m))
        dlat = t.radius_m / M_PER_DEG
        dlon = t.radius_m / kx if kx > 0 else 180.0
        lat_lo, lat_hi = min(lat_lo, t.latitude - dlat), max(lat_hi, t.latitude + dlat)
        lon_lo, lon_hi = min(lon_lo, t.longitude - dlon), max(lon_hi, t.longitude + dlon)
    r_max = max(t.radius_m for t in targets)
    # a fix inside one object can only be inside the objects whose circles meet its circle
    overlapping = {
        a[0]: [
            b
            for b in prepared
            if metres(a[1], a[2], b[1], b[2]) <= math.sqrt(a[4]) + math.sqrt(b[4])
        ]
        for a in prepared
    }
    by_id = {a[0]: a for a in prepared}
    labels: list[int | None] = []
    previous: int | None = None
    skip_until = -math.inf
    for at, lat, lon, _ in fixes:
        if at < skip_until or lat < lat_lo or lat > lat_hi or lon < lon_lo or lon > lon_hi:
            labels.append(None)
            continue
        best: int | None = None
        best_d2 = math.inf
        previous_d2: float | None = None
        nearest = math.inf
        candidates = prepared
        if previous is not None:
            _, lat0, lon0, kx, r2 = by_id[previous]
            dy, dx = (lat - lat0) * M_PER_DEG, (lon - lon0) * kx
            if dx * dx + dy * dy <= r2:  # still inside the last object: only its neighbours
                candidates = overlapping[previous]
        for object_id, lat0, lon0, kx, r2 in candidates:
            dy = (lat - lat0) * M_PER_DEG
            dx = (lon - lon0) * kx
            d2 = dx * dx + dy * dy
            if d2 < nearest:
                nearest = d2
            if d2 <= r2:
                if d2 < best_d2:
                    best, best_d2 = object_id, d2
                if object_id == previous:
                    previous_d2 = d2
        if best is None:
            # nowhere near: no radius can be reached before this time at MAX_SPEED_MS
            skip_until = at + (math.sqrt(nearest) - r_max) / MAX_SPEED_MS
        elif (
            previous_d2 is not None
            and best != previous
            and math.sqrt(previous_d2) <= math.sqrt(best_d2) + hysteresis_m
        ):
            best = previous
        labels.append(best)
        if best is not None:
            previous = best
    return labels


class _Run:
    """Consecutive fixes with the same object (or none)."""

    __slots__ = ("count", "dwell", "first", "hard", "last", "trail", "zone")

    def __init__(self, zone: int | None, at: float, hard: bool) -> None:
        self.zone = zone
        self.first = at
        self.last = at
        self.count = 1
        self.dwell = 0.0  # seconds between this run's fixes
        self.trail = 0.0  # seconds from its last fix to the next fix (0 across a hard gap)
        self.hard = hard  # a gap longer than max_gap before it


def object_stays(
    fixes: Sequence[Usable],
    labels: Sequence[int | None],
    th: Thresholds,
    *,
    now: float | None = None,
) -> list[RawStay]:
    """The stays at objects, in time order (see the module's rules)."""
    runs: list[_Run] = []
    run: _Run | None = None
    previous_at = 0.0
    for (at, _, _, _), zone in zip(fixes, labels, strict=True):
        hard = run is not None and at - previous_at > th.max_gap_s
        if run is None or hard or zone != run.zone:
            if run is not None:
                run.trail = 0.0 if hard else at - previous_at
            run = _Run(zone, at, hard)
            runs.append(run)
        else:
            run.dwell += at - previous_at
            run.last = at
            run.count += 1
        previous_at = at

    def qualifies(r: _Run) -> bool:
        return r.count >= th.arrival_fixes and r.dwell >= th.arrival_s

    stack: list[_Run] = []
    for r in runs:
        if r.zone is not None and not r.hard:
            j = len(stack) - 1
            match = -1
            while j >= 0:
                s = stack[j]
                if r.first - s.last >= th.departure_s:
                    break
                if s.zone == r.zone:
                    match = j
                    break
                if s.hard or (s.zone is not None and qualifies(s)):
                    break
                j -= 1
            if match >= 0:
                s = stack[match]
                s.dwell += s.trail + r.dwell
                s.count += r.count
                s.last, s.trail = r.last, r.trail
                del stack[match + 1 :]
                continue
        stack.append(r)

    last_fix = fixes[-1][0] if fixes else 0.0
    stays: list[RawStay] = []
    for i, r in enumerate(stack):
        if r.zone is None or not qualifies(r):
            continue
        open_ = (
            now is not None
            and now - r.last <= th.max_gap_s
            # silent since the last fix inside, or out for less than the departure time
            and (last_fix == r.last or now - r.last < th.departure_s)
            and not any(s.hard for s in stack[i + 1 :])
            and not any(s.zone is not None and qualifies(s) for s in stack[i + 1 :])
        )
        stays.append(RawStay(r.zone, r.first, r.last, None if open_ else r.last, r.count))
    return stays


def stops(
    fixes: Sequence[Usable],
    busy: Sequence[RawStay],
    th: Thresholds,
    *,
    now: float | None = None,
) -> list[RawStay]:
    """Long stops away from the objects' stays: ``stop_s`` within ``stop_radius_m``."""
    spans = [(s.arrived, s.last_inside) for s in busy]
    found: list[RawStay] = []
    main: list[float] | None = None  # [lat, lon, first, last, count]
    pending: list[float] | None = None
    out_since: float | None = None
    k = 0
    r2 = th.stop_radius_m * th.stop_radius_m

    def close(m: list[float], open_: bool) -> None:
        if m[3] - m[2] >= th.stop_s:
            found.append(RawStay(None, m[2], m[3], None if open_ else m[3], int(m[4])))

    for at, lat, lon, _ in fixes:
        while k < len(spans) and spans[k][1] < at:
            k += 1
        if k < len(spans) and spans[k][0] <= at:  # inside an object's stay
            if main is not None:
                close(main, False)
            main = pending = None
            out_since = None
            continue
        if main is None:
            main = [lat, lon, at, at, 1]
            continue
        if at - main[3] > th.max_gap_s:
            close(main, False)
            main, pending, out_since = [lat, lon, at, at, 1], None, None
            continue
        kx = M_PER_DEG * math.cos(math.radians(lat))
        dy, dx = (lat - main[0]) * M_PER_DEG, (lon - main[1]) * kx
        if dx * dx + dy * dy <= r2:
            main[3] = at
            main[4] += 1
            pending, out_since = None, None
            continue
        if out_since is None:
            out_since = at
        if pending is None:
            pending = [lat, lon, at, at, 1]
        else:
            dy, dx = (lat - pending[0]) * M_PER_DEG, (lon - pending[1]) * kx
            if dx * dx + dy * dy <= r2:
                pending[3] = at
                pending[4] += 1
            else:
                pending = [lat, lon, at, at, 1]
        if at - out_since >= th.departure_s:
            close(main, False)
            main, pending, out_since = pending, None, None
    if main is not None:
        last_fix = fixes[-1][0]
        close(
            main,
            now is not None
            and now - main[3] <= th.max_gap_s
            and (last_fix == main[3] or now - main[3] < th.departure_s),
        )
    return found


def detect(
    points: Sequence[Point],
    targets: Sequence[Target],
    th: Thresholds,
    *,
    now: datetime | None = None,
    good: Sequence[Usable] | None = None,
) -> list[RawStay]:
    """All stays of one employee's fixes (time order): at the targets, then long stops
    elsewhere, merged in time order. ``good``: the usable fixes, if already at hand."""
    fixes = usable(points, th.max_accuracy_m) if good is None else good
    if not fixes:
        return []
    moment = now.timestamp() if now is not None else None
    at_objects = object_stays(fixes, label(fixes, targets, th.hysteresis_m), th, now=moment)
    elsewhere = stops(fixes, at_objects, th, now=moment)
    return sorted(at_objects + elsewhere, key=lambda s: s.arrived)


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
