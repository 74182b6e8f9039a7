"""The stock section (F5): balances by warehouse and item, low stock highlighted, filters,
an item's ledger, receipts and transfers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import Input, Select

from fsm_core.models import StockBalance
from fsm_core.services import lookup, stock_queries
from fsm_tui.screens.ledger import LedgerScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.screens.stock import StockScreen
from fsm_tui.screens.stock_forms import ReceiveScreen, TransferScreen
from tests.tui.conftest import SIZE, USER, dialog, screen_text, settle

pytestmark = pytest.mark.asyncio


async def open_stock(app, pilot) -> StockScreen:
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    assert isinstance(app.screen, StockScreen)
    return app.screen


def item_lines(screen: StockScreen, sku: str) -> list:
    return [line for line in screen.table.lines if line.cells[1] == sku]


def on_hand(database, sku: str, warehouse: str) -> Decimal:
    with database.reader() as s:
        item = lookup.resolve_item(session=s, ref=sku)
        place = lookup.resolve_warehouse(session=s, ref=warehouse)
        row = s.get(StockBalance, (item.id, place.id))
        return row.on_hand if row else Decimal(0)


async def test_balances_with_low_stock_highlighted(app, demo_db):
    with demo_db.reader() as s:
        expected = stock_queries.balances(session=s)
        low = {line.sku for line in stock_queries.low_stock(session=s)}
    assert low == {"AKB-12-100", "MATRIX-II"}
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stock(app, pilot)
        lines = screen.table.lines
        assert len(lines) == len(expected)
        for line in lines:
            assert (line.style == "low") == (line.cells[1] in low), line.cells
        battery = item_lines(screen, "AKB-12-100")[0]
        assert battery.cells[3:6] == ("2 шт", "1 шт", ("1 шт", "low"))
        assert [line.cells[0] for line in screen.low_table.lines] == ["AKB-12-100", "MATRIX-II"]
        text = screen_text(app)
        assert "мало на складе: 2" in text
        assert "Дозаказать" in text
        # the highlight is a colour of its own on screen
        row = 1 + lines.index(battery)
        assert screen.table.render_line(row).text.startswith("Центральный склад")
        styles = {
            seg.style.color
            for seg in screen.table.render_line(row + 1)._segments
            if seg.text.strip()
        }
        low_styles = {
            seg.style.color for seg in screen.table.render_line(row)._segments if seg.text.strip()
        }
        assert styles != low_styles


async def test_filters_by_warehouse_text_and_low_stock(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stock(app, pilot)
        with demo_db.reader() as s:
            south = lookup.resolve_warehouse(session=s, ref="Склад Юг").id
        screen.query_one("#stock-warehouse", Select).value = south
        await settle(pilot)
        assert {line.cells[0] for line in screen.table.lines} == {"Склад Юг"}
        assert len(screen.table.lines) == 5
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("slash", *"фреон", "enter")
        await settle(pilot)
        assert {line.cells[1] for line in screen.table.lines} == {"R410A"}
        assert len(screen.table.lines) == 3  # central, south, Иванов's van
        assert screen.table.has_focus
        await pilot.press("x", "l")
        await settle(pilot)
        assert {line.cells[1] for line in screen.table.lines} == {"AKB-12-100", "MATRIX-II"}
        assert "только то, чего мало" in screen_text(app)
        await pilot.press("l")
        await settle(pilot)
        assert len(screen.table.lines) > 2


async def test_an_items_ledger_on_enter(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stock(app, pilot)
        van = next(
            line
            for line in screen.table.lines
            if line.cells[1] == "R410A" and "Иванов" in line.cells[0]
        )
        screen.table.move_to(van.key)
        await pilot.press("enter")
        await settle(pilot)
        ledger = app.screen
        assert isinstance(ledger, LedgerScreen)
        movements = [line.data for line in ledger.query_one("#ledger-lines").lines]
        with demo_db.reader() as s:
            item = lookup.resolve_item(session=s, ref="R410A")
            expected = stock_queries.ledger(session=s, item_id=item.id)
        assert [m.id for m in movements] == [m.id for m in expected]
        kinds = {m.kind for m in movements}
        assert {"receipt", "transfer", "write_off"} <= kinds
        text = screen_text(app)
        assert "Фреон R410A · R410A · кг" in text
        assert "списание" in text  # the kind, who, when and the order
        write_off = next(m for m in movements if m.kind == "write_off")
        assert write_off.order in text
        assert write_off.actor in text
        # enter on a write-off opens its order
        ledger.query_one("#ledger-lines").move_to(write_off.id)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.details["number"] == write_off.order


@pytest.mark.both_backends
async def test_receive_and_transfer(app, demo_db):
    central_before = on_hand(demo_db, "R410A", "Центральный склад")
    van_before = on_hand(demo_db, "R410A", "Автомобиль (Соколов Д. А.)")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stock(app, pilot)
        line = next(ln for ln in screen.table.lines if ln.cells[1] == "R410A")
        screen.table.move_to(line.key)
        form = await dialog(pilot, "i")
        assert isinstance(form, ReceiveScreen)
        assert form.query_one("#item", Select).value == line.data  # the line's item and place
        assert form.query_one("#warehouse", Select).value == line.key[0]
        await pilot.press(*"2,5")
        form.query_one("#document", Input).value = "ТН-2611-0102"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)
        assert on_hand(demo_db, "R410A", "Центральный склад") == central_before + Decimal("2.5")
        form = await dialog(pilot, "t")
        assert isinstance(form, TransferScreen)
        with demo_db.reader() as s:
            van = lookup.resolve_warehouse(session=s, ref="Автомобиль (Соколов Д. А.)").id
        form.query_one("#target", Select).value = van
        form.query_one("#quantity", Input).value = "100"  # more than there is
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert app._notifications  # the refusal, one line
        assert on_hand(demo_db, "R410A", "Автомобиль (Соколов Д. А.)") == van_before
        form.query_one("#quantity", Input).value = "3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert on_hand(demo_db, "R410A", "Центральный склад") == central_before + Decimal("2.5") - 3
        assert on_hand(demo_db, "R410A", "Автомобиль (Соколов Д. А.)") == van_before + 3
        assert any(
            line.cells[0] == "Автомобиль (Соколов Д. А.)" and line.cells[1] == "R410A"
            for line in screen.table.lines
        )
        with demo_db.reader() as s:
            latest = stock_queries.ledger(session=s, limit=2)
            assert [m.kind for m in latest] == ["transfer", "receipt"]
            assert {m.actor for m in latest} == {USER}
            assert stock_queries.reconcile(session=s) == []


async def test_a_whole_number_unit_refuses_a_fraction_in_place(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await open_stock(app, pilot)
        form = await dialog(pilot, "i")
        form.query_one("#item", Select).value = next(
            value
            for label, value in form.query_one("#item", Select)._options
            if "AKB-12-100" in str(label)
        )
        form.query_one("#warehouse", Select).value = form.query_one("#warehouse", Select)._options[
            1
        ][1]
        form.query_one("#quantity", Input).value = "1,5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#error-quantity").display
