"""The export writers, checked by reading their output back with the import readers."""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from fsm_core.errors import InvalidInput
from fsm_core.importing.readers import SourceRow, open_source
from fsm_core.tabular.writers import fmt_for_path, write_rows

HEADERS = ["Номер", "Заказчик", "Описание", "Сумма"]
ROWS: list[dict[str, Any]] = [
    {
        "Номер": "ЗН-1",
        "Заказчик": 'ООО "Ромашка"',
        "Описание": "Течёт вода, капает на витрину;\nсрочно",
        "Сумма": "1 750,00",
    },
    {"Номер": "ЗН-2", "Заказчик": "ИП Петров", "Описание": "", "Сумма": "300"},
    {"Номер": "ЗН-3", "Заказчик": "  пробелы  ", "Описание": "=СУММ(A1:A2)", "Сумма": "#N/A"},
]


def expected(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """What reading ``rows`` back gives: Excel has no empty text, only empty cells."""
    if fmt != "xlsx":
        return rows
    return [{k: (None if v == "" else v) for k, v in row.items()} for row in rows]


def read_back(data: bytes, fmt: str, **options: Any) -> tuple[list[str], list[SourceRow]]:
    with open_source("-", fmt=fmt, stdin=io.BytesIO(data), **options) as source:
        return source.headers, list(source.rows())


@pytest.mark.parametrize("fmt", ["csv", "tsv", "nl", "xlsx"])
def test_round_trip_through_the_readers(fmt: str) -> None:
    out = io.BytesIO()
    assert write_rows(ROWS, headers=HEADERS, fmt=fmt, out=out) == 3
    headers, rows = read_back(out.getvalue(), fmt)
    assert headers == HEADERS
    assert [row.values for row in rows] == expected(ROWS, fmt)
    assert not out.closed


def test_csv_round_trip_with_a_semicolon_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    write_rows(iter(ROWS), headers=HEADERS, fmt="csv", out=str(path), delimiter=";")
    with open_source(str(path)) as source:  # delimiter sniffed, as a user's import would
        assert source.delimiter == ";"
        assert [row.values for row in source.rows()] == ROWS
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]  # no temporary left


def test_cp1251_output_is_read_as_cp1251(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    write_rows(ROWS, headers=HEADERS, fmt="csv", out=str(path), encoding="cp1251", delimiter=";")
    data = path.read_bytes()
    assert data.startswith("Номер;Заказчик".encode("cp1251"))
    with open_source(str(path)) as source:
        assert source.encoding == "cp1251"
        assert [row.values for row in source.rows()] == ROWS


def test_bom_only_when_asked() -> None:
    plain, with_bom = io.BytesIO(), io.BytesIO()
    write_rows(ROWS, headers=HEADERS, fmt="csv", out=plain)
    write_rows(ROWS, headers=HEADERS, fmt="csv", out=with_bom, bom=True)
    assert not plain.getvalue().startswith(b"\xef\xbb\xbf")
    assert with_bom.getvalue() == b"\xef\xbb\xbf" + plain.getvalue()
    headers, _ = read_back(with_bom.getvalue(), "csv")
    assert headers == HEADERS
    with pytest.raises(InvalidInput, match="BOM"):
        write_rows(ROWS, headers=HEADERS, fmt="csv", out=io.BytesIO(), encoding="cp1251", bom=True)


def test_unencodable_character_names_row_and_column_and_keeps_the_old_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("previous export\n")
    rows = [*ROWS, {"Номер": "ЗН-4", "Описание": "Ящик ✓ доставлен"}]
    with pytest.raises(InvalidInput) as excinfo:
        write_rows(rows, headers=HEADERS, fmt="csv", out=str(path), encoding="cp1251")
    assert str(excinfo.value) == (
        f"{path}: row 4, column 'Описание': the character '✓' (U+2713) cannot be written in cp1251"
    )
    assert "--encoding utf-8" in excinfo.value.one_line()
    assert path.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]


def test_csv_value_conversions() -> None:
    out = io.BytesIO()
    rows = [
        {
            "a": None,
            "b": Decimal("1E+2"),
            "c": Decimal("1750.10"),
            "d": datetime(2024, 4, 14, 16, 40, tzinfo=UTC),
            "e": date(2024, 4, 14),
            "f": 3,
            "g": 0.5,
        }
    ]
    write_rows(rows, headers=list("abcdefgh"), fmt="csv", out=out)
    assert out.getvalue().decode().splitlines()[1] == (
        ",100,1750.10,2024-04-14T16:40:00+00:00,2024-04-14,3,0.5,"
    )


def test_json_lines_are_compact_utf8_with_decimals_as_strings() -> None:
    out = io.BytesIO()
    rows = [{"number": "ЗН-1", "price": Decimal("1750.10"), "due": date(2024, 4, 14)}]
    write_rows(rows, headers=["number", "price", "due", "note"], fmt="nl", out=out)
    assert out.getvalue().decode() == (
        '{"number":"ЗН-1","price":"1750.10","due":"2024-04-14","note":null}\n'
    )
    with pytest.raises(InvalidInput, match="row 1"):
        write_rows([{"x": float("nan")}], headers=["x"], fmt="nl", out=io.BytesIO())


def test_xlsx_cells_have_excel_types(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    msk = timezone(timedelta(hours=3))
    rows = [
        {
            "Номер": "ЗН-1",
            "Создан": datetime(2024, 4, 14, 16, 40, tzinfo=msk),
            "Срок": date(2024, 4, 20),
            "Сумма": Decimal("1750.10"),
            "Формула?": "=1+1",
        },
        {"Номер": "ЗН-2"},
    ]
    headers = ["Номер", "Создан", "Срок", "Сумма", "Формула?"]
    assert write_rows(rows, headers=headers, fmt="xlsx", out=str(path), sheet="Заявки") == 2
    workbook = load_workbook(path)
    sheet = workbook["Заявки"]
    assert [c.value for c in sheet[1]] == headers
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    created, due, amount, formula = sheet["B2"], sheet["C2"], sheet["D2"], sheet["E2"]
    assert created.value == datetime(2024, 4, 14, 16, 40)  # wall time in its own offset
    assert created.is_date
    assert created.number_format == "DD.MM.YYYY HH:MM"
    assert due.is_date
    assert due.value == datetime(2024, 4, 20)
    assert amount.data_type == "n"
    assert amount.value == pytest.approx(1750.1)
    assert (formula.data_type, formula.value) == ("s", "=1+1")
    assert [c.value for c in sheet[3]] == ["ЗН-2", None, None, None, None]
    assert sheet.column_dimensions["A"].width >= len("Номер")


def test_xlsx_control_character_names_row_and_column() -> None:
    rows = [{"Описание": "ok"}, {"Описание": "вертикальная\x0bтабуляция"}]
    with pytest.raises(InvalidInput) as excinfo:
        write_rows(rows, headers=["Описание"], fmt="xlsx", out=io.BytesIO())
    assert str(excinfo.value) == (
        "<output>: row 2, column 'Описание' contains a control character Excel cannot store"
    )


@pytest.mark.parametrize("fmt", ["csv", "nl", "xlsx"])
def test_dash_writes_to_standard_output(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    class FakeStdout:
        buffer = io.BytesIO()

    monkeypatch.setattr(sys, "stdout", FakeStdout())
    assert write_rows(ROWS, headers=HEADERS, fmt=fmt, out="-") == 3
    _, rows = read_back(FakeStdout.buffer.getvalue(), fmt)
    assert [row.values for row in rows] == expected(ROWS, fmt)


def test_a_path_that_is_not_a_regular_file_is_written_into(tmp_path: Path) -> None:
    # e.g. -o /dev/stdout: the node must stay, not be replaced by a renamed temporary file
    assert write_rows(ROWS, headers=HEADERS, fmt="csv", out=os.devnull) == 3
    assert write_rows(ROWS, headers=HEADERS, fmt="xlsx", out=os.devnull) == 3
    assert not Path(os.devnull).is_file()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown export format 'xls'"):
        write_rows([], headers=["a"], fmt="xls", out=io.BytesIO())
    with pytest.raises(InvalidInput, match="no such directory"):
        write_rows([], headers=["a"], fmt="csv", out=str(tmp_path / "missing" / "a.csv"))
    with pytest.raises(InvalidInput, match="unknown encoding"):
        write_rows([], headers=["a"], fmt="csv", out=io.BytesIO(), encoding="koi9")
    assert fmt_for_path("export.XLSX") == "xlsx"


def test_nothing_to_write_still_writes_the_header() -> None:
    out = io.BytesIO()
    assert write_rows([], headers=HEADERS, fmt="csv", out=out) == 0
    headers, rows = read_back(out.getvalue(), "csv")
    assert (headers, rows) == (HEADERS, [])


# Any text a cell can hold: quotes, delimiters, line breaks of every kind, Cyrillic, spaces.
cell_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\";,\t\r\n 'ЁёЖж№=+-@")),  # and what starts a formula
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=20,
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(cell_text, cell_text, cell_text), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_any_text_survives_a_csv_round_trip(
    rows: list[tuple[str, str, str]], delimiter: str, bom: bool
) -> None:
    headers = ["Номер", "Описание", "Заказчик"]
    dicts = [dict(zip(headers, row, strict=True)) for row in rows]
    out = io.BytesIO()
    write_rows(dicts, headers=headers, fmt="csv", out=out, delimiter=delimiter, bom=bom)
    read_headers, read_rows = read_back(out.getvalue(), "csv")  # delimiter and encoding sniffed
    assert read_headers == headers
    # a row of empty cells is a blank line to a reader (Excel writes them for empty rows)
    assert [r.values for r in read_rows] == [d for d in dicts if any(d.values())]


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(cell_text, cell_text), max_size=5))
def test_any_text_survives_a_json_lines_round_trip(rows: list[tuple[str, str]]) -> None:
    dicts = [{"a": a, "b": b} for a, b in rows]
    out = io.BytesIO()
    write_rows(dicts, headers=["a", "b"], fmt="nl", out=out)
    assert [json.loads(line) for line in out.getvalue().decode().split("\n")[:-1]] == dicts
    if dicts:
        assert [r.values for r in read_back(out.getvalue(), "nl")[1]] == dicts


FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted by someone",
    "''+two quotes",
    "обычный текст",
    "'just an apostrophe",
]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_formulas_are_written_as_text_and_read_back_exactly(fmt: str) -> None:
    rows = [{"Описание": text, "Сумма": Decimal("-5")} for text in FORMULAS]
    out = io.BytesIO()
    write_rows(rows, headers=["Описание", "Сумма"], fmt=fmt, out=out)
    import csv

    written = list(
        csv.reader(
            io.StringIO(out.getvalue().decode(), newline=""),
            delimiter="," if fmt == "csv" else "\t",
        )
    )
    for cell, _amount in written[1:]:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    assert [amount for _, amount in written[1:]] == ["-5"] * len(FORMULAS)  # a number stays one
    assert [cells[0] for cells in written[1:10]] == ["'" + text for text in FORMULAS[:9]]
    _, back = read_back(out.getvalue(), fmt)
    assert [r.values["Описание"] for r in back] == FORMULAS


def test_raw_writes_and_reads_cells_as_they_are() -> None:
    rows = [{"a": text} for text in FORMULAS]
    out = io.BytesIO()
    write_rows(rows, headers=["a"], fmt="csv", out=out, raw=True)
    _, back = read_back(out.getvalue(), "csv", raw=True)
    assert [r.values["a"] for r in back] == FORMULAS
    _, quoted = read_back(b"a\r\n'=1\r\n", "csv", raw=True)
    assert quoted[0].values["a"] == "'=1"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("'=+-@\t\rab ")), max_size=8))
def test_quoting_a_formula_is_undone_exactly(text: str) -> None:
    from fsm_core.tabular.cells import quote_formula, unquote_formula

    quoted = quote_formula(text)
    assert quoted[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert unquote_formula(quoted) == text


@pytest.mark.parametrize("for_people", [False, True])
def test_a_carriage_return_survives_a_workbook(for_people: bool) -> None:
    """XML reads a bare CR as a line feed, so 'a\\r\\nb' came back 'a\\nb' (found by the
    hostile round trip); a workbook for people turned it into 'a␍\\nb'. Office Open XML
    escapes it as _x000D_, as Excel does, and a text that reads so itself is kept too."""
    rows = [{"Описание": "a\r\nb\r", "Заказчик": "_x000D_ и _x005F_ as typed"}]
    out = io.BytesIO()
    write_rows(rows, headers=["Описание", "Заказчик"], fmt="xlsx", out=out, for_people=for_people)
    assert [row.values for row in read_back(out.getvalue(), "xlsx")[1]] == rows


def test_what_excel_escapes_in_a_cell_is_read_as_the_text() -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Описание"])
    book.active.append(["строка 1_x000D_\nстрока 2 _x005F_x0041_"])  # as Excel writes them
    out = io.BytesIO()
    book.save(out)
    (row,) = read_back(out.getvalue(), "xlsx")[1]
    assert row.values == {"Описание": "строка 1\r\nстрока 2 _x0041_"}
