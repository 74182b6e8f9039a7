"""What the phones say of an employee's period (when GPS is there): verified arrivals at
the objects of their orders, time on site, and kilometres driven — each day read as the
GPS day report reads it (fsm_core.services.gps.day), summed over the period's days.

These are read from the fixes, not aggregated from rows: a month of a technician's fixes
is tens of thousands of points. The employee card asks for one employee; the ranking
table asks only when told to (``fsm report employees --gps``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import principal_of, requires
from fsm_core.services.analytics.common import Period, competition_ranks

GPS_METRICS: dict[str, tuple[str, str, str]] = {
    # key: (best: high|low, English name, Russian name)
    "arrivals": ("high", "verified arrivals", "подтверждённых прибытий"),
    "on_site_hours": ("high", "hours on site", "часов на объектах"),
    "km": ("high", "kilometres", "километров"),
}


@dataclass
class GpsStats:
    employee_id: int
    days_tracked: int = 0
    arrivals: int = 0  # stays at an order's object detected from the fixes
    on_site_minutes: int = 0
    km: float = 0.0

    @property
    def on_site_hours(self) -> float:
        return round(self.on_site_minutes / 60, 1)

    def as_json(self) -> dict[str, float | int]:
        return {
            "gps_days": self.days_tracked,
            "arrivals": self.arrivals,
            "on_site_hours": self.on_site_hours,
            "km": round(self.km, 1),
        }


def _may_read_gps(session: Session) -> bool:
    """Positions are the gps.read permission's, whoever may read reports (a storekeeper
    reads reports, not where the technicians are)."""
    return principal_of(session).scope("gps.read") is not None


@requires("reports.read")
def gps_stats(
    *,
    session: Session,
    period: Period,
    employee_ids: Iterable[int],
    now: datetime | None = None,
) -> dict[int, GpsStats]:
    """Each employee's verified arrivals, minutes on site and kilometres in the period
    (days still to come are not read). Empty for a principal who may not see positions,
    and for employees with no fixes at all."""
    from fsm_core.services.gps.day import day_report
    from fsm_core.services.gps.visits import How

    ids = sorted(set(employee_ids))
    if not ids or not _may_read_gps(session):
        return {}
    now = now or clock.now()
    found: dict[int, GpsStats] = {}
    day = period.since
    while day <= period.until and period.start + timedelta(days=(day - period.since).days) < now:
        for report in day_report(session=session, day=day, employee_ids=ids, now=now):
            if report.first_at is None:
                continue  # no fix that day
            stats = found.setdefault(report.employee_id, GpsStats(report.employee_id))
            stats.days_tracked += 1
            stats.km += report.km
            stats.on_site_minutes += report.on_site_minutes
            stats.arrivals += sum(
                1 for s in report.stays if s.how == How.DETECTED and s.order_id is not None
            )
        day += timedelta(days=1)
    return found


def gps_ranks(
    stats: dict[int, GpsStats], active_ids: Iterable[int]
) -> dict[int, dict[str, int | None]]:
    """Each active employee's rank on each GPS metric, among those tracked at all (one
    with no fix in the period is not ranked: the phone was off, not the work)."""
    tracked = [e for e in active_ids if e in stats]
    ranks: dict[int, dict[str, int | None]] = {e: {} for e in tracked}
    for metric, (best, _en, _ru) in GPS_METRICS.items():
        values = {e: getattr(stats[e], metric) for e in tracked}
        for employee_id, rank in competition_ranks(values, best=best).items():
            ranks[employee_id][metric] = rank
    return ranks
