"""Each core task done from the board, the order selected, in at most five keys plus the
text typed — the sequences the issue's "after" table counts, driven and checked here."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from fsm_core.models import Order, Visit
from fsm_core.models.execution import ExecutionRecord, MaterialUse, WorkEntry
from fsm_core.services import lookup, planning
from fsm_tui.screens.board import BoardScreen
from tests.tui.conftest import SIZE, palette_searched, settle, wait_until
from tests.tui.test_plan_from_board import assigned_far_from_everyone
from tests.tui.test_planner import TODAY

pytestmark = pytest.mark.asyncio

MOST = 5


@dataclass
class Keys:
    """Presses keys and types text, counting the keys (a character typed is text)."""

    pilot: object
    count: int = 0
    log: list[str] = field(default_factory=list)

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.count += 1
            self.log.append(key)
            await self.pilot.press(key)
            await settle(self.pilot)

    async def type(self, text: str) -> None:
        self.log.append(repr(text))
        await self.pilot.press(*text)
        await settle(self.pilot)

    async def palette(self, text: str) -> None:
        """ctrl+p, the words, enter (two keys): waits for the palette's search."""
        await self.press("ctrl+p")
        await self.type(text)
        await palette_searched(self.pilot)
        await self.press("enter")


async def on_board(app, pilot, number: str) -> Keys:
    """The board with ``number`` selected (the starting point; not counted)."""
    await settle(pilot)
    await pilot.press("slash", *number, "enter", "escape")
    await settle(pilot)
    board = app.screen
    assert isinstance(board, BoardScreen)
    assert board.table.current_row["number"] == number
    return Keys(pilot)


def an_order(db, stage: str) -> Order:
    with db.reader() as s:
        order = s.exec(
            select(Order).where(Order.stage_code == stage, Order.object_id.is_not(None))
        ).first()
        s.expunge(order)
        return order


async def test_new_order_from_a_phone_call(app, demo_db):
    """The caller: "СМ-Трейд, the shop on Ligovsky, the cassette unit drips"."""
    with demo_db.reader() as s:
        unit = lookup.resolve_object(session=s, ref="СМТ-000201")
        before = set(s.exec(select(Order.id)).all())
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, an_order(demo_db, "new").number)
        await keys.press("n")
        await keys.type("Лиговск")
        await keys.press("enter", "down", "enter")  # the shop and its unit: the unit
        await keys.type("Капает вода из кассетного блока")
        await keys.press("ctrl+s")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        new = s.exec(select(Order).where(Order.id.not_in(before))).one()
    assert new.object_id == unit.id


async def test_assign(app, demo_db):
    order = an_order(demo_db, "new")
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.press("a")
        await keys.type("Иван")
        await keys.press("enter")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        assert (
            s.get(Order, order.id).assignee_id
            == lookup.resolve_employee(session=s, ref="Иванов К. П.").id
        )


async def test_plan_a_visit(app, demo_db):
    order = assigned_far_from_everyone(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.press("p", "enter")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        visits = s.exec(select(Visit).where(Visit.order_id == order.id)).all()
    assert [v.employee_id for v in visits][-1] == order.assignee_id


async def test_write_a_message(app, demo_db):
    from fsm_core.models.chat import Message as ChatMessage

    order = an_order(demo_db, "assigned")
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.press("enter", "5", "c")
        await keys.type("Выезжаем к 14:00")
        await keys.press("ctrl+s")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        texts = s.exec(select(ChatMessage.text).where(ChatMessage.order_id == order.id)).all()
    assert "Выезжаем к 14:00" in texts


async def test_record_work(app, demo_db):
    with demo_db.reader() as s:
        day = planning.schedule(session=s, first_day=TODAY, last_day=TODAY)
        visit = next(
            v
            for p in day.people
            for v in p.days[0].visits
            if v.stage_code == "in_progress" and v.start < v.end
        )
        number = visit.number
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, number)
        await keys.palette("записать работу")
        await keys.type("Устранение")  # typing opens the work types and finds it
        await keys.press("enter", "ctrl+s")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        entry = s.exec(select(WorkEntry).where(WorkEntry.order_id == visit.order_id)).one()
    assert entry.work_type_name == "Устранение течи"
    assert entry.started_at.replace(tzinfo=None) == visit.start.replace(tzinfo=None)


async def test_write_off_a_material(app, demo_db):
    from decimal import Decimal

    from textual.widgets import Select

    from fsm_core.models import Item
    from fsm_core.services import stock_queries

    order = an_order(demo_db, "in_progress")
    with demo_db.reader() as s:
        freon = s.exec(select(Item).where(Item.name == "Фреон R410A")).one()
        source = stock_queries.suggest_write_off(
            session=s, order=order, item_id=freon.id, quantity=Decimal(1)
        )
    assert source is not None
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.palette("списать материал")
        await keys.type("Фреон")  # typing opens the items and finds it
        await keys.press("enter")
        await keys.type("1")
        await wait_until(  # the warehouse follows the quantity
            pilot,
            lambda: app.screen.query_one("#warehouse", Select).value == source.id,
            what="the warehouse for one unit",
        )
        await keys.press("enter")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        used = s.exec(select(MaterialUse).where(MaterialUse.order_id == order.id)).all()
    assert [u.item_name for u in used][-1] == "Фреон R410A"


async def test_sign(app, demo_db):
    from tests.tui.field import record_visit

    order = an_order(demo_db, "in_progress")
    record_visit(demo_db, order.id)  # an act is signed for work done
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.palette("подпись")
        await keys.type("Смирнова О. В.")
        await keys.press("enter")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        record = s.get(ExecutionRecord, order.id)
    assert record is not None
    assert record.signer_name.endswith("Смирнова О. В.")


async def test_move_to_the_next_stage(app, demo_db):
    order = an_order(demo_db, "assigned")
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.press("m", "enter")
        assert keys.count <= MOST, keys.log
    with demo_db.reader() as s:
        assert s.get(Order, order.id).stage_code == "en_route"


async def test_the_act(app, demo_db, tmp_path, monkeypatch):
    from tests.tui.field import record_visit

    acts = tmp_path / "acts"
    acts.mkdir()
    monkeypatch.setenv("FSM_ACT_DIR", str(acts))
    order = an_order(demo_db, "in_progress")
    record_visit(demo_db, order.id)
    async with app.run_test(size=SIZE) as pilot:
        keys = await on_board(app, pilot, order.number)
        await keys.palette("акт в pdf")
        await wait_until(pilot, lambda: list(acts.glob("*.pdf")), what="the act's PDF")
        assert keys.count <= MOST, keys.log
    assert [p.suffix for p in acts.iterdir()] == [".pdf"]


async def test_a_typed_name_that_matches_nobody_never_unassigns(app, demo_db):
    """Found in tmux: with a filter that matched no one, the only line left was "take it
    away from …", and enter removed the assignee."""
    order = an_order(demo_db, "assigned")
    async with app.run_test(size=SIZE) as pilot:
        await on_board(app, pilot, order.number)
        await pilot.press("a", *"нет такого", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    with demo_db.reader() as s:
        assert s.get(Order, order.id).assignee_id == order.assignee_id


async def test_move_offers_done_after_in_progress_not_a_pause(app, demo_db):
    order = an_order(demo_db, "in_progress")
    async with app.run_test(size=SIZE) as pilot:
        await on_board(app, pilot, order.number)
        await pilot.press("m", "enter")
        await settle(pilot)
    with demo_db.reader() as s:
        assert s.get(Order, order.id).stage_code == "done"
