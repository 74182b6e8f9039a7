"""The order board, driven with Textual's Pilot: it opens on the first page, filters in
place, and creates, assigns, moves and opens orders through the core's services."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import Input, OptionList, Select, TextArea

from fsm_core.models import Order, OrderHistory
from fsm_core.services import order_queries
from fsm_core.services.order_queries import OrderFilter
from fsm_core.services.stages import load_workflow
from fsm_tui.screens.assign import AssignScreen
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.move import MoveScreen
from fsm_tui.screens.new_order import NewOrderScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.widgets.kanban import KanbanBoard, KanbanColumn
from fsm_tui.widgets.order_table import OrderTable
from fsm_tui.widgets.stage_counts import StageCounts
from tests.conftest import NOW
from tests.tui.conftest import SIZE, USER, build_app, dialog, settle, wait_until

pytestmark = pytest.mark.asyncio


def count(db, **filters) -> int:
    with db.reader() as s:
        return order_queries.count_orders(session=s, filters=OrderFilter(**filters), now=NOW)


def board(app) -> BoardScreen:
    assert isinstance(app.screen, BoardScreen), app.screen
    return app.screen


async def test_board_opens_on_open_orders_with_counts(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = board(app).table
        assert table.total == count(demo_db, open_only=True)
        assert table.row_count == table.total
        first = table.current_row
        with demo_db.reader() as s:
            newest = order_queries.list_orders(
                session=s, filters=OrderFilter(open_only=True), limit=1, now=NOW
            )[0]
        assert first is not None
        assert first["number"] == newest["number"]
        counts = app.screen.query_one(StageCounts)
        with demo_db.reader() as s:
            by_stage = order_queries.stage_counts(
                session=s, filters=OrderFilter(open_only=True), now=NOW
            )
        assert counts.counts == by_stage
        assert table.has_focus


@pytest.mark.both_backends
async def test_search_filters_in_place(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        expected = count(demo_db, open_only=True, text="ДГУ")
        assert 0 < expected < count(demo_db, open_only=True)
        await pilot.press(*"ДГУ")
        table = board(app).table
        await wait_until(pilot, lambda: table.total == expected, what="the filtered board")
        numbers = {table.row_at(i)["number"] for i in range(table.row_count)}
        with demo_db.reader() as s:
            rows = order_queries.list_orders(
                session=s, filters=OrderFilter(open_only=True, text="ДГУ"), limit=None, now=NOW
            )
        assert numbers == {r["number"] for r in rows}
        await pilot.press("escape")
        assert table.has_focus


@pytest.mark.parametrize(
    ("selector", "value", "expect"),
    [
        ("#filter-stage", "in_progress", {"stages": ["in_progress"]}),
        ("#filter-criticality", "high", {"criticalities": ["high"], "open_only": True}),
        ("#filter-sla", "violated", {"sla": ["violated"], "open_only": True}),
        ("#filter-stage", None, {}),
    ],
)
async def test_pickers_filter_in_place(app, demo_db, selector, value, expect):
    from fsm_core.models import SlaStatus

    if "sla" in expect:
        expect = {**expect, "sla": [SlaStatus(s) for s in expect["sla"]]}
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        select = app.screen.query_one(selector, Select)
        if value is None:
            select.clear()
        else:
            select.value = value
        await settle(pilot)
        assert board(app).table.total == count(demo_db, **expect)


async def test_assignee_and_customer_pickers(app, demo_db):
    with demo_db.reader() as s:
        order = s.exec(select(Order).where(Order.assignee_id.is_not(None))).first()
        assignee_id, customer_id = order.assignee_id, order.customer_id
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = board(app)
        screen.query_one("#filter-assignee", Select).value = assignee_id
        await settle(pilot)
        assert screen.table.total == count(demo_db, open_only=True, assignee_ids=[assignee_id])
        screen.query_one("#filter-customer", Select).value = customer_id
        await settle(pilot)
        assert screen.table.total == count(
            demo_db, open_only=True, assignee_ids=[assignee_id], customer_ids=[customer_id]
        )
        await pilot.press("x")  # clear every filter
        await settle(pilot)
        assert screen.table.total == count(demo_db, open_only=True)


async def test_a_newer_filter_wins(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = board(app).table
        table.load(OrderFilter(text="ДГУ"))
        table.load(OrderFilter(stages=["new"]))  # replaces the first before it reports
        await settle(pilot)
        assert table.filters == OrderFilter(stages=["new"])
        assert table.total == count(demo_db, stages=["new"])
        assert all(table.row_at(i)["stage_code"] == "new" for i in range(table.row_count))


@pytest.mark.both_backends
async def test_create_order(app, demo_db):
    with demo_db.reader() as s:
        from fsm_core.services import lookup

        ac = lookup.resolve_object(session=s, ref="СМТ-000114")
        before = s.exec(select(Order.id)).all()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewOrderScreen)
        # the caller reads the inventory number off the label
        await pilot.press(*"СМТ-000114", "enter")
        await settle(pilot)
        form = app.screen
        assert form.query_one("#customer", Select).value == ac.customer_id
        assert form.query_one("#object", Select).value == ac.id
        assert app.focused is form.query_one("#description", TextArea)
        await pilot.press(*"Течёт вода из блока")
        form.query_one("#criticality", Select).value = "high"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        with demo_db.reader() as s:
            new = s.exec(select(Order).where(Order.id.not_in(before))).one()
            assert (new.object_id, new.criticality, new.created_by) == (ac.id, "high", USER)
            assert new.description == "Течёт вода из блока"
            assert new.stage_code == "new"
        table = board(app).table
        assert table.current_row["id"] == new.id  # the cursor is on the new order
        assert any(new.number in n.message for n in app._notifications)


async def test_create_order_shows_the_cores_validation(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await dialog(pilot, "n")
        await pilot.press("ctrl+s")  # nothing chosen: the form asks for the customer
        await settle(pilot)
        assert form.query_one("#error-customer").display
        with demo_db.reader() as s:
            customer = s.exec(select(Order.customer_id)).first()
        form.query_one("#customer", Select).value = customer
        await pilot.press("ctrl+s")  # no description: the core refuses, next to the field
        await settle(pilot)
        assert isinstance(app.screen, NewOrderScreen)
        error = form.query_one("#error-description")
        assert error.display
        assert "description" in str(error.render())
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_the_forms_buttons_do_what_their_keys_do(app, demo_db):
    """Create checks the form as ctrl+s does; Cancel closes it as escape does."""
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await dialog(pilot, "n")
        form.query_one("#submit").press()
        await settle(pilot)
        assert form.query_one("#error-customer").display
        form.query_one("#cancel").press()
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_find_reports_what_it_cannot_resolve(app):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"нет такого", "enter")
        await settle(pilot)
        error = app.screen.query_one("#error-find")
        assert error.display
        assert "нет такого" in str(error.render())


async def test_find_offers_every_match_to_pick_from(app, demo_db):
    """ "Пекарня" is a customer with two bakeries: its sites and their equipment are
    listed, the arrows and Enter pick one, and the form is filled with it."""
    with demo_db.reader() as s:
        from fsm_core.services import lookup

        second = lookup.resolve_object(session=s, ref="Пекарня на Гражданском")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"пекарн", "enter")
        await settle(pilot)
        form = app.screen
        matches = form.query_one("#find-matches", OptionList)
        assert matches.display
        assert app.focused is matches
        shown = [str(matches.get_option_at_index(i).prompt) for i in range(matches.option_count)]
        assert "Балтийская пекарня" in shown[0]  # the customer, then its tree
        assert sum("Пекарня" in line for line in shown) == 2
        assert matches.highlighted == 0
        await pilot.press(*["down"] * shown.index(next(x for x in shown if "Гражд" in x)))
        await pilot.press("enter")
        await settle(pilot)
        assert not matches.display
        assert form.query_one("#customer", Select).value == second.customer_id
        assert form.query_one("#object", Select).value == second.id
        assert app.focused is form.query_one("#description", TextArea)


async def test_find_groups_units_under_their_sites(app, demo_db):
    """The caller names the shop ("на Лиговском") and the unit: Find lists the site with
    what is on it, the site shown; one arrow picks the unit, not another shop's."""
    with demo_db.reader() as s:
        from fsm_core.services import lookup

        unit = lookup.resolve_object(session=s, ref="СМТ-000201")
        site = lookup.resolve_object(session=s, ref="Магазин «СМ-Трейд» на Лиговском")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await dialog(pilot, "n")
        await pilot.press(*"Лиговск", "enter")
        await settle(pilot)
        matches = form.query_one("#find-matches", OptionList)
        shown = [str(matches.get_option_at_index(i).prompt) for i in range(matches.option_count)]
        assert [line.strip().split(" · ")[0] for line in shown] == [
            "ООО «СМ-Трейд»",
            site.name,
            unit.name,
        ]
        assert shown[2].startswith("\u00a0" * 4)  # the unit is drawn under its site
        assert matches.highlighted == 1  # what was found: the site
        await pilot.press("down", "enter")
        await settle(pilot)
        assert form.query_one("#object", Select).value == unit.id
        assert site.name in str(form.query_one("#error-find").render())  # site › unit
        # "кондиционер": every shop's units, each under its own shop
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
        find = form.query_one("#find")
        find.value = "кондиционер"
        find.focus()
        await pilot.press("enter")
        await settle(pilot)
        shown = [str(matches.get_option_at_index(i).prompt) for i in range(matches.option_count)]
        units = [
            i for i, line in enumerate(shown) if "Кондиционер" in line or "кондиционер" in line
        ]
        assert len(units) >= 3
        for i in units:  # the line above a unit is its site (or a sibling on the site)
            assert shown[i - 1].startswith("\u00a0\u00a0")


async def test_assign_a_new_order(app, demo_db):
    with demo_db.reader() as s:
        employees = s.exec(select(Order.assignee_id).where(Order.assignee_id.is_not(None))).all()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = board(app)
        screen.query_one("#filter-stage", Select).value = "new"
        await settle(pilot)
        row = screen.table.current_row
        assert row["stage_code"] == "new"
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AssignScreen)
        options = dialog.query_one("#employees", OptionList)
        assert dialog.loads  # open orders per employee were counted
        target = app.catalog.employees[2]
        options.highlighted = options.get_option_index(str(target.id))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        with demo_db.reader() as s:
            order = s.get(Order, row["id"])
            assert (order.assignee_id, order.stage_code) == (target.id, "assigned")
            actors = {
                h.actor
                for h in s.exec(
                    select(OrderHistory).where(
                        OrderHistory.order_id == order.id, OrderHistory.action == "assign"
                    )
                )
            }
            assert actors == {USER}
        assert employees  # the demo has assigned orders


async def test_move_offers_only_allowed_stages(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = board(app)
        screen.query_one("#filter-stage", Select).value = "en_route"
        await settle(pilot)
        row = screen.table.current_row
        await pilot.press("m")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MoveScreen)
        offered = [
            o.id
            for o in (
                dialog.query_one("#stages", OptionList).get_option_at_index(i)
                for i in range(dialog.query_one("#stages", OptionList).option_count)
            )
        ]
        with demo_db.reader() as s:
            allowed = [st.code for st in load_workflow(session=s).allowed_from("en_route")]
        assert offered == allowed
        stages = dialog.query_one("#stages", OptionList)
        stages.highlighted = offered.index("in_progress")
        await pilot.press(*"на месте", "enter")  # typing goes to the comment
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        with demo_db.reader() as s:
            order = s.get(Order, row["id"])
            assert order.stage_code == "in_progress"
            notes = s.exec(
                select(OrderHistory.new_value).where(
                    OrderHistory.order_id == order.id, OrderHistory.action == "comment"
                )
            ).all()
            assert "на месте" in notes


async def test_a_refused_move_says_why_and_changes_nothing(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = board(app)
        screen.query_one("#filter-assignee", Select).value = "__none__"
        screen.query_one("#filter-stage", Select).value = "new"
        await settle(pilot)
        row = screen.table.current_row
        assert row["assignee_id"] is None
        await pilot.press("m")
        await settle(pilot)
        stages = app.screen.query_one("#stages", OptionList)
        ids = [stages.get_option_at_index(i).id for i in range(stages.option_count)]
        assert "assigned" in ids
        stages.highlighted = ids.index("assigned")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MoveScreen)  # stays open, with the core's reason
        error = app.screen.query_one("#error-form")
        assert error.display
        # the core's reason, in the dashboard's language (Russian here)
        assert "нужен исполнитель или бригада" in str(error.render())
        with demo_db.reader() as s:
            assert s.get(Order, row["id"]).stage_code == "new"


@pytest.mark.both_backends
async def test_a_stale_board_row_is_refused_as_a_conflict(app, demo_db):
    from fsm_core.services import orders

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = board(app).table.current_row
        with demo_db.transaction() as s:  # another dispatcher, meanwhile
            orders.update_order(
                session=s, order_id=row["id"], data={"description": "x"}, actor="other"
            )
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        error = app.screen.query_one("#error-form")
        assert error.display
        assert "changed by someone else" in str(error.render())


async def test_kanban_columns_by_stage(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        kanban = app.screen.query_one(KanbanBoard)
        assert kanban.display
        with demo_db.reader() as s:
            by_stage = order_queries.stage_counts(
                session=s, filters=OrderFilter(open_only=True), now=NOW
            )
        shown = {c.code: c for c in kanban.query(KanbanColumn) if c.display}
        assert "closed" not in shown
        assert "cancelled" not in shown
        for code, column in shown.items():
            assert len(column.rows) == min(by_stage.get(code, 0), KanbanBoard.CARDS)
            assert all(r["stage_code"] == code for r in column.rows)
        assert kanban.current_row is not None
        row = kanban.current_row
        await pilot.press("right")
        assert kanban.current_row != row
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("escape")
        await pilot.press("v")
        await settle(pilot)
        assert board(app).table.has_focus


async def test_open_order_and_history(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = board(app).table.current_row
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderScreen)
        assert screen.details["number"] == row["number"]
        with demo_db.reader() as s:
            history = order_queries.history(session=s, order_id=row["id"])
        assert screen.query_one("#history").row_count == len(history)
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


@pytest.mark.both_backends
async def test_the_table_holds_pages_not_rows(demo_url, demo_db):
    """With thousands of orders only the pages on screen are fetched."""
    from sqlalchemy import insert

    with demo_db.transaction() as s:
        template = s.exec(select(Order)).first()
        s.execute(
            insert(Order),
            [
                {
                    "number": f"T{i:05d}",
                    "customer_id": template.customer_id,
                    "description": f"bulk {i}",
                    "stage_code": "new",
                    "created_at": template.created_at.replace(year=2020),
                    "updated_at": template.created_at,
                    "created_by": "test",
                    "version": 1,
                }
                for i in range(2500)
            ],
        )
    app = build_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = board(app).table
        assert table.row_count == count(demo_db, open_only=True)
        assert table.loaded_rows == OrderTable.PAGE_SIZE
        await pilot.press("end")
        await settle(pilot)
        assert table.current_row is not None
        assert table.loaded_rows <= 3 * OrderTable.PAGE_SIZE
        await pilot.press("home")
        await settle(pilot)
        assert table.cursor_row == 0


async def test_a_click_on_a_stage_in_the_counts_line_filters_by_it(app, demo_db):
    # StageCounts once had a method named ``loading``, which hid Textual's ``loading``
    # flag behind a (truthy) bound method: the screen took the line for a loading widget
    # and dropped every click on it. Found by mypy (an incompatible override).
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        counts = app.screen.query_one(StageCounts)
        assert counts.loading is False
        code, n = next((c, n) for c, n in counts.counts.items() if n)
        name = load_workflow_name(demo_db, code)
        x = str(counts.render()).index(name) + 1
        await pilot.click(StageCounts, offset=(x, 0))
        await settle(pilot)
        assert board(app).query_one("#filter-stage", Select).value == code
        assert board(app).table.total == n


def load_workflow_name(db, code: str) -> str:
    with db.reader() as s:
        return load_workflow(session=s).stages[code].name("ru")


@pytest.mark.both_backends
async def test_a_search_counted_up_to_the_cap_pages_on_past_it(app, demo_db, monkeypatch):
    """A search's count stops at the cap: the header says "7+", the table knows at least
    that many and pages on past them, until a short page tells the real number. Under the
    cap the count is exact, without "+"; the kanban's columns count their own cards."""
    monkeypatch.setattr(order_queries, "COUNT_CAP", 7)
    monkeypatch.setattr(OrderTable, "PAGE_SIZE", 5)
    term = "26-"  # every order's number
    expected = count(demo_db, open_only=True, text=term)
    assert expected > 12
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *term)
        await settle(pilot)
        table = board(app).table
        counts = app.screen.query_one(StageCounts)
        assert (counts.total, counts.capped) == (7, True)
        assert "7+" in str(counts.render())
        assert table.total is None
        assert table.row_count >= 8
        await pilot.press("escape")
        for _ in range(expected):
            if table.total is not None:
                break
            await pilot.press("end")
            await settle(pilot)
        assert table.total == expected
        with demo_db.reader() as s:
            rows = order_queries.list_orders(
                session=s, filters=OrderFilter(open_only=True, text=term), limit=None, now=NOW
            )
        shown = [table.row_at(i) for i in range(table.row_count)]
        assert [r["number"] for r in shown[-OrderTable.PAGE_SIZE :] if r] == [
            r["number"] for r in rows
        ][-OrderTable.PAGE_SIZE :]

        await pilot.press("v")
        await settle(pilot)
        kanban = app.screen.query_one(KanbanBoard)
        with demo_db.reader() as s:
            by_stage = order_queries.stage_counts(
                session=s, filters=OrderFilter(open_only=True, text=term), now=NOW
            )
        for column in kanban.query(KanbanColumn):
            if column.display and by_stage.get(column.code):
                n = by_stage[column.code]
                shown_count = f"{n}" if n <= KanbanBoard.CARDS else f"{KanbanBoard.CARDS + 1}+"
                assert str(column.query_one("Label").render()).endswith(f"· {shown_count}")

        monkeypatch.setattr(order_queries, "COUNT_CAP", expected)
        await pilot.press("v")
        await pilot.press("r")
        await settle(pilot)
        assert (counts.total, counts.capped) == (expected, False)
        assert "+" not in str(counts.render())
        assert table.total == expected
