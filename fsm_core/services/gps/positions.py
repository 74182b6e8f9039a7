"""Reading positions back: one employee's (or everyone's) fixes over a time, the latest
fix of each, and pruning what is past the retention period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Text, delete, func, type_coerce
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import Employee, Position
from fsm_core.services import settings as company_settings

if TYPE_CHECKING:
    from fsm_core.db import Database


class Point(NamedTuple):
    """A stored fix as the readers use it (times in UTC)."""

    at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None
    speed_kmh: float | None


class Latest(NamedTuple):
    employee_id: int
    employee: str  # short name
    at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None
    speed_kmh: float | None
    battery: float | None


@requires("gps.read")
def read_fixes(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    employee_ids: Iterable[int] | None = None,
) -> dict[int, list[Point]]:
    """Each employee's fixes with ``start <= at < end``, in time order (every employee with
    fixes when ``employee_ids`` is None)."""
    # the time as the driver gives it (SQLite: naive UTC text; PostgreSQL: an aware
    # datetime), converted below: the generic DateTime result processing costs more than
    # everything else here for a day of 5-second fixes
    query = select_columns(
        Position.employee_id,
        type_coerce(col(Position.fix_at), Text),
        Position.latitude,
        Position.longitude,
        Position.accuracy_m,
        Position.speed_kmh,
    ).where(Position.fix_at >= start, Position.fix_at < end)
    if employee_ids is not None:
        query = query.where(col(Position.employee_id).in_(list(employee_ids)))
    query = query.order_by(col(Position.employee_id), col(Position.fix_at))
    found: dict[int, list[Point]] = {}
    mine: list[Point] = []
    current = None
    parse = datetime.fromisoformat
    # through the connection: the ORM's row loading doubles the time of a day's fixes
    for employee_id, at, lat, lon, accuracy, speed in session.connection().execute(query).all():
        if employee_id != current:
            current, mine = employee_id, found.setdefault(employee_id, [])
        when = (
            parse(at).replace(tzinfo=UTC)
            if isinstance(at, str)
            else at.replace(tzinfo=UTC)
            if at.tzinfo is None
            else at.astimezone(UTC)
        )
        mine.append(Point(when, lat, lon, accuracy, speed))
    return found


@requires("gps.read")
def latest_positions(
    *, session: Session, employee_ids: Iterable[int] | None = None
) -> dict[int, Latest]:
    """The newest fix of each employee (active ones when ``employee_ids`` is None): one
    index seek per employee."""
    newest = (
        select(Position.id)
        .where(col(Position.employee_id) == col(Employee.id))
        .order_by(col(Position.fix_at).desc())
        .limit(1)
        .correlate(Employee)
        .scalar_subquery()
    )
    query = select_columns(
        Employee.id,
        Employee.short_name,
        Position.fix_at,
        Position.latitude,
        Position.longitude,
        Position.accuracy_m,
        Position.speed_kmh,
        Position.battery,
    ).join(Position, col(Position.id) == newest)
    if employee_ids is None:
        query = query.where(col(Employee.active).is_(True))
    else:
        query = query.where(col(Employee.id).in_(list(employee_ids)))
    return {row[0]: Latest(*row) for row in session.execute(query)}


def prune(*, database: Database, now: datetime | None = None, chunk: int = 20_000) -> int:
    """Delete positions older than ``gps_retention_days``, a chunk per transaction so that
    no writer waits long for a large prune; returns how many were deleted."""
    with database.reader() as session:
        days = company_settings.load(session=session).gps_retention_days
    cutoff = (now or clock.now()) - timedelta(days=days)
    deleted = 0
    while True:
        with database.transaction() as session:
            ids = session.exec(
                select(Position.id).where(Position.fix_at < cutoff).limit(chunk)
            ).all()
            if not ids:
                return deleted
            session.execute(delete(Position).where(col(Position.id).in_(ids)))
            deleted += len(ids)


@requires("gps.read")
def count_positions(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Position)).one())
