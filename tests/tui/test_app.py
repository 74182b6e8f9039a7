"""The app around the sections: keys with ids, the help screen, the command palette,
remapping, languages, the status line, and errors shown as notifications."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url
from textual.binding import Binding
from textual.widgets import DataTable

from fsm_tui.app import FsmApp, read_keymap
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.help import HelpScreen
from fsm_tui.screens.new_order import NewOrderScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.text import BINDING_TEXT, UI
from fsm_tui.widgets.order_table import OrderTable
from fsm_tui.widgets.status_line import StatusLine, database_label
from tests.tui.conftest import SIZE, USER, build_app, palette, screen_text, settle

pytestmark = pytest.mark.asyncio


def all_bindings(app: FsmApp) -> list[tuple[str, Binding]]:
    return [
        (scope, binding)
        for scope, cls in app.binding_sources()
        for binding in Binding.make_bindings(cls.BINDINGS)
    ]


async def test_every_binding_has_an_id_and_words_in_both_languages(app):
    ids = set()
    for scope, binding in all_bindings(app):
        assert binding.id, f"{scope}: {binding.key} -> {binding.action} has no id"
        assert binding.id in BINDING_TEXT, binding.id
        ids.add(binding.id)
    assert {"board.new_order", "board.assign", "board.move", "order.save"} <= ids


async def test_ui_words_exist_in_both_languages():
    from fsm_core.i18n import LABELS

    assert not set(UI) & set(LABELS), "a dashboard word would hide a shared label"
    for key, (en, ru) in {**UI, **BINDING_TEXT}.items():
        assert en, key
        assert ru, key
        assert en.count("{") == ru.count("{"), key


async def test_help_lists_every_binding(app):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#bindings", DataTable)
        listed = {str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        assert listed == {b.id for _, b in all_bindings(app)}
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_keys_can_be_remapped_by_id(demo_url, tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('board.new_order = "ctrl+n"\n"board.move" = "ctrl+m"\n', encoding="utf-8")
    assert read_keymap(path) == {"board.new_order": "ctrl+n", "board.move": "ctrl+m"}
    app = build_app(demo_url, keymap=read_keymap(path), keymap_file=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, NewOrderScreen)


async def test_command_palette_runs_the_apps_commands(app):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "Новая")
        assert isinstance(app.screen, NewOrderScreen)


async def test_command_palette_opens_an_order_by_number(app):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        number = app.screen.table.row_at(3)["number"]
        await palette(pilot, number)
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.details["number"] == number


@pytest.mark.both_backends
async def test_english_and_the_status_line(demo_url):
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        text = str(status.render())
        assert "Orders" in text
        assert USER in text
        database = "fsm.db" if demo_url.startswith("sqlite") else make_url(demo_url).database
        assert database in text  # where the dispatcher is working
        assert "live: off" in text
        header = app.screen.table.render_line(0).text
        assert "Number" in header
        assert "Customer" in header


async def test_live_state_reaches_the_status_line(app):
    from fsm_tui.messages import LiveStateChanged

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.post_message(LiveStateChanged("on"))
        await settle(pilot)
        assert app.screen.query_one(StatusLine).live == "on"
        assert app.live_state == "on"


async def test_a_database_error_is_a_notification_not_a_crash(app):
    from fsm_core.errors import NotFound

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.report_error(NotFound("order", "26-9999"))
        await pilot.pause()
        assert any("26-9999" in n.message for n in app._notifications)
        board = app.screen
        app.open_order(999_999)  # gone meanwhile: reading it says so, and nothing opens
        await settle(pilot)
        assert any("#999999" in n.message for n in app._notifications)
        assert app.screen is board


async def test_an_unexpected_error_is_a_toast_for_the_user_and_a_failure_for_a_test(
    app, unexpected_errors_fail_the_test
):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.report_error(RuntimeError("a bug"))
        await pilot.pause()
        assert any("a bug" in n.message for n in app._notifications)  # the user goes on
    assert [str(e) for e in unexpected_errors_fail_the_test] == ["a bug"]
    unexpected_errors_fail_the_test.clear()  # provoked on purpose: this test passes


async def test_database_labels():
    assert database_label("sqlite:////home/x/.local/share/fsm/fsm.db") == "fsm.db"
    assert database_label("postgresql+psycopg://u:secret@db.local/fsm") == "db.local/fsm"


@pytest.mark.parametrize("head_start", [True, False], ids=["head-start", "workers-only"])
async def test_the_board_draws_before_the_pick_lists_are_read(demo_url, head_start):
    """The first catalog the app gets holds only what the board draws with (stages, time
    zone): read with the first page before the app starts (the head start) or, without
    it, by the first worker. The customers, objects, contacts and employees the forms pick
    from follow. A form asked for in between waits for them instead of opening with empty
    lists."""
    from fsm_tui.messages import CatalogLoaded

    catalogs = []

    def hook(message):
        if isinstance(message, CatalogLoaded):
            catalogs.append(message.catalog)

    app = build_app(demo_url, head_start=head_start)
    if head_start:
        assert app.catalog is not None
        catalogs.append(app.catalog)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        first, last = catalogs[0], catalogs[-1]
        assert not first.complete
        assert first.workflow.stages
        assert (first.objects, first.employees, first.customers) == ((), (), ())
        assert last.complete
        assert all((last.objects, last.employees, last.customers))
        assert app.catalog is last
        assert len(catalogs) == 2  # the light one once, then the complete one
        assert app.screen.query_one(OrderTable).loaded_rows > 0
        app.catalog = first  # as if the pick lists were still on their way
        app.new_order()
        await pilot.pause()
        assert not isinstance(app.screen, NewOrderScreen)
        app.catalog = last
        app.new_order()
        await settle(pilot)
        assert isinstance(app.screen, NewOrderScreen)


async def test_the_first_page_is_read_before_the_app_starts(demo_url, monkeypatch):
    """With the head start the board shows its first page on its first frame: no worker
    reads it again (only the counts are queried), and the page is the open orders."""
    from fsm_core.services import order_queries

    app = build_app(demo_url)
    pages = []
    real = order_queries.list_orders

    def counting(**kwargs):
        pages.append(kwargs["filters"])
        return real(**kwargs)

    monkeypatch.setattr(order_queries, "list_orders", counting)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(OrderTable)
        assert table.loaded_rows > 0  # before any worker has run
        await settle(pilot)
        assert pages == []
        assert table.total is not None
        assert table.total >= table.loaded_rows
        assert table.filters is not None
        assert table.filters.open_only
        assert app.take_head_start() is None  # used once
        first = table.row_at(0)
        assert first is not None
        assert first["number"] in screen_text(app)


async def test_the_footer_is_rebuilt_only_when_its_keys_change(app, monkeypatch):
    """Bindings-updated signals with the same keys (focus moving among like widgets, a
    screen being built) leave the footer alone; a change of keys rebuilds it."""
    from fsm_tui.widgets.key_footer import KeyFooter

    rebuilt = []
    original = KeyFooter.recompose

    async def counting(self):
        rebuilt.append(self)
        await original(self)

    monkeypatch.setattr(KeyFooter, "recompose", counting)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        before = len(rebuilt)
        for _ in range(3):
            app.screen.refresh_bindings()
        await settle(pilot)
        assert len(rebuilt) == before
        assert "Новая" in screen_text(app)  # the board's key for a new order
        await pilot.press("f3")  # the planner: other keys, its own footer
        await settle(pilot)
        planner_footer = app.screen.query_one(KeyFooter)
        assert planner_footer is not footer
        assert planner_footer in rebuilt
