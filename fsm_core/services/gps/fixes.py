"""One GPS fix as it arrives from outside, and the checks it must pass before it is kept.

Every source (the OsmAnd protocol of ``fsm serve``, a Traccar server, a GPX file) turns
what it read into :class:`Fix` values and hands them to :func:`check_fix`; what a phone
or a file sends is hostile until checked: a latitude of 91, a time next year, a speed of
light, a NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fsm_core.errors import InvalidInput

FUTURE_TOLERANCE = timedelta(minutes=10)
"""A fix may be this far ahead of the server's clock (a phone's clock runs fast)."""

KNOT_KMH = 1.852
MAX_SPEED_KMH = 1_500.0  # faster than this is not a technician (nor a plausible fix)
MAX_ACCURACY_M = 1_000_000.0


@dataclass(frozen=True)
class Fix:
    """A position of one device (``device``, its identifier) or, for a GPX file, of one
    employee (``employee_id``) at ``at`` (UTC)."""

    at: datetime
    latitude: float
    longitude: float
    device: str | None = None
    employee_id: int | None = None
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    heading: float | None = None
    altitude_m: float | None = None
    battery: float | None = None
    source: str = "osmand"


def _finite(value: float | None, name: str, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InvalidInput(f"{name} {value!r} is out of range ({lo:g} to {hi:g})", field=name)
    return value


def check_fix(fix: Fix, *, now: datetime, oldest: datetime) -> Fix:
    """The fix if it can be kept; otherwise :class:`InvalidInput` saying why, in one line.

    ``oldest``: fixes before it are past the retention period (they would be pruned at
    once). Optional readings out of their range are refused too: a battery of 300 % says
    the sender is not what it claims to be."""
    if fix.at.tzinfo is None:
        raise InvalidInput("a fix's time must say its time zone (UTC)", field="timestamp")
    at = fix.at.astimezone(UTC)
    if at > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"time {at.isoformat(timespec='seconds')} is more than "
            f"{int(FUTURE_TOLERANCE.total_seconds() // 60)} minutes in the future",
            field="timestamp",
        )
    if at < oldest:
        raise InvalidInput(
            f"time {at.isoformat(timespec='seconds')} is older than the retention period "
            f"(kept since {oldest.isoformat(timespec='seconds')})",
            field="timestamp",
        )
    return replace(
        fix,
        at=at,
        latitude=_finite(fix.latitude, "lat", -90.0, 90.0) or 0.0,
        longitude=_finite(fix.longitude, "lon", -180.0, 180.0) or 0.0,
        accuracy_m=_finite(fix.accuracy_m, "accuracy", 0.0, MAX_ACCURACY_M),
        speed_kmh=_finite(fix.speed_kmh, "speed", 0.0, MAX_SPEED_KMH),
        heading=_finite(fix.heading, "bearing", 0.0, 360.0),
        altitude_m=_finite(fix.altitude_m, "altitude", -12_000.0, 100_000.0),
        battery=_finite(fix.battery, "batt", 0.0, 100.0),
    )
