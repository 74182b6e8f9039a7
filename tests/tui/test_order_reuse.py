"""The order screen closed last is kept and shows the next order opened (issue 16: opening an
order without making its ~75 widgets again), with nothing of the order it showed before,
drawn as a screen made for the new order would be."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, TabbedContent, TabPane, Tabs, TextArea

from fsm_core.models import Order
from fsm_tui.messages import LiveStateChanged, OrdersChanged
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.order import AFTER_HISTORY, ORDER_TABS, Loaded, OrderScreen, read_order
from tests.tui.conftest import SIZE, build_app, palette, screen_text, settle

pytestmark = pytest.mark.asyncio

TABS_SHOWN = ("7", "2", "6")  # history, checklists, materials
FEATURE_PANES = [f"#tab-{tab.id}" for tab in (*ORDER_TABS, *AFTER_HISTORY)]


async def open_current(app: Any, pilot: Any) -> OrderScreen:
    """``enter`` on the board's current row: its order's screen, settled."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, OrderScreen)
    return app.screen


async def close(app: Any, pilot: Any) -> None:
    """Escape back to the board (y when asked whether to drop unsaved edits)."""
    from fsm_tui.screens.confirm import ConfirmScreen

    await pilot.press("escape")
    await settle(pilot)
    if isinstance(app.screen, ConfirmScreen):
        await pilot.press("y")
        await settle(pilot)
    assert isinstance(app.screen, BoardScreen)


def mounted_panes(screen: OrderScreen) -> list[Any]:
    return [pane for sel in FEATURE_PANES for pane in screen.query_one(sel, TabPane).children]


def history_rows(table: DataTable[Any]) -> list[tuple[str, ...]]:
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def used_and_closed(app: Any, pilot: Any) -> OrderScreen:
    """Open the board's first order, look at two feature tabs and the history, type into
    its fields without saving, scroll, and leave (escape, and yes to dropping the edits)."""
    first = await open_current(app, pilot)
    area = first.query_one("#description", TextArea)
    area.focus()
    await pilot.press("end", *"  ПРАВКА A")
    first.query_one("#external_id", Input).value = "EXT-A-" + "9" * 40
    first.query_one("#order-form").scroll_end(animate=False)
    assert first.is_dirty()
    first.query_one(Tabs).focus()
    for key in ("2", "6", "7"):  # checklists, materials, history (left on it)
        await pilot.press(key)
        await settle(pilot)
    assert len(mounted_panes(first)) == 2
    first.query_one("#history", DataTable).move_cursor(row=3)
    await close(app, pilot)
    return first


async def test_the_next_order_is_shown_in_the_closed_screen_with_nothing_of_the_last(
    sqlite_demo_url,
):
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        board = app.screen
        row_a = board.current_row()
        await pilot.press("down")
        row_b = board.current_row()
        assert row_b["id"] != row_a["id"]
        second = await open_current(app, pilot)
        assert second is first  # reused, not made again
        assert second.order_id == row_b["id"]
        assert second.query_one("#order-tabs", TabbedContent).active == "tab-order"
        assert not second.is_dirty()
        assert mounted_panes(second) == []  # A's panes went when it closed
        with app.backend.reader() as session:
            details, history = read_order(
                session, row_b["id"], now=app.backend.now(), lang="ru", tz=app.catalog.tz
            )
        assert second.query_one("#description", TextArea).text == details["description"]
        assert second.query_one("#external_id", Input).value == (details["external_id"] or "")
        assert len(history_rows(second.query_one("#history", DataTable))) == len(history)
        text = screen_text(app)
        assert row_b["number"] in text
        assert row_a["number"] not in text
        assert "ПРАВКА A" not in text
        # the tabs are made for B when shown
        await pilot.press("2")
        await settle(pilot)
        (pane,) = mounted_panes(second)
        assert pane.order_id == row_b["id"]
        await pilot.press("7")
        await settle(pilot)
        assert row_a["number"] not in screen_text(app)


async def test_a_reused_screen_draws_what_a_new_one_does_from_its_first_frame(sqlite_demo_url):
    """The first frame of the screen reused for B is the one a screen made for B settles to
    (nothing of A's tab, scroll, cursor, column widths; nothing left to fill in)."""
    frames: list[str] = []

    def record_first(app: Any) -> None:
        display = app._display

        def recording(screen: Any, update: Any) -> None:
            display(screen, update)
            if isinstance(screen, OrderScreen) and screen.details is not None and not frames:
                frames.append(app.export_screenshot())

        app._display = recording

    reused = build_app(sqlite_demo_url)
    async with reused.run_test(size=SIZE) as pilot:
        first = await used_and_closed(reused, pilot)
        await pilot.press("down")
        await settle(pilot)
        record_first(reused)
        second = await open_current(reused, pilot)
        assert second is first
        settled = [reused.export_screenshot()]
        for key in TABS_SHOWN:
            await pilot.press(key)
            await settle(pilot)
            settled.append(reused.export_screenshot())
        order_id = second.order_id

    fresh = build_app(sqlite_demo_url)
    async with fresh.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fresh.open_order(order_id)
        await settle(pilot)
        assert isinstance(fresh.screen, OrderScreen)
        made = [fresh.export_screenshot()]
        for key in TABS_SHOWN:
            await pilot.press(key)
            await settle(pilot)
            made.append(fresh.export_screenshot())
    assert frames == made[:1]
    assert settled == made


async def test_a_task_from_the_palette_starts_in_the_reused_screen(sqlite_demo_url):
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        await pilot.press("down")
        row = app.screen.current_row()
        await palette(pilot, "Записать работу")  # the board's current order, its Execution tab
        # the work form over the order screen, the order's Execution tab under it
        order_screen = next(s for s in app.screen_stack if isinstance(s, OrderScreen))
        assert order_screen is first
        assert app.screen is not first
        assert first.query_one("#order-tabs", TabbedContent).active == "tab-execution"
        (pane,) = mounted_panes(first)
        assert pane.order_id == row["id"]


async def test_an_order_gone_meanwhile_is_said_and_the_kept_screen_waits(
    sqlite_demo_url, unexpected_errors_fail_the_test
):
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        app.open_order(10**9)  # deleted (or never there): NotFound, shown as any error
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app._spare_order is first
        await pilot.press("down")
        assert await open_current(app, pilot) is first


async def test_only_the_screen_on_display_follows_the_orders(sqlite_demo_url, monkeypatch):
    loads: list[tuple[int, int]] = []
    load = OrderScreen._load_order

    def counting(self: OrderScreen, order_id: int, opening: int) -> Any:
        loads.append((id(self), order_id))
        return load(self, order_id, opening)

    monkeypatch.setattr(OrderScreen, "_load_order", counting)
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        a = first.order_id
        assert first not in app.screens_to_notify
        app.broadcast(OrdersChanged((a,)))
        await settle(pilot)
        assert loads == []  # set aside: no reload of the order it showed
        await pilot.press("down")
        second = await open_current(app, pilot)
        assert second is first
        app.broadcast(OrdersChanged((a,)))
        await settle(pilot)
        assert loads == []  # not its order now
        app.broadcast(OrdersChanged((second.order_id,)))
        await settle(pilot)
        assert loads == [(id(second), second.order_id)]


async def test_what_a_worker_brings_for_the_last_order_is_dropped(sqlite_demo_url):
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        opening, a = first.opening, first.order_id
        with app.backend.reader() as session:
            details_a, history_a = read_order(
                session, a, now=app.backend.now(), lang="ru", tz=app.catalog.tz
            )
        await pilot.press("down")
        second = await open_current(app, pilot)
        second.post_message(Loaded(details_a, history_a, opening))  # A's reload, late
        await settle(pilot)
        assert second.details["number"] != details_a["number"]
        assert details_a["number"] not in screen_text(app)


async def test_an_open_screen_with_edits_is_left_as_it_is(sqlite_demo_url):
    """Another order opened over an order being edited gets a screen of its own (the kept
    one when there is one); the edits below stay, and closing both keeps one screen."""
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        spare = await used_and_closed(app, pilot)
        await pilot.press("down")
        editing = await open_current(app, pilot)  # the kept screen
        assert editing is spare
        editing.query_one("#external_id", Input).value = "EXT-EDITED"
        row = app.screen_stack[-2].current_row()
        with app.backend.reader() as session:
            ids = session.execute(select(Order.id).order_by(Order.id)).scalars()
            other = next(i for i in ids if i != row["id"])
        app.open_order(other)
        await settle(pilot)
        over = app.screen
        assert isinstance(over, OrderScreen)
        assert over is not editing  # a new one: the kept one is in use
        assert over.order_id == other
        assert editing.is_dirty()
        assert editing.query_one("#external_id", Input).value == "EXT-EDITED"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is editing
        # not kept: it was shown over another order screen (see FsmApp.keep_order_screen)
        assert app._spare_order is None
        assert editing.is_dirty()
        assert editing.query_one("#external_id", Input).value == "EXT-EDITED"
        await pilot.press("escape", "y")  # yes, drop the edits
        await settle(pilot)
        assert app._spare_order is editing


async def test_a_new_screen_is_made_when_the_catalog_changed(sqlite_demo_url):
    import dataclasses
    import gc
    import weakref

    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = weakref.ref(await used_and_closed(app, pilot))
        app.catalog = dataclasses.replace(app.catalog, company_name="ООО «Другая»")
        await settle(pilot)
        await pilot.press("down")
        second = await open_current(app, pilot)
        assert second is not first()
        assert "ООО «Другая»" in screen_text(app)
        await settle(pilot)
        gc.collect()
        assert first() is None


async def test_a_new_screen_is_made_after_a_resize(sqlite_demo_url):
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        await pilot.resize_terminal(80, 30)
        await settle(pilot)
        await pilot.press("down")
        second = await open_current(app, pilot)
        assert second is not first


async def test_the_order_tab_is_back_at_once_when_closed(sqlite_demo_url):
    """Closed on another tab, the screen goes back to the Order tab without the underline's
    animation, which could still be under way when the next order is shown."""
    from textual.widgets._tabs import Underline

    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_current(app, pilot)
        underline = screen.query_one(Underline)
        at_order_tab = (underline.highlight_start, underline.highlight_end)
        await pilot.press("7")
        await settle(pilot)
        assert (underline.highlight_start, underline.highlight_end) != at_order_tab
        screen.action_back()  # escape, without the pilot's wait for animations to end
        assert app._spare_order is screen
        # the widgets are reset after the board's next frame (later on a busy host): the
        # underline goes back in one step, never animated on the way
        deadline = asyncio.get_running_loop().time() + 10
        while (underline.highlight_start, underline.highlight_end) != at_order_tab:
            assert not app.animator.is_being_animated(underline, "highlight_start")
            assert asyncio.get_running_loop().time() < deadline, "the underline stayed"
            await asyncio.sleep(0.002)
        assert not app.animator.is_being_animated(underline, "highlight_start")


async def test_the_status_line_says_the_live_state_of_when_it_is_shown(sqlite_demo_url):
    from fsm_tui.widgets.status_line import StatusLine

    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        first = await used_and_closed(app, pilot)
        app.broadcast(LiveStateChanged("lost"))  # heard by the board, not the screen set aside
        await settle(pilot)
        await pilot.press("down")
        assert await open_current(app, pilot) is first
        assert first.query_one(StatusLine).live == "lost"


async def test_a_task_about_to_start_when_the_screen_closes_does_not(sqlite_demo_url):
    """A tab's action queued to run after the next frame (a task from the palette) is not
    run once the screen has closed: it would open its form for the order just closed."""
    app = build_app(sqlite_demo_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_current(app, pilot)
        await pilot.press("3")  # Execution, read
        await settle(pilot)
        pane = screen.query_one("#tab-execution", TabPane)
        screen._task_wanted = ("tab-execution", "work")
        screen._start_task(pane)  # queued after the next refresh
        screen.action_back()
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app._spare_order is screen
