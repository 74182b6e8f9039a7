"""The command palette (ctrl+p): an order by what people type ("open order 26-0092", as
the README says), and every core task for the order at hand."""

from __future__ import annotations

import pytest

from fsm_tui.commands import order_reference
from fsm_tui.screens.order import OrderScreen
from tests.tui.conftest import SIZE, build_app, settle


async def palette_pick(pilot, text: str) -> None:
    """Type ``text`` in the palette, wait for its search, take the first hit."""
    from textual.command import CommandList

    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*text)
    for _ in range(60):
        await pilot.pause(0.1)
        palette = pilot.app.screen
        if not palette._show_busy and palette.query_one(CommandList).option_count:
            break
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


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
        await palette_pick(pilot, f"{words} {number}")
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.details["number"] == number
