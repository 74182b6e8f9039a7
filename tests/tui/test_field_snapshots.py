"""Screenshots of the stock section and the order's field tabs (checklists, execution, act,
materials) and their dialogs, at 120×40 on the demo company with the clock pinned. Review
a changed one with ``pytest tests/tui --snapshot-report``, accept with ``--snapshot-update``."""

from __future__ import annotations

from textual.widgets import Select, TabbedContent

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.services import execution
from tests.conftest import NOW
from tests.tui.conftest import USER, settle, snap
from tests.tui.field import order_id, record_visit


def on_tab(url: str, tab: str, external_id: str = "DEMO-011"):
    """A step: open the order on ``tab``, the focus in its pane."""
    database = Database(url)
    try:
        order = order_id(database, external_id)
    finally:
        database.dispose()

    async def step(pilot) -> None:
        app = pilot.app
        app.open_order(order)
        await settle(pilot)
        app.screen.query_one("#order-tabs", TabbedContent).active = f"tab-{tab}"
        await settle(pilot)
        app.screen.query_one(f"#tab-{tab} OrderPane").focus_main().focus()

    return step


def visit(url: str, *, signed: bool = True) -> None:
    """Work, a material, a comment and a signature on DEMO-011, through the core."""
    database = Database(url)
    try:
        order = order_id(database)
        record_visit(database, order)
        if signed:
            with clock.frozen(NOW), database.transaction() as s:
                execution.set_comment(
                    session=s, order_id=order, comment="Масло и фильтр заменены", actor=USER
                )
                execution.sign(session=s, order_id=order, signer_name="Смирнова О. В.", actor=USER)
    finally:
        database.dispose()


def choose(selector: str, text: str):
    def step(pilot) -> None:
        select = pilot.app.screen.query_one(selector, Select)
        select.value = next(v for label, v in select._options if text in str(label))

    return step


# --- stock -------------------------------------------------------------------------------


def test_stock(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f5")


def test_stock_in_english_low_only(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f5", "l", lang="en")


def test_stock_ledger(snap_compare, sqlite_demo_url):
    def on_freon(pilot) -> None:
        table = pilot.app.screen.table
        table.move_to(next(ln.key for ln in table.lines if ln.cells[1] == "R410A"))

    assert snap(snap_compare, sqlite_demo_url, "f5", on_freon, "enter")


def test_stock_transfer(snap_compare, sqlite_demo_url):
    def on_oil(pilot) -> None:
        table = pilot.app.screen.table
        table.move_to(next(ln.key for ln in table.lines if ln.cells[1] == "OIL-15W40"))

    assert snap(snap_compare, sqlite_demo_url, "f5", on_oil, "t")


# --- the order's tabs --------------------------------------------------------------------


def test_order_checklists(snap_compare, sqlite_demo_url):
    tab = on_tab(sqlite_demo_url, "checklists")

    def quiet(pilot) -> None:
        pilot.app.clear_notifications()

    assert snap(snap_compare, sqlite_demo_url, tab, "enter", "n", "up", quiet)


def test_order_checklist_answer(snap_compare, sqlite_demo_url):
    tab = on_tab(sqlite_demo_url, "checklists")
    assert snap(snap_compare, sqlite_demo_url, tab, "end", "enter", *"11,9")


def test_order_execution(snap_compare, sqlite_demo_url):
    visit(sqlite_demo_url)
    assert snap(snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "execution"))


def test_order_work_form(snap_compare, sqlite_demo_url):
    tab = on_tab(sqlite_demo_url, "execution")
    assert snap(
        snap_compare,
        sqlite_demo_url,
        tab,
        "w",
        choose("#work_type", "Плановое ТО ДГУ до 200 кВА"),
        choose("#executor-1", "Петров А. С."),
    )


def test_order_material_refused(snap_compare, sqlite_demo_url):
    tab = on_tab(sqlite_demo_url, "execution")
    assert snap(
        snap_compare, sqlite_demo_url, tab, "u", choose("#item", "Масло моторное"), *"50", "ctrl+s"
    )


def test_order_act(snap_compare, sqlite_demo_url):
    visit(sqlite_demo_url)
    assert snap(snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "act"))


def test_order_act_in_english(snap_compare, sqlite_demo_url):
    visit(sqlite_demo_url, signed=False)
    assert snap(snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "act"), lang="en")


def test_order_materials(snap_compare, sqlite_demo_url):
    visit(sqlite_demo_url, signed=False)
    assert snap(snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "materials"))


def test_order_reserve_form(snap_compare, sqlite_demo_url):
    tab = on_tab(sqlite_demo_url, "materials")
    assert snap(snap_compare, sqlite_demo_url, tab, "r", choose("#item", "Кронштейн F 017 C 450"))
