"""Every section, the order screen's every tab and the core dialogs at 80×24 (the
smallest terminal the dashboard is made for): nothing that matters off the screen or
split mid-word. Review with ``pytest tests/tui --snapshot-report``."""

from __future__ import annotations

import pytest

from tests.tui.conftest import snap
from tests.tui.test_field_snapshots import on_tab, visit

NARROW = (80, 24)


def narrow(snap_compare, url, *steps, lang: str = "ru") -> bool:
    return snap(snap_compare, url, *steps, lang=lang, size=NARROW)


def test_board_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url)


def test_board_narrow_scrolled_sideways(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "right", "right", lang="en")


def test_planner_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "f3")


def test_chats_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "f4")


def test_stock_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "f5", lang="en")


@pytest.mark.parametrize(
    "tab", ["order", "checklists", "execution", "act", "messages", "materials", "history"]
)
def test_order_tab_narrow(snap_compare, sqlite_demo_url, tab):
    if tab in ("execution", "act"):
        visit(sqlite_demo_url)

    async def open_tab(pilot):
        if tab == "order":
            pilot.app.open_order(_demo_order(sqlite_demo_url))
        elif tab in ("messages", "history"):
            await _numbered(pilot, sqlite_demo_url, tab)
        else:
            await on_tab(sqlite_demo_url, tab)(pilot)

    assert narrow(snap_compare, sqlite_demo_url, open_tab)


def _demo_order(url: str) -> int:
    from fsm_core.db import Database
    from tests.tui.field import order_id

    database = Database(url)
    try:
        return order_id(database)
    finally:
        database.dispose()


async def _numbered(pilot, url: str, tab: str) -> None:
    """Open the order and go to ``tab`` by its number key, as a user would."""
    from tests.tui.conftest import settle

    pilot.app.open_order(_demo_order(url))
    await settle(pilot)
    pilot.app.screen.query_one("#history").focus()
    await pilot.press({"messages": "5", "history": "7"}[tab])


def test_new_order_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "n", *"Лиговск", "enter")


def test_assign_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "a", *"инж")


def test_move_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "m")


def test_plan_visit_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "p", lang="en")


def test_work_form_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "execution"), "w")


def test_material_form_narrow(snap_compare, sqlite_demo_url):
    assert narrow(
        snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "execution"), "u", *"Масло"
    )


def test_help_narrow(snap_compare, sqlite_demo_url):
    assert narrow(snap_compare, sqlite_demo_url, "f1", lang="en")
