"""Writing export files: CSV/TSV, JSON lines and .xlsx, to a path, a stream or stdout.

``write_rows`` streams: a CSV or JSON-lines export holds one row at a time, and an .xlsx one
what openpyxl's write-only mode holds (it spools the sheet to a temporary file). The output
is what ``fsm_core.importing.readers`` reads back unchanged, so an export can be edited in
Excel and imported again.

Decisions worth knowing:

* A path is written to a private temporary file next to it and renamed over it only when
  every row was written (:func:`fsm_core.files.replacing`): a failed export (a character
  cp1251 cannot hold, a broken generator) leaves the previous file, not half a file, and a
  target that is a symbolic link is replaced, never followed.
* CSV: ``None`` is empty, ``Decimal`` is written in plain notation (``100``, never
  ``1E+2``), ``datetime``/``date``/``time`` in ISO 8601 (callers that want day-first text
  pass strings), everything else with ``str()``. Lines end with CRLF as RFC 4180 and Excel
  do; quoting is minimal. ``bom=True`` starts the file with a UTF-8 BOM, without which
  Excel opens a UTF-8 CSV as cp1251 and shows mojibake for Cyrillic. A text cell starting
  with ``= + - @``, a tab or a carriage return (a customer's ``=HYPERLINK(...)``) is
  written with a ``'`` in front, as OWASP recommends against CSV injection, so Excel shows
  it as text; ``raw=True`` writes it as it is (machine to machine), and the import takes
  the ``'`` off again.
* JSON lines: one compact object per line, keys in ``headers`` order, non-ASCII kept as is,
  ``Decimal`` as a string (a JSON number would become a float on the way back), datetimes
  in ISO 8601. NaN/Infinity are refused: they are not JSON and the reader refuses them too.
* .xlsx: a bold, frozen header row with an autofilter; column widths fitted to the header
  and the first rows; ``datetime`` and ``date`` as real Excel dates shown day-first
  (``DD.MM.YYYY HH:MM``), ``Decimal``/``int``/``float`` as numbers. Excel has no time zones:
  an aware datetime is written as its wall-clock time in its *own* offset (the tzinfo is
  dropped, not converted), so callers convert to the company's zone first. Text that Excel
  would take for a formula (``=...``) or an error code (``#N/A``) is kept as text.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from itertools import chain, islice
from typing import Any, BinaryIO

from fsm_core.errors import InvalidInput
from fsm_core.files import private_dir, replacing, tempfiles_as_default
from fsm_core.tabular.cells import fmt_for_path, quote_formula, xlsx_escape
from fsm_core.values import sheet_safe

__all__ = ["WRITE_FORMATS", "fmt_for_path", "write_rows"]

WRITE_FORMATS = ("csv", "tsv", "nl", "xlsx")
STDOUT_NAME = "<stdout>"

_PLAIN = frozenset({str, int, float, type(None)})  # what csv.writer writes right by itself
_XLSX_MAX_TEXT = 32767  # Excel's limit; openpyxl would silently cut longer text
_XLSX_DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
_XLSX_DATE_FORMAT = "DD.MM.YYYY"
_XLSX_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_WIDTH_SAMPLE_ROWS = 100
_MIN_WIDTH, _MAX_WIDTH = 6, 60


def write_rows(
    rows: Iterable[dict[str, Any]],
    *,
    headers: list[str],
    fmt: str,
    out: str | BinaryIO,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
    sheet: str = "data",
    datetime_format: str = _XLSX_DATETIME_FORMAT,
    raw: bool = False,
    for_people: bool = False,
) -> int:
    """Write ``rows`` (dicts; a missing key is an empty cell) with columns ``headers``.

    ``out`` is a path, ``"-"`` for standard output, or a binary stream (left open).
    ``fmt`` is ``csv``, ``tsv`` (CSV with a tab), ``nl`` or ``xlsx``; ``encoding``,
    ``delimiter`` and ``bom`` apply to the text formats, ``sheet`` names the .xlsx sheet
    and ``datetime_format`` is the Excel number format of its datetimes. A CSV/TSV text
    cell that Excel would run as a formula gets a ``'`` in front unless ``raw`` (the
    import takes it off again: see :func:`fsm_core.tabular.cells.quote_formula`).
    ``for_people``: a workbook only to be read, never imported: a control character a text
    carries is shown as a visible sign, where a workbook for import refuses it (it could
    not give it back).
    Returns the number of rows written.
    """
    fmt = fmt.lower()
    if fmt not in WRITE_FORMATS:
        raise InvalidInput(
            f"unknown export format {fmt!r}", hint="use one of: " + ", ".join(WRITE_FORMATS)
        )
    name = _output_name(out)
    if fmt == "xlsx":
        # openpyxl spools each sheet to a temporary file of its own (tempfile's default
        # folder): pointed at this process's private folder, removed with it
        with _output(out, name, binary_only=True) as stream, tempfiles_as_default():
            return _write_xlsx(
                rows, headers, stream, name, sheet, datetime_format, for_people=for_people
            )
    codec = _check_encoding(encoding, bom)
    if fmt == "tsv":
        delimiter = "\t"
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise InvalidInput(
            f"the delimiter must be one character other than a quote, not {delimiter!r}"
        )
    with _output(out, name, binary_only=False) as stream:
        if bom or codec == "utf-8-sig":
            stream.write(codecs.BOM_UTF8)
            codec = "utf-8"
        text = io.TextIOWrapper(stream, encoding=codec, errors="strict", newline="")
        try:
            if fmt == "nl":
                count = _write_nl(rows, headers, text, name, codec)
            else:
                count = _write_csv(rows, headers, text, name, codec, delimiter, raw=raw)
            text.flush()
        finally:
            with contextlib.suppress(ValueError):
                text.detach()  # the stream is not the wrapper's to close
        return count


def _check_encoding(encoding: str, bom: bool) -> str:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise InvalidInput(
            f"unknown encoding {encoding!r}", hint="e.g. --encoding utf-8 or --encoding cp1251"
        ) from None
    if bom and codec not in ("utf-8", "utf-8-sig"):
        raise InvalidInput(f"a BOM is only written with UTF-8, not {codec}")
    return codec


def _output_name(out: str | BinaryIO) -> str:
    if isinstance(out, str):
        return STDOUT_NAME if out == "-" else out
    name = getattr(out, "name", None)
    return name if isinstance(name, str) else "<output>"


@contextlib.contextmanager
def _output(out: str | BinaryIO, name: str, *, binary_only: bool) -> Iterator[BinaryIO]:
    """A binary stream to write to; a path is replaced whole on success
    (:func:`fsm_core.files.replacing`: a link is replaced, never followed)."""
    if not isinstance(out, str) or out == "-":
        stream = sys.stdout.buffer if isinstance(out, str) else out  # a str here is "-"
        if binary_only:
            # openpyxl writes a zip, which wants to seek: build it on disk, then copy it over
            with tempfile.TemporaryFile(dir=private_dir()) as spool:
                yield spool
                spool.seek(0)
                shutil.copyfileobj(spool, stream)
        else:
            yield stream
        stream.flush()
        return
    with replacing(out) as f:
        yield f


# --- CSV -------------------------------------------------------------------------------------


def _plain_decimal(value: Decimal) -> str:
    return format(value, "f")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _plain_decimal(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _write_csv(
    rows: Iterable[dict[str, Any]],
    headers: list[str],
    text: io.TextIOWrapper,
    name: str,
    codec: str,
    delimiter: str,
    *,
    raw: bool = False,
) -> int:
    writer = csv.writer(text, delimiter=delimiter, quotechar='"', lineterminator="\r\n")
    try:
        writer.writerow(headers)
    except UnicodeEncodeError as exc:
        raise _encode_error(name, "the header row", headers, headers, codec, exc) from None
    plain = _PLAIN
    convert = _csv_cell
    quote = quote_formula
    writerow = writer.writerow
    count = 0
    for count, row in enumerate(rows, 1):
        values = list(map(row.get, headers))
        if not raw:  # only text: a negative number is a number, not a formula
            values = [quote(v) if type(v) is str else v for v in values]
        cells = [v if type(v) in plain else convert(v) for v in values]
        try:
            writerow(cells)
        except UnicodeEncodeError as exc:
            raise _encode_error(name, f"row {count}", headers, cells, codec, exc) from None
    return count


def _encode_error(
    name: str, where: str, headers: list[str], cells: list[Any], codec: str, exc: Exception
) -> InvalidInput:
    """Name the column and the character that the output encoding cannot hold."""
    for header, cell in zip(headers, cells, strict=False):
        if not isinstance(cell, str):
            continue
        for char in cell:
            try:
                char.encode(codec)
            except UnicodeEncodeError:
                return InvalidInput(
                    f"{name}: {where}, column {header!r}: the character {char!r} "
                    f"(U+{ord(char):04X}) cannot be written in {codec}",
                    hint="export with --encoding utf-8, and --bom for Excel",
                )
    return InvalidInput(f"{name}: {where} cannot be written in {codec}: {exc}")


# --- JSON lines --------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _plain_decimal(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON: {value!r}")


def _write_nl(
    rows: Iterable[dict[str, Any]],
    headers: list[str],
    text: io.TextIOWrapper,
    name: str,
    codec: str,
) -> int:
    encode = json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
    ).encode
    write = text.write
    count = 0
    for count, row in enumerate(rows, 1):
        record = {h: row.get(h) for h in headers}
        try:
            line = encode(record)
        except ValueError as exc:  # NaN or infinity
            raise InvalidInput(f"{name}: row {count}: {exc}") from None
        try:
            write(line + "\n")
        except UnicodeEncodeError as exc:
            values = [None if v is None else encode(v) for v in record.values()]
            raise _encode_error(name, f"row {count}", headers, values, codec, exc) from None
    return count


# --- xlsx ----------------------------------------------------------------------------------------


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return max(map(len, value.splitlines()), default=0)
    if isinstance(value, datetime):
        return len("31.12.2024 23:59")
    if isinstance(value, date):
        return len("31.12.2024")
    return len(str(value))


def _write_xlsx(
    rows: Iterable[dict[str, Any]],
    headers: list[str],
    stream: BinaryIO,
    name: str,
    sheet: str,
    datetime_format: str,
    *,
    for_people: bool = False,
) -> int:
    from openpyxl import Workbook  # ~80 ms to import: only when a workbook is written
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = Workbook(write_only=True)
    try:
        worksheet = workbook.create_sheet(title=sheet)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {sheet!r} cannot be a sheet name ({exc})") from None

    def cell(value: Any) -> Any:
        """A value openpyxl writes as the same value (see the module docstring)."""
        kind = type(value)
        if kind is str:
            if for_people:
                value = sheet_safe(value)
            if len(value) > _XLSX_MAX_TEXT:
                raise ValueError(f"text longer than Excel's {_XLSX_MAX_TEXT} characters")
            value = xlsx_escape(value)
            if value[:1] == "=" or value in _XLSX_ERROR_CODES:
                text = WriteOnlyCell(worksheet, value=value)
                text.data_type = "s"
                return text
            return value
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.replace(tzinfo=None)
            stamp = WriteOnlyCell(worksheet, value=value)
            stamp.number_format = datetime_format
            return stamp
        if isinstance(value, date):
            day = WriteOnlyCell(worksheet, value=value)  # type: ignore[arg-type]  # stubs lack date
            day.number_format = _XLSX_DATE_FORMAT
            return day
        if isinstance(value, time) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value

    iterator = iter(rows)
    first = list(islice(iterator, _WIDTH_SAMPLE_ROWS))
    for index, header in enumerate(headers, 1):
        widest = max([len(header), *(_display_width(r.get(header)) for r in first)])
        width = min(max(widest + 2, _MIN_WIDTH), _MAX_WIDTH)
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        header_cell = WriteOnlyCell(worksheet, value=header)
        header_cell.font = bold
        header_cells.append(header_cell)
    worksheet.append(header_cells)
    count = 0
    for count, row in enumerate(chain(first, iterator), 1):
        values = [row.get(h) for h in headers]
        try:
            worksheet.append([cell(v) for v in values])
        except (ValueError, IllegalCharacterError) as exc:
            raise _xlsx_error(name, count, headers, values, exc) from None
    if headers:
        worksheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    workbook.save(stream)
    return count


def _xlsx_error(
    name: str, count: int, headers: list[str], values: list[Any], exc: Exception
) -> InvalidInput:
    """Say which cell Excel cannot hold: control characters, over-long text, odd types."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for header, value in zip(headers, values, strict=True):
        if isinstance(value, str) and (
            len(value) > _XLSX_MAX_TEXT or ILLEGAL_CHARACTERS_RE.search(value)
        ):
            what = (
                f"is longer than Excel's {_XLSX_MAX_TEXT} characters"
                if len(value) > _XLSX_MAX_TEXT
                else "contains a control character Excel cannot store"
            )
            return InvalidInput(
                f"{name}: row {count}, column {header!r} {what}",
                hint="export as csv or nl instead",
            )
    return InvalidInput(f"{name}: row {count} cannot be written to Excel: {exc}")
