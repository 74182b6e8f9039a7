"""SLA: reaction and resolution deadlines by criticality, and the status they give.

Each policy has a service calendar that decides when its clocks run (:data:`ALWAYS`,
around the clock; :data:`COMPANY`, the company's working hours from the ``company_hours``
setting less the holidays; or the contract's own weekly hours, ``mon-sat 08:00-20:00``,
less the holidays). Deadlines are that much of the calendar's open time after the order's
creation: an order created on a Sunday under "Mon–Fri 09:00–18:00" starts its clock on
Monday at 09:00. An order is *at risk* when less than ``sla_risk_share`` of its
resolution time (in the same open time) is left, *violated* when the reaction or the
resolution came (or is still missing) after its deadline. Cancelled orders have no SLA.
The status is never stored: :func:`status_of` and :func:`status_expression` derive it the
same way in Python and in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, func, literal, or_
from sqlmodel import Session, col, select

from fsm_core.access import requires
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Company, Criticality, Holiday, Order, SlaPolicy, SlaStatus
from fsm_core.models.types import UTCDateTime
from fsm_core.service_calendar import ServiceCalendar, WeeklyHours

if TYPE_CHECKING:
    from fsm_core.services.settings import CompanySettings

ALWAYS = "24/7"
COMPANY = "company"
_ALWAYS_NAMES = {"24/7", "24x7", "24*7", "always", "круглосуточно"}
_COMPANY_NAMES = {"company", "компания", "working hours", "рабочее время"}
AROUND_THE_CLOCK = ServiceCalendar()
_HOURS_HINT = "e.g. 'mon-fri 09:00-18:00', 'пн-сб 8-20; вс 10-16', 'daily 08:00-22:00'"


@dataclass(frozen=True)
class Deadlines:
    reaction_due: datetime | None
    resolution_due: datetime | None
    at_risk_at: datetime | None


# --- calendars --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def parse_hours(text: str) -> WeeklyHours:
    """Weekly opening hours as people type them, several separated by ``;``:
    ``mon-fri 09:00-18:00``, ``пн-пт 9-18; сб 10-15``, ``daily 08:00-20:00``,
    ``mon-fri 20:00-08:00`` (nights). Read by the working-time pattern reader."""
    from fsm_core.services.working_time import DAY_CODES, parse_pattern

    spans: list[tuple[int, time, time]] = []
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        raise InvalidInput("calendar: give days and hours", hint=_HOURS_HINT)
    for part in parts:
        try:
            specs, first_day = parse_pattern(part)
        except InvalidInput as exc:  # "working hours '...': why" said of the calendar
            reason = exc.message.split(": ", 1)[-1]
            raise InvalidInput(f"calendar {part!r}: {reason}", hint=_HOURS_HINT) from None
        weekly = [re.fullmatch(r"FREQ=WEEKLY;BYDAY=([A-Z,]+)", spec.rule) for spec in specs]
        if first_day is not None or not all(
            found or spec.rule == "FREQ=DAILY" for found, spec in zip(weekly, specs, strict=True)
        ):
            raise InvalidInput(
                f"calendar {part!r}: a service calendar takes days of the week and hours",
                hint=_HOURS_HINT,
            )
        for found, spec in zip(weekly, specs, strict=True):
            days = (
                [DAY_CODES.index(code) for code in found.group(1).split(",")]
                if found
                else list(range(7))
            )
            spans.extend((day, spec.start_time, spec.end_time) for day in days)
    return WeeklyHours.of(spans)


def parse_calendar(text: str) -> str:
    """A policy's calendar as stored: ``24/7``, ``company``, or the hours as typed (checked)."""
    value = " ".join(text.split())
    lowered = value.lower()
    if lowered in _ALWAYS_NAMES:
        return ALWAYS
    if lowered in _COMPANY_NAMES:
        return COMPANY
    parse_hours(value)
    return value


def describe_hours(hours: WeeklyHours, *, lang: str = "en") -> str:
    """``Mon–Fri 09:00–18:00, Sat 10:00–15:00`` (or in Russian: ``пн–пт 09:00–18:00``)."""
    from fsm_core.services.working_time import DAY_CODES, describe_days

    groups: dict[tuple[tuple[time, time], ...], list[str]] = {}
    for index, spans in enumerate(hours.days):
        if spans:
            groups.setdefault(spans, []).append(DAY_CODES[index])
    parts = []
    for spans, codes in groups.items():
        times = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in spans)
        days = describe_days(codes, lang) if len(codes) < 7 else _every_day(lang)
        parts.append(f"{days} {times}")
    return ", ".join(parts)


def _every_day(lang: str) -> str:
    return "ежедневно" if lang == "ru" else "daily"


def describe_calendar(
    spec: str, *, company_hours: str, lang: str = "en", short: bool = False
) -> str:
    """How ``sla list`` names a calendar; ``short``: only when the clock runs, as an
    order shows it (``пн–пт 09:00–18:00``, ``24/7``)."""
    if spec == ALWAYS:
        return "24/7" if lang != "ru" or short else "круглосуточно (24/7)"
    if spec == COMPANY and short:
        return describe_hours(parse_hours(company_hours), lang=lang)
    if spec == COMPANY:
        hours = describe_hours(parse_hours(company_hours), lang=lang)
        return f"рабочее время компании ({hours})" if lang == "ru" else f"company hours ({hours})"
    return describe_hours(parse_hours(spec), lang=lang)


class Calendars:
    """The service calendars policies name, built once per action (or import) from the
    company's zone, its working hours and its holidays."""

    def __init__(self, *, tz: tzinfo, company_hours: str, holidays: Iterable[date]) -> None:
        self.tz = tz
        self.company_hours = company_hours
        self.holidays = frozenset(holidays)
        self._built: dict[str, ServiceCalendar] = {ALWAYS: AROUND_THE_CLOCK}

    def get(self, spec: str | None) -> ServiceCalendar:
        key = spec or ALWAYS
        found = self._built.get(key)
        if found is None:
            hours = parse_hours(self.company_hours if key == COMPANY else key)
            found = ServiceCalendar(hours=hours, tz=self.tz, holidays=self.holidays)
            self._built[key] = found
        return found


@requires("settings.read")
def load_calendars(*, session: Session, settings: CompanySettings | None = None) -> Calendars:
    """The calendars as they are now: the company's zone and hours (from ``settings``, read
    if not given) and every holiday."""
    if settings is None:
        from fsm_core.services import settings as company_settings

        settings = company_settings.load(session=session)
    holidays = session.exec(select(Holiday.day)).all()
    return Calendars(tz=settings.tz, company_hours=settings.company_hours, holidays=holidays)


# --- deadlines --------------------------------------------------------------------------


@requires("settings.read")
def policy_for(*, session: Session, customer_id: int, criticality: str) -> SlaPolicy | None:
    """The customer's own policy for this criticality, else the company default."""
    rows = session.exec(
        select(SlaPolicy).where(
            SlaPolicy.criticality == criticality,
            or_(col(SlaPolicy.customer_id) == customer_id, col(SlaPolicy.customer_id).is_(None)),
        )
    ).all()
    own = [p for p in rows if p.customer_id is not None]
    return own[0] if own else (rows[0] if rows else None)


def risk_offset(window: timedelta, risk_share: Decimal) -> timedelta:
    """How far into an SLA window an order becomes *at risk*: when only ``risk_share`` of
    the window is left (the one place this arithmetic is done)."""
    return window - window * float(risk_share)


def at_risk_moment(
    start: datetime,
    resolution_due: datetime | None,
    risk_share: Decimal,
    calendar: ServiceCalendar = AROUND_THE_CLOCK,
) -> datetime | None:
    """When only ``risk_share`` of the open time from ``start`` to the deadline is left."""
    if resolution_due is None:
        return None
    window = calendar.between(start, resolution_due)
    if window <= timedelta(0):
        return resolution_due
    return calendar.add(start, risk_offset(window, risk_share))


def compute_deadlines(
    *,
    created_at: datetime,
    policy: SlaPolicy | None,
    risk_share: Decimal,
    calendar: ServiceCalendar = AROUND_THE_CLOCK,
) -> Deadlines:
    """The policy's deadlines for an order created at ``created_at``, in ``calendar``'s
    open time (the policy's own calendar, see :meth:`Calendars.get`)."""
    if policy is None:
        return Deadlines(None, None, None)
    resolution = timedelta(minutes=policy.resolution_minutes)
    return Deadlines(
        calendar.add(created_at, timedelta(minutes=policy.reaction_minutes)),
        calendar.add(created_at, resolution),
        calendar.add(created_at, resolution - resolution * float(risk_share)),
    )


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


@requires("settings.edit")
def set_policy(
    *,
    session: Session,
    criticality: Criticality,
    reaction_minutes: int,
    resolution_minutes: int,
    customer_id: int | None = None,
    calendar: str | None = None,
) -> SlaPolicy:
    """Create or change the policy for one criticality (and customer, or the default).

    ``calendar`` (see :func:`parse_calendar`): None keeps the policy's (24/7 for a new one).
    New orders, and orders whose criticality changes later, use the policy as it is then;
    deadlines already computed stay."""
    spec = parse_calendar(calendar) if calendar is not None else None
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
    if spec is not None:
        policy.calendar = spec
    session.flush()
    return policy


@requires("settings.read")
def list_policies(*, session: Session) -> Sequence[tuple[SlaPolicy, str | None]]:
    query = (
        select(SlaPolicy, Company.name)
        .outerjoin(Company, Company.id == SlaPolicy.customer_id)
        .order_by(col(SlaPolicy.customer_id).is_not(None), Company.name, SlaPolicy.criticality)
    )
    return session.exec(query).all()
