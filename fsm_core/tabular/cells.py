"""Cells and file names as both directions read them: the format a file name implies,
formulas neutralised for Excel (OWASP's CSV-injection advice) and undone on the way back,
and a workbook's ``_xHHHH_`` escapes.
"""

from __future__ import annotations

import os
import re

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "nl",
    ".ndjson": "nl",
    ".nl": "nl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}


def fmt_for_path(path: str) -> str | None:
    """The format a file name implies by its extension (case-insensitive), or None."""
    return _EXTENSIONS.get(os.path.splitext(path)[1].lower())


# A text that Excel runs as a formula starts with one of these (OWASP's list for CSV
# injection); fsm export writes it with a ' in front, and a text that already started with
# quotes before one of them gets one quote more, so that taking one off is exact.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_FORMULA = re.compile("^'+[=+\\-@\t\r]")


def quote_formula(text: str) -> str:
    """``text`` as a CSV cell Excel shows as text: ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``."""
    if text and (text[0] in FORMULA_TRIGGERS or (text[0] == "'" and _QUOTED_FORMULA.match(text))):
        return "'" + text
    return text


def unquote_formula(text: str) -> str:
    """The inverse of :func:`quote_formula`."""
    return text[1:] if _QUOTED_FORMULA.match(text) else text


# A workbook's text escapes what XML would not keep as ``_xHHHH_`` (Office Open XML's
# ST_Xstring): a carriage return is ``_x000D_`` (XML reads a bare one as a line feed), and
# a text that itself reads ``_x000D_`` is written ``_x005F_x000D_``. Excel writes and reads
# it so; openpyxl does neither, so fsm does both.
_XLSX_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")
_XLSX_TO_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)|\r")


def xlsx_escape(text: str) -> str:
    """``text`` as a workbook's cell holds it: ``a\r\nb`` -> ``a_x000D_\nb``."""
    if "\r" not in text and "_x" not in text:
        return text
    return _XLSX_TO_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def xlsx_unescape(text: str) -> str:
    """The inverse of :func:`xlsx_escape` (and what Excel wrote)."""
    if "_x" not in text:
        return text
    return _XLSX_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
