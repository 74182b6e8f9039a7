"""The board, the planner and the order screen show a moment one way, in the user's
language (fsm_core.formatting.moment): ``06.12 15:39`` / ``Dec 06 15:39``."""

from __future__ import annotations

from datetime import date

import pytest

from fsm_core.formatting import moment
from fsm_core.models import Order
from fsm_core.services import planning
from tests.conftest import NOW
from tests.tui.conftest import SIZE, build_app, screen_text, settle
from tests.tui.test_planner import select_visit

pytestmark = pytest.mark.asyncio

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_board_planner_and_order_screen_show_dates_alike(demo_url, demo_db, lang):
    with demo_db.reader() as s:
        day = planning.schedule(session=s, first_day=TODAY, last_day=TODAY)
        visit = next(
            v for p in day.people for v in p.days[0].visits if v.resolution_due is not None
        )
        order = s.get(Order, visit.order_id)
        tz = day.tz
    created = moment(order.created_at, tz, lang=lang, now=NOW)
    due = moment(visit.resolution_due, tz, lang=lang, now=NOW)
    app = build_app(demo_url, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = app.screen
        await pilot.press("slash", *order.number, "enter", "escape")
        await settle(pilot)
        assert created in board.table.render_line(1).text
        await pilot.press("enter")
        await settle(pilot)
        info = screen_text(app)
        assert created in info
        assert due in info  # the resolution deadline
        await pilot.press("escape", "f3")
        await settle(pilot)
        planner = app.screen
        select_visit(planner.timeline, visit.number)
        await settle(pilot)
        assert due in screen_text(app)


async def test_an_older_orders_date_shows_its_year_whole_on_the_board(demo_url, demo_db):
    from datetime import timedelta

    from sqlmodel import select

    with demo_db.transaction() as s:
        order = s.exec(select(Order).where(Order.stage_code == "new")).first()
        order.created_at = NOW - timedelta(days=365)
        s.add(order)
        number, created = order.number, order.created_at
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *number, "enter", "escape")
        await settle(pilot)
        shown = moment(created, app.catalog.tz, lang="en", now=NOW)
        assert shown.endswith("2025 " + shown[-5:])
        assert shown in app.screen.table.render_line(1).text
