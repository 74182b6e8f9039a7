"""The line-drawn table the stock, ledger, checklist and materials panes share."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from fsm_tui.widgets.line_table import Column, Line, LineTable
from tests.tui.conftest import screen_text

pytestmark = pytest.mark.asyncio


class OneTable(App[None]):
    CSS = "LineTable { height: auto; }"  # as the checklist pane sizes it

    def compose(self) -> ComposeResult:
        yield LineTable(
            [Column("item", "Item", 20, flex=1), Column("qty", "Qty", 6, right=True)],
            lang="en",
            empty="No checklist applies to this order.",
        )


async def test_an_empty_table_says_so_even_when_sized_to_its_lines():
    app = OneTable()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(LineTable)
        table.set_lines([])
        await pilot.pause()
        assert "No checklist applies to this order." in screen_text(app)
        table.set_lines([Line("a", ("Oil filter", "2"))])
        await pilot.pause()
        text = screen_text(app)
        assert "Oil filter" in text
        assert "No checklist applies" not in text
