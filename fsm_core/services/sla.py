"""SLA: reaction and resolution deadlines by criticality, and the status they give.

Deadlines run around the clock from the order's creation. An order is *at risk* when less
than ``sla_risk_share`` of its resolution time is left, *violated* when the reaction or the
resolution came (or is still missing) after its deadline. Cancelled orders have no SLA.
The status is never stored: :func:`status_of` and :func:`status_expression` derive it the
same way in Python and in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, literal, or_
from sqlmodel import Session, col, select

from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Company, Criticality, Order, SlaPolicy, SlaStatus
from fsm_core.models.types import UTCDateTime


@dataclass(frozen=True)
class Deadlines:
    reaction_due: datetime | None
    resolution_due: datetime | None
    at_risk_at: datetime | None


def policy_for(session: Session, *, customer_id: int, criticality: str) -> SlaPolicy | None:
    """The customer's own policy for this criticality, else the company default."""
    rows = session.exec(
        select(SlaPolicy).where(
            SlaPolicy.criticality == criticality,
            or_(col(SlaPolicy.customer_id) == customer_id, col(SlaPolicy.customer_id).is_(None)),
        )
    ).all()
    own = [p for p in rows if p.customer_id is not None]
    return own[0] if own else (rows[0] if rows else None)


def at_risk_moment(
    start: datetime, resolution_due: datetime | None, risk_share: Decimal
) -> datetime | None:
    if resolution_due is None:
        return None
    window = resolution_due - start
    if window <= timedelta(0):
        return resolution_due
    return resolution_due - window * float(risk_share)


def compute_deadlines(
    *, created_at: datetime, policy: SlaPolicy | None, risk_share: Decimal
) -> Deadlines:
    if policy is None:
        return Deadlines(None, None, None)
    reaction = created_at + timedelta(minutes=policy.reaction_minutes)
    resolution = created_at + timedelta(minutes=policy.resolution_minutes)
    return Deadlines(reaction, resolution, at_risk_moment(created_at, resolution, risk_share))


def is_cancelled(order: Order) -> bool:
    return order.closed_at is not None and order.resolved_at is None


def status_of(order: Order, now: datetime) -> SlaStatus:
    if is_cancelled(order) or (order.resolution_due is None and order.reaction_due is None):
        return SlaStatus.NONE
    if order.reaction_due is not None and (order.reacted_at or now) > order.reaction_due:
        return SlaStatus.VIOLATED
    if order.resolution_due is not None and (order.resolved_at or now) > order.resolution_due:
        return SlaStatus.VIOLATED
    if (
        order.resolved_at is None
        and order.sla_at_risk_at is not None
        and now >= order.sla_at_risk_at
    ):
        return SlaStatus.AT_RISK
    return SlaStatus.OK


def status_expression(now: datetime) -> ColumnElement[str]:
    """The SLA status as SQL, equal to :func:`status_of` row by row."""
    at = literal(now, UTCDateTime)
    reaction_late = and_(
        col(Order.reaction_due).is_not(None),
        func.coalesce(Order.reacted_at, at) > Order.reaction_due,
    )
    resolution_late = and_(
        col(Order.resolution_due).is_not(None),
        func.coalesce(Order.resolved_at, at) > Order.resolution_due,
    )
    return case(
        (
            or_(
                and_(col(Order.closed_at).is_not(None), col(Order.resolved_at).is_(None)),
                and_(col(Order.resolution_due).is_(None), col(Order.reaction_due).is_(None)),
            ),
            literal(SlaStatus.NONE.value),
        ),
        (or_(reaction_late, resolution_late), literal(SlaStatus.VIOLATED.value)),
        (
            and_(
                col(Order.resolved_at).is_(None),
                col(Order.sla_at_risk_at).is_not(None),
                at >= Order.sla_at_risk_at,
            ),
            literal(SlaStatus.AT_RISK.value),
        ),
        else_=literal(SlaStatus.OK.value),
    )


def parse_status(value: str) -> SlaStatus:
    text = value.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {
        "risk": SlaStatus.AT_RISK,
        "overdue": SlaStatus.VIOLATED,
        "late": SlaStatus.VIOLATED,
        "нарушен": SlaStatus.VIOLATED,
        "просрочена": SlaStatus.VIOLATED,
        "под_угрозой": SlaStatus.AT_RISK,
        "в_норме": SlaStatus.OK,
    }
    if text in aliases:
        return aliases[text]
    try:
        return SlaStatus(text)
    except ValueError:
        known = ", ".join(s.value for s in SlaStatus)
        raise InvalidInput(f"unknown SLA status {value!r}; known: {known}") from None


def set_policy(
    *,
    session: Session,
    criticality: Criticality,
    reaction_minutes: int,
    resolution_minutes: int,
    customer_id: int | None = None,
) -> SlaPolicy:
    """Create or change the policy for one criticality (and customer, or the default)."""
    if reaction_minutes <= 0 or resolution_minutes <= 0:
        raise InvalidInput("SLA times must be positive")
    if reaction_minutes > resolution_minutes:
        raise InvalidInput("the reaction time cannot be longer than the resolution time")
    if customer_id is not None and session.get(Company, customer_id) is None:
        raise NotFound("customer", f"#{customer_id}")
    owner = (
        col(SlaPolicy.customer_id).is_(None)
        if customer_id is None
        else col(SlaPolicy.customer_id) == customer_id
    )
    policy = session.exec(
        select(SlaPolicy).where(owner, SlaPolicy.criticality == criticality.value)
    ).first()
    if policy is None:
        policy = SlaPolicy(
            customer_id=customer_id,
            criticality=criticality.value,
            reaction_minutes=0,
            resolution_minutes=0,
        )
        session.add(policy)
    policy.reaction_minutes = reaction_minutes
    policy.resolution_minutes = resolution_minutes
    session.flush()
    return policy


def list_policies(session: Session) -> Sequence[tuple[SlaPolicy, str | None]]:
    query = (
        select(SlaPolicy, Company.name)
        .outerjoin(Company, Company.id == SlaPolicy.customer_id)
        .order_by(col(SlaPolicy.customer_id).is_not(None), Company.name, SlaPolicy.criticality)
    )
    return session.exec(query).all()
