"""The reports as tables for the front ends: columns with English and Russian headers and a
kind that says how a cell reads (a share as a percentage, a rank as "2 of 16"), rows of
typed values (Decimal money, int counts, dates) for files, and the period and filters
read from what a person types."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InvalidInput
from fsm_core.services.analytics import company as co
from fsm_core.services.analytics.common import HUNDREDTH, Filters, Period, month_of
from fsm_core.services.analytics.employees import METRICS, EmployeeReport, EmployeeStats
from fsm_core.services.analytics.order_stats import OrderStats

RANKED_AS = {"sla_violated_share": "sla_violated", "resolve": "resolve", "react": "react"}
"""A column whose rank is named after its metric rather than after itself."""

REPORTS = ("employees", "employee", "orders", "sla", "objects", "materials", "ratings")


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    ru: str
    kind: str = "text"  # text int decimal share hours money rank date duration

    def header(self, lang: str) -> str:
        return self.ru if lang == "ru" else self.en


@dataclass
class ReportTable:
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    ranked_of: int | None = None  # M of the "N of M" ranks

    @classmethod
    def of(cls, columns: list[Column], rows: Sequence[Any]) -> ReportTable:
        """Each column read from the attribute of its key (the rows' own names)."""
        return cls(columns, [{c.key: getattr(r, c.key) for c in columns} for r in rows])

    def headers(self, lang: str) -> list[str]:
        return [c.header(lang) for c in self.columns]

    def records(self, lang: str) -> list[dict[str, Any]]:
        """Rows keyed by the headers in ``lang``, with typed values (for CSV and Excel)."""
        return [
            {c.header(lang): _file_value(row.get(c.key), c.kind) for c in self.columns}
            for row in self.rows
        ]

    def compact(self) -> ReportTable:
        """For a terminal: each rank beside its figure ("6 1/12") rather than a column of
        its own."""
        keys = {c.key for c in self.columns}
        columns = [c for c in self.columns if c.kind != "rank"]
        table = ReportTable(
            [Column(c.key, c.en, c.ru, "ranked" if f"{c.key}_rank" in keys or
                    f"{RANKED_AS.get(c.key, '')}_rank" in keys else c.kind) for c in columns],
            ranked_of=self.ranked_of,
        )  # fmt: skip
        kinds = {c.key: c.kind for c in self.columns}
        for row in self.rows:
            record = dict(row)
            for c in columns:
                rank = row.get(f"{c.key}_rank", row.get(f"{RANKED_AS.get(c.key, '')}_rank"))
                if f"{c.key}_rank" in keys or f"{RANKED_AS.get(c.key, '')}_rank" in keys:
                    record[c.key] = (row.get(c.key), kinds[c.key], rank)
            table.rows.append(record)
        return table

    def cells(self, lang: str) -> list[list[str]]:
        """Rows as people read them."""
        return [
            [cell_text(row.get(c.key), c.kind, lang, self.ranked_of) for c in self.columns]
            for row in self.rows
        ]


def _file_value(value: Any, kind: str) -> Any:
    if isinstance(value, timedelta):
        return (Decimal(value.total_seconds()) / 3600).quantize(HUNDREDTH)  # hours
    return value


def cell_text(value: Any, kind: str, lang: str, ranked_of: int | None = None) -> str:
    from fsm_core.formatting import duration, number

    if kind == "ranked":
        shown, inner, rank = value
        text = cell_text(shown, inner, lang)
        return text if rank is None or not ranked_of else f"{text} {rank}/{ranked_of}"
    if value is None:
        return "—"
    if kind == "share":
        return number(Decimal(value) * 100, lang=lang, digits=1) + " %"
    if kind == "money":
        return number(value, lang=lang, digits=2)
    if kind == "hours":
        return number(value, lang=lang, digits=1)
    if kind == "decimal":
        return number(value, lang=lang, digits=2)
    if kind == "rank":
        of = "из" if lang == "ru" else "of"
        return f"{value} {of} {ranked_of}" if ranked_of else str(value)
    if kind == "duration":
        return duration(value, lang=lang)
    if kind == "date":
        return f"{value:%d.%m.%Y}" if lang == "ru" else value.isoformat()
    return str(value)


# --- what a person types -----------------------------------------------------------------


@requires("reports.read")
def read_period(*, session: Session, since: str | None, until: str | None) -> Period:
    """``--since`` / ``--until`` as local days; the default is the last full month (the
    current one when only ``--since`` is given, up to today)."""
    from fsm_core.services.settings import load
    from fsm_core.timeparse import parse_date

    tz = load(session=session).tz
    today = clock.now().astimezone(tz).date()
    first = parse_date(since, tz=tz, field="since") if since else None
    last = parse_date(until, tz=tz, field="until") if until else None
    if first is None and last is None:
        first, last = month_of(today.replace(day=1) - timedelta(days=1))
    elif first is None:
        assert last is not None
        first = month_of(last)[0]
    elif last is None:
        last = max(today, first)
    return Period(first, last, tz)


@requires("reports.read")
def read_filters(
    *,
    session: Session,
    customer: str | None = None,
    object_: str | None = None,
    area: str | None = None,
    crew: str | None = None,
    criticality: str | None = None,
    work_type: str | None = None,
) -> Filters:
    """The filters from names as people type them (each resolved as everywhere else)."""
    from fsm_core.services import lookup
    from fsm_core.services.object_tree import descendant_ids
    from fsm_core.vocabulary import parse_criticality

    customer_id = lookup.resolve_company(session=session, ref=customer).id if customer else None
    object_ids = None
    if object_:
        found = lookup.resolve_object(session=session, ref=object_, customer_id=customer_id)
        assert found.id is not None
        object_ids = tuple(descendant_ids(session=session, object_ids=[found.id]))
    if area is not None and not area.strip():
        raise InvalidInput("--area: give an area's name", ru="--area: укажите участок")
    return Filters(
        customer_id=customer_id,
        object_ids=object_ids,
        area=" ".join(area.split()) if area else None,
        crew_id=lookup.resolve_crew(session=session, ref=crew).id if crew else None,
        criticality=parse_criticality(criticality).value if criticality else None,
        work_type_id=(
            lookup.resolve_work_type(session=session, ref=work_type).id if work_type else None
        ),
    )


# --- the tables --------------------------------------------------------------------------

EMPLOYEE_COLUMNS = [
    Column("employee", "Employee", "Сотрудник"),
    Column("closed", "Closed", "Закрыто", "int"),
    Column("closed_rank", "Rank", "Место", "rank"),
    Column("sla_violated_share", "SLA violated", "С нарушением SLA", "share"),
    Column("sla_violated_rank", "Rank", "Место", "rank"),
    Column("hours", "Hours", "Часы", "hours"),
    Column("hours_rank", "Rank", "Место", "rank"),
    Column("rating", "Rating", "Оценка", "decimal"),
    Column("rated", "Rated", "Оценок", "int"),
    Column("rating_rank", "Rank", "Место", "rank"),
    Column("first_time_fix", "First-time fix", "С первого раза", "share"),
    Column("react", "To react", "Реакция", "duration"),
    Column("resolve", "To resolve", "Выполнение", "duration"),
    Column("revenue", "Revenue", "Выручка", "money"),
    Column("revenue_rank", "Rank", "Место", "rank"),
]


def _employee_values(r: EmployeeStats) -> dict[str, Any]:
    return {
        "employee": r.employee,
        "closed": r.closed,
        "sla_violated_share": r.sla_violated_share,
        "hours": r.hours,
        "rating": r.rating,
        "rated": r.rated,
        "first_time_fix": r.first_time_fix,
        "react": r.react,
        "resolve": r.resolve,
        "revenue": r.revenue,
        **{f"{metric}_rank": r.ranks.get(metric) for metric in METRICS},
    }


def employees_table(report: EmployeeReport) -> ReportTable:
    return ReportTable(
        EMPLOYEE_COLUMNS, [_employee_values(r) for r in report.rows], report.ranked_of
    )


def employee_card(report: EmployeeReport, row: EmployeeStats, lang: str) -> list[tuple[str, str]]:
    """The employee card: who they are, and each metric with its "N of M"."""
    from fsm_core.formatting import number

    def ranked(metric: str) -> str:
        rank = row.ranks.get(metric)
        if rank is None or not row.ranked:
            return ""
        return f"  ({rank} {'из' if lang == 'ru' else 'of'} {report.ranked_of})"

    def t(en: str, ru: str) -> str:
        return ru if lang == "ru" else en

    rating = cell_text(row.rating, "decimal", lang)
    if row.rated:
        rating += t(f", {row.rated} rated orders", f", оценённых заявок: {row.rated}")
    return [
        (t("Employee", "Сотрудник"), row.full_name),
        (t("Position", "Должность"), row.position or "—"),
        (t("Area", "Участок"), row.area or "—"),
        (
            t("Hourly rate", "Ставка в час"),
            number(row.hourly_rate, lang=lang, digits=2) if row.hourly_rate is not None else "—",
        ),
        (t("Active", "Работает"), t("yes", "да") if row.active else t("no", "нет")),
        (
            t("Period", "Период"),
            f"{report.period.since:%d.%m.%Y} – {report.period.until:%d.%m.%Y}",
        ),
        (t("Closed orders", "Закрыто заявок"), f"{row.closed}{ranked('closed')}"),
        (
            t("Closed with an SLA violation", "Закрыто с нарушением SLA"),
            f"{row.sla_violated} ({cell_text(row.sla_violated_share, 'share', lang)})"
            f"{ranked('sla_violated')}",
        ),
        (
            t("Hours of work", "Часов работы"),
            f"{cell_text(row.hours, 'hours', lang)}{ranked('hours')}",
        ),
        (t("Average rating", "Средняя оценка"), f"{rating}{ranked('rating')}"),
        (
            t("First-time fix", "С первого раза"),
            f"{cell_text(row.first_time_fix, 'share', lang)}{ranked('first_time_fix')}",
        ),
        (
            t("Mean time to react", "Среднее время реакции"),
            f"{cell_text(row.react, 'duration', lang)}{ranked('react')}",
        ),
        (
            t("Mean time to resolve", "Среднее время выполнения"),
            f"{cell_text(row.resolve, 'duration', lang)}{ranked('resolve')}",
        ),
        (
            t("Revenue on acts", "Выручка по актам"),
            f"{cell_text(row.revenue, 'money', lang)}{ranked('revenue')}",
        ),
        *_gps_lines(row, ranked, t),
    ]


def _gps_lines(
    row: EmployeeStats, ranked: Callable[[str], str], t: Callable[[str, str], str]
) -> list[tuple[str, str]]:
    """What the phones say, when they said anything in the period."""
    if row.gps is None:
        return []
    from fsm_core.formatting import number

    gps = row.gps
    lang = t("en", "ru")

    def tenths(value: float) -> str:
        return number(Decimal(str(value)), lang=lang, digits=1)

    return [
        (
            t("Verified arrivals (GPS)", "Прибытий по GPS"),
            f"{gps.arrivals}{ranked('arrivals')}",
        ),
        (
            t("Hours on site (GPS)", "Часов на объектах (GPS)"),
            f"{tenths(gps.on_site_hours)}{ranked('on_site_hours')}",
        ),
        (t("Kilometres (GPS)", "Километров (GPS)"), f"{tenths(round(gps.km, 1))}{ranked('km')}"),
    ]


def orders_table(rows: Sequence[OrderStats], stage_names: dict[str, str]) -> ReportTable:
    """One row per order; a column per stage any of them spent time in."""
    stages = [code for code in stage_names if any(code in o.stages for o in rows)]
    columns = [
        Column("number", "Order", "Заявка"),
        Column("customer", "Customer", "Заказчик"),
        Column("object", "Object", "Объект"),
        Column("assignee", "Assignee", "Исполнитель"),
        Column("stage", "Stage", "Стадия"),
        Column("sla", "SLA", "SLA"),
        Column("rating", "Rating", "Оценка", "decimal"),
        Column("work", "Work", "Работы", "money"),
        Column("materials", "Materials", "Материалы", "money"),
        Column("visits", "Visits", "Визиты", "int"),
        *[
            Column(f"in_{code}", stage_names[code], stage_names[code], "duration")
            for code in stages
        ],
    ]
    table = ReportTable(columns)
    for o in rows:
        table.rows.append(
            {
                "number": o.number,
                "customer": o.customer,
                "object": o.object,
                "assignee": o.assignee,
                "stage": stage_names.get(o.stage, o.stage),
                "sla": o.sla,
                "rating": o.rating,
                "work": o.work,
                "materials": o.materials,
                "visits": o.visits,
                **{f"in_{code}": o.stages.get(code) for code in stages},
            }
        )
    return table


def sla_table(rows: Sequence[co.SlaRow], by: str) -> ReportTable:
    """By customer the worst come first (the one to call); by time in time's order."""
    if by == "customer":
        rows = sorted(rows, key=lambda r: r.compliance if r.compliance is not None else 2)
    first = {
        "customer": Column("key", "Customer", "Заказчик"),
        "criticality": Column("key", "Criticality", "Критичность"),
        "day": Column("key", "Day", "День", "date"),
        "week": Column("key", "Week from", "Неделя с", "date"),
    }[by]
    return ReportTable.of(
        [
            first,
            Column("closed", "Closed", "Закрыто", "int"),
            Column("with_sla", "With SLA", "С SLA", "int"),
            Column("violated", "Violated", "Нарушено", "int"),
            Column("compliance", "Compliance", "Соблюдение", "share"),
        ],
        rows,
    )


def objects_table(rows: Sequence[co.ObjectRow]) -> ReportTable:
    return ReportTable.of(
        [
            Column("object", "Object", "Объект"),
            Column("customer", "Customer", "Заказчик"),
            Column("orders", "Orders", "Заявок", "int"),
            Column("closed", "Closed", "Закрыто", "int"),
            Column("violated", "SLA violated", "С нарушением SLA", "int"),
        ],
        rows,
    )


def materials_table(rows: Sequence[co.MaterialRow]) -> ReportTable:
    return ReportTable(
        [
            Column("item", "Item", "Номенклатура"),
            Column("warehouse", "Warehouse", "Склад"),
            Column("quantity", "Quantity", "Количество", "text"),
            Column("unit", "Unit", "Ед."),
            Column("cost", "Cost", "Сумма", "money"),
            Column("orders", "Orders", "Заявок", "int"),
        ],
        [
            {
                "item": r.item,
                "warehouse": r.warehouse,
                "quantity": r.quantity.normalize() if r.quantity else r.quantity,
                "unit": r.unit,
                "cost": r.cost,
                "orders": r.orders,
            }
            for r in rows
        ],
    )


def ratings_table(spread: co.RatingsDistribution) -> ReportTable:
    return ReportTable(
        [
            Column("score", "Score", "Оценка", "int"),
            Column("promptness", "Promptness", "Оперативность", "int"),
            Column("accuracy", "Accuracy", "Точность", "int"),
            Column("communication", "Communication", "Общение", "int"),
            Column("overall", "Order's rating", "Оценка заявки", "int"),
        ],
        [{"score": s, **{k: spread.counts[k][s] for k in co.SCORES}} for s in range(5, 0, -1)],
    )


def check_report(name: str) -> str:
    if name not in REPORTS:
        raise InvalidInput(
            f"unknown report {name!r}",
            hint="one of: " + ", ".join(REPORTS),
            ru=f"нет отчёта {name!r}",
        )
    return name


def days_of(period: Period) -> list[date]:
    return [period.since + timedelta(days=i) for i in range(period.days)]
