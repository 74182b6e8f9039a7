"""The command palette (ctrl+p): an order by what people type ("open order 26-0092", as
the README says), and every core task for the order at hand."""

from __future__ import annotations

import pytest

from fsm_tui.commands import order_reference
from fsm_tui.screens.order import OrderScreen
from tests.tui.conftest import SIZE, build_app, palette, settle


def test_the_order_number_in_what_was_typed():
    assert order_reference("26-0092") == "26-0092"
    assert order_reference("open order 26-0092") == "26-0092"
    assert order_reference("Открыть заявку №26-0092.") == "26-0092"
    assert order_reference("open order") is None


@pytest.mark.asyncio
@pytest.mark.parametrize(("lang", "words"), [("en", "open order"), ("ru", "открыть заявку")])
async def test_open_order_by_the_readmes_words(demo_url, lang, words):
    app = build_app(demo_url, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        number = app.screen.table.row_at(5)["number"]
        await palette(pilot, f"{words} {number}")
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.details["number"] == number


TASKS = [
    ("Записать работу", "WorkScreen"),
    ("Списать материал", "MaterialScreen"),
    ("Подпись заказчика", "SignScreen"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("words", "dialog"), TASKS)
async def test_the_orders_tasks_are_in_the_palette_from_the_board(demo_url, words, dialog):
    from fsm_tui.screens import execution_forms

    app = build_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        number = app.screen.table.current_row["number"]
        await palette(pilot, words)
        await settle(pilot)
        assert isinstance(app.screen, getattr(execution_forms, dialog))
        assert app.screen.order_id == app.screen_stack[-2].order_id
        assert app.screen_stack[-2].details["number"] == number


@pytest.mark.asyncio
async def test_a_message_from_the_palette_lands_in_the_message_box(demo_url):
    from fsm_tui.widgets.chat_thread import Composer

    app = build_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "Написать сообщение")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.query_one("#order-tabs").active == "tab-messages"
        assert isinstance(app.focused, Composer)


@pytest.mark.asyncio
async def test_the_order_tabs_have_number_keys(demo_url):
    app = build_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        tabs = app.screen.query_one("#order-tabs")
        app.screen.query_one("#history").focus()  # out of the Order tab's fields
        for key, tab in (("5", "tab-messages"), ("3", "tab-execution"), ("7", "tab-history"),
                         ("4", "tab-act"), ("1", "tab-order")):  # fmt: skip
            await pilot.press(key)
            await settle(pilot)
            assert tabs.active == tab, key
