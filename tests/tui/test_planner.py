"""The planner, driven with Textual's Pilot: the day's timeline and its conflicts, changing
day, planning a queue order in a free slot (the order becomes assigned), moving and
removing a visit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select
from textual.widgets import Input, OptionList

from fsm_core.models import Order, OrderHistory, Visit
from fsm_core.services import planning
from fsm_tui.screens.confirm import ConfirmScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.screens.plan_visit import VisitScreen
from fsm_tui.screens.planner import PlannerScreen
from fsm_tui.widgets.timeline import Timeline
from tests.conftest import NOW
from tests.tui.conftest import SIZE, USER, screen_text, settle, wait_until

pytestmark = pytest.mark.asyncio

TODAY = date(2026, 11, 26)  # NOW in Moscow


async def open_planner(app, pilot) -> PlannerScreen:
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    assert isinstance(app.screen, PlannerScreen), app.screen
    return app.screen


def select_visit(timeline: Timeline, number: str) -> None:
    for row, person in enumerate(timeline.people):
        for index, visit in enumerate(person.days[0].visits):
            if visit.number == number:
                timeline.cursor_row = row
                timeline.cursor_visit = index
                return
    raise AssertionError(f"no visit of {number} on the timeline")


async def test_the_day_shows_everyones_visits_and_the_conflicts_of_the_core(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        assert screen.day == TODAY
        with demo_db.reader() as s:
            expected = planning.schedule(session=s, first_day=TODAY, last_day=TODAY)
        timeline = screen.timeline
        assert [p.name for p in timeline.people] == [p.name for p in expected.people]
        problems = [c for c in expected.conflicts if c.severity != "note"]
        text = screen_text(app)
        assert f"конфликтов: {len(problems)}" in text
        # every visit of the day is drawn with its number, two at once as ▓
        overlapping = {i for c in expected.conflicts if c.kind == "overlap" for i in c.visit_ids}
        for person in expected.people:
            for visit in person.days[0].visits:
                if visit.id not in overlapping:
                    assert visit.number in text
        assert "▓" in text
        assert timeline.has_focus


async def test_a_selected_visit_lists_its_conflicts(app, demo_db):
    with demo_db.reader() as s:
        found = planning.conflicts(
            session=s, start=NOW - timedelta(hours=12), end=NOW + timedelta(hours=12)
        )
    overlap = next(c for c in found if c.kind == "overlap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        select_visit(screen.timeline, overlap.orders[0])
        await settle(pilot)
        detail = screen_text(app)
        assert "пересекается с" in detail
        assert overlap.orders[1] in detail
        # the person's line counts the problems of the day
        name_line = next(line for line in detail.splitlines() if overlap.employee in line)
        assert "!" in name_line


async def test_changing_day(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.day == TODAY + timedelta(days=1)
        assert screen.timeline.schedule.first_day == TODAY + timedelta(days=1)
        assert "Пт 27.11 " in screen_text(app)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert screen.timeline.schedule.first_day == TODAY - timedelta(days=1)
        await pilot.press("t")
        await settle(pilot)
        assert screen.day == TODAY
        assert "сегодня" in screen_text(app)


async def test_assign_from_the_planner(app, demo_db):
    """A new, unassigned order from the queue, planned in the first free slot of the
    nearest free technician: it gets a visit, an assignee and the stage "assigned"."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        index, row = next(
            (i, r)
            for i, r in enumerate(screen.queue)
            if r["stage_code"] == "new" and r["assignee"] is None and r["object_id"]
        )
        await pilot.press("tab")
        assert screen.queue_list.has_focus
        screen.queue_list.highlighted = index
        await settle(pilot)
        nearest = screen.nearest
        assert nearest is not None
        assert nearest.order_id == row["id"]
        assert nearest.candidates[0].free
        assert "Ближайшие свободные" in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VisitScreen)
        choices = dialog.choices
        assert choices is not None
        first = choices.candidates[0]
        assert first.free
        assert first.employee_id == nearest.candidates[0].employee_id  # the nearest first
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        with demo_db.reader() as s:
            order = s.get(Order, row["id"])
            visits = s.exec(select(Visit).where(Visit.order_id == row["id"])).all()
            history = s.exec(
                select(OrderHistory).where(
                    OrderHistory.order_id == row["id"], OrderHistory.field == "visit"
                )
            ).all()
        assert order.assignee_id == first.employee_id
        assert order.stage_code == "assigned"
        assert len(visits) == 1
        assert visits[0].start_at.replace(tzinfo=None) == choices.start.replace(tzinfo=None)
        assert [h.actor for h in history] == [USER]
        assert row["id"] not in [r["id"] for r in screen.queue]
        assert screen.timeline.current_visit is not None
        assert screen.timeline.current_visit.order_id == row["id"]
        assert any("Назначена" in n.message for n in app._notifications)


async def test_plan_at_a_typed_time_from_the_free_slots(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        await pilot.press("right_square_bracket")  # tomorrow: everyone's day is ahead
        await settle(pilot)
        row = screen.queue[0]
        await pilot.press("tab", "p")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VisitScreen)
        start = dialog.query_one("#start", Input)
        start.value = "15:30"

        def follows() -> bool:  # the list follows what is typed
            choices = dialog.choices
            return (
                choices is not None
                and choices.start.astimezone(app.catalog.tz).strftime("%H:%M") == "15:30"
            )

        await wait_until(pilot, follows, what="the free slots from 15:30")
        await settle(pilot)
        options = dialog.query_one("#choices", OptionList)
        slot_index = next(
            i
            for i in range(options.option_count)
            if (options.get_option_at_index(i).id or "").startswith("slot:")
        )
        slot = dialog.choices.slots[int(options.get_option_at_index(slot_index).id[5:])]
        options.highlighted = slot_index
        await pilot.press("enter")
        await settle(pilot)
        with demo_db.reader() as s:
            visit = s.exec(select(Visit).where(Visit.order_id == row["id"])).one()
        assert visit.employee_id == slot.employee_id
        assert visit.start_at.replace(tzinfo=None) == slot.start.replace(tzinfo=None)


async def _plan_dialog(app, pilot) -> tuple[VisitScreen, dict]:
    """The planner's dialog for the first order of today's queue."""
    screen = await open_planner(app, pilot)
    row = screen.queue[0]
    await pilot.press("tab", "p")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, VisitScreen)
    return dialog, row


async def _type_start(dialog: VisitScreen, pilot, text: str) -> None:
    start = dialog.query_one("#start", Input)
    start.focus()
    start.value = text
    await pilot.press("enter")  # the list follows the start typed
    await settle(pilot)


def _visits_of(db, order_id: int) -> list[Visit]:
    with db.reader() as s:
        return list(s.exec(select(Visit).where(Visit.order_id == order_id)).all())


@pytest.mark.parametrize("garbage", ["10:0009:00", "25:00", "10:60", "31.02.2026 10:00"])
async def test_a_garbage_start_is_refused_in_place_and_nothing_is_planned(app, demo_db, garbage):
    async with app.run_test(size=SIZE) as pilot:
        dialog, row = await _plan_dialog(app, pilot)
        await _type_start(dialog, pilot, garbage)
        error = str(dialog.query_one("#error-start").render())
        assert error.startswith(f"start: cannot read time '{garbage}'"), error
        assert dialog.choices is None  # the list for the former start is gone
        assert dialog.query_one("#choices", OptionList).option_count == 0
        await pilot.press("enter")  # on the (empty) list: nothing to plan
        await settle(pilot)
        assert app.screen is dialog
        assert _visits_of(demo_db, row["id"]) == []


@pytest.mark.both_backends
async def test_a_start_in_the_past_asks_first(app, demo_db):
    """12:00 now: 10:09 today is in the past. "No" plans nothing, "yes" plans it."""
    async with app.run_test(size=SIZE) as pilot:
        dialog, row = await _plan_dialog(app, pilot)
        await _type_start(dialog, pilot, "10:09")
        assert dialog.choices is not None
        assert dialog.choices.candidates
        await pilot.press("enter")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert "26.11.2026 10:09" in str(question.query_one("#question").render())
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog
        assert "уже прошло" in str(dialog.query_one("#error-start").render())
        assert _visits_of(demo_db, row["id"]) == []
        dialog.query_one("#choices", OptionList).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, VisitScreen | ConfirmScreen)
        (visit,) = _visits_of(demo_db, row["id"])
        assert visit.start_at.astimezone(app.catalog.tz).strftime("%d.%m %H:%M") == "26.11 10:09"


@pytest.mark.both_backends
async def test_move_a_visit_to_another_time_and_technician(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        timeline = screen.timeline
        person = next(p for p in timeline.people if p.days[0].visits)
        visit = person.days[0].visits[0]
        select_visit(timeline, visit.number)
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VisitScreen)
        assert dialog.target.visit_id == visit.id
        start = dialog.query_one("#start", Input)
        # tomorrow: the start says its day, so that what the field says is what is planned
        assert start.value == visit.start.astimezone(app.catalog.tz).strftime("%d.%m %H:%M")
        start.focus()
        start.value = "16:00"
        await pilot.press("enter")  # in the start field: the list follows, the cursor on it
        await settle(pilot)
        other = next(
            (i, c)
            for i, c in enumerate(dialog.choices.candidates)
            if c.free and c.employee_id != visit.employee_id
        )
        options = dialog.query_one("#choices", OptionList)
        options.highlighted = other[0]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        with demo_db.reader() as s:
            moved = s.get(Visit, visit.id)
            order = s.get(Order, visit.order_id)
        local = moved.start_at.replace(tzinfo=None)
        assert local.strftime("%H:%M") == "13:00"  # 16:00 in Moscow is 13:00 UTC
        assert moved.end_at - moved.start_at == visit.end - visit.start  # keeps its length
        assert moved.employee_id == other[1].employee_id
        assert order.assignee_id == other[1].employee_id  # the order follows its visit
        assert timeline.current_visit is not None
        assert timeline.current_visit.id == visit.id


async def test_remove_a_visit_after_confirming(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        timeline = screen.timeline
        person = next(p for p in timeline.people if p.days[0].visits)
        visit = person.days[0].visits[0]
        select_visit(timeline, visit.number)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        with demo_db.reader() as s:
            assert s.get(Visit, visit.id) is not None
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        with demo_db.reader() as s:
            assert s.get(Visit, visit.id) is None
        assert visit.id not in [v.id for p in timeline.people for v in p.days[0].visits]
        assert any(f"#{visit.id}" in n.message for n in app._notifications)


async def test_keys_need_a_selection(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        screen.timeline.cursor_visit = -1  # on a name: no visit to move
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert app.screen is screen


async def test_enter_opens_the_visits_order(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        timeline = screen.timeline
        person = next(p for p in timeline.people if p.days[0].visits)
        select_visit(timeline, person.days[0].visits[0].number)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.order_id == person.days[0].visits[0].order_id


async def test_arrows_move_between_people_and_visits(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_planner(app, pilot)
        timeline = screen.timeline
        row = next(i for i, p in enumerate(timeline.people) if len(p.days[0].visits) >= 2)
        timeline.cursor_row = row
        timeline.cursor_visit = -1
        await settle(pilot)
        await pilot.press("right")
        assert timeline.current_visit == timeline.people[row].days[0].visits[0]
        await pilot.press("right")
        assert timeline.current_visit == timeline.people[row].days[0].visits[1]
        await pilot.press("down")
        assert timeline.cursor_row == row + 1
