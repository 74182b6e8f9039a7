"""Analytics (аналитика): the employees of a month with each metric's rank "N of M",
sortable by any metric (``s``), month by month (``[`` and ``]``); ``enter`` opens the
employee card as the reference product shows it. The figures are
:func:`fsm_core.services.analytics.employee_report`'s, read in a worker thread.

Opened with F8 or from the command palette.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from fsm_core import clock
from fsm_core.services import analytics
from fsm_core.services import settings as company_settings
from fsm_core.services.analytics.tables import cell_text, employee_card
from fsm_tui.node import AppNode
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.line_table import Column, Line, LineTable
from fsm_tui.workers import WorkerErrors

SORTS = tuple(analytics.METRICS)


CHART_HEIGHT = 11
CHART_WAIT = 1.0
"""Seconds the employees' figures wait at most for the chart to be drawn first."""
HEAD_START_WAIT = 0.15
"""Seconds F8 waits at most for the chart's figures before the screen opens without them."""


@dataclass(frozen=True)
class AnalyticsPage:
    report: analytics.EmployeeReport
    summary: Any
    days: list[Any]  # analytics.company.DailyCount, one a day of the month


def warm_up() -> None:
    """Import what the chart is drawn with (plotext's first import: 90 ms), so that the
    section's first open does not wait for it (the app calls this in a thread once the
    dashboard is up)."""
    import plotext  # noqa: F401


def orders_chart(days: list[Any], width: int, lang: str) -> Text:
    """Orders received and closed per day (plotext): the two series in two colours, the
    axes in the screen's own."""
    import plotext as plt

    with _PLOTEXT:  # one figure for the process: drawn by one thread at a time
        return _orders_chart(plt, days, width, lang)


_PLOTEXT = threading.Lock()


def _orders_chart(plt: Any, days: list[Any], width: int, lang: str) -> Text:
    plt.clear_figure()
    plt.limit_size(False, False)  # the panel, not the terminal plotext sees, is the limit
    plt.plotsize(max(40, width), CHART_HEIGHT)
    plt.theme("clear")
    labels = [f"{d.first:%d}" for d in days]
    received = [d.received for d in days]
    closed = [d.closed for d in days]
    plt.multiple_bar(
        labels,
        [received, closed],
        labels=[t("analytics.received", lang), t("analytics.closed_orders", lang)],
        color=["blue+", "orange"],
    )
    top = max([*received, *closed, 1])
    step = max(1, -(-top // 4))
    plt.yticks(list(range(0, top + step, step)))
    plt.xticks(list(range(1, len(labels) + 1, 2)), labels[::2])  # bars stand at 1, 2, …
    return Text.from_ansi(plt.build().rstrip())


class OrdersChart:
    """:func:`orders_chart` drawn at the width the chart's panel gets, when it is painted:
    the figures can be given before the screen's first layout, and the chart is in its
    first frame."""

    def __init__(self, days: list[Any], lang: str) -> None:
        self.days, self.lang = days, lang
        self._drawn: dict[int, Text] = {}

    def prepare(self, screen_width: int) -> None:
        """Draw ahead (in a worker, before the screen is up) at the width the panel will
        have on a screen ``screen_width`` wide (the dialog's border and padding, see
        fsm.tcss); painted at another width, the chart is drawn then."""
        self._draw(screen_width - 4)

    def _draw(self, panel_width: int) -> Text:
        width = panel_width - 2  # as wide as the panel, two columns to spare
        if width not in self._drawn:
            self._drawn[width] = orders_chart(self.days, width, self.lang)
        return self._drawn[width]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._draw(options.max_width)


def open_section(app: Any) -> None:
    """Open the section (F8) with its chart's figures read first: the screen comes with
    the chart in its first frame, ~two frames earlier than reading them once it is up.
    Without them after :data:`HEAD_START_WAIT` it opens anyway and draws the chart when
    they come."""
    if isinstance(app.screen, AnalyticsScreen) or any(
        w.group == "analytics-open" and w.is_running for w in app.workers
    ):
        return
    screen = AnalyticsScreen()
    opening = {"pushed": False}

    def push() -> None:
        if not opening["pushed"]:
            opening["pushed"] = True
            app.push_screen(screen)

    def arrived(days: list[Any], chart: OrdersChart) -> None:
        if opening["pushed"]:
            screen.post_message(AnalyticsScreen.ChartLoaded(days))
        else:
            screen.head = chart
            push()

    def read() -> None:
        with app.backend.reader() as session:
            days = analytics.daily_counts(session=session, period=month_period(session, 0))
        chart = OrdersChart(days, app.lang)
        chart.prepare(app.size.width)  # while the screen waits, rather than in its frame
        app.call_from_thread(arrived, days, chart)

    # a failed read is reported by the app; the screen opens all the same and reads again
    app.run_worker(read, thread=True, group="analytics-open", exit_on_error=False)
    app.set_timer(HEAD_START_WAIT, push)


def month_period(session: Any, months_back: int) -> analytics.Period:
    """The full month ``months_back`` before the last full one, in the company's zone."""
    tz = company_settings.load(session=session).tz
    day = clock.now().astimezone(tz).date().replace(day=1) - timedelta(days=1)
    for _ in range(months_back):
        day = day.replace(day=1) - timedelta(days=1)
    since, until = analytics.month_of(day)
    return analytics.Period(since, until, tz)


class AnalyticsScreen(AppNode, WorkerErrors, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="analytics.close"),
        Binding("enter", "card", "Employee card", id="analytics.card"),
        Binding("s", "sort", "Sort by", id="analytics.sort"),
        Binding("left_square_bracket", "month(-1)", "Previous month", id="analytics.previous"),
        Binding("right_square_bracket", "month(1)", "Next month", id="analytics.next"),
    ]

    @dataclass
    class Loaded(Message):
        page: AnalyticsPage

    @dataclass
    class ChartLoaded(Message):
        """The month's orders per day, read first: the chart is drawn while the
        employees' figures are still being read."""

        days: list[Any]

    def __init__(self) -> None:
        super().__init__(id="analytics")
        self.page: AnalyticsPage | None = None
        self.sort = SORTS[0]
        self.month = 0  # months back from the last full one
        self.head: OrdersChart | None = None  # the chart, read before the screen
        self._chart_shown = threading.Event()

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog analytics") as box:
            box.border_title = t("analytics.title", lang)
            yield Static("", id="analytics-summary")
            yield Static(
                "" if self.head is None else self.head,
                id="analytics-chart",
                markup=False,
            )
            yield LineTable(
                [
                    Column("employee", t("analytics.employee", lang), 16, flex=1),
                    Column("closed", t("analytics.closed", lang), 11, right=True),
                    Column("sla_violated", t("analytics.sla", lang), 14, right=True),
                    Column("hours", t("analytics.hours", lang), 10, right=True),
                    Column("rating", t("analytics.rating", lang), 10, right=True),
                    Column("first_time_fix", t("analytics.ftf", lang), 13, right=True),
                    Column("resolve", t("analytics.resolve", lang), 17, right=True),
                    Column("revenue", t("analytics.revenue", lang), 16, right=True),
                ],
                lang=lang,
                empty=t("analytics.empty", lang),
                id="analytics-lines",
            )
        yield KeyFooter()

    @property
    def table(self) -> LineTable:
        return self.query_one("#analytics-lines", LineTable)

    def on_mount(self) -> None:
        self.table.focus()
        if self.head is not None:  # drawn with the first frame
            self.call_after_refresh(self._chart_shown.set)
        self._load(self.month)

    @work(thread=True, exclusive=True, exit_on_error=False, group="analytics-load")
    def _load(self, months_back: int) -> None:
        first = self.page is None
        with self.fsm.backend.reader() as session:
            period = month_period(session, months_back)
            days = self.head.days if first and self.head is not None else None
            if days is None:
                days = analytics.daily_counts(session=session, period=period)
                if first:
                    self.post_message(self.ChartLoaded(days))
            if first:
                # the employees' figures (a second of Python on a big month) are read once
                # the chart is on the screen, so that they do not hold the interpreter's
                # lock while it is being drawn
                self._chart_shown.wait(CHART_WAIT)
            report = analytics.employee_report(session=session, period=period)
            summary = analytics.summary(session=session, period=period)
        self.post_message(self.Loaded(AnalyticsPage(report, summary, days)))

    def on_analytics_screen_chart_loaded(self, message: ChartLoaded) -> None:
        if self.page is None:
            self._draw_chart(message.days)
            self.call_after_refresh(self._chart_shown.set)

    def on_analytics_screen_loaded(self, message: Loaded) -> None:
        self.page = message.page
        self._show()

    def _draw_chart(self, days: list[Any]) -> None:
        # its size is the stylesheet's (height 11, the dialog's width): no layout
        self.query_one("#analytics-chart", Static).update(
            OrdersChart(days, self.lang), layout=False
        )

    def _show(self) -> None:
        page = self.page
        if page is None:
            return
        lang, report, s = self.lang, page.report, page.summary
        box = self.query_one(".analytics", Vertical)
        period = report.period
        box.border_subtitle = t(
            "analytics.subtitle",
            lang,
            since=f"{period.since:%d.%m.%Y}",
            until=f"{period.until:%d.%m.%Y}",
            sort=t(f"analytics.metric.{self.sort}", lang),
        )
        mean = report.company_rating
        self.query_one("#analytics-summary", Static).update(
            t(
                "analytics.summary",
                lang,
                received=s.received,
                closed=s.closed,
                sla=cell_text(s.compliance, "share", lang),
                rating=cell_text(mean, "decimal", lang),
                revenue=cell_text(s.revenue, "money", lang),
                m=report.ranked_of,
            )
        )
        self._draw_chart(page.days)
        rows = sorted(
            report.rows,
            key=lambda r: (not r.ranked, r.ranks.get(self.sort) or 10**6, r.employee.casefold()),
        )
        self.table.set_lines([self._line(r, report.ranked_of) for r in rows], keep=False)

    def _line(self, r: analytics.EmployeeStats, m: int) -> Line:
        lang = self.lang

        def ranked(value: str, metric: str) -> Any:
            rank = r.ranks.get(metric)
            text = value if rank is None else f"{value} {rank}/{m}"
            return (text, "strong") if metric == self.sort else text

        return Line(
            r.employee_id,
            (
                (r.employee, "strong") if r.ranked else (r.employee, "dim"),
                ranked(str(r.closed), "closed"),
                ranked(cell_text(r.sla_violated_share, "share", lang), "sla_violated"),
                ranked(cell_text(r.hours, "hours", lang), "hours"),
                ranked(cell_text(r.rating, "decimal", lang), "rating"),
                ranked(cell_text(r.first_time_fix, "share", lang), "first_time_fix"),
                ranked(cell_text(r.resolve, "duration", lang), "resolve"),
                ranked(cell_text(r.revenue, "money", lang), "revenue"),
            ),
            data=r,
        )

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self._show()

    def action_month(self, step: int) -> None:
        self.month = max(0, self.month - step)
        self._load(self.month)

    def action_close(self) -> None:
        self.dismiss(None)

    def on_line_table_chosen(self, message: LineTable.Chosen) -> None:
        self.action_card()

    def action_card(self) -> None:
        line = self.table.current_line
        if line is None or self.page is None:
            return
        self.app.push_screen(EmployeeCard(employee_card(self.page.report, line.data, self.lang)))


class EmployeeCard(AppNode, ModalScreen[None]):
    """The employee card: who they are, and each metric with its "N of M"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="analytics.card_close"),
    ]

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__(id="employee-card")
        self.fields = fields

    def compose(self) -> ComposeResult:
        width = max(len(name) for name, _ in self.fields) + 2
        text = "\n".join(f"{name:<{width}}{value}" for name, value in self.fields)
        with VerticalScroll(classes="dialog employee-card") as box:
            box.border_title = self.fields[0][1]
            yield Static(text, id="employee-card-text", markup=False)
        yield KeyFooter()

    def action_close(self) -> None:
        self.dismiss(None)
