"""The company's figures: orders received and closed per day or week, the backlog by age,
SLA compliance, the objects that break most, materials used, and the ratings given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, not_, or_, select, union_all
from sqlmodel import Session, col

from fsm_core.access import requires
from fsm_core.models import (
    Company,
    Item,
    MaterialUse,
    Order,
    ServiceObject,
    Warehouse,
)
from fsm_core.models.customer import OrderRating
from fsm_core.services.analytics.common import (
    DONE_CATEGORIES,
    NO_FILTERS,
    Filters,
    Period,
    bucket_table,
    cancelled,
    done,
    has_sla,
    in_bucket,
    line_kopecks,
    now_or,
    raw,
    rounded,
    share,
    stages_in,
    to_decimal,
    unindexed,
    violated,
)

ONE = literal(1, Integer)


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, ONE), else_=0)), 0)


@dataclass(frozen=True)
class VolumeRow:
    first: date  # the bucket's first day
    kind: str  # received | closed
    criticality: str
    stage: str  # the order's stage now
    orders: int


@requires("reports.read")
def volume(
    *, session: Session, period: Period, filters: Filters = NO_FILTERS, unit: str = "day"
) -> list[VolumeRow]:
    """Orders received (created) and closed (work finished) per day or week, by their
    criticality and their stage now."""
    found: list[VolumeRow] = []
    for kind, moment, extra in (
        ("received", Order.created_at, []),
        ("closed", Order.resolved_at, [done()]),
    ):
        buckets = bucket_table(period, unit)
        rows = session.execute(
            select(buckets.c.first, Order.criticality, Order.stage_code, func.count())
            .select_from(buckets)
            .join(Order, in_bucket(buckets, moment))
            .where(*extra, *filters.orders())
            .group_by(buckets.c.first, Order.criticality, Order.stage_code)
        ).all()
        found.extend(VolumeRow(_day(f), kind, c, s, n) for f, c, s, n in rows)
    found.sort(key=lambda r: (r.first, r.kind, r.criticality, r.stage))
    return found


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class DailyCount:
    first: date
    received: int
    closed: int


def per_bucket(rows: list[VolumeRow], period: Period, unit: str) -> list[DailyCount]:
    """:func:`volume`'s rows summed per bucket, every bucket present (zeros too)."""
    from fsm_core.services.analytics.common import buckets

    received: dict[date, int] = {}
    closed: dict[date, int] = {}
    for r in rows:
        target = received if r.kind == "received" else closed
        target[r.first] = target.get(r.first, 0) + r.orders
    return [
        DailyCount(b.first, received.get(b.first, 0), closed.get(b.first, 0))
        for b in buckets(period, unit)
    ]


@requires("reports.read")
def daily_counts(
    *, session: Session, period: Period, filters: Filters = NO_FILTERS, unit: str = "day"
) -> list[DailyCount]:
    """The orders received and closed per day or week, every bucket present: what
    :func:`per_bucket` makes of :func:`volume`, in one query of two small aggregates (a
    row a bucket and kind), each read from an index alone (``ix_orders_created_at``;
    ``ix_orders_resolved_stage``, which holds the stage that says the order is done).

    The done stages are read first and sent as a list: PostgreSQL planned the subquery
    :func:`done` uses as a join that compared every done order with every day (2.8 million
    pairs for a month of 100,000 orders: 0.5–1.3 s instead of 15–45 ms)."""
    from fsm_core.services.analytics.common import buckets as cut

    done_stages = list(session.execute(stages_in(DONE_CATEGORIES)).scalars())
    table = bucket_table(period, unit)
    per_kind = [
        select(table.c.first, literal(kind), func.count())
        .select_from(table)
        .join(Order, in_bucket(table, moment))
        .where(*extra, *filters.orders())
        .group_by(table.c.first)
        for kind, moment, extra in (
            ("received", Order.created_at, []),
            (
                "closed",
                Order.resolved_at,
                [col(Order.resolved_at).is_not(None), col(Order.stage_code).in_(done_stages)],
            ),
        )
    ]
    counts: dict[tuple[date, str], int] = {
        (_day(first), kind): int(n) for first, kind, n in session.execute(union_all(*per_kind))
    }
    return [
        DailyCount(
            b.first, counts.get((b.first, "received"), 0), counts.get((b.first, "closed"), 0)
        )
        for b in cut(period, unit)
    ]


AGES: tuple[tuple[str, str, str, int | None], ...] = (
    # key, English, Russian, days (None: older)
    ("under_1d", "under a day", "меньше суток", 1),
    ("1_3d", "1–3 days", "1–3 дня", 3),
    ("3_7d", "3–7 days", "3–7 дней", 7),
    ("7_30d", "7–30 days", "7–30 дней", 30),
    ("over_30d", "over 30 days", "больше 30 дней", None),
)


@dataclass(frozen=True)
class BacklogRow:
    age: str
    criticality: str
    orders: int
    violated: int


@requires("reports.read")
def backlog(*, session: Session, at: datetime, filters: Filters = NO_FILTERS) -> list[BacklogRow]:
    """The orders open at ``at`` (received before it, neither finished nor cancelled by
    then, as their timestamps say now) by age and criticality; ``violated``: already past
    a deadline at ``at``."""
    age = case(
        *[
            (Order.created_at > at - timedelta(days=days), literal(key))
            for key, _, _, days in AGES
            if days is not None
        ],
        else_=literal(AGES[-1][0]),
    )
    late = or_(
        and_(
            col(Order.reaction_due).is_not(None),
            Order.reaction_due < at,
            or_(col(Order.reacted_at).is_(None), Order.reacted_at > Order.reaction_due),
        ),
        and_(col(Order.resolution_due).is_not(None), Order.resolution_due < at),
    )
    still_open = and_(
        # on SQLite through the index of the finished moment (the few not finished by
        # then), not of the received one (every order before ``at``): 250–370 → 27 ms on
        # a month's end in 100,000 orders
        unindexed(session, Order.created_at) < at,
        or_(col(Order.resolved_at).is_(None), Order.resolved_at >= at),
        or_(col(Order.closed_at).is_(None), Order.closed_at >= at),
    )
    rows = session.execute(
        select(age, Order.criticality, func.count(), _count_if(late))
        .where(still_open, *filters.orders())
        .group_by(age, Order.criticality)
    ).all()
    order = {key: i for i, (key, *_) in enumerate(AGES)}
    found = [BacklogRow(a, c, n, int(v)) for a, c, n, v in rows]
    found.sort(key=lambda r: (order[r.age], r.criticality))
    return found


@dataclass(frozen=True)
class SlaRow:
    key: Any  # a customer's name, a criticality, or a bucket's first day
    closed: int
    with_sla: int
    violated: int

    @property
    def compliance(self) -> Decimal | None:
        """The share of the closed orders with a deadline that met it (0–1)."""
        return share(self.with_sla - self.violated, self.with_sla)


@requires("reports.read")
def sla_compliance(
    *, session: Session, period: Period, by: str, filters: Filters = NO_FILTERS
) -> list[SlaRow]:
    """Of the orders closed in the period: how many had a deadline and how many missed
    one, by ``customer``, ``criticality``, ``day`` or ``week``."""
    measures = (func.count(), _count_if(has_sla()), _count_if(violated()))
    where = (done(), *filters.orders())
    if by == "customer":
        query = (
            select(Company.name, *measures)
            .join(Company, col(Company.id) == Order.customer_id)
            .where(period.holds(Order.resolved_at), *where)
            .group_by(Company.id, Company.name)
            .order_by(Company.name)
        )
    elif by == "criticality":
        query = (
            select(Order.criticality, *measures)
            .where(period.holds(Order.resolved_at), *where)
            .group_by(Order.criticality)
            .order_by(Order.criticality)
        )
    elif by in ("day", "week"):
        buckets = bucket_table(period, by)
        query = (
            select(buckets.c.first, *measures)
            .select_from(buckets)
            .join(Order, in_bucket(buckets, Order.resolved_at))
            .where(*where)
            .group_by(buckets.c.first)
            .order_by(buckets.c.first)
        )
    else:
        from fsm_core.errors import InvalidInput

        raise InvalidInput(f"unknown grouping {by!r}", hint="customer, criticality, day or week")
    rows = [
        SlaRow(_day(k) if by in ("day", "week") else k, n, int(s), int(v))
        for k, n, s, v in session.execute(query).all()
    ]
    return rows


@dataclass(frozen=True)
class ObjectRow:
    object_id: int
    object: str
    customer: str
    address: str | None
    orders: int
    closed: int
    violated: int


@requires("reports.read")
def top_objects(
    *, session: Session, period: Period, filters: Filters = NO_FILTERS, limit: int = 10
) -> list[ObjectRow]:
    """The objects with the most orders received in the period (repeat failures); the
    cancelled ones are left out."""
    rows = session.execute(
        select(
            ServiceObject.id,
            ServiceObject.name,
            Company.name,
            ServiceObject.address,
            func.count(),
            _count_if(done()),
            _count_if(and_(done(), violated())),
        )
        .join(ServiceObject, col(ServiceObject.id) == Order.object_id)
        .join(Company, col(Company.id) == ServiceObject.customer_id)
        .where(period.holds(Order.created_at), not_(cancelled()), *filters.orders())
        .group_by(ServiceObject.id, ServiceObject.name, Company.name, ServiceObject.address)
        .order_by(func.count().desc(), ServiceObject.name)
        .limit(limit)
    ).all()
    return [ObjectRow(i, o, c, a, n, int(d), int(v)) for i, o, c, a, n, d, v in rows]


@dataclass(frozen=True)
class MaterialRow:
    item: str
    warehouse: str
    unit: str
    quantity: Decimal
    cost: Decimal
    orders: int


@requires("reports.read")
def materials(
    *, session: Session, period: Period, filters: Filters = NO_FILTERS
) -> list[MaterialRow]:
    """Materials written off against orders in the period, by item and warehouse, with
    their cost at the prices kept on the orders (each line rounded as on the act)."""
    rows = session.execute(
        select(
            Item.name,
            Warehouse.name,
            Item.unit,
            func.sum(raw(MaterialUse.quantity)),
            func.sum(line_kopecks(MaterialUse.quantity, MaterialUse.price)),
            func.count(func.distinct(MaterialUse.order_id)),
        )
        .join(Item, col(Item.id) == MaterialUse.item_id)
        .join(Warehouse, col(Warehouse.id) == MaterialUse.warehouse_id)
        .join(Order, col(Order.id) == MaterialUse.order_id)
        .where(period.holds(MaterialUse.created_at), *filters.orders())
        .group_by(Item.id, Item.name, Item.unit, Warehouse.id, Warehouse.name)
        .order_by(func.sum(line_kopecks(MaterialUse.quantity, MaterialUse.price)).desc())
    ).all()
    return [
        MaterialRow(i, w, u, (Decimal(int(q)) / 1000).quantize(Decimal("0.001")), to_decimal(k), n)
        for i, w, u, q, k, n in rows
    ]


SCORES = ("promptness", "accuracy", "communication", "overall")


@dataclass(frozen=True)
class RatingsDistribution:
    counts: dict[str, dict[int, int]]  # score name (and "overall") → {1..5: orders}
    rated: int
    mean: Decimal | None

    def as_json(self) -> dict[str, Any]:
        return {
            "rated": self.rated,
            "mean": None if self.mean is None else float(self.mean),
            **{k: {str(s): n for s, n in v.items()} for k, v in self.counts.items()},
        }


@requires("reports.read")
def ratings_distribution(
    *, session: Session, period: Period, filters: Filters = NO_FILTERS
) -> RatingsDistribution:
    """How many orders rated in the period got each score, per criterion and overall (the
    order's mean rounded half up: 4.33 is a 4, 4.67 a 5)."""
    total = raw(OrderRating.promptness + OrderRating.accuracy + OrderRating.communication)
    overall = (total * 2 + 3) // 6
    counts: dict[str, dict[int, int]] = {k: dict.fromkeys(range(1, 6), 0) for k in SCORES}
    rated, scores = 0, 0
    base = (
        select()
        .select_from(OrderRating)
        .join(Order, col(Order.id) == OrderRating.order_id)
        .where(period.holds(OrderRating.rated_at), *filters.orders())
    )
    for name, expr in (
        ("promptness", OrderRating.promptness),
        ("accuracy", OrderRating.accuracy),
        ("communication", OrderRating.communication),
        ("overall", overall),
    ):
        for score, n in session.execute(base.add_columns(expr, func.count()).group_by(expr)).all():
            counts[name][int(score)] = n
    rated, scores = session.execute(
        base.add_columns(func.count(), func.coalesce(func.sum(total), 0))
    ).one()
    mean = rounded(Fraction(int(scores), 3 * rated)) if rated else None
    return RatingsDistribution(counts, int(rated), mean)


@dataclass(frozen=True)
class Summary:
    received: int
    closed: int
    cancelled: int
    violated: int
    with_sla: int
    open_now: int
    revenue: Decimal
    materials: Decimal

    @property
    def compliance(self) -> Decimal | None:
        return share(self.with_sla - self.violated, self.with_sla)


@requires("reports.read")
def summary(*, session: Session, period: Period, filters: Filters = NO_FILTERS) -> Summary:
    """The period's headline figures."""
    from fsm_core.models import WorkEntry, WorkExecutor
    from fsm_core.models.catalog import Charge

    where = filters.orders()
    received = session.execute(
        select(func.count()).where(period.holds(Order.created_at), *where)
    ).scalar_one()
    closed, with_sla, bad = session.execute(
        select(func.count(), _count_if(has_sla()), _count_if(violated())).where(
            done(), period.holds(Order.resolved_at), *where
        )
    ).one()
    gone = session.execute(
        select(func.count()).where(cancelled(), period.holds(Order.closed_at), *where)
    ).scalar_one()
    at = now_or(period.end)
    open_now = sum(r.orders for r in backlog(session=session, at=at, filters=filters))
    closed_here = and_(done(), period.holds(Order.resolved_at), *where)
    kopecks = 0
    for query in (
        select(func.sum(line_kopecks(WorkEntry.quantity, WorkEntry.price)))
        .join(Order, col(Order.id) == WorkEntry.order_id)
        .where(closed_here, WorkEntry.charge != Charge.HOURS.value),
        select(func.sum(line_kopecks(WorkExecutor.hours, WorkExecutor.hourly_rate)))
        .join(WorkEntry, col(WorkEntry.id) == WorkExecutor.work_entry_id)
        .join(Order, col(Order.id) == WorkEntry.order_id)
        .where(closed_here, WorkEntry.charge != Charge.FIXED.value),
    ):
        kopecks += int(session.execute(query).scalar() or 0)
    material_kopecks = int(
        session.execute(
            select(func.sum(line_kopecks(MaterialUse.quantity, MaterialUse.price)))
            .join(Order, col(Order.id) == MaterialUse.order_id)
            .where(closed_here)
        ).scalar()
        or 0
    )
    return Summary(
        received=int(received),
        closed=int(closed),
        cancelled=int(gone),
        violated=int(bad),
        with_sla=int(with_sla),
        open_now=open_now,
        revenue=to_decimal(kopecks + material_kopecks),
        materials=to_decimal(material_kopecks),
    )
