"""The monthly management report (управленческий отчёт) as a PDF, in Russian or English:
the headline figures, orders per day and SLA compliance per week as charts, the employees
with their ranks, SLA by customer and criticality, the objects that break most, the
ratings given, materials and the backlog — what an owner forwards to a partner.

Charts are reportlab's own graphics (``reportlab.graphics``), drawn as vectors: they stay
sharp when printed. The data comes computed (:func:`fsm_core.services.analytics.monthly.
management_data`, a ``ManagementData``); this module only lays it out and knows nothing of
the database.
"""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from fsm_core.documents.fonts import BOLD, REGULAR, register_fonts
from fsm_core.errors import InvalidInput
from fsm_core.formatting import number

ACCENT = colors.HexColor("#1f5f99")
SECOND = colors.HexColor("#9bc1e6")
WARN = colors.HexColor("#c0392b")
GRID = colors.HexColor("#c8d1db")
PALE = colors.HexColor("#eef3f8")
WIDTH = A4[0] - 36 * mm
SEVERITY = {"low": 1, "normal": 2, "high": 3, "critical": 4}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Management report", "Управленческий отчёт"),
    "period": ("Period", "Период"),
    "made": ("Made", "Составлен"),
    "received": ("Received", "Поступило"),
    "closed": ("Closed", "Закрыто"),
    "compliance": ("SLA met", "SLA соблюдён"),
    "rating": ("Mean rating", "Средняя оценка"),
    "revenue": ("Revenue on acts", "Выручка по актам"),
    "open": ("Open now", "Открыто сейчас"),
    "cancelled": ("cancelled", "отменено"),
    "per_day": ("Orders per day", "Заявки по дням"),
    "sla_weeks": ("SLA compliance per week, %", "Соблюдение SLA по неделям, %"),
    "employees": ("Employees", "Сотрудники"),
    "employee": ("Employee", "Сотрудник"),
    "rank": ("Rank", "Место"),
    "sla_violated": ("SLA violated", "Нарушен SLA"),
    "hours": ("Hours", "Часы"),
    "ftf": ("First-time fix", "С первого раза"),
    "to_resolve": ("To resolve, h", "Выполнение, ч"),
    "ranks_note": (
        "Ranks among {m} active employees; equal figures share a rank (1, 1, 3). Rating is "
        "ranked on a Bayesian average (C·m + Σ ratings) / (C + n), C = {c}, m = the "
        "company's mean: a few ratings cannot top the board. Closed orders count for their "
        "assignee on the day the work was finished; {u} closed without an assignee.",
        "Места среди {m} работающих сотрудников; равные показатели делят место (1, 1, 3). "
        "Место по оценке — по байесовскому среднему (C·m + Σ оценок) / (C + n), C = {c}, "
        "m — средняя оценка компании: несколько оценок не выводят в лидеры. Закрытые заявки "
        "засчитываются исполнителю в день выполнения работ; без исполнителя закрыто: {u}.",
    ),
    "sla_customers": ("SLA by customer", "SLA по заказчикам"),
    "sla_criticality": ("SLA by criticality", "SLA по критичности"),
    "customer": ("Customer", "Заказчик"),
    "criticality": ("Criticality", "Критичность"),
    "with_sla": ("With SLA", "С SLA"),
    "violated": ("Violated", "Нарушено"),
    "objects": ("Objects with most orders", "Объекты с наибольшим числом заявок"),
    "object": ("Object", "Объект"),
    "orders": ("Orders", "Заявок"),
    "ratings": ("Customers' ratings", "Оценки заказчиков"),
    "rated": ("{n} rated orders, mean {mean}", "Оценённых заявок: {n}, средняя {mean}"),
    "score": ("Score", "Оценка"),
    "promptness": ("Promptness", "Оперативность"),
    "accuracy": ("Accuracy", "Точность"),
    "communication": ("Communication", "Общение"),
    "overall": ("Order", "Заявка"),
    "materials": ("Materials used", "Израсходованные материалы"),
    "item": ("Item", "Номенклатура"),
    "warehouse": ("Warehouse", "Склад"),
    "quantity": ("Quantity", "Количество"),
    "cost": ("Cost", "Сумма"),
    "backlog": ("Open orders by age", "Открытые заявки по возрасту"),
    "age": ("Age", "Возраст"),
    "overdue": ("Past a deadline", "Просрочено"),
    "none": ("Nothing in the period.", "За период нет данных."),
    "page": ("Page {n}", "Страница {n}"),
}


def _w(key: str, lang: str, **values: object) -> str:
    en, ru = WORDS[key]
    text = ru if lang == "ru" else en
    return text.format(**values) if values else text


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=8.5, leading=11, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=9, textColor=colors.grey),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=18, leading=22),
        "sub": ParagraphStyle("sub", parent=base, fontSize=10, leading=13, textColor=colors.grey),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=8,
            spaceAfter=4, textColor=ACCENT,
        ),
        "kpi": ParagraphStyle("kpi", parent=base, fontName=BOLD, fontSize=15, leading=18),
        "kpi_label": ParagraphStyle(
            "kpi_label", parent=base, fontSize=7.5, leading=9, textColor=colors.grey
        ),
    }  # fmt: skip


def _pct(value: Decimal | None, lang: str) -> str:
    return "—" if value is None else number(value * 100, lang=lang, digits=1) + " %"


def _table(
    header: list[str],
    rows: list[list[Any]],
    widths: list[float],
    styles: Any,
    *,
    marked: bool = False,
) -> Table:
    """A table; ``marked``: the cells are markup already (escaped by the caller)."""
    body = styles["cell"]
    data = [[Paragraph(f"<b>{_escape(h)}</b>", body) for h in header]]
    for row in rows:
        data.append([Paragraph(str(c) if marked else _escape(str(c)), body) for c in row])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, PALE]),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _kpis(data: Any, lang: str, styles: Any) -> Table:
    s = data.summary
    mean = data.ratings.mean
    cells = [
        (str(s.received), _w("received", lang)),
        (f"{s.closed}", _w("closed", lang) + f" ({_w('cancelled', lang)} {s.cancelled})"),
        (_pct(s.compliance, lang), _w("compliance", lang)),
        ("—" if mean is None else number(mean, lang=lang, digits=2), _w("rating", lang)),
        (number(s.revenue, lang=lang, digits=0), _w("revenue", lang) + f", {data.currency}"),
        (str(s.open_now), _w("open", lang)),
    ]
    row = [[Paragraph(_escape(v), styles["kpi"]), Paragraph(_escape(k), styles["kpi_label"])]
           for v, k in cells]  # fmt: skip
    table = Table([row], colWidths=[WIDTH / len(cells)] * len(cells))
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PALE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBEFORE", (1, 0), (-1, -1), 2, colors.white),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _bars(
    labels: list[str],
    series: list[list[float | None]] | list[list[int]] | list[list[float]],
    names: list[str],
    *,
    height: float = 55 * mm,
    percent: bool = False,
    fills: tuple[Any, ...] = (ACCENT, SECOND),
) -> Drawing:
    drawing = Drawing(WIDTH, height)
    chart: Any = VerticalBarChart()  # reportlab's attributes are set freely, not typed
    chart.x, chart.y = 28, 28
    chart.width, chart.height = WIDTH - 40, height - 48
    chart.data = series or [[0]]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 0 if len(labels) <= 16 else 90
    chart.categoryAxis.labels.boxAnchor = "n" if len(labels) <= 16 else "e"
    chart.categoryAxis.labels.dy = -2
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([v for s in series for v in s if v is not None] + [1])
    if percent:
        chart.valueAxis.valueMax = 100
        chart.valueAxis.valueStep = 20
    else:
        step = max(1, -(-int(top) // 5))
        chart.valueAxis.valueMax = step * 5 if top > 5 else 5
        chart.valueAxis.valueStep = step
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.visibleGrid = True
    chart.barSpacing = 0.5
    chart.groupSpacing = 2.0 if len(labels) > 16 else 6.0
    for i, fill in enumerate(fills[: len(series)]):
        chart.bars[i].fillColor = fill
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    if len(names) > 1:
        legend: Any = Legend()
        legend.deltax = 92
        legend.x, legend.y = WIDTH - 92 * len(names), height - 4
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.fontName = REGULAR
        legend.fontSize = 7.5
        legend.dx = legend.dy = 7
        legend.colorNamePairs = list(zip(fills, names, strict=False))
        drawing.add(legend)
    return drawing


def _employees(data: Any, lang: str, styles: Any) -> list[Any]:
    report = data.employees
    m = report.ranked_of

    def ranked(value: str, rank: int | None) -> str:
        shown = _escape(value)
        if rank is None:
            return shown
        return f'{shown}&nbsp;<font size="6.5" color="#777777">{rank}/{m}</font>'

    rows = []
    for r in report.rows:
        rows.append(
            [
                _escape(r.employee),
                ranked(str(r.closed), r.ranks.get("closed")),
                ranked(_pct(r.sla_violated_share, lang), r.ranks.get("sla_violated")),
                ranked(number(r.hours, lang=lang, digits=1), r.ranks.get("hours")),
                ranked(
                    "—" if r.rating is None else number(r.rating, lang=lang, digits=2),
                    r.ranks.get("rating"),
                ),
                _pct(r.first_time_fix, lang),
                "—"
                if r.resolve_seconds is None
                else number(Decimal(r.resolve_seconds) / 3600, lang=lang, digits=1),
                number(r.revenue, lang=lang, digits=0),
            ]
        )
    header = [
        _w("employee", lang),
        _w("closed", lang),
        _w("sla_violated", lang),
        _w("hours", lang),
        _w("rating", lang),
        _w("ftf", lang),
        _w("to_resolve", lang),
        _w("revenue", lang),
    ]
    widths = [x * WIDTH for x in (0.17, 0.1, 0.14, 0.12, 0.11, 0.11, 0.13, 0.12)]
    note = _w("ranks_note", lang, m=m, c=report.prior_weight, u=report.unassigned_closed)
    return [
        Paragraph(_w("employees", lang), styles["h2"]),
        _table(header, rows, widths, styles, marked=True)
        if rows
        else Paragraph(_w("none", lang), styles["body"]),
        Spacer(1, 3),
        Paragraph(_escape(note), styles["small"]),
    ]  # fmt: skip


def _sla_rows(rows: list[Any], lang: str, name: Any) -> list[list[Any]]:
    return [[name(r.key), r.closed, r.with_sla, r.violated, _pct(r.compliance, lang)] for r in rows]


def render_management_report(data: Any, *, out: Any, lang: str, tz: tzinfo) -> None:
    """Write the report as a PDF to ``out`` (a path or a binary stream)."""
    from fsm_core.i18n import criticality_name

    if lang not in ("ru", "en"):
        raise InvalidInput(f"unknown language {lang!r}", hint="use ru or en")
    styles = _styles()
    period = data.period
    span = f"{period.since:%d.%m.%Y} – {period.until:%d.%m.%Y}"
    weeks = data.sla_weeks
    story: list[Any] = [
        Paragraph(_escape(_w("title", lang)), styles["title"]),
        Paragraph(
            _escape(" · ".join(p for p in (data.company, span) if p))
            + f" &nbsp; <font size=8>{_w('made', lang)} "
            f"{data.made_at.astimezone(tz):%d.%m.%Y %H:%M}</font>",
            styles["sub"],
        ),
        Spacer(1, 8),
        _kpis(data, lang, styles),
        Paragraph(_w("per_day", lang), styles["h2"]),
        _bars(
            [f"{d.first:%d}" for d in data.days],
            [[d.received for d in data.days], [d.closed for d in data.days]],
            [_w("received", lang), _w("closed", lang)],
        ),
        Paragraph(_w("sla_weeks", lang), styles["h2"]),
        _bars(
            [f"{r.key:%d.%m}" for r in weeks],
            [[None if r.compliance is None else float(r.compliance * 100) for r in weeks]],
            [_w("compliance", lang)],
            height=45 * mm,
            percent=True,
        ),
        *_employees(data, lang, styles),
    ]  # fmt: skip
    sla_header = [
        "",
        _w("closed", lang),
        _w("with_sla", lang),
        _w("violated", lang),
        _w("compliance", lang),
    ]
    widths = [x * WIDTH for x in (0.42, 0.13, 0.13, 0.14, 0.18)]
    worst_first = sorted(
        data.sla_customers, key=lambda r: r.compliance if r.compliance is not None else 2
    )
    story += [
        KeepTogether(
            [
                Paragraph(_w("sla_customers", lang), styles["h2"]),
                _table(
                    [_w("customer", lang), *sla_header[1:]],
                    _sla_rows(worst_first, lang, str),
                    widths,
                    styles,
                )
                if worst_first
                else Paragraph(_w("none", lang), styles["body"]),
            ]
        ),
        KeepTogether(
            [
                Paragraph(_w("sla_criticality", lang), styles["h2"]),
                _table(
                    [_w("criticality", lang), *sla_header[1:]],
                    _sla_rows(
                        sorted(data.sla_criticality, key=lambda r: -SEVERITY.get(r.key, 0)),
                        lang,
                        lambda c: criticality_name(c, lang),
                    ),
                    widths,
                    styles,
                )
                if data.sla_criticality
                else Paragraph(_w("none", lang), styles["body"]),
            ]
        ),
        KeepTogether(
            [
                Paragraph(_w("objects", lang), styles["h2"]),
                _table(
                    [
                        _w("object", lang),
                        _w("customer", lang),
                        _w("orders", lang),
                        _w("closed", lang),
                        _w("violated", lang),
                    ],
                    [[o.object, o.customer, o.orders, o.closed, o.violated] for o in data.objects],
                    [x * WIDTH for x in (0.37, 0.3, 0.1, 0.1, 0.13)],
                    styles,
                )
                if data.objects
                else Paragraph(_w("none", lang), styles["body"]),
            ]
        ),
    ]
    spread = data.ratings
    mean = "—" if spread.mean is None else number(spread.mean, lang=lang, digits=2)
    story += [
        KeepTogether(
            [
                Paragraph(_w("ratings", lang), styles["h2"]),
                Paragraph(_escape(_w("rated", lang, n=spread.rated, mean=mean)), styles["body"]),
                Spacer(1, 2)
                if not spread.rated
                else _bars(
                    ["1", "2", "3", "4", "5"],
                    [
                        [spread.counts[k][s] for s in range(1, 6)]
                        for k in ("promptness", "accuracy", "communication", "overall")
                    ],
                    [_w(k, lang) for k in ("promptness", "accuracy", "communication", "overall")],
                    height=45 * mm,
                    fills=(SECOND, colors.HexColor("#6fa3d6"), colors.HexColor("#4a86c0"), ACCENT),
                ),
            ]
        ),
        KeepTogether(
            [
                Paragraph(_w("materials", lang), styles["h2"]),
                _table(
                    [
                        _w("item", lang),
                        _w("warehouse", lang),
                        _w("quantity", lang),
                        _w("cost", lang),
                    ],
                    [
                        [
                            m.item,
                            m.warehouse,
                            f"{number(m.quantity, lang=lang, digits=3).rstrip('0').rstrip(',.')}"
                            f" {m.unit}",
                            number(m.cost, lang=lang, digits=2),
                        ]
                        for m in data.materials
                    ],
                    [x * WIDTH for x in (0.42, 0.26, 0.14, 0.18)],
                    styles,
                )
                if data.materials
                else Paragraph(_w("none", lang), styles["body"]),
            ]
        ),
    ]
    ages = data.age_names
    by_age: dict[str, list[int]] = {}
    for row in data.backlog:
        total = by_age.setdefault(row.age, [0, 0])
        total[0] += row.orders
        total[1] += row.violated
    story.append(
        KeepTogether(
            [
                Paragraph(_w("backlog", lang), styles["h2"]),
                _table(
                    [_w("age", lang), _w("orders", lang), _w("overdue", lang)],
                    [
                        [ages[key][1 if lang == "ru" else 0], n, late]
                        for key, (n, late) in by_age.items()
                    ],
                    [x * WIDTH for x in (0.5, 0.25, 0.25)],
                    styles,
                )
                if by_age
                else Paragraph(_w("none", lang), styles["body"]),
            ]
        )
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 10 * mm, f"{_w('title', lang)} · {span}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, _w("page", lang, n=doc.page))
        canvas.restoreState()

    from fsm_core.files import replacing

    def build(stream: Any) -> None:
        doc = SimpleDocTemplate(
            stream,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=f"{_w('title', lang)} {span}",
            author=data.company or "fsm",
        )
        doc.build(story, onFirstPage=footer, onLaterPages=footer)

    if isinstance(out, str):
        with replacing(out) as stream:
            build(stream)
    else:
        build(out)
