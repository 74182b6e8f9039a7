"""Technicians' devices: which employee a device identifier belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Employee, GpsDevice, Position
from fsm_core.services.lookup import resolve_employee

IDENTIFIER_LENGTH = 100


def check_identifier(value: str) -> str:
    """A device identifier as a phone or tracker sends it: printable, no spaces around,
    at most 100 characters (Traccar Client's default is a number; an IMEI has 15 digits)."""
    text = value.strip()
    if not text:
        raise InvalidInput("a device identifier is needed", field="id")
    if len(text) > IDENTIFIER_LENGTH:
        raise InvalidInput(
            f"device identifier is {len(text)} characters long, at most "
            f"{IDENTIFIER_LENGTH} are taken",
            field="id",
        )
    if not text.isprintable():
        raise InvalidInput(f"device identifier {text!r} has control characters", field="id")
    return text


@dataclass(frozen=True)
class DeviceView:
    identifier: str
    employee_id: int | None
    employee: str | None  # short name
    name: str | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    refused: int
    positions: int
    last_fix_at: datetime | None


@requires("gps.devices")
def bind_device(
    *, session: Session, identifier: str, employee: str | int, name: str | None = None
) -> GpsDevice:
    """Bind a device to an employee (creating it, or moving it from whoever had it).
    Positions it sent while bound to nobody were refused and are not recovered."""
    ident = check_identifier(identifier)
    person = resolve_employee(session=session, ref=employee)
    if not person.active:
        raise InvalidInput(f"employee {person.short_name!r} is not active", field="employee")
    device = session.exec(select(GpsDevice).where(GpsDevice.identifier == ident)).first()
    if device is None:
        device = GpsDevice(identifier=ident)
        session.add(device)
    device.employee_id = person.id
    if name is not None:
        device.name = name.strip() or None
    session.flush()
    return device


@requires("gps.devices")
def unbind_device(*, session: Session, identifier: str) -> GpsDevice:
    """The device belongs to nobody again: its next positions are refused."""
    ident = check_identifier(identifier)
    device = session.exec(select(GpsDevice).where(GpsDevice.identifier == ident)).first()
    if device is None:
        raise NotFound("device", ident, hint="see fsm gps devices list")
    device.employee_id = None
    session.flush()
    return device


@requires("gps.devices")
def list_devices(*, session: Session, unknown: bool = False) -> list[DeviceView]:
    """Every device (``unknown``: only those bound to nobody, newest first), with how many
    positions it has stored and when its latest was taken."""
    counts = (
        select(
            Position.device_id,
            func.count().label("n"),
            func.max(Position.fix_at).label("last"),
        )
        .group_by(col(Position.device_id))
        .subquery()
    )
    query = (
        select(GpsDevice, Employee.short_name, counts.c.n, counts.c.last)
        .outerjoin(Employee, col(Employee.id) == col(GpsDevice.employee_id))
        .outerjoin(counts, counts.c.device_id == col(GpsDevice.id))
    )
    if unknown:
        query = query.where(col(GpsDevice.employee_id).is_(None)).order_by(
            col(GpsDevice.last_seen_at).desc(), col(GpsDevice.identifier)
        )
    else:
        query = query.order_by(col(GpsDevice.identifier))
    return [
        DeviceView(
            identifier=device.identifier,
            employee_id=device.employee_id,
            employee=short,
            name=device.name,
            first_seen_at=device.first_seen_at,
            last_seen_at=device.last_seen_at,
            refused=device.refused,
            positions=int(n or 0),
            last_fix_at=last,
        )
        for device, short, n, last in session.exec(query).all()
    ]


@requires("gps.record")
def note_unknown(*, session: Session, identifiers: dict[str, int]) -> None:
    """Remember devices that sent positions while bound to nobody (identifier: how many
    fixes were refused), so that an admin can find and bind them."""
    if not identifiers:
        return
    now = clock.now()
    known = {
        d.identifier: d
        for d in session.exec(
            select(GpsDevice).where(col(GpsDevice.identifier).in_(list(identifiers)))
        )
    }
    for ident, refused in identifiers.items():
        device = known.get(ident)
        if device is None:
            device = GpsDevice(identifier=ident, first_seen_at=now)
            session.add(device)
        device.refused = (device.refused or 0) + refused
        device.last_seen_at = now
    session.flush()
