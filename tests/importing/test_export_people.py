"""`fsm export orders --xlsx`: a workbook for people (real Excel dates in the company's
time zone, names, stages and criticality in the reader's language), and with
`--for-import` the columns `fsm import` reads, as before."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from fsm_core.exporting.tables import TABLES
from fsm_core.models import Company, Contact, Employee, Order, ServiceObject, Stage
from tests.cli_runner import invoke

MOSCOW = ZoneInfo("Europe/Moscow")

RUSSIAN = [
    "Номер",
    "Дата создания",
    "Заказчик",
    "Объект",
    "Адрес",
    "Контакт",
    "Описание",
    "Критичность",
    "Стадия",
    "Исполнитель",
    "Бригада",
    "Плановое начало",
    "Плановое окончание",
    "Срок реакции",
    "Срок решения",
    "Дата реакции",
    "Дата выполнения",
    "Дата закрытия",
    "Внешний код",
]


fsm = partial(invoke, lang=None)


def sheet_rows(path) -> tuple[openpyxl.worksheet.worksheet.Worksheet, dict[str, dict]]:
    book = openpyxl.load_workbook(path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    rows = {}
    for cells in sheet.iter_rows(min_row=2):
        row = dict(zip(header, cells, strict=True))
        rows[row[header[0]].value] = row
    return sheet, rows


def local(value: datetime | None) -> datetime | None:
    return value.astimezone(MOSCOW).replace(tzinfo=None) if value else None


def test_orders_workbook_for_people_in_russian(with_demo, db_url, db, tmp_path):
    path = tmp_path / "orders.xlsx"
    fsm(db_url, "--lang", "ru", "export", "orders", "--xlsx", "-o", str(path))
    sheet, rows = sheet_rows(path)
    assert sheet.title == "Заявки"
    assert [c.value for c in sheet[1]] == RUSSIAN
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"  # the header stays when scrolling
    with db.reader() as s:
        orders = s.execute(select(Order).order_by(Order.id)).scalars().all()
        assert len(rows) == len(orders)
        # a closed order with an assignee, a contact and equipment at a site
        order = next(o for o in orders if o.external_id == "DEMO-029")
        customer = s.get(Company, order.customer_id)
        obj = s.get(ServiceObject, order.object_id)
        site = s.get(ServiceObject, obj.parent_id)
        contact = s.get(Contact, order.contact_id)
        assignee = s.get(Employee, order.assignee_id)
        stage = s.get(Stage, order.stage_code)
    row = rows[order.number]
    for header, value in (
        ("Дата создания", order.created_at),
        ("Срок реакции", order.reaction_due),
        ("Срок решения", order.resolution_due),
        ("Дата реакции", order.reacted_at),
        ("Дата выполнения", order.resolved_at),
        ("Дата закрытия", order.closed_at),
    ):
        cell = row[header]
        assert cell.is_date, header  # a real Excel date, not text
        assert cell.value == local(value), header  # the wall clock in Moscow
        assert cell.number_format == "DD.MM.YYYY HH:MM"
    assert row["Плановое начало"].value is None
    assert row["Заказчик"].value == customer.name != customer.external_id
    assert row["Объект"].value == obj.name
    assert obj.address is None
    assert row["Адрес"].value == site.address  # equipment is at its site
    assert row["Контакт"].value == contact.full_name
    assert row["Исполнитель"].value == assignee.short_name == "Голубев А. Р."
    assert (row["Стадия"].value, stage.code) == ("Закрыта", "closed")
    assert row["Критичность"].value == "обычная"
    assert row["Внешний код"].value == "DEMO-029"
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFG"}
    assert widths["A"] >= len("Номер") + 2  # fitted to header and values
    assert widths["B"] >= len("31.12.2026 23:59")
    assert widths["G"] > widths["A"]  # descriptions get room, up to a limit
    assert max(widths.values()) <= 60


def test_the_commands_own_lang_and_filters(with_demo, db_url, tmp_path):
    path = tmp_path / "open.xlsx"
    # the command's --lang wins over the global one; the list's filters apply
    fsm(db_url, "--lang", "ru", "export", "orders", "-o", str(path), "--lang", "en", "--open")
    sheet, rows = sheet_rows(path)
    assert sheet.title == "Orders"
    assert [c.value for c in sheet[1]][:4] == ["Number", "Created", "Customer", "Object"]
    stages = {r["Stage"].value for r in rows.values()}
    assert {"New", "In progress"} <= stages  # names, not codes
    assert not stages & {"Closed", "Cancelled"}
    assert all(r["Created"].number_format == "YYYY-MM-DD HH:MM" for r in rows.values())
    assert {r["Criticality"].value for r in rows.values()} <= {"low", "normal", "high", "critical"}


def test_for_import_keeps_the_round_trip_columns(with_demo, db_url, tmp_path):
    path = tmp_path / "orders.xlsx"
    fsm(db_url, "--lang", "ru", "export", "orders", "--xlsx", "--for-import", "-o", str(path))
    sheet, rows = sheet_rows(path)
    assert [c.value for c in sheet[1]] == list(TABLES["orders"].headers)
    some = next(r for r in rows.values() if r["external_id"].value == "DEMO-029")
    assert some["customer"].value == "C-NPL"  # keys, as the importer prefers them
    assert some["stage"].value == "closed"
    assert some["created_at"].value.endswith("+03:00")  # ISO text, with its offset
    csv_text = fsm(db_url, "--lang", "ru", "export", "orders").stdout
    assert csv_text.splitlines()[0] == ",".join(TABLES["orders"].headers)


@pytest.mark.parametrize(
    "args",
    [
        ["--xlsx", "--format", "csv"],
        ["--xlsx", "--lang", "de"],
    ],
)
def test_export_usage_errors(db_url, args):
    assert fsm(db_url, "export", "orders", *args, code=2).exit_code == 2
