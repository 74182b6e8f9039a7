"""The order screen's Analytics tab: time in each stage as bars, the SLA outcome, the
rating, cost and visits; History keeps its key (7), Analytics is 8."""

from __future__ import annotations

import pytest
from sqlmodel import select

from fsm_core.db import Database
from fsm_core.models import Order
from fsm_core.services.analytics import Period, order_report
from fsm_core.services.settings import load
from fsm_tui.screens.order import OrderScreen
from tests.conftest import NOW
from tests.tui.conftest import SIZE, build_app, screen_text, settle, snap


def _rated_order(url: str) -> tuple[int, str]:
    db = Database(url)
    try:
        with db.reader() as s:
            order = s.exec(select(Order).where(Order.number == "26-0064")).one()
            return order.id, order.number
    finally:
        db.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_analytics_tab_shows_the_orders_figures(sqlite_demo_url, lang):
    order_id, _number = _rated_order(sqlite_demo_url)
    db = Database(sqlite_demo_url)
    try:
        with db.reader() as s:
            tz = load(session=s).tz
            (stats,) = order_report(
                session=s,
                period=Period(NOW.date().replace(day=1), NOW.date(), tz),
                order_ids=[order_id],
            )
    finally:
        db.dispose()
    app = build_app(sqlite_demo_url, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_order(order_id)
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("7")
        await settle(pilot)
        assert app.screen.query_one("#order-tabs").active == "tab-history"
        await pilot.press("8")
        await settle(pilot)
        assert app.screen.query_one("#order-tabs").active == "tab-analytics"
        text = screen_text(app)
    words = {"ru": ("Время на стадиях", "Оценка", "Выездов"), "en": ("Time in each stage",)}
    for word in words[lang]:
        assert word in text
    assert stats.rating is not None
    assert f"{stats.rating:.2f}".replace(".", "," if lang == "ru" else ".") in text
    assert "█" in text  # the longest stage's bar
    assert len(stats.stages) >= 3


def test_the_analytics_tab_snapshot(snap_compare, sqlite_demo_url):
    order_id, _number = _rated_order(sqlite_demo_url)
    assert snap(snap_compare, sqlite_demo_url, lambda pilot: pilot.app.open_order(order_id), "8")
