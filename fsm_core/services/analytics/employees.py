"""Each employee's figures for a period, and their rank "N of M" among the active employees
who could have taken orders: an employee whose login is an office one (its roles hold no
technician's: a dispatcher, an admin, a storekeeper) is not ranked, and is listed only when
they did field work in the period.

Who is credited with what (the README's "Analytics" says the same for users):

* **closed**: an order whose work was finished in the period (it entered a done or closed
  stage; ``resolved_at`` on one of the period's local days) counts for its assignee. A
  reopened order counts once, on the day it was finished last; a cancelled one never; a
  reassigned one for whoever holds it. The orders without an assignee are the company's
  ``unassigned``: the employees' counts and that add up to the company's.
* **SLA violated**: of those, the ones that reacted after the reaction deadline or were
  finished after the resolution deadline; the share is of the closed ones (0–1).
* **hours**: the hours of the work entries started in the period in which the employee is
  an executor (each executor their own hours), to one decimal.
* **rating**: the mean of the ratings given in the period to orders on which the employee
  was an executor or is the assignee (an order's rating is the mean of its three scores).
* **first-time fix**: of the closed orders with an object, the share with no other order
  on that object created within ``first_time_fix_days`` after the work was finished
  (cancelled orders do not count as a return).
* **time to react / resolve**: the mean time from an order's creation to its reaction and
  to its finish, over the closed orders.
* **revenue**: the acts' totals (work, hours and materials, each line rounded as on the
  act) of the orders closed in the period, for their assignee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Integer, and_, case, exists, func, literal, not_, select, union, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from fsm_core.access import Role, requires
from fsm_core.models import (
    AppUser,
    Employee,
    MaterialUse,
    Order,
    UserRole,
    WorkEntry,
    WorkExecutor,
)
from fsm_core.models.catalog import Charge
from fsm_core.models.customer import OrderRating
from fsm_core.services.analytics.common import (
    NO_FILTERS,
    Filters,
    Period,
    cancelled,
    competition_ranks,
    done,
    hours_of,
    later_than,
    line_kopecks,
    plus_days,
    raw,
    rounded,
    seconds_between,
    share,
    shrunk,
    to_decimal,
    violated,
)
from fsm_core.services.analytics.gps_stats import GPS_METRICS, GpsStats, gps_ranks, gps_stats

METRICS: dict[str, tuple[str, str, str]] = {
    # key: (best: high|low, English name, Russian name)
    "closed": ("high", "closed orders", "закрыто заявок"),
    "sla_violated": ("low", "closed with an SLA violation", "закрыто с нарушением SLA"),
    "hours": ("high", "hours of work", "часов работы"),
    "rating": ("high", "average rating", "средняя оценка"),
    "first_time_fix": ("high", "first-time fix", "с первого раза"),
    "react": ("low", "mean time to react", "среднее время реакции"),
    "resolve": ("low", "mean time to resolve", "среднее время выполнения"),
    "revenue": ("high", "revenue on acts", "выручка по актам"),
}


@dataclass
class EmployeeStats:
    employee_id: int
    employee: str  # short name
    full_name: str
    position: str | None
    area: str | None
    hourly_rate: Decimal | None
    active: bool
    field_staff: bool = True  # False: an office login (no technician role)
    closed: int = 0
    sla_violated: int = 0
    hours: Decimal = Decimal("0.0")
    rated: int = 0  # rated orders
    rating: Decimal | None = None  # the plain mean
    rating_score: Decimal | None = None  # the shrunk mean the rank is taken on
    with_object: int = 0
    first_time: int = 0
    react_seconds: float | None = None
    resolve_seconds: float | None = None
    revenue: Decimal = Decimal("0.00")
    ranks: dict[str, int | None] = field(default_factory=dict)
    gps: GpsStats | None = None  # read when asked for, and when the phones said anything

    @property
    def ranked(self) -> bool:
        """Among those ranked: active, and not an office login."""
        return self.active and self.field_staff

    @property
    def sla_violated_share(self) -> Decimal | None:
        return share(self.sla_violated, self.closed)

    @property
    def first_time_fix(self) -> Decimal | None:
        return share(self.first_time, self.with_object)

    @property
    def react(self) -> timedelta | None:
        return None if self.react_seconds is None else timedelta(seconds=self.react_seconds)

    @property
    def resolve(self) -> timedelta | None:
        return None if self.resolve_seconds is None else timedelta(seconds=self.resolve_seconds)

    def as_json(self, ranked_of: int) -> dict[str, Any]:
        def hours(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds / 3600, 2)

        return {
            "employee": self.employee,
            "full_name": self.full_name,
            "position": self.position,
            "area": self.area,
            "active": self.active,
            "closed": self.closed,
            "closed_rank": self.ranks.get("closed"),
            "sla_violated": self.sla_violated,
            "sla_violated_share": _num(self.sla_violated_share),
            "sla_violated_rank": self.ranks.get("sla_violated"),
            "hours": float(self.hours),
            "hours_rank": self.ranks.get("hours"),
            "rating": _num(self.rating),
            "rated_orders": self.rated,
            "rating_score": _num(self.rating_score),
            "rating_rank": self.ranks.get("rating"),
            "first_time_fix": _num(self.first_time_fix),
            "first_time_fix_rank": self.ranks.get("first_time_fix"),
            "react_hours": hours(self.react_seconds),
            "react_rank": self.ranks.get("react"),
            "resolve_hours": hours(self.resolve_seconds),
            "resolve_rank": self.ranks.get("resolve"),
            "revenue": str(self.revenue),
            "revenue_rank": self.ranks.get("revenue"),
            "ranked_of": ranked_of if self.ranked else None,
            **self._gps_json(),
        }

    def _gps_json(self) -> dict[str, Any]:
        if self.gps is None:
            return {}
        found: dict[str, Any] = self.gps.as_json()
        for metric in GPS_METRICS:
            found[f"{metric}_rank"] = self.ranks.get(metric)
        return found


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass
class EmployeeReport:
    period: Period
    rows: list[EmployeeStats]
    ranked_of: int  # M: the active employees ranked
    company_closed: int
    unassigned_closed: int
    company_rating: Decimal | None  # the mean the ratings shrink toward
    company_rated: int
    prior_weight: Decimal

    def row(self, employee_id: int) -> EmployeeStats | None:
        return next((r for r in self.rows if r.employee_id == employee_id), None)


def _score_sum() -> Any:
    return OrderRating.promptness + OrderRating.accuracy + OrderRating.communication


@requires("reports.read")
def employee_report(
    *,
    session: Session,
    period: Period,
    filters: Filters = NO_FILTERS,
    first_time_fix_days: int | None = None,
    prior_weight: Decimal | None = None,
    gps: bool = False,
) -> EmployeeReport:
    """The figures of every active employee (and of any inactive one with work in the
    period) and their ranks among the active ones. The settings ``first_time_fix_days``
    and ``rating_prior_weight`` are read unless given. ``gps``: also what the phones say
    (verified arrivals, hours on site, kilometres; see :mod:`.gps_stats`), ranked among
    the active employees tracked in the period."""
    from fsm_core.services.settings import load

    if first_time_fix_days is None or prior_weight is None:
        company = load(session=session)
        if first_time_fix_days is None:
            first_time_fix_days = company.first_time_fix_days
        if prior_weight is None:
            prior_weight = company.rating_prior_weight
    where_orders = filters.orders()

    # the employees: every active one the filters keep, and later whoever did something
    people: dict[int, EmployeeStats] = {}
    for e in session.execute(select(Employee).where(*filters.employees())).scalars():
        assert e.id is not None
        people[e.id] = EmployeeStats(
            employee_id=e.id,
            employee=e.short_name,
            full_name=e.full_name,
            position=e.position,
            area=e.area,
            hourly_rate=e.hourly_rate,
            active=e.active,
        )

    office = set(
        session.execute(
            select(AppUser.employee_id).where(
                col(AppUser.employee_id).is_not(None),
                AppUser.active,
                ~exists().where(
                    UserRole.user_id == AppUser.id, UserRole.role == Role.TECHNICIAN.value
                ),
            )
        ).scalars()
    )
    for employee_id in office & people.keys():
        people[employee_id].field_staff = False

    # closed, violated, first-time fix, times: one pass over the period's finished orders
    later = aliased(Order)
    returned = exists().where(
        later.object_id == Order.object_id,
        later.id != Order.id,
        later.created_at > Order.resolved_at,
        later_than(session, later.created_at)
        <= plus_days(session, Order.resolved_at, first_time_fix_days),
        not_(cancelled(later)),
    )
    one = literal(1, Integer)
    closed_rows = session.execute(
        select(
            Order.assignee_id,
            func.count(),
            func.sum(case((violated(), one), else_=0)),
            func.sum(case((col(Order.object_id).is_not(None), one), else_=0)),
            func.sum(case((and_(col(Order.object_id).is_not(None), not_(returned)), one), else_=0)),
            func.avg(seconds_between(session, Order.created_at, Order.reacted_at)),
            func.avg(seconds_between(session, Order.created_at, Order.resolved_at)),
        )
        .where(done(), period.holds(Order.resolved_at), *where_orders)
        .group_by(Order.assignee_id)
    ).all()
    company_closed = unassigned = 0
    for assignee, n, bad, with_object, first, react, resolve in closed_rows:
        company_closed += n
        if assignee is None:
            unassigned += n
            continue
        row = people.get(assignee)
        if row is None:
            continue  # outside the employee filters
        row.closed, row.sla_violated = n, int(bad or 0)
        row.with_object, row.first_time = int(with_object or 0), int(first or 0)
        # to the second: SQLite's julianday() arithmetic is a float
        row.react_seconds = float(round(react)) if react is not None else None
        row.resolve_seconds = float(round(resolve)) if resolve is not None else None

    # hours: each executor's own hours on the work started in the period (the orders are
    # joined only to filter them: the index on started_at then answers alone)
    hours_query = (
        select(WorkExecutor.employee_id, func.sum(raw(WorkExecutor.hours)))
        .join(WorkEntry, col(WorkEntry.id) == WorkExecutor.work_entry_id)
        .where(period.holds(WorkEntry.started_at))
        .group_by(WorkExecutor.employee_id)
    )
    if where_orders:
        hours_query = hours_query.join(Order, col(Order.id) == WorkEntry.order_id).where(
            *where_orders
        )
    for employee_id, thousandths in session.execute(hours_query).all():
        if employee_id in people:
            people[employee_id].hours = hours_of(thousandths)

    # revenue: the acts of the orders closed in the period, for their assignee; the act's
    # lines (work, hours, materials) of just those orders, summed in one statement
    closed = (
        select(col(Order.id).label("order_id"), col(Order.assignee_id).label("assignee_id"))
        .where(done(), period.holds(Order.resolved_at), *where_orders)
        .cte("closed_orders")
    )
    closed_ids = select(closed.c.order_id)
    # the act's lines, each rounded to the kopeck as the act rounds it: a work entry's price
    # unless it is charged by the hour, each executor's hours unless it is charged at a
    # fixed price, and the materials (one flat union: no sum per work entry looked up)
    lines = union_all(
        select(
            col(WorkEntry.order_id).label("order_id"),
            line_kopecks(WorkEntry.quantity, WorkEntry.price).label("kopecks"),
        ).where(col(WorkEntry.order_id).in_(closed_ids), WorkEntry.charge != Charge.HOURS.value),
        select(WorkEntry.order_id, line_kopecks(WorkExecutor.hours, WorkExecutor.hourly_rate))
        .join(WorkEntry, col(WorkEntry.id) == WorkExecutor.work_entry_id)
        .where(col(WorkEntry.order_id).in_(closed_ids), WorkEntry.charge != Charge.FIXED.value),
        select(MaterialUse.order_id, line_kopecks(MaterialUse.quantity, MaterialUse.price)).where(
            col(MaterialUse.order_id).in_(closed_ids)
        ),
    ).subquery("act_lines")
    for assignee, kopecks in session.execute(
        select(closed.c.assignee_id, func.sum(lines.c.kopecks))
        .join(closed, closed.c.order_id == lines.c.order_id)
        .group_by(closed.c.assignee_id)
    ).all():
        if assignee in people:
            people[assignee].revenue = to_decimal(int(kopecks or 0))

    # ratings given in the period, for the assignee and every executor of the order
    rated = (
        select(OrderRating.order_id.label("order_id"), _score_sum().label("scores"))
        .join(Order, col(Order.id) == OrderRating.order_id)
        .where(period.holds(OrderRating.rated_at), *where_orders)
        .cte("rated")
    )
    took_part = union(
        select(col(Order.id).label("order_id"), col(Order.assignee_id).label("employee_id")).where(
            col(Order.assignee_id).is_not(None), col(Order.id).in_(select(rated.c.order_id))
        ),
        select(
            col(WorkEntry.order_id).label("order_id"),
            col(WorkExecutor.employee_id).label("employee_id"),
        )
        .join(WorkEntry, col(WorkEntry.id) == WorkExecutor.work_entry_id)
        .where(col(WorkEntry.order_id).in_(select(rated.c.order_id))),
    ).subquery("took_part")
    company_rated, company_scores = session.execute(
        select(func.count(), func.coalesce(func.sum(raw(rated.c.scores)), 0))
    ).one()
    rating_rows = session.execute(
        select(took_part.c.employee_id, func.count(), func.sum(raw(rated.c.scores)))
        .join(rated, rated.c.order_id == took_part.c.order_id)
        .group_by(took_part.c.employee_id)
    ).all()
    weight = Fraction(prior_weight)
    prior = Fraction(int(company_scores), 3 * company_rated) if company_rated else None
    scores: dict[int, Fraction | None] = {}
    for employee_id, n, total in rating_rows:
        row = people.get(employee_id)
        if row is None or not n:
            continue
        row.rated = n
        plain = Fraction(int(total), 3 * n)
        row.rating = rounded(plain)
        assert prior is not None  # a rated order makes the company's mean
        score = shrunk(Fraction(int(total), 3), n, prior=prior, weight=weight)
        row.rating_score = rounded(score)
        scores[employee_id] = score

    # who stays on the report: the active, and the inactive who did something
    rows = [r for r in people.values() if r.ranked or r.closed or r.hours or r.rated or r.revenue]
    active = [r for r in rows if r.ranked]
    metric_values: dict[str, dict[int, Any]] = {
        "closed": {r.employee_id: r.closed for r in active},
        "sla_violated": {r.employee_id: r.sla_violated_share for r in active},
        "hours": {r.employee_id: r.hours for r in active},
        "rating": {r.employee_id: scores.get(r.employee_id) for r in active},
        "first_time_fix": {r.employee_id: r.first_time_fix for r in active},
        "react": {r.employee_id: r.react_seconds for r in active},
        "resolve": {r.employee_id: r.resolve_seconds for r in active},
        "revenue": {r.employee_id: r.revenue for r in active},
    }
    for metric, by_employee in metric_values.items():
        ranks = competition_ranks(by_employee, best=METRICS[metric][0])
        for r in active:
            r.ranks[metric] = ranks[r.employee_id]
    if gps:
        tracked = gps_stats(
            session=session, period=period, employee_ids=[r.employee_id for r in rows]
        )
        for r in rows:
            r.gps = tracked.get(r.employee_id)
        for employee_id, places in gps_ranks(tracked, [r.employee_id for r in active]).items():
            people[employee_id].ranks.update(places)
    rows.sort(key=lambda r: (not r.ranked, r.ranks.get("closed") or 0, r.employee.casefold()))
    return EmployeeReport(
        period=period,
        rows=rows,
        ranked_of=len(active),
        company_closed=company_closed,
        unassigned_closed=unassigned,
        company_rating=rounded(prior),
        company_rated=int(company_rated),
        prior_weight=Decimal(prior_weight),
    )
