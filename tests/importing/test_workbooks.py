"""Workbooks are read with python-calamine; what comes out must be what openpyxl, which
read them before, gives: the same headers, lines and cell values, the same refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fsm_core.errors import InvalidInput
from fsm_core.importing import readers
from fsm_core.importing.readers import SourceRow, open_source
from tests.importing.test_import import fsm


def read(path: Path, *, openpyxl_reader: bool, sheet: str | None = None) -> Any:
    """(reader class, headers, header line, rows) or the one-line refusal."""
    original = readers._has_error_cells
    readers._has_error_cells = lambda f: openpyxl_reader  # type: ignore[assignment]
    try:
        with open_source(str(path), sheet=sheet) as source:
            return (
                type(source).__name__,
                source.headers,
                source.header_line,
                [(r.line, r.values) for r in source.rows()],
            )
    except InvalidInput as exc:
        return exc.one_line()
    finally:
        readers._has_error_cells = original


def both(path: Path, sheet: str | None = None) -> Any:
    calamine = read(path, openpyxl_reader=False, sheet=sheet)
    former = read(path, openpyxl_reader=True, sheet=sheet)
    if isinstance(calamine, tuple):
        assert calamine[0] == "_CalamineSource"
        assert former[0] == "_OpenpyxlSource"
        calamine, former = calamine[1:], former[1:]
    assert calamine == former
    return calamine


def book(path: Path, fill: Callable[[openpyxl.Workbook], None]) -> Path:
    workbook = openpyxl.Workbook()
    fill(workbook)
    workbook.save(path)
    return path


def test_dates_as_date_cells_serial_numbers_and_text(tmp_path: Path) -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Номер", "Дата", "Сумма", "Время"])
        sheet.append(["1", datetime(2022, 4, 14, 16, 40), 1750.5, time(9, 30)])
        sheet.append(["2", date(2022, 4, 15), 3, None])
        sheet.append(["3", 46340.5, 2024.0, 0.25])  # serials, as a cell that lost its format
        sheet.append(["4", "14.04.2022 16:40", -7, "09:30"])
        sheet.append(["5", 60, 12345678901234567890, True])

    headers, line, rows = both(book(tmp_path / "dates.xlsx", fill))
    assert (headers, line) == (["Номер", "Дата", "Сумма", "Время"], 1)
    assert rows[1] == (3, {"Номер": "2", "Дата": datetime(2022, 4, 15), "Сумма": 3, "Время": None})
    assert type(rows[2][1]["Дата"]) is float
    assert type(rows[2][1]["Сумма"]) is int
    assert type(rows[4][1]["Сумма"]) is float  # beyond 15 digits: not made a whole number


def test_merged_header_cells(tmp_path: Path) -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Заявки за октябрь"])
        sheet.merge_cells("A1:D1")  # a title over the table: taken for the header row
        sheet.append(["Номер", "Адрес", None, "Описание"])
        sheet.merge_cells("B2:C2")
        sheet.append(["1", "Невский", "12", "течёт"])

    path = book(tmp_path / "merged.xlsx", fill)
    refused = both(path)
    assert refused.startswith(f"{path}:2: 4 values but 1 column")

    def fill_header(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Номер", "Адрес", None, "Описание"])
        sheet.merge_cells("B1:C1")
        sheet.append(["1", "Невский", "12", "течёт"])

    path = book(tmp_path / "header.xlsx", fill_header)
    assert both(path).startswith(f"{path}:1: column 3 of the header row has no name")


def test_columns_before_the_table_are_refused_as_before(tmp_path: Path) -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet["C3"] = "Номер"
        sheet["D3"] = "Описание"
        sheet["C4"] = "ЗН-1"

    path = book(tmp_path / "offset.xlsx", fill)
    assert both(path).startswith(f"{path}:3: columns 1, 2 of the header row have no name")


def test_an_empty_trailing_row(tmp_path: Path) -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Номер", "Описание"])
        sheet.append(["ЗН-1", "течёт"])
        sheet.append([None, "снова", None, None])
        sheet.append([None, None, None, None])
        sheet["D9"] = ""

    *_, rows = both(book(tmp_path / "trailing.xlsx", fill))
    assert rows == [
        (2, {"Номер": "ЗН-1", "Описание": "течёт"}),
        (3, {"Номер": None, "Описание": "снова"}),
    ]


def test_several_sheets(tmp_path: Path) -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        workbook.active.title = "Титул"
        workbook.active.append(["Выгрузка"])
        orders = workbook.create_sheet("Заявки ")
        orders.append(["Номер"])
        orders.append(["ЗН-7"])
        workbook.create_sheet("Пусто")

    path = book(tmp_path / "sheets.xlsx", fill)
    assert both(path)[0] == ["Выгрузка"]
    assert both(path, sheet="заявки") == (["Номер"], 1, [(2, {"Номер": "ЗН-7"})])
    assert both(path, sheet="График") == (
        f"{path}: no sheet named 'График' (sheets: 'Титул', 'Заявки ', 'Пусто')"
    )
    assert both(path, sheet="ПУСТО") == both(path, sheet="Пусто")
    assert both(path, sheet="Пусто") == f"{path}: sheet 'Пусто' is empty (no header row)"


def test_a_workbook_with_error_cells_is_read_by_openpyxl(tmp_path: Path) -> None:
    """python-calamine reads #N/A as an empty cell, which would quietly empty an optional
    field: such a workbook keeps the former reader, which gives the error's text."""

    def fill(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Номер", "Срок"])
        sheet.append(["ЗН-1", "#N/A"])  # openpyxl writes this as an error cell

    path = book(tmp_path / "errors.xlsx", fill)
    with open_source(str(path)) as source:
        assert type(source).__name__ == "_OpenpyxlSource"
        assert list(source.rows()) == [SourceRow(2, {"Номер": "ЗН-1", "Срок": "#N/A"})]
    plain = book(tmp_path / "plain.xlsx", lambda w: w.active.append(["Номер", "#N/A текстом"]))
    with open_source(str(plain)) as source:
        assert type(source).__name__ == "_CalamineSource"


def test_the_same_refusals_for_the_same_bad_cells(demo, db_url: str, tmp_path: Path) -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        workbook.active.title = "Титул"
        sheet = workbook.create_sheet("Заявки")
        sheet.append(["Заказчик", "Описание", "Дата создания", "Срок", "Плановая дата"])
        customer = "ООО «СМ-Трейд»"
        sheet.append([customer, "serial", 46340.5, 46345, None])
        sheet.append([customer, "29.02.1900", 60, None, None])
        sheet.append([customer, "text date", "31.02.2026", None, None])
        sheet.append([customer, "negative", -1, None, None])
        sheet.append([customer, "a bool", True, None, None])
        sheet.append([customer, "a time", time(9, 30), None, None])
        sheet.append([customer, "good text", "14.11.2026 12:00", "20.11.2026", None])
        sheet.append([None, None, None, None, None])

    path = book(tmp_path / "bad.xlsx", fill)
    outcomes = []
    for openpyxl_reader in (False, True):
        original = readers._has_error_cells
        readers._has_error_cells = lambda f, flag=openpyxl_reader: flag  # type: ignore[misc]
        try:
            result = fsm(
                db_url,
                "import",
                "orders",
                str(path),
                "--sheet",
                "Заявки",
                "--skip-invalid",
                "--dry-run",
                code=None,
            )
        finally:
            readers._has_error_cells = original
        # the summary's time aside
        said = re.sub(r" in \d+\.\d+ s", "", result.stderr)
        outcomes.append((result.exit_code, result.stdout, said))
    assert outcomes[0] == outcomes[1]
    for line in (3, 4, 5):  # 29.02.1900, 31.02.2026, a negative serial
        assert f"bad.xlsx:{line}: column 'Дата создания'" in outcomes[0][2], outcomes[0]


@pytest.fixture
def demo(with_demo: None, db: Any) -> Any:
    """The demo company, for the import."""
    return db
