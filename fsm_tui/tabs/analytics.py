"""The order's analytics (аналитика заявки): how long it spent in each stage, drawn as
bars, its SLA outcome, the customer's rating, its cost (work and materials, for whoever
sees prices) and its visits — the figures ``fsm report orders`` gives, for this order.

Reading it needs the reports permission; a user without it is told so in the tab.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.widgets import Static

from fsm_core import clock
from fsm_core.access import principal_of, sees_prices
from fsm_core.formatting import duration, money, number
from fsm_core.models import Order
from fsm_core.services.analytics import Period, order_report
from fsm_core.services.settings import load as load_settings
from fsm_core.services.stages import load_workflow
from fsm_tui.tabs.base import OrderPane
from fsm_tui.text import t

if TYPE_CHECKING:
    from fsm_core.services.analytics import OrderStats
    from fsm_tui.protocol import Dashboard

BAR_WIDTH = 30
SLA_STYLE = {"ok": "green", "at_risk": "yellow", "violated": "bold red", "none": "dim"}


@dataclass(frozen=True)
class AnalyticsData:
    stats: OrderStats | None
    stage_names: dict[str, str]
    prices: bool
    refused: bool = False


class AnalyticsPane(OrderPane):
    def __init__(self, order_id: int, app: Dashboard) -> None:
        super().__init__(order_id, app, id="order-analytics")

    def compose(self) -> ComposeResult:
        yield Static("", id="order-analytics-body")

    def read(self, session: Session) -> AnalyticsData:
        if principal_of(session).scope("reports.read") is None:
            return AnalyticsData(None, {}, prices=False, refused=True)
        order = session.get(Order, self.order_id)
        workflow = load_workflow(session=session)
        names = {code: stage.name(self.lang) for code, stage in workflow.stages.items()}
        if order is None:
            return AnalyticsData(None, names, prices=False)
        tz = load_settings(session=session).tz
        since = order.created_at.astimezone(tz).date()
        until = max(clock.now().astimezone(tz).date(), since)
        found = order_report(
            session=session, period=Period(since, until, tz), order_ids=[self.order_id]
        )
        return AnalyticsData(found[0] if found else None, names, prices=sees_prices(session))

    def show(self, data: AnalyticsData) -> None:
        self.query_one("#order-analytics-body", Static).update(render(data, self.lang))


def render(data: AnalyticsData, lang: str) -> Any:
    if data.refused:
        return Text(t("order_analytics.refused", lang), style="dim")
    stats = data.stats
    if stats is None:
        return Text("—")
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    sla = Text(t(f"order_analytics.sla_{stats.sla}", lang), style=SLA_STYLE.get(stats.sla, ""))
    summary.add_row(t("order_analytics.sla", lang), sla)
    rating = number(stats.rating, lang=lang, digits=2) if stats.rating is not None else "—"
    summary.add_row(t("order_analytics.rating", lang), rating)
    if data.prices:
        summary.add_row(
            t("order_analytics.cost", lang),
            t("order_analytics.cost_parts", lang).format(
                total=money(stats.cost, lang=lang),
                work=money(stats.work, lang=lang),
                materials=money(stats.materials, lang=lang),
            ),
        )
    summary.add_row(t("order_analytics.visits", lang), str(stats.visits))
    bars = Table.grid(padding=(0, 2))
    bars.add_column(no_wrap=True)
    bars.add_column(no_wrap=True)
    bars.add_column(justify="right", no_wrap=True)
    longest = max(stats.stages.values(), default=timedelta(0))
    # in the workflow's order (the board's), whatever order the stages were entered in
    ordered = [c for c in data.stage_names if c in stats.stages]
    ordered += [c for c in stats.stages if c not in data.stage_names]
    for code in ordered:
        spent = stats.stages[code]
        width = round(BAR_WIDTH * spent / longest) if longest else 0
        bar = Text("█" * width or "▏", style="cyan")
        name = data.stage_names.get(code, code)
        if code == stats.stage and stats.closed_at is None:
            name += t("order_analytics.now", lang)  # its time runs on
        bars.add_row(name, bar, duration(spent, lang=lang) or "0")
    body = Table.grid()
    body.add_row(summary)
    body.add_row("")
    body.add_row(Text(t("order_analytics.stages", lang), style="bold"))
    body.add_row(bars if stats.stages else Text("—", style="dim"))
    return body
