"""Screenshots of every screen at 120×40 on the demo company, the clock pinned and cursors
still. Review a changed screenshot with ``pytest tests/tui --snapshot-report`` and accept it
with ``--snapshot-update``."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import OptionList, Select, TextArea

from fsm_core.models import Order
from fsm_core.services import orders
from tests.tui.conftest import palette_searched, snap


def test_board(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url)


def test_board_in_english(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, lang="en")


def test_board_as_columns(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "v")


def test_board_filtered(snap_compare, sqlite_demo_url):
    def violated(pilot):
        pilot.app.screen.query_one("#filter-sla", Select).value = "violated"

    assert snap(snap_compare, sqlite_demo_url, violated, "slash", *"ДГУ", "escape")


def test_new_order(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "n", *"СМТ-000114", "enter", *"Течёт вода")


def test_new_order_errors(snap_compare, sqlite_demo_url):
    def pick_customer(pilot):
        screen = pilot.app.screen
        screen.query_one("#customer", Select).value = pilot.app.catalog.customers[0].id

    assert snap(snap_compare, sqlite_demo_url, "n", pick_customer, "ctrl+s")


def test_assign(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "a")


def test_move(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "m")


def test_order(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "enter")


def test_order_history(snap_compare, sqlite_demo_url):
    def history(pilot):
        pilot.app.screen.query_one("#order-tabs").active = "tab-history"

    assert snap(snap_compare, sqlite_demo_url, "enter", history)


def test_order_conflict(snap_compare, sqlite_demo_url):
    from fsm_core.db import Database

    def edit(pilot):
        area = pilot.app.screen.query_one("#description", TextArea)
        area.load_text("Нет изображения: камера не пингуется")
        area.focus()

    def someone_else(pilot):
        database = Database(sqlite_demo_url)
        with database.transaction() as s:
            number = pilot.app.screen.details["number"]
            order = s.exec(select(Order).where(Order.number == number)).one()
            orders.update_order(
                session=s,
                order_id=order.id,
                data={"criticality": "critical", "description": "Камера не работает"},
                actor="Смирнов П. А.",
            )
        database.dispose()

    assert snap(snap_compare, sqlite_demo_url, "enter", edit, someone_else, "ctrl+s")


def test_help(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f1")


def test_command_palette(snap_compare, sqlite_demo_url):
    async def wait(pilot):
        await palette_searched(pilot, at_least=3)

    assert snap(snap_compare, sqlite_demo_url, "ctrl+p", *"заяв", wait)


def test_employees_in_assign_show_their_load(snap_compare, sqlite_demo_url):
    def highlight_second(pilot):
        options = pilot.app.screen.query_one("#employees", OptionList)
        options.highlighted = 1

    assert snap(snap_compare, sqlite_demo_url, "down", "a", highlight_second)
