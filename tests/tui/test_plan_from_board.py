"""Planning a visit of the order at hand — from the board or the order screen, one key —
offers its assignee first at their first free moment; a done order's visit stays on the
timeline as done and frees its time, a cancelled order's visit leaves it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from fsm_core.models import Order, Visit
from fsm_core.services import orders, planning
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.plan_visit import VisitScreen
from fsm_tui.screens.planner import PlannerScreen
from tests.tui.conftest import SIZE, screen_text, settle
from tests.tui.test_planner import TODAY

pytestmark = pytest.mark.asyncio


def assigned_far_from_everyone(db) -> Order:
    """An order without a visit, assigned to a free technician who is not the nearest."""
    with db.reader() as s:
        for row in planning.unscheduled(session=s, limit=None):
            if not row["object_id"] or row["stage_code"] != "new":
                continue
            offer = planning.offer_visit(session=s, order_id=row["id"], day=TODAY)
            free = [c for c in offer.candidates if c.free]
            if len(free) >= 2:
                farther = free[-1].employee_id
                break
        else:
            raise AssertionError("no new order with two free technicians today")
    with db.transaction() as s:
        orders.assign_order(session=s, order_id=row["id"], assignee_id=farther, actor="t")
    with db.reader() as s:
        order = s.get(Order, row["id"])
        s.expunge(order)
    return order


async def test_p_on_the_board_offers_the_assignee_first(app, demo_db):
    order = assigned_far_from_everyone(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *order.number, "enter", "escape")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        assert board.table.current_row["number"] == order.number
        await pilot.press("p")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VisitScreen)
        offer = dialog.choices
        assert offer.candidates[0].employee_id == order.assignee_id
        options = dialog.query_one("#choices")
        assert options.highlighted == 0  # enter plans the assignee
        assert "●" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        with demo_db.reader() as s:
            visit = s.exec(
                select(Visit).where(Visit.order_id == order.id).order_by(Visit.id.desc())
            ).first()
        assert visit.employee_id == order.assignee_id
        assert visit.start_at.replace(tzinfo=None) == offer.start.replace(tzinfo=None)
        assert any(order.number in n.message for n in app._notifications)


async def test_p_on_the_order_screen_plans_it_too(app, demo_db):
    order = assigned_far_from_everyone(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_order(order.id)
        await settle(pilot)
        app.screen.query_one("#history").focus()  # not in a field of the Order tab
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        assert app.screen.choices.candidates[0].employee_id == order.assignee_id


async def test_the_planner_side_panel_names_the_assignee_first(app, demo_db):
    order = assigned_far_from_everyone(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PlannerScreen)
        index = next(i for i, r in enumerate(screen.queue) if r["id"] == order.id)
        await pilot.press("tab")
        screen.queue_list.highlighted = index
        await settle(pilot)
        nearest = screen.nearest
        assert nearest.candidates[0].employee_id == order.assignee_id


async def test_finished_orders_on_the_timeline(app, demo_db):
    with demo_db.reader() as s:
        day = planning.schedule(session=s, first_day=TODAY, last_day=TODAY)
        visits = [v for p in day.people for v in p.days[0].visits]
        ongoing = next(v for v in visits if v.stage_code == "in_progress")
        other = next(
            v for v in visits if v.stage_code in ("assigned", "en_route") and v.id != ongoing.id
        )
    with demo_db.transaction() as s:
        orders.move_order(session=s, order_id=ongoing.order_id, stage="done", actor="t")
        orders.move_order(session=s, order_id=other.order_id, stage="cancelled", actor="t")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        text = screen_text(app)
        assert "✓" in text  # the done order's visit is marked, not hidden
        shown = {v.id: v for p in app.screen.timeline.people for v in p.days[0].visits}
        assert shown[ongoing.id].done
        assert other.id not in shown
