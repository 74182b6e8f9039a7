"""``fsm report``: analytics for a period — employees ranked "N of M", an employee's card,
orders with their time per stage and cost, SLA compliance, the objects that break most,
materials and ratings; as a table, JSON, CSV or Excel, or a chart in the terminal."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE
from fsm_cli.context import say as _t
from fsm_cli.options import Json, JsonLines

if TYPE_CHECKING:
    from fsm_core.services.analytics import Filters, Period
    from fsm_core.services.analytics.tables import ReportTable

app = typer.Typer(
    no_args_is_help=True,
    help="Analytics for a period (default: last month): employees ranked, SLA, orders, "
    "objects, materials, ratings.",
)

Since = Annotated[
    str | None,
    typer.Option("--since", help="First day (e.g. 01.11.2026); default: last month's first."),
]
Until = Annotated[str | None, typer.Option("--until", help="Last day, included.")]
Customer = Annotated[str | None, typer.Option("--customer", "-c", help="Only this customer.")]
Object = Annotated[
    str | None, typer.Option("--object", help="Only this object and what is under it.")
]
Area = Annotated[
    str | None, typer.Option("--area", help="Only the employees of this area (участок).")
]
CrewOpt = Annotated[
    str | None, typer.Option("--crew", help="Only the crew's orders and its members.")
]
Criticality = Annotated[
    str | None, typer.Option("--criticality", help="low, normal, high or critical.")
]
WorkType = Annotated[
    str | None, typer.Option("--work-type", help="Only orders with work of this type.")
]
Csv = Annotated[bool, typer.Option("--csv", help="Write CSV (to -o FILE or standard output).")]
Xlsx = Annotated[bool, typer.Option("--xlsx", help="Write an Excel workbook (-o FILE).")]
Out = Annotated[str | None, typer.Option("--output", "-o", help="The file to write.")]
Chart = Annotated[bool, typer.Option("--chart", help="Draw a chart in the terminal.")]
Pdf = Annotated[
    str | None,
    typer.Option(
        "--pdf",
        help="Write the management report of the period and filters (PDF, in --lang) to FILE "
        "instead.",
        metavar="FILE",
    ),
]


class Scope:
    """The period and the filters every report command takes."""

    def __init__(self, session: Any, since: str | None, until: str | None, **names: Any):
        from fsm_core.services.analytics.tables import read_filters, read_period

        self.period: Period = read_period(session=session, since=since, until=until)
        self.filters: Filters = read_filters(session=session, **names)

    @property
    def caption(self) -> str:
        p = self.period
        return f"{p.since:%d.%m.%Y} – {p.until:%d.%m.%Y}"


@dataclass(frozen=True)
class ScopeArgs:
    """The period and filters as given on the command line, and ``--pdf``."""

    since: str | None = None
    until: str | None = None
    customer: str | None = None
    obj: str | None = None
    area: str | None = None
    crew: str | None = None
    criticality: str | None = None
    work_type: str | None = None
    pdf: str | None = None

    def open(self, session: Any) -> Scope | None:
        """The scope read in ``session``; None when ``--pdf`` was given and the management
        report is written instead."""
        names = {
            "customer": self.customer,
            "object_": self.obj,
            "crew": self.crew,
            "criticality": self.criticality,
            "work_type": self.work_type,
        }
        if self.area is not None:
            names["area"] = self.area
        scope = Scope(session, self.since, self.until, **names)
        if self.pdf:
            _pdf(session, scope, self.pdf)
            return None
        return scope


_SCOPE_OPTIONS: list[tuple[str, Any]] = [
    ("since", Since),
    ("until", Until),
    ("customer", Customer),
    ("obj", Object),
    ("area", Area),
    ("crew", CrewOpt),
    ("criticality", Criticality),
    ("work_type", WorkType),
    ("pdf", Pdf),
]


def scoped(*, area: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A report command taking the period, the filters and ``--pdf`` (``--area`` too unless
    ``area=False``): the options are added to its signature for Typer, after its arguments
    and before its own options, and handed to it together as ``given: ScopeArgs``."""

    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        own = [
            p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "given"
        ]
        taken = [name for name, _ in _SCOPE_OPTIONS if area or name != "area"]
        common = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
            for name, kind in _SCOPE_OPTIONS
            if name in taken
        ]
        arguments = [p for p in own if p.default is inspect.Parameter.empty]
        options = [p for p in own if p.default is not inspect.Parameter.empty]
        kinds = inspect.Parameter.KEYWORD_ONLY
        params = [p.replace(kind=kinds) for p in (*arguments, *common, *options)]

        @functools.wraps(fn)
        def command(**values: Any) -> None:
            args = ScopeArgs(**{name: values.pop(name) for name in taken})
            fn(given=args, **values)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return command

    return wrap


def _pdf(session: Any, scope: Scope, path: str) -> None:
    """The monthly management report, written to ``path``."""
    from fsm_core.documents.management import render_management_report
    from fsm_core.services.analytics.monthly import management_data
    from fsm_core.services.settings import load

    data = management_data(session=session, period=scope.period, filters=scope.filters)
    render_management_report(data, out=path, lang=STATE.language, tz=load(session=session).tz)
    output.done(
        _t(
            f"The management report for {scope.caption} is in {path}",
            f"Управленческий отчёт за {scope.caption} записан в {path}",
        )
    )


def _choose_format(json_: bool, nl: bool, csv: bool, xlsx: bool, chart: bool) -> str:
    chosen = [
        name
        for name, on in (
            ("json", json_),
            ("nl", nl),
            ("csv", csv),
            ("xlsx", xlsx),
            ("chart", chart),
        )
        if on
    ]
    if len(chosen) > 1:
        raise typer.BadParameter(
            "give one of --json, --nl, --csv, --xlsx, --chart", param_hint="--" + chosen[1]
        )
    return chosen[0] if chosen else "table"


def _json_value(value: Any) -> Any:
    from datetime import timedelta

    if isinstance(value, timedelta):
        return round(value.total_seconds() / 3600, 2)
    return value


def _emit(
    fmt: str,
    table: ReportTable,
    *,
    out: str | None,
    title: str,
    records: list[dict[str, Any]] | None = None,
) -> None:
    """Print or write ``table`` as ``fmt``; ``records`` replace its rows as JSON. A file
    given with ``-o`` alone is written in the format its name says (.csv, .xlsx)."""
    lang = STATE.language
    if fmt == "table" and out:
        from fsm_core.tabular.cells import fmt_for_path

        implied = fmt_for_path(out)
        if implied not in ("csv", "xlsx"):
            raise typer.BadParameter(
                "name a .csv or .xlsx file, or add --csv or --xlsx", param_hint="--output"
            )
        fmt = implied
    if fmt in ("json", "nl"):
        if records is None:
            records = [{k: _json_value(v) for k, v in row.items()} for row in table.rows]
        output.emit_records(records, fmt == "json", fmt == "nl")
        return
    if fmt in ("csv", "xlsx"):
        from fsm_core.tabular.writers import write_rows

        target = out or "-"
        if fmt == "xlsx" and target == "-" and sys.stdout.isatty():
            raise typer.BadParameter("give the workbook's file: -o FILE.xlsx", param_hint="--xlsx")
        count = write_rows(
            table.records(lang),
            headers=table.headers(lang),
            fmt=fmt,
            out=target,
            sheet=title[:31],
            for_people=True,
        )
        if target != "-":
            output.done(
                _t(f"{count} rows written to {target}", f"Записано строк: {count} в {target}")
            )
        return
    if out:
        raise typer.BadParameter("-o goes with --csv or --xlsx", param_hint="--output")
    shown = table.compact() if table.ranked_of else table
    output.table(
        [(h, {"no_wrap": True}) for h in shown.headers(lang)],
        shown.cells(lang),
        title=title,
    )


def _chart(draw: Any) -> None:
    """Draw with plotext and print the picture (plain characters when not a terminal)."""
    import os
    import shutil

    import plotext as plt

    plt.clear_figure()
    width, height = shutil.get_terminal_size((100, 30))
    plt.plotsize(min(width, 140), max(15, min(height - 2, 30)))
    plain = not sys.stdout.isatty() or bool(os.environ.get("NO_COLOR"))
    if plain:
        plt.theme("clear")
    draw(plt)
    picture = plt.build()
    if plain:  # the clear theme still resets the colour at each line's end
        import re

        picture = re.sub(r"\x1b\[[0-9;]*m", "", picture)
    sys.stdout.write(picture.rstrip() + "\n")


def _whole_ticks(plt: Any, top: int) -> None:
    """Counts on the y axis in whole numbers (plotext would show 3.33 orders)."""
    step = max(1, -(-top // 8))
    plt.yticks(list(range(0, top + step, step)))


@app.command("employees")
@scoped()
def employees(
    given: ScopeArgs,
    json_: Json = False,
    nl: JsonLines = False,
    csv: Csv = False,
    xlsx: Xlsx = False,
    out: Out = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="Order by this metric's rank: closed, sla_violated, hours, rating, "
            "first_time_fix, react, resolve, revenue.",
        ),
    ] = "closed",
    gps: Annotated[
        bool,
        typer.Option(
            "--gps",
            help="Also what the phones say (--json, --nl): verified arrivals, hours on site "
            "and kilometres, ranked among those tracked. Reads every fix of the period.",
        ),
    ] = False,
) -> None:
    """Each employee's closed orders, SLA violations, hours, rating, first-time fix, times
    and revenue, with their rank "N of M" among the active employees."""
    from fsm_core.services.analytics import METRICS, employee_report
    from fsm_core.services.analytics.tables import employees_table

    fmt = _choose_format(json_, nl, csv, xlsx, False)
    if sort not in METRICS:
        raise typer.BadParameter("one of: " + ", ".join(METRICS), param_hint="--sort")
    with STATE.reader() as session:
        scope = given.open(session)
        if scope is None:
            return
        report = employee_report(
            session=session, period=scope.period, filters=scope.filters, gps=gps
        )
    report.rows.sort(
        key=lambda r: (not r.ranked, r.ranks.get(sort) or 10**6, r.employee.casefold())
    )
    table = employees_table(report)
    title = _t("Employees", "Сотрудники") + f", {scope.caption}"
    _emit(
        fmt,
        table,
        out=out,
        title=title,
        records=[r.as_json(report.ranked_of) for r in report.rows],
    )
    if fmt == "table":
        mean = report.company_rating
        output.plain(
            _t(
                f"Closed {report.company_closed} (unassigned {report.unassigned_closed}); "
                f"company's mean rating {mean if mean is not None else '—'} of "
                f"{report.company_rated} rated orders; ratings ranked on a Bayesian average "
                f"with C = {report.prior_weight}; ties share a rank (1, 1, 3).",
                f"Закрыто {report.company_closed} (без исполнителя {report.unassigned_closed}); "
                f"средняя оценка компании {mean if mean is not None else '—'} по "
                f"{report.company_rated} оценённым заявкам; места по оценке — по байесовскому "
                f"среднему с C = {report.prior_weight}; равные делят место (1, 1, 3).",
            ),
            err=True,
        )


@app.command("employee")
@scoped(area=False)
def employee(
    name: Annotated[str, typer.Argument(help="The employee: short name, name, e-mail or id.")],
    given: ScopeArgs,
    json_: Json = False,
) -> None:
    """The employee card: position, area, hourly rate, and each metric with its "N of M"."""
    from fsm_core.services import lookup
    from fsm_core.services.analytics import employee_report
    from fsm_core.services.analytics.tables import employee_card

    with STATE.reader() as session:
        person = lookup.resolve_employee(session=session, ref=name)
        scope = given.open(session)
        if scope is None:
            return
        report = employee_report(
            session=session, period=scope.period, filters=scope.filters, gps=True
        )
    assert person.id is not None
    row = report.row(person.id)
    if row is None:
        from fsm_core.errors import InvalidInput

        raise InvalidInput(
            f"{person.short_name} is not among the employees the filters keep",
            ru=f"{person.short_name} не входит в выбранных сотрудников",
        )
    if json_:
        output.emit_json(row.as_json(report.ranked_of))
        return
    output.fields(employee_card(report, row, STATE.language))


@app.command("orders")
@scoped()
def orders(
    given: ScopeArgs,
    json_: Json = False,
    nl: JsonLines = False,
    csv: Csv = False,
    xlsx: Xlsx = False,
    out: Out = None,
    chart: Chart = False,
    week: Annotated[bool, typer.Option("--week", help="The chart by week, not by day.")] = False,
) -> None:
    """The orders received, finished or cancelled in the period: time in each stage, SLA,
    rating, cost and visits; --chart: orders received and closed per day."""
    from fsm_core.models import Stage
    from fsm_core.services.analytics import order_report, per_bucket, volume
    from fsm_core.services.analytics.tables import orders_table

    fmt = _choose_format(json_, nl, csv, xlsx, chart)
    lang = STATE.language
    with STATE.reader() as session:
        scope = given.open(session)
        if scope is None:
            return
        if fmt == "chart":
            unit = "week" if week else "day"
            counts = per_bucket(
                volume(session=session, period=scope.period, filters=scope.filters, unit=unit),
                scope.period,
                unit,
            )
        else:
            rows = order_report(session=session, period=scope.period, filters=scope.filters)
            from sqlalchemy import select

            stages = {
                s.code: s.name(lang)
                for s in session.execute(select(Stage).order_by(Stage.position)).scalars()
            }
    if fmt == "chart":
        labels = [f"{c.first:%d.%m}" for c in counts]

        def draw(plt: Any) -> None:
            plt.multiple_bar(
                labels,
                [[c.received for c in counts], [c.closed for c in counts]],
                labels=[_t("received", "поступило"), _t("closed", "закрыто")],
            )
            _whole_ticks(plt, max([c.received for c in counts] + [c.closed for c in counts] + [1]))
            plt.title(
                _t("Orders per ", "Заявки по ")
                + _t(*(("week", "неделям") if week else ("day", "дням")))
                + f", {scope.caption}"
            )

        _chart(draw)
        return
    _emit(
        fmt,
        orders_table(rows, stages),
        out=out,
        title=_t("Orders", "Заявки") + f", {scope.caption}",
        records=[o.as_json() for o in rows],
    )


@app.command("sla")
@scoped()
def sla(
    given: ScopeArgs,
    by: Annotated[
        str, typer.Option("--by", help="customer, criticality, day or week.")
    ] = "customer",
    json_: Json = False,
    nl: JsonLines = False,
    csv: Csv = False,
    xlsx: Xlsx = False,
    out: Out = None,
    chart: Chart = False,
) -> None:
    """SLA compliance of the orders closed in the period, by customer (criticality, day,
    week); --chart: compliance over time (by day, or --by week)."""
    from fsm_core.services.analytics import sla_compliance
    from fsm_core.services.analytics.tables import sla_table

    if by not in ("customer", "criticality", "day", "week"):
        raise typer.BadParameter("customer, criticality, day or week", param_hint="--by")
    fmt = _choose_format(json_, nl, csv, xlsx, chart)
    if fmt == "chart" and by not in ("day", "week"):
        by = "day"
    with STATE.reader() as session:
        scope = given.open(session)
        if scope is None:
            return
        rows = sla_compliance(session=session, period=scope.period, by=by, filters=scope.filters)
    if fmt == "chart":
        points = [(r.key, r.compliance) for r in rows if r.compliance is not None]
        if not points:
            output.plain(
                _t(
                    "No closed orders with an SLA in the period.",
                    "За период нет закрытых заявок с SLA.",
                )
            )
            return

        def draw(plt: Any) -> None:
            places = list(range(len(points)))
            plt.plot(places, [float(c) * 100 for _, c in points], marker="braille")
            plt.scatter(places, [float(c) * 100 for _, c in points], marker="●")
            step = max(1, len(points) // 10)
            plt.xticks(places[::step], [f"{k:%d.%m}" for k, _ in points][::step])
            plt.ylim(0, 100)
            plt.title(_t("SLA compliance, %", "Соблюдение SLA, %") + f", {scope.caption}")

        _chart(draw)
        return
    _emit(fmt, sla_table(rows, by), out=out, title="SLA, " + scope.caption)


@app.command("objects")
@scoped()
def objects(
    given: ScopeArgs,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 10,
    json_: Json = False,
    nl: JsonLines = False,
    csv: Csv = False,
    xlsx: Xlsx = False,
    out: Out = None,
) -> None:
    """The objects with the most orders received in the period (repeat failures)."""
    from fsm_core.services.analytics import top_objects
    from fsm_core.services.analytics.tables import objects_table

    fmt = _choose_format(json_, nl, csv, xlsx, False)
    with STATE.reader() as session:
        scope = given.open(session)
        if scope is None:
            return
        rows = top_objects(session=session, period=scope.period, filters=scope.filters, limit=limit)
    _emit(fmt, objects_table(rows), out=out, title=_t("Objects", "Объекты") + f", {scope.caption}")


@app.command("materials")
@scoped()
def materials(
    given: ScopeArgs,
    json_: Json = False,
    nl: JsonLines = False,
    csv: Csv = False,
    xlsx: Xlsx = False,
    out: Out = None,
) -> None:
    """Materials used on orders in the period by item and warehouse, with their cost."""
    from fsm_core.services.analytics import materials as used
    from fsm_core.services.analytics.tables import materials_table

    fmt = _choose_format(json_, nl, csv, xlsx, False)
    with STATE.reader() as session:
        scope = given.open(session)
        if scope is None:
            return
        rows = used(session=session, period=scope.period, filters=scope.filters)
    _emit(
        fmt,
        materials_table(rows),
        out=out,
        title=_t("Materials", "Материалы") + f", {scope.caption}",
    )


@app.command("ratings")
@scoped()
def ratings(
    given: ScopeArgs,
    json_: Json = False,
    csv: Csv = False,
    xlsx: Xlsx = False,
    out: Out = None,
    chart: Chart = False,
) -> None:
    """How many orders rated in the period got each score; --chart: the distribution."""
    from fsm_core.services.analytics import ratings_distribution
    from fsm_core.services.analytics.tables import ratings_table

    fmt = _choose_format(json_, False, csv, xlsx, chart)
    with STATE.reader() as session:
        scope = given.open(session)
        if scope is None:
            return
        spread = ratings_distribution(session=session, period=scope.period, filters=scope.filters)
    if fmt == "json":
        output.emit_json(spread.as_json())
        return
    if fmt == "chart":

        def draw(plt: Any) -> None:
            plt.bar(
                [str(s) for s in range(1, 6)],
                [spread.counts["overall"][s] for s in range(1, 6)],
            )
            _whole_ticks(plt, max([*spread.counts["overall"].values(), 1]))
            plt.title(
                _t("Order ratings", "Оценки заявок")
                + f", {scope.caption}: {spread.rated}, "
                + _t("mean", "среднее")
                + f" {spread.mean if spread.mean is not None else '—'}"
            )

        _chart(draw)
        return
    _emit(fmt, ratings_table(spread), out=out, title=_t("Ratings", "Оценки") + f", {scope.caption}")
