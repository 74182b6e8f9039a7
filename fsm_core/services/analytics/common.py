"""What every report shares: the period (local days), the filters, day and week buckets,
durations in SQL on either back-end, and the ranking rules.

Every figure is aggregated by the database (``GROUP BY``); Python only ranks the few
rows that come back (one per employee) and formats them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    and_,
    column,
    func,
    or_,
    select,
    type_coerce,
    values,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import open_to_all
from fsm_core.errors import InvalidInput
from fsm_core.models import CrewMember, Employee, Order, Stage, WorkEntry
from fsm_core.models.orders import StageCategory
from fsm_core.models.types import UTCDateTime

TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")
KOPECKS = Decimal(100)
MAX_DAYS = 3 * 366
"""The longest period a report covers (day buckets are sent to the database as rows)."""

OPEN_CATEGORIES = (StageCategory.NEW.value, StageCategory.ACTIVE.value, StageCategory.PAUSED.value)
DONE_CATEGORIES = (StageCategory.DONE.value, StageCategory.CLOSED.value)


@dataclass(frozen=True)
class Period:
    """Local calendar days ``since`` .. ``until`` (both included) in the zone ``tz``."""

    since: date
    until: date
    tz: tzinfo

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise InvalidInput(
                f"the period ends ({self.until:%d.%m.%Y}) before it starts ({self.since:%d.%m.%Y})",
                ru=f"период кончается ({self.until:%d.%m.%Y}) раньше, чем начинается "
                f"({self.since:%d.%m.%Y})",
            )
        if (self.until - self.since).days >= MAX_DAYS:
            raise InvalidInput(
                f"a report covers at most {MAX_DAYS} days",
                ru=f"отчёт охватывает не больше {MAX_DAYS} дней",
            )

    @property
    def start(self) -> datetime:
        """The UTC moment the first day starts."""
        return local_midnight(self.since, self.tz)

    @property
    def end(self) -> datetime:
        """The UTC moment after the last day (excluded)."""
        return local_midnight(self.until + timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def holds(self, column_: Any) -> ColumnElement[bool]:
        """``column_`` (a UTC moment) falls on one of the period's days."""
        return and_(column_ >= self.start, column_ < self.end)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class Filters:
    """What a report is narrowed to; None: no narrowing.

    ``object_ids`` are the object and everything under it in the tree (resolve with
    :func:`fsm_core.services.object_tree.descendant_ids`). ``area`` narrows to the
    employees of an area (участок) and the orders assigned to them; ``crew_id`` to the
    crew's orders and its members; ``work_type_id`` to orders with work of that type."""

    customer_id: int | None = None
    object_ids: tuple[int, ...] | None = None
    area: str | None = None
    crew_id: int | None = None
    criticality: str | None = None
    work_type_id: int | None = None

    def orders(self) -> list[ColumnElement[bool]]:
        """Conditions on ``orders``."""
        where: list[ColumnElement[bool]] = []
        if self.customer_id is not None:
            where.append(col(Order.customer_id) == self.customer_id)
        if self.object_ids is not None:
            where.append(col(Order.object_id).in_(self.object_ids))
        if self.criticality is not None:
            where.append(col(Order.criticality) == self.criticality)
        if self.crew_id is not None:
            where.append(col(Order.crew_id) == self.crew_id)
        if self.area is not None:
            where.append(
                col(Order.assignee_id).in_(select(Employee.id).where(Employee.area == self.area))
            )
        if self.work_type_id is not None:
            where.append(
                col(Order.id).in_(
                    select(WorkEntry.order_id).where(WorkEntry.work_type_id == self.work_type_id)
                )
            )
        return where

    def employees(self) -> list[ColumnElement[bool]]:
        """Conditions on ``employee``: who is ranked."""
        where: list[ColumnElement[bool]] = []
        if self.area is not None:
            where.append(col(Employee.area) == self.area)
        if self.crew_id is not None:
            where.append(
                col(Employee.id).in_(
                    select(CrewMember.employee_id).where(CrewMember.crew_id == self.crew_id)
                )
            )
        return where

    @property
    def any(self) -> bool:
        return any(getattr(self, f) is not None for f in self.__dataclass_fields__)


NO_FILTERS = Filters()


def category_of(stage_code: Any) -> Any:
    """The category of a stage, as a scalar subquery on ``stage``."""
    return select(Stage.category).where(Stage.code == stage_code).scalar_subquery()


def stages_in(categories: Sequence[str]) -> Any:
    return select(Stage.code).where(col(Stage.category).in_(categories))


def done(order: Any = Order) -> ColumnElement[bool]:
    """The order's work is finished (a done or closed stage, not cancelled) and when."""
    return and_(
        col(order.resolved_at).is_not(None), col(order.stage_code).in_(stages_in(DONE_CATEGORIES))
    )


def cancelled(order: Any = Order) -> ColumnElement[bool]:
    return and_(col(order.closed_at).is_not(None), col(order.resolved_at).is_(None))


def violated(order: Any = Order) -> ColumnElement[bool]:
    """A finished order missed its reaction or its resolution deadline (one finished
    without a recorded reaction, as an import may bring it, reacted when it was finished:
    at the latest)."""
    return or_(
        and_(
            col(order.reaction_due).is_not(None),
            func.coalesce(order.reacted_at, order.resolved_at) > order.reaction_due,
        ),
        and_(col(order.resolution_due).is_not(None), order.resolved_at > order.resolution_due),
    )


def has_sla(order: Any = Order) -> ColumnElement[bool]:
    return or_(col(order.reaction_due).is_not(None), col(order.resolution_due).is_not(None))


def raw(expr: Any) -> Any:
    """A column of integer kopecks or thousandths read as the integer it is stored as."""
    return type_coerce(expr, BigInteger)


def line_kopecks(quantity: Any, price: Any) -> Any:
    """An act line's amount in kopecks, rounded half up as :func:`fsm_core.values.line_amount`
    does: quantity (thousandths) × price (kopecks), to the nearest kopeck."""
    return (raw(quantity) * raw(price) + 500) // 1000


@open_to_all
def seconds_between(session: Session, start: Any, end: Any) -> Any:
    """``end - start`` in seconds (a float), on either back-end."""
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce((func.julianday(end) - func.julianday(start)) * 86400.0, Float)
    return type_coerce(func.extract("epoch", end - start), Float)


@open_to_all
def unindexed(session: Session, column_: Any) -> Any:
    """``column_`` as SQLite's planner will not read through its index (SQLite's unary
    ``+``), for a condition that selects most of the table while another, OR-ed one
    through another index, selects few; PostgreSQL's planner weighs them itself."""
    if session.get_bind().dialect.name == "sqlite":
        plain: Any = col(column_)
        return UnaryExpression(
            plain.expression, operator=operators.custom_op("+"), type_=plain.type
        )
    return column_


@open_to_all
def plus_days(session: Session, moment: Any, days: int) -> Any:
    """A UTC moment ``days`` later, comparable with stored moments (see
    :func:`later_than`)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(moment) + days
    return moment + func.make_interval(0, 0, 0, days)


@open_to_all
def later_than(session: Session, moment: Any) -> Any:
    """The stored moment ``moment`` as :func:`plus_days` compares it."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(moment)
    return moment


def to_decimal(kopecks: int | None) -> Decimal:
    return (Decimal(kopecks or 0) / KOPECKS).quantize(HUNDREDTH)


def hours_of(thousandths: int | None) -> Decimal:
    """Hours as the reference shows them: one decimal (623.6)."""
    return (Decimal(thousandths or 0) / 1000).quantize(TENTH, rounding=ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal | None:
    """``part / whole`` to four decimals (15.4 % is 0.1538); None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# --- buckets: the period's days and weeks, sent to the database as rows -------------------


@dataclass(frozen=True)
class Bucket:
    first: date  # the first local day in it
    start: datetime  # UTC
    end: datetime  # UTC, excluded


def buckets(period: Period, unit: str) -> list[Bucket]:
    """The period cut into local days or ISO weeks (Monday first; the first and last week
    cut at the period's ends)."""
    if unit not in ("day", "week"):
        raise InvalidInput(f"unknown bucket {unit!r}", hint="day or week")
    found: list[Bucket] = []
    day = period.since
    while day <= period.until:
        if unit == "day":
            following = day + timedelta(days=1)
        else:
            following = min(day + timedelta(days=7 - day.weekday()), period.until + timedelta(1))
        found.append(
            Bucket(day, local_midnight(day, period.tz), local_midnight(following, period.tz))
        )
        day = following
    return found


def bucket_table(period: Period, unit: str) -> Any:
    """The buckets as a derived table (``first``, ``start``, ``end``) to join on a range:
    exact for any time zone, daylight saving time included."""
    rows = [(b.first, b.start, b.end) for b in buckets(period, unit)]
    return (
        values(
            column("first", Date),
            column("start", UTCDateTime),
            column("end", UTCDateTime),
            name=f"{unit}s",
        )
        .data(rows)
        .cte(f"{unit}s")  # WITH days(first, start, "end") AS (VALUES ...): SQLite reads it too
    )


def in_bucket(table: Any, moment: Any) -> ColumnElement[bool]:
    return and_(moment >= table.c.start, moment < table.c.end)


# --- ranks ---------------------------------------------------------------------------------

K = TypeVar("K")


def competition_ranks(
    scores: dict[K, Any], *, best: str = "high", missing_last: bool = True
) -> dict[K, int | None]:
    """Standard competition ranking ("1224"): equal scores share a rank, and the next
    rank skips as many places as shared the one before (1, 1, 3). ``best``: "high" ranks
    the largest score first, "low" the smallest. A None score ranks after all the others
    (tied there) when ``missing_last``, else it has no rank; when nobody has a score,
    nobody has a rank."""
    present = [s for s in scores.values() if s is not None]
    if not present:
        return dict.fromkeys(scores)
    ordered = sorted(present, reverse=best == "high")
    first_place: dict[Any, int] = {}
    for place, score in enumerate(ordered, start=1):
        first_place.setdefault(score, place)
    last = len(present) + 1
    return {
        key: (first_place[s] if s is not None else (last if missing_last else None))
        for key, s in scores.items()
    }


def shrunk(total: Fraction, count: int, *, prior: Fraction, weight: Fraction) -> Fraction:
    """A Bayesian average: (C·m + Σ ratings) / (C + n), with C = ``weight`` and m = ``prior``
    (the company's mean). Few ratings stay near the company's mean; many speak for
    themselves."""
    return (weight * prior + total) / (weight + count)


def rounded(value: Fraction | None, places: Decimal = HUNDREDTH) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        places, rounding=ROUND_HALF_UP
    )


def now_or(end: datetime) -> datetime:
    """The moment a report of a period ending at ``end`` looks at: now, or the period's
    end if that is past."""
    return min(clock.now(), end)


@dataclass
class Table:
    """A report's rows for the front ends: column keys, headers in en/ru, and rows."""

    keys: list[str]
    headers: dict[str, tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def header(self, key: str, lang: str) -> str:
        en, ru = self.headers.get(key, (key, key))
        return ru if lang == "ru" else en


Formatter = Callable[[Any], str]
