"""The order screen's field tabs: answer a checklist (and see its rule fire), record work and
see the totals, write off materials (and be refused when short), sign, attach, generate the
act, reserve and release materials. Each flow is driven with keys, then checked in the
database and on the screen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from textual.widgets import Input, Select, TabbedContent

from fsm_core import clock
from fsm_core.models import Order, OrderHistory, Reservation
from fsm_core.models.execution import (
    ChecklistAnswer,
    ExecutionRecord,
    MaterialUse,
    OrderAttachment,
    WorkEntry,
)
from fsm_core.services import execution, orders, stock_queries
from fsm_tui.screens.answer import AnswerScreen
from fsm_tui.screens.execution_forms import MaterialScreen, WorkScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.screens.stock_forms import ReleaseScreen, ReserveScreen
from tests.conftest import NOW
from tests.tui.conftest import SIZE, USER, dialog, palette, screen_text, settle
from tests.tui.field import balance, ids, open_tab, order_id, record_visit

pytestmark = pytest.mark.asyncio


def pick(select: Select, text: str) -> None:
    """Choose the option whose label has ``text``."""
    select.value = next(value for label, value in select._options if text in str(label))


def notes(app) -> list[str]:
    return [n.message.replace("\xa0", " ") for n in app._notifications]


def shown(app) -> str:
    """The screen's text, money's narrow spaces as plain ones."""
    return screen_text(app).replace("\xa0", " ")


# --- checklists ---------------------------------------------------------------------------


@pytest.mark.both_backends
async def test_answer_a_checklist_and_its_rule_creates_a_follow_up(app, demo_db):
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "checklists")
        table = pane.table
        assert [line.data.text for line in table.lines if line.data][:2] == [
            "Отметиться о приезде",
            "Уровень охлаждающей жидкости в норме?",
        ]
        assert "обязательных без ответа: 4" in shown(app)
        await pilot.press("enter")  # the check-in: recorded now, no dialog
        await settle(pilot)
        assert pane.table.current_line.data.text == "Уровень охлаждающей жидкости в норме?"
        await pilot.press("n")  # coolant level normal? no -> the rule fires
        await settle(pilot)
        with demo_db.reader() as s:
            answers = {
                a.value
                for a in s.scalars(select(ChecklistAnswer).where(ChecklistAnswer.order_id == order))
            }
            assert "no" in answers
            assert NOW.isoformat(timespec="seconds") in answers  # the check-in: now
            follow = s.scalars(select(Order).where(Order.source == "checklist")).one()
            assert follow.description.startswith("Долить охлаждающую жидкость")
            assert s.get(Order, order).criticality == "high"
            mine = s.scalars(select(ChecklistAnswer).where(ChecklistAnswer.order_id == order))
            assert {a.answered_by for a in mine} == {USER}
        message = notes(app)[-1]
        assert f"Создана заявка {follow.number}" in message
        assert "Критичность повышена: высокая" in message
        text = shown(app)
        assert "обязательных без ответа: 2" in text
        assert "нет" in text


async def test_a_number_is_answered_in_a_dialog_and_refused_when_it_is_not_one(app, demo_db):
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "checklists")
        pane.table.move_to(
            next(ln.key for ln in pane.table.lines if ln.data and ln.data.kind == "number")
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AnswerScreen)
        assert "12,2–14,5 В" in shown(app)  # the unit and the allowed range
        await pilot.press(*"двенадцать", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AnswerScreen)  # refused in place
        assert app.screen.query_one("#error-form").display
        with demo_db.reader() as s:
            assert (
                s.scalars(select(ChecklistAnswer).where(ChecklistAnswer.order_id == order)).first()
                is None
            )
        value = app.screen.query_one("#answer-value", Input)
        value.value = "13,1"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        with demo_db.reader() as s:
            answer = s.scalars(
                select(ChecklistAnswer).where(ChecklistAnswer.order_id == order)
            ).one()
            assert answer.number == Decimal("13.1")
            assert s.scalars(select(Order).where(Order.source == "checklist")).first() is None
        assert "13,1 В" in shown(app)


# --- execution ----------------------------------------------------------------------------


async def test_add_work_and_see_the_totals(app, demo_db):
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "execution")
        assert "Итого 0,00" in shown(app)
        form = await dialog(pilot, "w")
        assert isinstance(form, WorkScreen)
        assert form.query_one("#executor-0", Select).value is not Select.NULL  # the assignee
        pick(form.query_one("#work_type", Select), "Плановое ТО ДГУ до 200 кВА")
        form.query_one("#start", Input).value = "26.11.2026 10:00"
        form.query_one("#end", Input).value = "26.11.2026 11:30"
        pick(form.query_one("#executor-1", Select), "Петров А. С.")
        form.query_one("#rate-1", Input).value = "1 600"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is pane.screen
        with demo_db.reader() as s:
            entry = s.scalars(select(WorkEntry).where(WorkEntry.order_id == order)).one()
            assert entry.work_type_name == "Плановое ТО ДГУ до 200 кВА"
            total = execution.totals(session=s, order_id=order).total
        # 9 500 + 1,5 h × Соколов's 1 650 + 1,5 h × 1 600 = 14 375
        assert total == Decimal("14375.00")
        text = shown(app)
        assert "Итого 14 375,00 ₽" in text
        assert "Работа: Петров А. С." in text
        assert "Итого по заявке: 14 375,00 ₽" in notes(app)[-1]


async def test_bad_times_are_shown_in_the_work_form_and_nothing_is_recorded(app, demo_db):
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "execution")
        form = await dialog(pilot, "w")
        pick(form.query_one("#work_type", Select), "Плановое ТО ДГУ до 200 кВА")
        form.query_one("#start", Input).value = "26.11.2026 11:00"
        form.query_one("#end", Input).value = "26.11.2026 10:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        error = form.query_one("#error-end")
        assert error.display
        assert "ends before it starts" in str(error.render())
        with demo_db.reader() as s:
            assert s.scalars(select(WorkEntry).where(WorkEntry.order_id == order)).first() is None


@pytest.mark.both_backends
async def test_write_off_a_material_and_the_balance_drops(app, demo_db):
    order = order_id(demo_db)
    oil, central = ids(demo_db, item="OIL-15W40", warehouse="Центральный склад")
    before = balance(demo_db, oil, central)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "execution")
        form = await dialog(pilot, "u")
        assert isinstance(form, MaterialScreen)
        pick(form.query_one("#item", Select), "Масло моторное")
        await settle(pilot)
        # the core's suggestion: the warehouse holding the order's reservation
        assert form.query_one("#warehouse", Select).value == central
        assert "в резерве заявки 12 л" in shown(app)
        await pilot.press(*"8", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, MaterialScreen)
        assert balance(demo_db, oil, central) == (before[0] - 8, before[1] - 8)
        with demo_db.reader() as s:
            use = s.scalars(select(MaterialUse).where(MaterialUse.order_id == order)).one()
            assert (use.quantity, use.price) == (Decimal("8.000"), Decimal("700.00"))
        assert "Масло моторное 15W-40 для ДГУ" in shown(app)
        assert "Списано" in notes(app)[-1]
        # the materials tab shows it written off, the rest still reserved
        app.screen.query_one("#order-tabs", TabbedContent).active = "tab-materials"
        await settle(pilot)
        line = next(
            ln
            for ln in app.screen.query_one("#materials-lines").lines
            if ln.data.sku == "OIL-15W40"
        )
        assert (line.data.reserved, line.data.written_off) == (Decimal("4.000"), Decimal("8.000"))


async def test_a_write_off_beyond_the_stock_is_refused_and_changes_nothing(app, demo_db):
    order = order_id(demo_db)
    oil, central = ids(demo_db, item="OIL-15W40", warehouse="Центральный склад")
    before = balance(demo_db, oil, central)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "execution")
        form = await dialog(pilot, "u")
        pick(form.query_one("#item", Select), "Масло моторное")
        await settle(pilot)
        await pilot.press(*"500", "ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still there, as typed
        assert form.query_one("#quantity", Input).value == "500"
        refusal = notes(app)[-1]
        assert refusal.startswith(
            "not enough 'Масло моторное 15W-40 для ДГУ' at 'Центральный склад'"
        )
        assert "\n" not in refusal
        assert balance(demo_db, oil, central) == before
        with demo_db.reader() as s:
            assert s.scalars(select(MaterialUse)).first() is None
            assert stock_queries.reconcile(session=s) == []


async def test_comment_attachment_and_signature(app, demo_db, tmp_path):
    order = order_id(demo_db)
    record_visit(demo_db, order)  # something to sign for
    photo = tmp_path / "before.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "execution")
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Масло заменено", "ctrl+s")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#path", Input).value = str(photo)
        app.screen.query_one("#note", Input).value = "До ремонта"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        name = app.screen.query_one("#name", Input)
        assert name.value  # the order's contact, to confirm or change
        name.value = "Смирнова О. В."
        app.screen.query_one("#position", Input).value = "Завхоз"
        await pilot.press("ctrl+s")
        await settle(pilot)
        with demo_db.reader() as s:
            record = s.get(ExecutionRecord, order)
            assert (record.comment, record.signer_name) == ("Масло заменено", "Смирнова О. В.")
            assert record.signer_position == "Завхоз"
            assert record.signed_at == NOW
            link = s.scalars(select(OrderAttachment).where(OrderAttachment.order_id == order)).one()
            assert link.note == "До ремонта"
        text = shown(app)
        assert "Масло заменено" in text
        assert "before.jpg" in text
        assert "Смирнова О. В. (Завхоз), 26.11 12:00" in text


async def test_a_missing_file_is_shown_in_the_attach_form(app, demo_db, tmp_path):
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "execution")
        form = await dialog(pilot, "f")
        form.query_one("#path", Input).value = str(tmp_path / "nowhere.jpg")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "no such file" in str(form.query_one("#error-path").render())


# --- the act ------------------------------------------------------------------------------


@pytest.mark.both_backends
async def test_generate_an_act(app, demo_db, tmp_path):
    from pypdf import PdfReader

    order = order_id(demo_db)
    total = record_visit(demo_db, order)
    assert total == Decimal("18400.00")  # 9 500 + 2 h × 1 650 + 8 л × 700
    with demo_db.reader() as s:
        number = s.get(Order, order).number
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "act")
        assert "Итого к оплате: 18 400,00 ₽" in shown(app)
        pane.query_one("#act-folder", Input).value = str(tmp_path / "acts")
        await pilot.press("g")
        await settle(pilot)
        path = tmp_path / "acts" / f"act-{number}.pdf"
        assert path.is_file()
        text = " ".join(page.extract_text() for page in PdfReader(path).pages)
        assert number in text
        assert "18 400,00" in text.replace("\xa0", " ")
        assert "Акт выполненных работ" in text
        assert f"Акт записан: {path}" in shown(app)
        assert str(path) in notes(app)[-1]
        # in English, into the same folder
        pane.query_one("#act-lang", Select).value = "en"
        path.unlink()
        await pilot.press("g")
        await settle(pilot)
        english = " ".join(page.extract_text() for page in PdfReader(path).pages)
        assert "Act of completed works" in english
        assert "18,400.00" in english


async def test_an_order_without_work_has_no_act_yet(app, demo_db, tmp_path):
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "act")
        assert "акта пока нет" in shown(app)
        pane.query_one("#act-folder", Input).value = str(tmp_path / "acts")
        await pilot.press("g")
        await settle(pilot)
        # in the dashboard's language (it was English in a Russian dashboard)
        assert "не записано ни работ, ни материалов" in notes(app)[-1]
        assert not (tmp_path / "acts").exists()


# --- materials ----------------------------------------------------------------------------


async def test_reserve_and_release_on_the_materials_tab(app, demo_db):
    order = order_id(demo_db)
    bracket, central = ids(demo_db, item="F017C450", warehouse="Центральный склад")
    before = balance(demo_db, bracket, central)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "materials")
        assert {ln.data.sku for ln in pane.table.lines} == {"OIL-15W40", "PRK-26560201"}
        form = await dialog(pilot, "r")
        assert isinstance(form, ReserveScreen)
        pick(form.query_one("#item", Select), "Кронштейн F 017 C 450")
        form.query_one("#warehouse", Select).value = central
        form.query_one("#quantity", Input).value = "3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert balance(demo_db, bracket, central) == (before[0], before[1] + 3)
        assert pane.table.move_to((bracket, central))
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ReleaseScreen)
        assert app.screen.query_one("#quantity", Input).value == "3"
        app.screen.query_one("#quantity", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert balance(demo_db, bracket, central) == (before[0], before[1] + 2)
        await pilot.press("x", "ctrl+s")  # the rest
        await settle(pilot)
        assert balance(demo_db, bracket, central) == before
        with demo_db.reader() as s:
            held = s.scalars(
                select(Reservation).where(
                    Reservation.order_id == order, Reservation.item_id == bracket
                )
            ).first()
            assert held is None
            actions = s.scalars(
                select(OrderHistory.action).where(OrderHistory.order_id == order)
            ).all()
            assert actions.count("release") == 2
        assert "Резерв снят" in notes(app)[-1]


async def test_reserving_more_than_is_free_is_refused(app, demo_db):
    order = order_id(demo_db)
    battery, central = ids(demo_db, item="AKB-12-100", warehouse="Центральный склад")
    before = balance(demo_db, battery, central)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "materials")
        form = await dialog(pilot, "r")
        pick(form.query_one("#item", Select), "Аккумулятор")
        form.query_one("#warehouse", Select).value = central
        form.query_one("#quantity", Input).value = "2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert notes(app)[-1].startswith("not enough 'Аккумулятор 12V 100Ah'")
        assert balance(demo_db, battery, central) == before


async def test_the_order_screen_follows_what_the_tabs_change(app, demo_db):
    """A rule that raises the criticality shows in the order's form; a write-off shows on
    the stock section behind it."""
    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "checklists")
        await pilot.press("down", "n")
        await settle(pilot)
        assert app.screen.query_one("#criticality", Select).value == "high"


async def test_paths_complete_as_typed(tmp_path):
    from fsm_tui.widgets.path_suggester import PathSuggester, complete_path

    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "pump.jpg").write_bytes(b"x")
    (tmp_path / "plan.pdf").write_bytes(b"x")
    assert complete_path(f"{tmp_path}/pho") == f"{tmp_path}/photos/"
    assert complete_path(f"{tmp_path}/photos/p") == f"{tmp_path}/photos/pump.jpg"
    assert complete_path(f"{tmp_path}/pl") == f"{tmp_path}/plan.pdf"
    assert complete_path(f"{tmp_path}/p", folders_only=True) == f"{tmp_path}/photos/"
    assert complete_path(f"{tmp_path}/nothing") is None
    assert complete_path("") is None
    assert await PathSuggester().get_suggestion(f"{tmp_path}/pl") == f"{tmp_path}/plan.pdf"


async def test_a_photo_item_is_answered_with_a_file(app, demo_db, tmp_path):
    from fsm_core.models.attachments import Attachment

    photo = tmp_path / "outdoor-unit.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a photo of the outdoor unit")
    order = order_id(demo_db, "DEMO-026")  # a new order on an air conditioner
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "checklists")
        assert pane.table.move_to(
            next(ln.key for ln in pane.table.lines if ln.data and ln.data.kind == "file")
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AnswerScreen)
        await pilot.press("enter")  # no path yet: said in place
        await settle(pilot)
        assert app.screen.query_one("#error-form").display
        app.screen.query_one("#answer-value", Input).value = str(photo)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        with demo_db.reader() as s:
            answer = s.scalars(
                select(ChecklistAnswer).where(ChecklistAnswer.order_id == order)
            ).one()
            assert answer.value == "outdoor-unit.jpg"
            assert s.get(Attachment, answer.attachment_id).original_name == "outdoor-unit.jpg"
        assert "outdoor-unit.jpg" in shown(app)


async def test_the_tabs_keys_are_in_the_palette_and_the_help(app, demo_db):
    from textual.widgets import DataTable

    from fsm_tui.screens.help import HelpScreen

    order = order_id(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "execution")
        await palette(pilot, "Работа")
        assert isinstance(app.screen, WorkScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#bindings", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        listed = {row[3]: row for row in rows}
        assert listed["execution.work"][:3] == ["заявка: выполнение", "w", "Работа"]
        assert listed["checklist.answer"][2] == "Ответить"
        assert listed["act.generate"][1] == "g"
        assert listed["materials.reserve"][1] == "r"
        assert listed["stock.receive"][:3] == ["склад", "i", "Приход"]


async def test_choice_and_text_items(app, demo_db):
    order = order_id(demo_db)
    with demo_db.transaction() as s:
        template = execution.create_template(session=s, name="Осмотр фильтра")
        execution.add_item(
            session=s,
            template_id=template.id,
            kind="choice",
            text="Состояние воздушного фильтра",
            choices=["чистый", "загрязнён", "повреждён"],
            trigger="повреждён",
            raise_to="critical",
        )
        execution.add_item(
            session=s, template_id=template.id, kind="text", text="Замечания", required=False
        )
        execution.bind_template(session=s, template_id=template.id, order_id=order)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "checklists")
        headings = [ln.heading for ln in pane.table.lines if ln.heading]
        assert headings == ["Осмотр ДГУ перед работой", "Осмотр фильтра"]
        choice = next(ln for ln in pane.table.lines if ln.data and ln.data.kind == "choice")
        pane.table.move_to(choice.key)
        await pilot.press("enter")
        await settle(pilot)
        assert "чистый / загрязнён / повреждён" in shown(app)
        await pilot.press("down", "down", "enter")  # повреждён
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert "Критичность повышена: критическая" in notes(app)[-1]
        assert pane.table.current_line.data.text == "Замечания"  # on to the next item
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"Фильтр заменён", "enter")
        await settle(pilot)
        with demo_db.reader() as s:
            values = {
                a.value
                for a in s.scalars(select(ChecklistAnswer).where(ChecklistAnswer.order_id == order))
            }
            assert values == {"повреждён", "Фильтр заменён"}
            assert s.get(Order, order).criticality == "critical"


# --- a signed act is frozen until the signature is withdrawn (issue 14) --------------------


def sign(database, order: int, name: str = "Смирнова О. В.") -> None:
    with clock.frozen(NOW), database.transaction() as s:
        execution.sign(session=s, order_id=order, signer_name=name, actor=USER)


async def test_a_signed_act_closes_what_would_change_it_until_x_withdraws_it(app, demo_db):
    from fsm_tui.screens.execution_forms import UnsignScreen

    order = order_id(demo_db)
    record_visit(demo_db, order)
    sign(demo_db, order)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "execution")
        assert "подписано: Смирнова О. В. · до отзыва подписи изменения закрыты" in shown(app)
        for action in ("work", "material", "comment", "sign"):
            assert pane.check_action(action, ()) is False, action
        assert pane.check_action("attach", ()) is True  # not part of what was signed
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)  # no work form over a signed act
        form = await dialog(pilot, "x")
        assert isinstance(form, UnsignScreen)
        assert "Подписано: Смирнова О. В., 26.11.2026 12:00" in shown(app)
        await pilot.press("ctrl+s")  # no reason: refused in place
        await settle(pilot)
        assert isinstance(app.screen, UnsignScreen)
        assert "Укажите причину" in shown(app)
        await pilot.press(*"забыли помпу", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert "Подпись отозвана" in notes(app)[-1]
        with demo_db.reader() as s:
            assert s.get(ExecutionRecord, order).signer_name is None
            [row] = s.scalars(
                select(OrderHistory).where(
                    OrderHistory.order_id == order, OrderHistory.action == "unsign"
                )
            ).all()
            assert (row.actor, row.new_value) == (USER, "забыли помпу")
        assert "нет подписи заказчика" in shown(app)
        assert pane.check_action("work", ()) is True
        assert pane.check_action("unsign", ()) is False
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, WorkScreen)


async def test_signed_answers_and_write_offs_are_closed_on_their_tabs(app, demo_db):
    order = order_id(demo_db)
    record_visit(demo_db, order)
    sign(demo_db, order)
    async with app.run_test(size=SIZE) as pilot:
        checklists = await open_tab(app, pilot, order, "checklists")
        assert "акт подписан: ответы не меняются" in shown(app)
        for action in ("answer", "yes_no"):
            assert checklists.check_action(action, ("yes",)) is False
        await pilot.press("y")
        await settle(pilot)
        app.screen.query_one("#order-tabs", TabbedContent).active = "tab-materials"
        await settle(pilot)
        materials = app.screen.query_one("#tab-materials OrderPane")
        assert "акт подписан: списаний больше нет" in shown(app)
        assert materials.check_action("write_off", ()) is False
        assert materials.check_action("reserve", ()) is True  # a reservation is not a use
    with demo_db.reader() as s:
        answers = s.scalars(select(ChecklistAnswer).where(ChecklistAnswer.order_id == order))
        assert answers.all() == []


async def test_signing_an_order_on_hold_is_not_offered(app, demo_db):
    order = order_id(demo_db)
    record_visit(demo_db, order)
    with demo_db.transaction() as s:
        orders.move_order(session=s, order_id=order, stage="on_hold", actor=USER)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot, order, "execution")
        assert pane.check_action("sign", ()) is False
        assert pane.check_action("work", ()) is True


async def test_the_act_tab_shows_the_requisites_vat_and_the_total_in_words(app, demo_db):
    from fsm_core.services import settings

    order = order_id(demo_db)
    record_visit(demo_db, order)
    with demo_db.transaction() as s:
        for key, value in (
            ("company_legal_name", "ООО «Сервис-Север»"),
            ("company_inn", "7801234564"),
            ("vat_rate", "20"),
            ("act_signer_name", "Соколов И. В."),
            ("act_signer_position", "Генеральный директор"),
        ):
            settings.set_value(session=s, key=key, value=value)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, order, "act")
        text = shown(app)
    assert "Исполнитель ООО «Сервис-Север», ИНН 7801234564" in text
    assert "Основание   договор № ТО-2026/07 от 09.02.2026" in text  # the customer's contract
    assert "Итого к оплате: 18 400,00 ₽" in text
    assert "В том числе НДС 20 %: 3 066,67 ₽" in text
    assert "Восемнадцать тысяч четыреста рублей 00 копеек" in text
    assert "Подпись исполнителя Генеральный директор Соколов И. В." in text


async def test_company_details_from_the_palette_refuse_bad_values_beside_their_field(app, demo_db):
    from fsm_core.services import settings
    from fsm_tui.screens.company_details import CompanyDetailsScreen

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "Реквизиты")
        form = app.screen
        assert isinstance(form, CompanyDetailsScreen)
        assert form.query_one("#company_name", Input).value == "ООО «Сервис-Север»"
        form.query_one("#company_inn", Input).value = "7801234565"
        form.query_one("#vat_rate", Input).value = "двадцать"
        form.query_one("#company_kpp", Input).value = "780101001"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: nothing saved, each error beside its field
        inn_error = str(form.query_one("#error-company_inn").render())
        vat_error = str(form.query_one("#error-vat_rate").render())
        assert "company_inn: INN '7801234565' has a wrong control digit" in inn_error
        assert "vat_rate: 'двадцать' is not a VAT rate" in vat_error
        with demo_db.reader() as s:
            assert settings.load(session=s)["company_kpp"] == "781201001"  # the demo's, unchanged
        form.query_one("#company_inn", Input).value = "7801234564"
        form.query_one("#vat_rate", Input).value = "20%"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CompanyDetailsScreen)
        assert "Реквизиты компании сохранены." in notes(app)[-1]
    with demo_db.reader() as s:
        loaded = settings.load(session=s)
    assert (loaded["company_inn"], loaded["company_kpp"], loaded["vat_rate"]) == (
        "7801234564",
        "780101001",
        "20",
    )
