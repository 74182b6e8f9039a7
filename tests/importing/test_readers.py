"""The import file readers: formats, encodings, delimiters, line numbers, errors, streaming.

Inputs are built the way users produce them: Russian Excel's "CSV (разделители - точки с
запятой)" is Windows-1251 with ``;`` and CRLF; "CSV UTF-8" adds a BOM; 1C and scripts write
UTF-8 without one; CI pipes CSV or JSON lines into standard input.
"""

from __future__ import annotations

import io
import math
import os
import tracemalloc
from datetime import date, datetime, time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from fsm_core.errors import InvalidInput
from fsm_core.importing.readers import (
    SAMPLE_SIZE,
    Source,
    SourceRow,
    excel_serial_to_datetime,
    open_source,
)
from fsm_core.tabular.cells import fmt_for_path

HEADERS = ["Номер", "Дата создания", "Заказчик", "Описание"]

# What Excel writes: a quoted comma, doubled quotes, a line break inside a cell (Alt+Enter
# is a bare LF inside the quotes), an empty row between records, CRLF line ends.
ORDERS_CSV = (
    "Номер;Дата создания;Заказчик;Описание\r\n"
    'ЗН-1;14.04.2022 16:40;"ООО ""Ромашка""";"Течёт вода, капает на витрину\nсрочно"\r\n'
    "\r\n"
    "ЗН-2;15.04.2022;ИП Петров;Не работает холодильник\r\n"
    ";;;\r\n"
    "ЗН-3;16.04.2022;ИП Сидоров\r\n"
)
EXPECTED = [
    SourceRow(
        2,
        {
            "Номер": "ЗН-1",
            "Дата создания": "14.04.2022 16:40",
            "Заказчик": 'ООО "Ромашка"',
            "Описание": "Течёт вода, капает на витрину\nсрочно",
        },
    ),
    SourceRow(
        5,
        {
            "Номер": "ЗН-2",
            "Дата создания": "15.04.2022",
            "Заказчик": "ИП Петров",
            "Описание": "Не работает холодильник",
        },
    ),
    SourceRow(
        7,
        {"Номер": "ЗН-3", "Дата создания": "16.04.2022", "Заказчик": "ИП Сидоров", "Описание": ""},
    ),
]


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def read_all(source: Source) -> list[SourceRow]:
    with source:
        return list(source.rows())


def probe(path: str, **options: Any) -> Source:
    """Open and close at once, for tests that look only at what was detected."""
    source = open_source(path, **options)
    source.close()
    return source


def error_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str:
    """The line the CLI prints."""
    return excinfo.value.one_line()


# --- CSV: encodings and delimiters -----------------------------------------------------------


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda text: text.encode("cp1251"), "cp1251"),
        (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8-sig"),
        (lambda text: text.encode("utf-8"), "utf-8"),
    ],
    ids=["windows-1251", "utf-8-bom", "utf-8"],
)
def test_russian_excel_csv_in_each_encoding(tmp_path: Path, encode: Any, encoding: str) -> None:
    path = write(tmp_path, "orders.csv", encode(ORDERS_CSV))
    source = open_source(path)
    assert source.name == path
    assert source.format == "csv"
    assert source.encoding == encoding
    assert source.delimiter == ";"
    assert source.headers == HEADERS  # no BOM glued to "Номер"
    assert source.header_line == 1
    assert source.total_bytes == Path(path).stat().st_size
    assert read_all(source) == EXPECTED


def test_given_encoding_overrides_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", ORDERS_CSV.encode("cp1251"))
    source = open_source(path, encoding="windows-1251")
    assert source.encoding == "cp1251"
    assert read_all(source) == EXPECTED


def test_given_utf8_still_drops_a_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", b"\xef\xbb\xbf" + ORDERS_CSV.encode("utf-8"))
    source = open_source(path, encoding="utf-8")
    assert source.headers == HEADERS
    assert read_all(source) == EXPECTED


def test_a_multibyte_character_cut_by_the_sample_is_still_utf8(tmp_path: Path) -> None:
    # "Ж" is two bytes in UTF-8; put its first byte at the last position of the sample
    filler = "a" * (SAMPLE_SIZE - len("Номер,Описание\n1,".encode()) - 1)
    text = f"Номер,Описание\n1,{filler}Ж\n"
    assert text.encode()[SAMPLE_SIZE - 1 : SAMPLE_SIZE + 1] == "Ж".encode()
    source = open_source(write(tmp_path, "cut.csv", text.encode()))
    assert source.encoding == "utf-8"
    assert [r.values["Описание"][-1] for r in read_all(source)] == ["Ж"]


def test_tsv_by_extension(tmp_path: Path) -> None:
    text = "Номер\tЗаказчик\tОписание\nЗН-1\tООО Ромашка\tТечёт вода, капает; срочно\n"
    source = open_source(write(tmp_path, "orders.tsv", text.encode()))
    assert (source.format, source.delimiter) == ("tsv", "\t")
    assert read_all(source) == [
        SourceRow(
            2,
            {"Номер": "ЗН-1", "Заказчик": "ООО Ромашка", "Описание": "Течёт вода, капает; срочно"},
        )
    ]


def test_tab_is_sniffed_in_a_csv_file(tmp_path: Path) -> None:
    source = open_source(write(tmp_path, "orders.csv", b"a\tb\n1\t2,5\n"))
    assert source.delimiter == "\t"
    assert read_all(source)[0].values == {"a": "1", "b": "2,5"}


def test_sniffing_picks_semicolon_despite_commas_in_quoted_text(tmp_path: Path) -> None:
    lines = ["Номер;Дата создания;Описание"]
    lines += [f'{i};14.04.2022;"Течёт вода, капает на витрину, этаж {i}, ряд 3"' for i in range(20)]
    source = open_source(write(tmp_path, "orders.csv", "\n".join(lines).encode()))
    assert source.delimiter == ";"
    rows = read_all(source)
    assert len(rows) == 20
    assert rows[0].values["Описание"] == "Течёт вода, капает на витрину, этаж 0, ряд 3"


def test_sniffing_picks_comma_with_semicolons_in_text(tmp_path: Path) -> None:
    data = b'number,description\n1,"a; b; c"\n2,plain\n'
    source = open_source(write(tmp_path, "orders.csv", data))
    assert source.delimiter == ","
    assert [r.values["description"] for r in read_all(source)] == ["a; b; c", "plain"]


def test_decimal_commas_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    data = "Номер;Сумма, руб;Описание\n1;1750,50;x\n2;300,00;y\n".encode("cp1251")
    source = open_source(write(tmp_path, "prices.csv", data))
    assert source.delimiter == ";"
    assert read_all(source)[0].values["Сумма, руб"] == "1750,50"


def test_delimiter_option_overrides_sniffing(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.csv", b"a|b;c\n1|2;3\n")
    source = open_source(path, delimiter="|")
    assert source.headers == ["a", "b;c"]
    assert read_all(source)[0].values == {"a": "1", "b;c": "2;3"}
    assert probe(path, delimiter="\\t").delimiter == "\t"  # as a shell passes it


def test_single_column_file(tmp_path: Path) -> None:
    source = open_source(write(tmp_path, "numbers.csv", "Номер\nЗН-1\nЗН-2\n".encode()))
    assert source.headers == ["Номер"]
    assert [r.values for r in read_all(source)] == [{"Номер": "ЗН-1"}, {"Номер": "ЗН-2"}]


def test_old_mac_line_ends_and_utf16_excel_unicode_text(tmp_path: Path) -> None:
    mac = open_source(write(tmp_path, "mac.csv", b"a;b\r1;2\r3;4\r"))
    assert [(r.line, r.values) for r in read_all(mac)] == [
        (2, {"a": "1", "b": "2"}),
        (3, {"a": "3", "b": "4"}),
    ]
    # Excel's "Unicode text (*.txt)": UTF-16 LE with a BOM, tab-separated
    data = "Номер\tЗаказчик\r\nЗН-1\tООО Ромашка\r\n".encode("utf-16")
    unicode_text = open_source(write(tmp_path, "export.txt", data))
    assert (unicode_text.encoding, unicode_text.delimiter) == ("utf-16", "\t")
    assert read_all(unicode_text) == [SourceRow(2, {"Номер": "ЗН-1", "Заказчик": "ООО Ромашка"})]


# --- CSV: shapes and errors ------------------------------------------------------------------


def test_blank_lines_before_the_header_are_skipped(tmp_path: Path) -> None:
    source = open_source(write(tmp_path, "orders.csv", b"\n\n a ; b \n1;2\n"))
    assert source.headers == ["a", "b"]
    assert source.header_line == 3
    assert read_all(source) == [SourceRow(4, {"a": "1", "b": "2"})]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    source = open_source(write(tmp_path, "orders.csv", "Номер;Описание\r\n".encode()))
    assert source.headers == ["Номер", "Описание"]
    assert read_all(source) == []


def test_too_many_cells_is_an_error_naming_the_line(tmp_path: Path) -> None:
    data = b"a;b;c;d;e\n1;2;3;4;5\n\n1;2;3;4;5;6;7\n"
    source = open_source(write(tmp_path, "orders.csv", data))
    rows = source.rows()
    assert next(rows).line == 2
    with pytest.raises(InvalidInput) as excinfo:
        next(rows)
    assert str(excinfo.value).startswith(f"{source.name}:4: 7 values but 5 columns")
    source.close()


def test_trailing_empty_cells_and_header_cells_are_ignored(tmp_path: Path) -> None:
    # Excel adds ";" for a formatted but empty column, in the header and in the rows
    data = b"a;b;;\n1;2;;\n3;;\n"
    source = open_source(write(tmp_path, "orders.csv", data))
    assert source.headers == ["a", "b"]
    assert [r.values for r in read_all(source)] == [{"a": "1", "b": "2"}, {"a": "3", "b": ""}]


def test_duplicate_headers_are_an_error_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", "Номер;Заказчик;Номер\n1;2;3\n".encode())
    with pytest.raises(InvalidInput) as excinfo:
        open_source(path)
    assert str(excinfo.value) == (f"{path}:1: duplicate column header 'Номер' (columns 1 and 3)")


def test_an_empty_header_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", b"a;;c\n1;2;3\n")
    with pytest.raises(InvalidInput, match=r":1: column 2 of the header row has no name"):
        open_source(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", b"\r\n\r\n")
    with pytest.raises(InvalidInput, match=r"^.*orders\.csv: the file is empty \(no header row\)$"):
        open_source(path)


def test_undecodable_byte_after_the_sample_names_its_line(tmp_path: Path) -> None:
    # UTF-8 for the first 64 KB, then a Windows-1251 "ё" (0xB8) on line 2002
    lines = ["Номер;Описание"] + [f"{i};строка номер {i} в UTF-8" for i in range(2000)]
    data = "\n".join(lines).encode() + b"\n2000;\xb8\xeb\xea\xe0\n"
    assert len(data) > SAMPLE_SIZE
    source = open_source(write(tmp_path, "orders.csv", data))
    assert source.encoding == "utf-8"
    with pytest.raises(InvalidInput) as excinfo:
        read_all(source)
    message = error_of(excinfo)
    assert message.startswith(f"{source.name}:2002: byte 0xb8 cannot be read as utf-8")
    assert "--encoding cp1251" in message


def test_a_utf8_file_with_a_stray_cp1251_byte_is_read_as_utf8(tmp_path: Path) -> None:
    # Reading it as cp1251 would silently turn every letter into mojibake
    lines = ["Номер;Заказчик;Описание"] + [f"ЗН-{i};ООО Ромашка;Течёт вода" for i in range(50)]
    data = "\n".join(lines).encode() + b"\n"
    data = data.replace("ЗН-9;ООО Ромашка;Течёт".encode(), "ЗН-9;ООО Ромашка;Т".encode() + b"\xb8")
    source = open_source(write(tmp_path, "orders.csv", data))
    assert source.encoding == "utf-8"
    assert source.headers == ["Номер", "Заказчик", "Описание"]
    with pytest.raises(InvalidInput, match=r"orders\.csv:11: byte 0xb8 cannot be read as utf-8"):
        read_all(source)


def test_bad_byte_in_a_bom_file_names_its_line() -> None:
    data = b"\xef\xbb\xbf" + "Номер;Описание\n1;ж\n".encode() + b"2;\xb8\n"
    with pytest.raises(InvalidInput, match=r"^<stdin>:3: byte 0xb8 cannot be read as utf-8-sig"):
        read_all(open_source("-", stdin=io.BytesIO(data)))


def test_byte_undefined_in_cp1251_names_its_line(tmp_path: Path) -> None:
    data = "Номер;Описание\n1;текст\n".encode("cp1251") + b"2;\x98\n"
    source = open_source(write(tmp_path, "orders.csv", data))
    assert source.encoding == "cp1251"
    with pytest.raises(InvalidInput, match=r"orders\.csv:3: byte 0x98 cannot be read as cp1251"):
        read_all(source)


def test_an_unclosed_quote_is_reported_where_the_record_starts(tmp_path: Path) -> None:
    lines = ["a;b", "1;ok", '2;"unclosed'] + ["x" * 100] * 2000
    source = open_source(write(tmp_path, "orders.csv", "\n".join(lines).encode()))
    with pytest.raises(InvalidInput) as excinfo:
        read_all(source)
    assert str(excinfo.value).startswith(f"{source.name}:3: malformed CSV")
    assert "unclosed double quote" in error_of(excinfo)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        open_source("orders.csv")
    assert str(excinfo.value) == "orders.csv: no such file"
    with pytest.raises(InvalidInput, match="is a directory"):
        open_source(str(tmp_path))


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv", b"a\n1\n")
    with pytest.raises(InvalidInput, match="unknown format 'xls'"):
        open_source(path, fmt="xls")
    with pytest.raises(InvalidInput, match="unknown encoding 'koi9'"):
        open_source(path, encoding="koi9")
    with pytest.raises(InvalidInput, match="delimiter must be one character"):
        open_source(path, delimiter=";;")


def test_rows_can_be_read_once(tmp_path: Path) -> None:
    with open_source(write(tmp_path, "orders.csv", b"a\n1\n")) as source:
        assert len(list(source.rows())) == 1
        with pytest.raises(RuntimeError):
            source.rows()


# --- JSON lines ------------------------------------------------------------------------------


def test_json_lines_values_blank_lines_and_new_keys(tmp_path: Path) -> None:
    data = (
        '{"number": "ЗН-1", "priority": 2, "price": 1750.5, "urgent": true, "note": null}\n'
        "\n"
        "   \n"
        '{"number": "ЗН-2", "customer": "ООО Ромашка"}\n'
    ).encode()
    source = open_source(write(tmp_path, "orders.jsonl", data))
    assert (source.format, source.encoding, source.delimiter) == ("nl", "utf-8", None)
    assert source.headers == ["number", "priority", "price", "urgent", "note"]
    rows = read_all(source)
    assert rows == [
        SourceRow(
            1, {"number": "ЗН-1", "priority": 2, "price": 1750.5, "urgent": True, "note": None}
        ),
        SourceRow(4, {"number": "ЗН-2", "customer": "ООО Ромашка"}),  # absent keys stay absent
    ]
    assert source.headers == ["number", "priority", "price", "urgent", "note", "customer"]


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"number": "ЗН-3",}', "not a JSON object: "),
        ('["ЗН-3"]', "not a JSON object but an array"),
        ('"ЗН-3"', "not a JSON object but a string"),
        ('{"price": NaN}', "not a JSON object: NaN is not valid JSON"),
    ],
)
def test_json_lines_errors_name_the_line(tmp_path: Path, bad_line: str, expected: str) -> None:
    data = f'{{"number": "ЗН-1"}}\n\n{{"number": "ЗН-2"}}\n{bad_line}\n{{"number": "ЗН-4"}}\n'
    source = open_source(write(tmp_path, "orders.ndjson", data.encode()))
    rows = source.rows()
    assert [next(rows).line, next(rows).line] == [1, 3]
    with pytest.raises(InvalidInput) as excinfo:
        next(rows)
    assert str(excinfo.value).startswith(f"{source.name}:4: {expected}")
    source.close()


def test_json_lines_first_line_invalid_and_empty_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"orders\.jsonl:2: not a JSON object"):
        open_source(write(tmp_path, "orders.jsonl", b"\n{oops}\n"))
    with pytest.raises(InvalidInput, match=r"empty\.jsonl: no JSON objects"):
        open_source(write(tmp_path, "empty.jsonl", b"\n \n"))


# --- xlsx ------------------------------------------------------------------------------------


def make_workbook(path: Path) -> None:
    """Two sheets as a user's workbook has them: a title row above the table, a date cell,
    a number cell, an empty row, an empty formatted column at the right."""
    workbook = Workbook()
    orders = workbook.active
    assert orders is not None
    orders.title = "Заявки"
    orders.append([])  # an empty first row: the header is the first non-empty one
    orders.append(["Номер", "Дата создания", "Сумма", "Описание", None, None])
    orders.append(["ЗН-1", datetime(2022, 4, 14, 16, 40), 1750.5, "Течёт вода, капает"])
    orders.append([None, None, None, None])
    orders.append(["ЗН-2", date(2022, 4, 15), 3, None, None, ""])
    orders.append(["ЗН-3", "15.04.2022", 0, "время", time(9, 30), None])
    clients = workbook.create_sheet("Клиенты")
    clients.append(["ИНН", "Название"])
    clients.append(["7701234567", "ООО Ромашка"])
    workbook.save(path)


def test_xlsx_first_sheet_keeps_excel_types(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    make_workbook(path)
    source = open_source(str(path))
    assert (source.format, source.encoding, source.delimiter) == ("xlsx", None, None)
    assert source.headers == ["Номер", "Дата создания", "Сумма", "Описание"]
    assert source.header_line == 2
    rows = source.rows()
    assert next(rows) == SourceRow(
        3,
        {
            "Номер": "ЗН-1",
            "Дата создания": datetime(2022, 4, 14, 16, 40),
            "Сумма": 1750.5,
            "Описание": "Течёт вода, капает",
        },
    )
    second = next(rows)
    assert second.line == 5  # row 4 is empty and skipped
    assert second.values == {
        "Номер": "ЗН-2",
        "Дата создания": datetime(2022, 4, 15),
        "Сумма": 3,
        "Описание": None,
    }
    assert isinstance(second.values["Сумма"], int)
    with pytest.raises(InvalidInput) as excinfo:  # time(9, 30) sits in a column with no header
        next(rows)
    assert str(excinfo.value).startswith(f"{path}:6: 5 values but 4 columns")
    source.close()


def test_xlsx_second_sheet_by_name_and_unknown_sheet(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    make_workbook(path)
    source = open_source(str(path), sheet="Клиенты")
    assert source.headers == ["ИНН", "Название"]
    assert read_all(source) == [SourceRow(2, {"ИНН": "7701234567", "Название": "ООО Ромашка"})]
    with pytest.raises(InvalidInput) as excinfo:
        open_source(str(path), sheet="Лист1")
    assert str(excinfo.value) == f"{path}: no sheet named 'Лист1' (sheets: 'Заявки', 'Клиенты')"


def test_xlsx_header_cells_that_are_numbers_or_repeated(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Объект", 2024, 2025.0])
    sheet.append(["Магазин №1", 1, 2])
    workbook.save(path)
    assert probe(str(path)).headers == ["Объект", "2024", "2025"]
    bad = tmp_path / "bad.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Номер", " Номер "])
    workbook.save(bad)
    with pytest.raises(InvalidInput, match=r"bad\.xlsx:1: duplicate column header 'Номер'"):
        open_source(str(bad))


def test_corrupt_and_old_excel_files_are_one_line_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.xlsx", b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(InvalidInput) as excinfo:
        open_source(path)
    assert str(excinfo.value).startswith(f"{path}: not a readable .xlsx workbook (")
    assert "\n" not in error_of(excinfo)
    not_zip = write(tmp_path, "orders2.xlsx", "Номер;Описание\n".encode())
    with pytest.raises(InvalidInput, match=r"not a readable \.xlsx workbook"):
        open_source(not_zip)
    xls = write(tmp_path, "orders.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(InvalidInput) as excinfo:
        open_source(xls)
    assert "old Excel .xls workbook" in str(excinfo.value)
    assert "save it as .xlsx" in error_of(excinfo)


def test_a_workbook_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    make_workbook(path)
    source = open_source(str(path), sheet="Клиенты")
    assert source.format == "xlsx"
    assert len(read_all(source)) == 1
    with pytest.raises(InvalidInput, match=r"orders\.csv: this is an Excel workbook, not csv"):
        open_source(str(path), fmt="csv")


def test_empty_sheet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    with pytest.raises(InvalidInput, match=r"empty\.xlsx: sheet 'Sheet' is empty"):
        open_source(str(path))


# --- standard input --------------------------------------------------------------------------


def test_stdin_csv_is_sniffed_and_has_no_size_or_progress() -> None:
    calls: list[int] = []
    stdin = io.BytesIO(ORDERS_CSV.encode("cp1251"))
    source = open_source("-", stdin=stdin, progress=calls.append)
    assert (source.name, source.format, source.encoding) == ("<stdin>", "csv", "cp1251")
    assert source.total_bytes is None
    assert read_all(source) == EXPECTED
    assert calls == []
    assert not stdin.closed  # the caller's stream is the caller's to close


def test_stdin_json_lines_is_recognised_by_its_brace() -> None:
    stdin = io.BytesIO(b'\n  {"number": "\xd0\x97\xd0\x9d-1"}\n')
    source = open_source("-", stdin=stdin)
    assert source.format == "nl"
    assert read_all(source) == [SourceRow(2, {"number": "ЗН-1"})]


def test_stdin_xlsx_is_spooled(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    make_workbook(path)
    for fmt in ("xlsx", None):  # given, or recognised by the zip signature
        source = open_source("-", fmt=fmt, sheet="Клиенты", stdin=io.BytesIO(path.read_bytes()))
        assert (source.name, source.format, source.total_bytes) == ("<stdin>", "xlsx", None)
        assert read_all(source) == [SourceRow(2, {"ИНН": "7701234567", "Название": "ООО Ромашка"})]


def test_stdin_errors_are_named_stdin() -> None:
    source = open_source("-", stdin=io.BytesIO(b"a,b\n1,2,3\n"))
    with pytest.raises(InvalidInput, match=r"^<stdin>:2: 3 values but 2 columns"):
        read_all(source)


def test_format_by_extension() -> None:
    assert [fmt_for_path(p) for p in ("a.CSV", "b.txt", "c.tsv", "d.jsonl", "e.ndjson")] == [
        "csv",
        "csv",
        "tsv",
        "nl",
        "nl",
    ]
    assert [fmt_for_path(p) for p in ("f.nl", "g.xlsx", "h.xls", "noext")] == [
        "nl",
        "xlsx",
        None,
        None,
    ]


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    assert probe(write(tmp_path, "dump.data", b'{"a": 1}\n')).format == "nl"
    assert probe(write(tmp_path, "dump.out", b"a;b\n1;2\n")).delimiter == ";"


# --- progress and memory ---------------------------------------------------------------------


def big_csv(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Номер;Дата создания;Заказчик;Описание\r\n")
        for i in range(rows):
            f.write(f'ЗН-{i};14.04.2022 16:40;ООО Ромашка {i % 97};"Течёт вода, капает {i}"\r\n')
    return path.stat().st_size


def test_progress_reports_increasing_bytes_ending_at_the_size(tmp_path: Path) -> None:
    size = big_csv(tmp_path / "orders.csv", 10_000)
    calls: list[int] = []
    source = open_source(str(tmp_path / "orders.csv"), progress=calls.append)
    assert source.total_bytes == size
    assert sum(1 for _ in source.rows()) == 10_000
    source.close()
    assert calls[-1] == size
    assert all(a < b for a, b in pairwise(calls))
    assert len(calls) <= size // (64 * 1024) + 2  # cheap: not per row


def test_progress_for_xlsx_ends_at_the_size(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(["Номер", "Описание"])
    for i in range(20_000):
        sheet.append([f"ЗН-{i}", f"описание {i} " * 3])
    workbook.save(path)
    calls: list[int] = []
    source = open_source(str(path), progress=calls.append)
    assert sum(1 for _ in source.rows()) == 20_000
    source.close()
    assert calls[-1] == path.stat().st_size
    assert all(a < b for a, b in pairwise(calls))


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    size = big_csv(path, 200_000)
    assert size > 12_000_000
    tracemalloc.start()
    try:
        with open_source(str(path)) as source:
            count = sum(1 for _ in source.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 1_000_000, f"peak {peak:,} bytes while reading a {size:,}-byte file"


# --- Excel serial dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, datetime(1900, 1, 1)),
        (59, datetime(1900, 2, 28)),
        (61, datetime(1900, 3, 1)),
        (45000, datetime(2023, 3, 15)),
        (45000.5, datetime(2023, 3, 15, 12, 0)),
        (44665.6111111111, datetime(2022, 4, 14, 14, 40)),  # not 14:39:59.999
        (0.25, datetime(1899, 12, 31, 6, 0)),  # a time-only cell: Excel's "00.01.1900"
    ],
)
def test_excel_serial_to_datetime(serial: float, expected: datetime) -> None:
    assert excel_serial_to_datetime(serial) == expected


@pytest.mark.parametrize("serial", [60, 60.5, -1, math.nan, math.inf, 3e6])
def test_excel_serials_that_are_not_dates(serial: float) -> None:
    with pytest.raises(InvalidInput):
        excel_serial_to_datetime(serial)


def test_excel_serial_of_the_phantom_leap_day_says_why() -> None:
    with pytest.raises(InvalidInput, match=r"29\.02\.1900, a day that does not exist"):
        excel_serial_to_datetime(60)


# --- no traceback on any input ---------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.text(alphabet='ab;,\t"\n\r{}[]:1 Жё\x00', max_size=200).map(str.encode),
        st.text(alphabet='ab;,\t"\n\r{}[]:1 Жё', max_size=200).map(lambda t: t.encode("cp1251")),
    ),
    fmt=st.sampled_from([None, "csv", "tsv", "nl", "xlsx"]),
)
def test_any_bytes_give_rows_or_invalid_input(data: bytes, fmt: str | None) -> None:
    message = ""
    try:
        with open_source("-", fmt=fmt, stdin=io.BytesIO(data)) as source:
            for row in source.rows():
                assert row.line >= 1
                assert set(row.values) <= set(source.headers)
    except InvalidInput as exc:
        message = exc.one_line()
    assert "\n" not in message


def test_standard_input_over_the_spool_limit_goes_through_a_temporary_file():
    data = ("Номер;Описание\n" + "".join(f"{i};строка {i}\n" for i in range(3000))).encode()
    with open_source("-", stdin=io.BytesIO(data), spool_over=1000) as source:
        spool = source.path
        assert spool is not None
        assert source.name == "<stdin>"
        assert source.total_bytes == len(data)
        rows = list(source.rows())
    assert not os.path.exists(spool)
    assert len(rows) == 3000
    assert rows[-1].values == {"Номер": "2999", "Описание": "строка 2999"}
    with open_source("-", stdin=io.BytesIO(data), spool_over=len(data)) as source:
        assert source.path is None  # it fitted: read from memory
        assert len(list(source.rows())) == 3000


# --- an encoding guessed with doubt ----------------------------------------------------------


def test_russian_windows_1251_is_read_without_a_doubt(tmp_path: Path) -> None:
    for text in (ORDERS_CSV, ORDERS_CSV.upper(), "Номер;Описание\n1;ООО «СМ-Трейд» №5 — ok\n"):
        source = open_source(write(tmp_path, "orders.csv", text.encode("cp1251")))
        assert (source.encoding, source.encoding_guessed) == ("cp1251", True)
        assert source.encoding_notice is None


@pytest.mark.parametrize(
    ("text", "encoding", "seen", "suggested"),
    [
        ("customer;description\nGazprom;Café crème à réparer\n", "latin-1", "Cafй", "latin-1"),
        ("Kunde;Beschreibung\nMüller GmbH;Größe ändern\n", "latin-1", "Mьller", "latin-1"),
        ("Заказчик;Описание\nСМ-Трейд;Течёт вода\n", "koi8-r", "ъБЛБЪЮЙЛ", "koi8-r"),
        ("Заказчик;Описание\nСМ-Трейд;Течёт вода\n", "cp866", "‡\xa0Є\xa0§зЁЄ", "cp866"),
    ],
)
def test_a_doubtful_guess_says_which_encoding_it_assumed(
    tmp_path: Path, text: str, encoding: str, seen: str, suggested: str
) -> None:
    """A Latin-1 file was read as Windows-1251 without a word (issue 15 item 17)."""
    path = write(tmp_path, "in.csv", text.encode(encoding))
    source = open_source(path)
    assert source.encoding == "cp1251"
    assert seen in str(read_all(source)) + " ".join(source.headers)
    assert source.encoding_notice == (
        f"{path}: read as cp1251, a guess: its text does not read like Russian in it; "
        f"if it looks wrong, give the encoding: --encoding {suggested}"
    )
    again = open_source(path, encoding=suggested)
    assert again.encoding_notice is None
    assert again.headers == text.splitlines()[0].split(";")


def test_a_marked_or_given_encoding_is_no_guess(tmp_path: Path) -> None:
    latin = "customer;description\nGazprom;Café crème\n"
    for data, chosen in (
        (b"\xef\xbb\xbf" + latin.encode("utf-8"), None),
        (latin.encode("utf-8"), None),
        (latin.encode("latin-1"), "cp1251"),
    ):
        source = open_source(write(tmp_path, "in.csv", data), encoding=chosen)
        assert (source.encoding_guessed, source.encoding_notice) == (False, None)


def test_a_long_cell_is_read_for_its_row_to_refuse(tmp_path: Path) -> None:
    """A 10 MB description gave 'malformed CSV: field larger than field limit (131072)
    (check for an unclosed double quote ...)' for the whole file, however well quoted."""
    long = "x" * 10_000_000
    path = write(tmp_path, "long.csv", f'Номер;Описание\n1;"{long}"\n2;ok\n'.encode())
    rows = read_all(open_source(path))
    assert [(r.line, len(r.values["Описание"])) for r in rows] == [(2, 10_000_000), (3, 2)]
