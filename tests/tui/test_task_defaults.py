"""What the order's dialogs suggest, from the core: recorded work starts and ends at the
visit's planned time; a write-off comes from the nearest warehouse that has the item."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from fsm_core.formatting import local_time
from fsm_core.services import planning
from fsm_tui.screens.execution_forms import WorkScreen
from tests.conftest import NOW
from tests.tui.conftest import SIZE, dialog, wait_until
from tests.tui.field import open_tab
from tests.tui.test_planner import TODAY

pytestmark = pytest.mark.asyncio


async def test_the_work_form_starts_with_the_visits_planned_time(app, demo_db):
    with demo_db.reader() as s:
        day = planning.schedule(session=s, first_day=TODAY, last_day=TODAY)
        visit = next(
            v
            for p in day.people
            for v in p.days[0].visits
            if v.end <= NOW and not v.done and v.stage_code != "new"
        )
        tz = day.tz
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, visit.order_id, "execution")
        form = await dialog(pilot, "w")
        assert isinstance(form, WorkScreen)
        assert form.query_one("#start", Input).value == local_time(visit.start, tz, lang="ru")
        assert form.query_one("#end", Input).value == local_time(visit.end, tz, lang="ru")
        assert "визита" in str(form.query_one("#work-window", Static).render())


async def test_a_write_off_suggests_a_warehouse_that_has_the_item(app, demo_db):
    """Ivanov's order, an item his van has none of: the form suggests the nearest
    warehouse that has it, not his empty van."""
    from sqlmodel import select
    from textual.widgets import Select

    from fsm_core.models import Order
    from fsm_core.services import lookup, stock_queries
    from fsm_tui.screens.execution_forms import MaterialScreen

    with demo_db.reader() as s:
        ivanov = lookup.resolve_employee(session=s, ref="Иванов К. П.")
        van = lookup.resolve_warehouse(session=s, ref="Иванов К. П.")
        order = s.exec(
            select(Order).where(Order.assignee_id == ivanov.id, Order.stage_code == "in_progress")
        ).first()
        item = next(
            i
            for i in stock_queries.list_items(session=s)
            if not any(
                line.warehouse_id == van.id and line.available > 0
                for line in stock_queries.availability(session=s, item_id=i.id).lines
            )
            and any(
                line.available > 0
                for line in stock_queries.availability(session=s, item_id=i.id).lines
            )
        )
        expected = stock_queries.suggest_write_off(session=s, order=order, item_id=item.id)
    assert expected is not None
    assert expected.id != van.id
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order.id, "execution")
        form = await dialog(pilot, "u")
        assert isinstance(form, MaterialScreen)
        form.query_one("#item", Select).value = item.id
        await wait_until(
            pilot,
            lambda: form.query_one("#warehouse", Select).value == expected.id,
            what="the suggested warehouse",
        )
