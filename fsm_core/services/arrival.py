"""When the technician will arrive (ожидаемое время прибытия), as a customer is told.

A minimal version from the plan alone, so that the "on the way" notification has its
estimate: the start of the order's current visit (or its planned start), no earlier than
now, give or take a quarter of an hour. The status page's version (a travel model from the
technician's latest position) keeps this API: ``estimate(session=, order_id=)`` returning
an :class:`Arrival` or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import Employee, Order
from fsm_core.models.planning import Visit

SPREAD = timedelta(minutes=15)
"""Half the window around a planned arrival."""


@dataclass(frozen=True)
class Arrival:
    at: datetime
    earliest: datetime
    latest: datetime
    basis: str
    """"position" (from the technician's latest fix) or "plan" (the planned start)"""
    technician: str | None


@requires("orders.read")
def estimate(*, session: Session, order_id: int) -> Arrival | None:
    """The order's arrival estimate, or None when nothing is planned."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    now = clock.now()
    visit = session.execute(
        select(Visit)
        .where(Visit.order_id == order_id, Visit.end_at > now)
        .order_by(Visit.start_at)
        .limit(1)
    ).scalar_one_or_none()
    start = visit.start_at if visit is not None else order.planned_start
    if start is None:
        return None
    employee_id = visit.employee_id if visit is not None else order.assignee_id
    employee = session.get(Employee, employee_id) if employee_id else None
    at = max(start, now)
    return Arrival(
        at=at,
        earliest=max(at - SPREAD, now),
        latest=at + SPREAD,
        basis="plan",
        technician=employee.short_name if employee else None,
    )
