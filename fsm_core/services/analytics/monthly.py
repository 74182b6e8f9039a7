"""The management report's figures in one piece: what :mod:`fsm_core.documents.management`
lays out as the PDF an owner forwards to a partner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.services.analytics import company as co
from fsm_core.services.analytics.common import NO_FILTERS, Filters, Period, now_or
from fsm_core.services.analytics.employees import EmployeeReport, employee_report


@dataclass(frozen=True)
class ManagementData:
    company: str
    currency: str
    period: Period
    made_at: datetime
    summary: co.Summary
    employees: EmployeeReport
    days: list[co.DailyCount]
    sla_weeks: list[co.SlaRow]
    sla_customers: list[co.SlaRow]
    sla_criticality: list[co.SlaRow]
    backlog: list[co.BacklogRow]
    objects: list[co.ObjectRow]
    materials: list[co.MaterialRow]
    ratings: co.RatingsDistribution
    age_names: dict[str, tuple[str, str]]  # the backlog's ages: key → (English, Russian)


@requires("reports.read")
def management_data(
    *, session: Session, period: Period, filters: Filters = NO_FILTERS
) -> ManagementData:
    """Every figure of the monthly management report, read in one session."""
    from fsm_core.services.settings import load

    settings = load(session=session)
    volume = co.volume(session=session, period=period, filters=filters)
    return ManagementData(
        company=settings["company_name"] or settings["company_legal_name"],
        currency=settings["currency"],
        period=period,
        made_at=clock.now(),
        summary=co.summary(session=session, period=period, filters=filters),
        employees=employee_report(session=session, period=period, filters=filters),
        days=co.per_bucket(volume, period, "day"),
        sla_weeks=co.sla_compliance(session=session, period=period, by="week", filters=filters),
        sla_customers=co.sla_compliance(
            session=session, period=period, by="customer", filters=filters
        ),
        sla_criticality=co.sla_compliance(
            session=session, period=period, by="criticality", filters=filters
        ),
        backlog=co.backlog(session=session, at=now_or(period.end), filters=filters),
        objects=co.top_objects(session=session, period=period, filters=filters, limit=10),
        materials=co.materials(session=session, period=period, filters=filters)[:10],
        ratings=co.ratings_distribution(session=session, period=period, filters=filters),
        age_names={key: (en, ru) for key, en, ru, _ in co.AGES},
    )
