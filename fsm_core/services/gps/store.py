"""Keeping positions: a batch of checked fixes written in one statement.

The server collects what many phones send over a fraction of a second and writes it here
in one transaction (one INSERT of many rows): fifty phones each sending every five seconds
cost a few short transactions a second instead of ten, and a fix is answered only once it
is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import Employee, GpsDevice, Holiday, Position
from fsm_core.service_calendar import ServiceCalendar
from fsm_core.services import settings as company_settings
from fsm_core.services.gps.devices import note_unknown
from fsm_core.services.gps.fixes import Fix
from fsm_core.services.sla import parse_hours
from fsm_core.services.working_time import load_calendar

HOURS_MARGIN = timedelta(hours=1)
"""Positions are kept from an hour before a shift to an hour after it: the drive to the
first object and home from the last are part of the day."""


class Outcome(StrEnum):
    """What became of one fix."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # the same employee and moment were stored before
    UNKNOWN_DEVICE = "unknown_device"  # bound to nobody: refused (an admin may bind it)
    INACTIVE = "inactive"  # the device's employee is no longer active
    OFF_HOURS = "off_hours"  # outside the employee's working hours: not kept, by design


@dataclass
class Recorded:
    """The outcome of each fix of a batch, in the batch's order."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o is outcome)


def _insert(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    base = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return base(Position).on_conflict_do_nothing(index_elements=["employee_id", "fix_at"])


class _Hours:
    """Whether a moment lies in an employee's working time (with the margin): their
    patterns where they have any, else the company's hours; holidays and time off are
    not working time."""

    def __init__(
        self, session: Session, employee_ids: set[int], fixes: Sequence[Fix], *, enabled: bool
    ) -> None:
        values = company_settings.load(session=session)
        self.enabled = enabled and values.gps_working_hours_only
        self._spans: dict[int, list[tuple[datetime, datetime]]] = {}
        if not self.enabled or not fixes or not employee_ids:
            return
        tz = values.tz
        first = min(f.at for f in fixes).astimezone(tz).date() - timedelta(days=1)
        last = max(f.at for f in fixes).astimezone(tz).date() + timedelta(days=1)
        calendar = load_calendar(
            session=session,
            employee_ids=sorted(employee_ids),
            first_day=first,
            last_day=last,
            tz=tz,
        )
        company: ServiceCalendar | None = None
        for employee_id in employee_ids:
            if calendar.has_hours.get(employee_id):
                spans = calendar.working(employee_id)
            else:
                if company is None:
                    holidays = session.exec(
                        select(Holiday.day).where(Holiday.day >= first, Holiday.day <= last)
                    ).all()
                    company = ServiceCalendar(
                        hours=parse_hours(values.company_hours), tz=tz, holidays=holidays
                    )
                spans = [
                    span
                    for offset in range((last - first).days + 1)
                    for span in company.open_on(first + timedelta(days=offset))
                ]
            self._spans[employee_id] = [(a - HOURS_MARGIN, b + HOURS_MARGIN) for a, b in spans]

    def allows(self, employee_id: int, at: datetime) -> bool:
        if not self.enabled:
            return True
        return any(a <= at < b for a, b in self._spans.get(employee_id, ()))


@requires("gps.record")
def record_fixes(*, session: Session, fixes: Sequence[Fix], any_hour: bool = False) -> Recorded:
    """Store checked fixes (see :func:`~fsm_core.services.gps.fixes.check_fix`); each gets
    its :class:`Outcome`. A fix names its device (bound to an employee) or, from a GPX
    file, the employee. Nothing is stored for a device bound to nobody: the device is
    remembered so that an admin can bind it. ``any_hour`` keeps fixes outside working
    hours too (the demo's made-up day, shown whenever someone tries the product)."""
    now = clock.now()
    identifiers = {f.device for f in fixes if f.device is not None}
    devices: dict[str, tuple[int, int | None]] = {}
    if identifiers:
        rows = session.exec(
            select(GpsDevice.identifier, GpsDevice.id, GpsDevice.employee_id).where(
                col(GpsDevice.identifier).in_(identifiers)
            )
        ).all()
        devices = {ident: (device_id or 0, employee_id) for ident, device_id, employee_id in rows}
    employee_ids = {e for _, e in devices.values() if e is not None} | {
        f.employee_id for f in fixes if f.employee_id is not None
    }
    active = (
        set(
            session.exec(
                select(Employee.id).where(
                    col(Employee.id).in_(employee_ids), col(Employee.active).is_(True)
                )
            ).all()
        )
        if employee_ids
        else set()
    )
    hours = _Hours(session, set(active), fixes, enabled=not any_hour)
    outcomes: list[Outcome] = []
    rows_to_write: dict[tuple[int, datetime], dict[str, object]] = {}
    order: list[tuple[int, datetime] | None] = []
    unknown: dict[str, int] = {}
    seen_devices: set[int] = set()
    for fix in fixes:
        device_id: int | None = None
        employee_id = fix.employee_id
        if fix.device is not None:
            device_id, employee_id = devices.get(fix.device, (None, None))
            if employee_id is None:
                unknown[fix.device] = unknown.get(fix.device, 0) + 1
                outcomes.append(Outcome.UNKNOWN_DEVICE)
                order.append(None)
                continue
            seen_devices.add(device_id or 0)
        assert employee_id is not None
        if employee_id not in active:
            outcomes.append(Outcome.INACTIVE)
            order.append(None)
            continue
        at = fix.at.astimezone(UTC)
        if not hours.allows(employee_id, at):
            outcomes.append(Outcome.OFF_HOURS)
            order.append(None)
            continue
        key = (employee_id, at)
        outcomes.append(Outcome.STORED)  # until the database says it had it already
        order.append(key)
        rows_to_write.setdefault(
            key,
            {
                "employee_id": employee_id,
                "device_id": device_id,
                "fix_at": at,
                "latitude": fix.latitude,
                "longitude": fix.longitude,
                "accuracy_m": fix.accuracy_m,
                "speed_kmh": fix.speed_kmh,
                "heading": fix.heading,
                "altitude_m": fix.altitude_m,
                "battery": fix.battery,
                "source": fix.source,
                "received_at": now,
            },
        )
    note_unknown(session=session, identifiers=unknown)
    if seen_devices:
        session.execute(
            update(GpsDevice).where(col(GpsDevice.id).in_(seen_devices)).values(last_seen_at=now)
        )
        session.execute(
            update(GpsDevice)
            .where(col(GpsDevice.id).in_(seen_devices), col(GpsDevice.first_seen_at).is_(None))
            .values(first_seen_at=now)
        )
    written: set[tuple[int, datetime]] = set()
    if rows_to_write:
        result = session.execute(
            _insert(session).returning(Position.employee_id, Position.fix_at),
            list(rows_to_write.values()),
        )
        written = {(e, at.astimezone(UTC)) for e, at in result.all()}
    claimed: set[tuple[int, datetime]] = set()
    for index, wanted in enumerate(order):
        if wanted is None:
            continue
        if wanted not in written or wanted in claimed:  # stored before, or twice in this batch
            outcomes[index] = Outcome.DUPLICATE
        claimed.add(wanted)
    return Recorded(outcomes)


@requires("gps.read")
def retention_start(*, session: Session, now: datetime | None = None) -> datetime:
    """The oldest moment a position is kept for (``gps_retention_days`` before now)."""
    days = company_settings.load(session=session).gps_retention_days
    return (now or clock.now()) - timedelta(days=days)
