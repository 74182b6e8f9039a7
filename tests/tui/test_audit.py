"""The dashboard's audit trail (F9, or the command palette): the newest changes for an
admin, narrowed by what is typed; anyone else is refused with the core's one line."""

from __future__ import annotations

import pytest

from fsm_core.db import Database
from fsm_core.services import orders, users
from fsm_tui.app import make_app
from fsm_tui.screens.audit import AuditScreen
from fsm_tui.widgets.line_table import LineTable
from tests.conftest import NOW
from tests.tui.conftest import SIZE, build_app, palette, settle, wait_until

pytestmark = pytest.mark.asyncio


def _lines(app) -> list[tuple]:
    table = app.screen.query_one("#audit-lines", LineTable)
    return [line.cells for line in table.lines]


async def test_an_admin_sees_the_newest_changes_and_filters_them(demo_url, demo_db):
    from fsm_core.identity import establish

    establish(demo_db)  # the test's account claims the demo's admin first (one audit row)
    with demo_db.transaction() as s:
        order = orders.create_order(
            session=s,
            data={"customer_id": 1, "object_id": 1, "description": "Проверка аудита"},
            actor="test",
        )
        number = order.number
    app = build_app(demo_url)  # in-process: the database acts as the system (all roles)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        first = _lines(app)[0]
        assert (first[4], first[5][0], first[6]) == ("заявка", number, "создание")
        assert "Проверка аудита" in first[7]
        await pilot.press("enter")  # every change, whole
        await settle(pilot)
        shown = [n for n in app._notifications if n.title == f"заявка {number}"]
        assert shown
        assert "description: Проверка аудита" in shown[-1].message
        await pilot.press("slash", *"склад")
        await wait_until(
            pilot,
            lambda: _lines(app) and all(c[4] in ("склад", "движение ТМЦ") for c in _lines(app)),
            what="only the warehouses' and movements' rows",
        )
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, AuditScreen)


async def test_the_palette_opens_it(demo_url):
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "audit trail")
        assert isinstance(app.screen, AuditScreen)


async def test_a_dispatcher_is_refused_with_the_cores_words(demo_url):
    database = Database(demo_url)
    with database.transaction() as s:
        users.create_user(
            session=s, login="disp2", display_name="Орлова В. П.", roles=["dispatcher"]
        )
    app = make_app(database, lang="en", user="disp2", now=NOW, cursor_blink=False, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert not isinstance(app.screen, AuditScreen)
        assert any(
            "Орлова В. П. (dispatcher) may not read the audit trail" in n.message
            for n in app._notifications
        )
