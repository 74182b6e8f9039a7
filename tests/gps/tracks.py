"""Generated tracks for the detection tests: legs of fixes around a point, in metres."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from fsm_core.services.gps.positions import Point
from fsm_core.services.gps.stays import M_PER_DEG

HOME = (59.931172, 30.360891)  # the world's site (Невский пр., 114)


def offset(
    east_m: float, north_m: float, origin: tuple[float, float] = HOME
) -> tuple[float, float]:
    lat0, lon0 = origin
    return (
        lat0 + north_m / M_PER_DEG,
        lon0 + east_m / (M_PER_DEG * math.cos(math.radians(lat0))),
    )


class Track:
    """Fixes appended leg by leg, time running on."""

    def __init__(self, start: datetime, origin: tuple[float, float] = HOME) -> None:
        self.at = start
        self.origin = origin
        self.points: list[Point] = []

    def stay(
        self, east: float, north: float, minutes: float, every: float = 30, accuracy: float = 10
    ) -> Track:
        """Fixes at one place every ``every`` seconds for ``minutes``."""
        for _ in range(max(1, round(minutes * 60 / every))):
            self.fix(east, north, accuracy)
            self.at += timedelta(seconds=every)
        return self

    def drive(
        self,
        start: tuple[float, float],
        end: tuple[float, float],
        kmh: float = 40,
        every: float = 5,
        accuracy: float = 10,
    ) -> Track:
        """A straight drive at a speed, a fix every ``every`` seconds."""
        length = math.dist(start, end)
        steps = max(1, round(length / (kmh / 3.6) / every))
        for i in range(steps):
            f = i / steps
            self.fix(
                start[0] + (end[0] - start[0]) * f, start[1] + (end[1] - start[1]) * f, accuracy
            )
            self.at += timedelta(seconds=every)
        return self

    def fix(self, east: float, north: float, accuracy: float | None = 10) -> Track:
        lat, lon = offset(east, north, self.origin)
        self.points.append(Point(self.at, lat, lon, accuracy, None))
        return self

    def wait(self, minutes: float) -> Track:
        self.at += timedelta(minutes=minutes)
        return self
