"""Each order's figures: time in each stage (from the history), SLA outcome, rating, cost
(work and materials, as on the act) and visits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, exists, func, literal, or_, select, union_all
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import (
    Company,
    Employee,
    MaterialUse,
    Order,
    OrderHistory,
    ServiceObject,
    Stage,
    Visit,
    WorkEntry,
    WorkExecutor,
)
from fsm_core.models.catalog import Charge
from fsm_core.models.customer import OrderRating
from fsm_core.models.orders import StageCategory
from fsm_core.models.types import UTCDateTime
from fsm_core.services import sla
from fsm_core.services.analytics.common import (
    NO_FILTERS,
    Filters,
    Period,
    line_kopecks,
    raw,
    rounded,
    seconds_between,
    to_decimal,
)

FINAL = (StageCategory.CLOSED.value, StageCategory.CANCELLED.value)


@dataclass
class OrderStats:
    order_id: int
    number: str
    created_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    customer: str
    object: str | None
    criticality: str
    stage: str
    assignee: str | None
    sla: str  # ok, at_risk, violated, none
    rating: Decimal | None
    work: Decimal  # work and hours on the act
    materials: Decimal
    visits: int
    stages: dict[str, timedelta] = field(default_factory=dict)

    @property
    def cost(self) -> Decimal:
        return self.work + self.materials

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "created_at": self.created_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "customer": self.customer,
            "object": self.object,
            "criticality": self.criticality,
            "stage": self.stage,
            "assignee": self.assignee,
            "sla": self.sla,
            "rating": None if self.rating is None else float(self.rating),
            "work": str(self.work),
            "materials": str(self.materials),
            "cost": str(self.cost),
            "visits": self.visits,
            "stage_hours": {k: round(v.total_seconds() / 3600, 2) for k, v in self.stages.items()},
        }


def in_period(period: Period) -> Any:
    """An order received, finished or cancelled in the period."""
    return or_(
        period.holds(Order.created_at),
        period.holds(Order.resolved_at),
        period.holds(Order.closed_at),
    )


@requires("reports.read")
def order_report(
    *,
    session: Session,
    period: Period,
    filters: Filters = NO_FILTERS,
    order_ids: list[int] | None = None,
) -> list[OrderStats]:
    """The orders received, finished or cancelled in the period (or just ``order_ids``),
    oldest first."""
    now = clock.now()
    chosen = (
        col(Order.id).in_(order_ids)
        if order_ids is not None
        else and_(in_period(period), *filters.orders())
    )
    ids = select(Order.id).where(chosen).cte("chosen")
    in_chosen = select(ids.c.id)
    work = union_all(
        select(
            WorkEntry.order_id.label("order_id"),
            line_kopecks(WorkEntry.quantity, WorkEntry.price).label("kopecks"),
        ).where(col(WorkEntry.order_id).in_(in_chosen), WorkEntry.charge != Charge.HOURS.value),
        select(WorkEntry.order_id, line_kopecks(WorkExecutor.hours, WorkExecutor.hourly_rate))
        .join(WorkEntry, col(WorkEntry.id) == WorkExecutor.work_entry_id)
        .where(col(WorkEntry.order_id).in_(in_chosen), WorkEntry.charge != Charge.FIXED.value),
    ).subquery("work_lines")
    work_sum = (
        select(work.c.order_id, func.sum(work.c.kopecks).label("kopecks"))
        .group_by(work.c.order_id)
        .subquery("work_sum")
    )
    materials = (
        select(
            MaterialUse.order_id,
            func.sum(line_kopecks(MaterialUse.quantity, MaterialUse.price)).label("kopecks"),
        )
        .where(col(MaterialUse.order_id).in_(in_chosen))
        .group_by(MaterialUse.order_id)
        .subquery("materials")
    )
    visits = (
        select(Visit.order_id, func.count().label("n"))
        .where(col(Visit.order_id).in_(in_chosen))
        .group_by(Visit.order_id)
        .subquery("visits")
    )
    scores = OrderRating.promptness + OrderRating.accuracy + OrderRating.communication
    rows = session.execute(
        select(
            Order.id,
            Order.number,
            Order.created_at,
            Order.resolved_at,
            Order.closed_at,
            Company.name,
            ServiceObject.name,
            Order.criticality,
            Order.stage_code,
            Employee.short_name,
            sla.status_expression(now),
            raw(scores).label("scores"),
            raw(work_sum.c.kopecks).label("work_kopecks"),
            raw(materials.c.kopecks).label("material_kopecks"),
            visits.c.n.label("visits"),
        )
        .join(Company, col(Company.id) == Order.customer_id)
        .outerjoin(ServiceObject, col(ServiceObject.id) == Order.object_id)
        .outerjoin(Employee, col(Employee.id) == Order.assignee_id)
        .outerjoin(OrderRating, col(OrderRating.order_id) == Order.id)
        .outerjoin(work_sum, work_sum.c.order_id == Order.id)
        .outerjoin(materials, materials.c.order_id == Order.id)
        .outerjoin(visits, visits.c.order_id == Order.id)
        .where(col(Order.id).in_(in_chosen))
        .order_by(Order.created_at, Order.id)
    ).all()
    found: dict[int, OrderStats] = {}
    from fractions import Fraction

    for r in rows:
        found[r[0]] = OrderStats(
            order_id=r[0],
            number=r[1],
            created_at=r[2],
            resolved_at=r[3],
            closed_at=r[4],
            customer=r[5],
            object=r[6],
            criticality=r[7],
            stage=r[8],
            assignee=r[9],
            sla=str(r[10]),
            rating=None if r[11] is None else rounded(Fraction(int(r[11]), 3)),
            work=to_decimal(r[12]),
            materials=to_decimal(r[13]),
            visits=int(r[14] or 0),
        )
    for order_id, stage, seconds in stage_times(session, in_chosen, now):
        if order_id in found and seconds is not None:
            found[order_id].stages[stage] = timedelta(seconds=round(float(seconds)))
    return list(found.values())


@requires("reports.read")
def stage_times(session: Session, order_ids: Any, now: datetime) -> list[tuple[int, str, float]]:
    """(order, stage, seconds) for the orders ``order_ids`` (a subquery): how long each
    spent in each stage, summed over every stay (a reopened order's second stay in work
    adds to its first), up to now for the stage it is in; the final stages (closed,
    cancelled) are not timed."""
    h = OrderHistory
    window: dict[str, Any] = {"partition_by": h.order_id, "order_by": (h.at, h.id)}
    changes = (
        select(
            h.order_id.label("order_id"),
            h.at.label("at"),
            h.old_value.label("old"),
            h.new_value.label("new"),
            func.lead(h.at).over(**window).label("next_at"),
            func.row_number().over(**window).label("n"),
        )
        .where(h.field == "stage", col(h.order_id).in_(order_ids))
        .subquery("changes")
    )
    moment = literal(now, UTCDateTime)
    stays = union_all(
        # each stage entered, until the next change (or now)
        select(
            changes.c.order_id,
            changes.c.new.label("stage"),
            seconds_between(session, changes.c.at, func.coalesce(changes.c.next_at, moment)).label(
                "seconds"
            ),
        ),
        # the stage the order was created in, until its first change
        select(
            changes.c.order_id,
            changes.c.old,
            seconds_between(session, Order.created_at, changes.c.at),
        )
        .join(Order, col(Order.id) == changes.c.order_id)
        .where(changes.c.n == literal(1, Integer), changes.c.old.is_not(None)),
        # orders that never changed stage
        select(
            Order.id, Order.stage_code, seconds_between(session, Order.created_at, moment)
        ).where(
            col(Order.id).in_(order_ids),
            ~exists().where(h.order_id == Order.id, h.field == "stage"),
        ),
    ).subquery("stays")
    return [
        (int(o), str(s), float(t))
        for o, s, t in session.execute(
            select(stays.c.order_id, stays.c.stage, func.sum(stays.c.seconds))
            .where(stays.c.stage.in_(select(Stage.code).where(col(Stage.category).not_in(FINAL))))
            .group_by(stays.c.order_id, stays.c.stage)
        ).all()
    ]
