"""The order screen: editing with the loaded version, and what a stale edit does."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select, TextArea

from fsm_core.models import Order
from fsm_core.services import orders
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.order import OrderScreen
from tests.tui.conftest import SIZE, USER, screen_text, settle

pytestmark = pytest.mark.asyncio


async def open_first(app, pilot) -> OrderScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, OrderScreen)
    return app.screen


async def replace_description(pilot, screen: OrderScreen, text: str) -> None:
    area = screen.query_one("#description", TextArea)
    area.focus()
    await pilot.press("ctrl+a")  # select all, then type over it
    area.clear()
    await pilot.press(*text)


async def test_the_first_frame_shows_the_order(app, monkeypatch):
    """The order screen is drawn first with the order's fields filled in, never as an
    empty form that fills a moment later (the order is read before the screen is made)."""
    first: list[tuple[object, str]] = []

    def resumed(screen: OrderScreen) -> None:  # Textual drew the screen's first frame just now
        if not first:
            first.append((screen.query_one("#customer_id", Select).value, screen.version))

    monkeypatch.setattr(OrderScreen, "on_screen_resume", resumed, raising=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(app, pilot)
        assert first == [(screen.details["customer_id"], screen.details["version"])]


async def test_edit_and_save(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(app, pilot)
        version = screen.version
        await replace_description(pilot, screen, "Новое описание")
        screen.query_one("#criticality", Select).value = "critical"
        await pilot.press("ctrl+s")
        await settle(pilot)
        with demo_db.reader() as s:
            order = s.get(Order, screen.order_id)
            assert (order.description, order.criticality) == ("Новое описание", "critical")
            assert order.version == version + 1
        assert screen.version == version + 1
        assert not screen.is_dirty()
        history = screen.query_one("#history")
        assert any("Новое описание" in str(history.get_row_at(i)) for i in range(history.row_count))
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_a_bad_date_is_shown_and_nothing_saved(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(app, pilot)
        version = screen.version
        screen.query_one("#planned_start", Input).value = "31.02.2026 10:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = screen.query_one("#error-form")
        assert error.display
        assert "31.02.2026" in str(error.render())
        assert screen.query_one("#planned_start").has_class("-invalid")
        with demo_db.reader() as s:
            assert s.get(Order, screen.order_id).version == version


@pytest.mark.both_backends
async def test_a_stale_edit_shows_the_conflict_and_keeps_what_was_typed(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(app, pilot)
        loaded = screen.version
        await replace_description(pilot, screen, "Моё описание")
        with demo_db.transaction() as s:  # someone else saves first
            orders.update_order(
                session=s,
                order_id=screen.order_id,
                data={"criticality": "critical", "external_id": "OTHER-1"},
                actor="Другой диспетчер",
            )
        await pilot.press("ctrl+s")
        await settle(pilot)
        conflict = screen.query_one("#conflict")
        assert conflict.display
        text = screen_text(app)
        assert "Моё описание" in text
        assert "OTHER-1" in text
        assert "критическая" in text
        # nothing was saved, and nothing typed was lost
        assert screen.query_one("#description", TextArea).text == "Моё описание"
        with demo_db.reader() as s:
            order = s.get(Order, screen.order_id)
            assert order.description != "Моё описание"
            assert order.version == loaded + 1
        await pilot.press("ctrl+r")  # take theirs, keep mine on top
        await settle(pilot)
        assert not conflict.display
        assert screen.version == loaded + 1
        assert screen.query_one("#description", TextArea).text == "Моё описание"
        assert screen.query_one("#criticality", Select).value == "critical"
        assert screen.query_one("#external_id", Input).value == "OTHER-1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        with demo_db.reader() as s:
            order = s.get(Order, screen.order_id)
            assert (order.description, order.criticality, order.external_id) == (
                "Моё описание",
                "critical",
                "OTHER-1",
            )
            assert order.version == loaded + 2


async def test_assign_from_the_order_screen_keeps_unsaved_edits(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(app, pilot)
        await replace_description(pilot, screen, "Правка")
        screen.query_one("#order-tabs Tabs").focus()
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#description", TextArea).text == "Правка"
        await pilot.press("ctrl+s")  # the assign moved only what the form does not edit
        await settle(pilot)
        assert not screen.query_one("#conflict").display
        with demo_db.reader() as s:
            order = s.get(Order, screen.order_id)
            assert order.description == "Правка"
        assert screen.details["created_by"]
        assert USER


async def test_deadlines_are_shown_by_day_in_the_coming_week_and_with_their_calendar(app, demo_db):
    """Now is Thursday 26.11.2026 12:00 in Moscow; a high order on the company's hours
    (Mon–Fri 09:00–18:00) is due for reaction at 12:30 today, for resolution tomorrow."""
    from fsm_core import clock
    from fsm_core.models import Company, Criticality
    from fsm_core.services import sla
    from tests.conftest import NOW

    with demo_db.transaction() as s:
        sla.set_policy(
            session=s,
            criticality=Criticality.HIGH,
            reaction_minutes=30,
            resolution_minutes=12 * 60,
            calendar="company",
        )
        customer = s.exec(Company.__table__.select().limit(1)).first()  # type: ignore[attr-defined]
        with clock.frozen(NOW):
            order = orders.create_order(
                session=s,
                data={
                    "customer_id": customer.id,
                    "description": "Срок по календарю",
                    "criticality": "high",
                },
                actor=USER,
            )
        order_id = order.id
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(OrderScreen(order_id))
        await settle(pilot)
        text = screen_text(app)
        assert "Срок реакции      чт 12:30" in text
        assert "Срок решения      пт 15:00" in text  # Thu 12–18, Fri 9–15
        assert "Календарь SLA     пн–пт 09:00–18:00" in text


async def test_a_closed_order_screen_is_freed(app):
    """Closing an order lets its screen, widgets and drawn lines go, but for the one screen
    the app keeps for the next order (see test_order_reuse.py): nothing the app keeps (a
    watcher of its catalog or theme, a cache of line styles) holds on to the others, or
    every order opened would stay in memory and each garbage collection would take longer.
    The kept one holds nothing of the order it showed."""
    import gc
    import weakref

    from sqlalchemy import select
    from textual.widgets import DataTable

    async with app.run_test(size=SIZE) as pilot:
        kept = await open_first(app, pilot)
        await pilot.press("escape")  # kept for the next order
        await settle(pilot)
        assert app._spare_order is kept
        await pilot.press("enter")  # shown in the kept screen
        await settle(pilot)
        assert app.screen is kept
        await pilot.press("f3")  # the planner: an order opened there gets a new screen
        await settle(pilot)
        with app.backend.reader() as session:
            ids = session.execute(select(Order.id).order_by(Order.id)).scalars()
            other = next(i for i in ids if i != kept.order_id)
        app.open_order(other)
        await settle(pilot)
        planner_order = app.screen
        assert isinstance(planner_order, OrderScreen)
        assert planner_order is not kept
        await pilot.press("escape")  # kept now: the app had none set aside
        await settle(pilot)
        assert app._spare_order is planner_order
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is kept
        gone = {
            "screen": weakref.ref(kept),
            "description": weakref.ref(kept.query_one("#description", TextArea)),
            "history": weakref.ref(kept.query_one("#history", DataTable)),
            "its lines": weakref.ref(kept.query_one("#order-info")._styles_cache),
        }
        del kept
        await pilot.press("escape")  # freed: one is kept already
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app._spare_order is planner_order
        gc.collect()
        assert [name for name, ref in gone.items() if ref() is not None] == []
        # and the one kept holds nothing of the order it showed
        assert planner_order.details is None
        assert planner_order.query_one("#history", DataTable).row_count == 0
        assert planner_order.query_one(TextArea).text == ""


async def test_leaving_with_unsaved_edits_asks_first(app, demo_db):
    """Escape with edits not saved asks before dropping them: no (n, or escape again) keeps
    the screen and what was typed; yes (y) goes back to the board, nothing saved. Without
    edits escape goes back at once, as before."""
    from fsm_tui.screens.confirm import ConfirmScreen

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(app, pilot)
        with demo_db.reader() as s:
            before = s.get(Order, screen.order_id).description
        await replace_description(pilot, screen, "Черновик")
        for no in ("n", "escape"):
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            assert "выйти, не сохранив" in screen_text(app)
            await pilot.press(no)
            await settle(pilot)
            assert app.screen is screen
            assert screen.query_one("#description", TextArea).text == "Черновик"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        with demo_db.reader() as s:
            assert s.get(Order, screen.order_id).description == before
        # an unchanged form is left at once, and the screen (kept for the next order) is
        # used again
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
