"""The act of completed works (акт выполненных работ) as a PDF, rendered from plain data.

The act is what the customer signs and what the accountant files, so it must read as a
primary document: a company header, the title with the act's number and date; the
contractor with its legal name, ИНН/КПП, ОГРН, legal address and bank details, the
customer with its ИНН and address, and the basis (the contract, or the order itself);
one table per work entry (№ / Наименование / Кол-во / Ед. / Цена / Сумма); the total to
pay in large type, the VAT it includes or «Без НДС», the total in words; and the two
signature columns, each with the signer's position and name, a place for the stamp
(М.П.) and the date, with the signature captured on the phone when there is one.

This module knows nothing about the database: callers build an :class:`ActDocument`
(amounts already computed by the core's one rounding rule; the act prints them, it never
recomputes them) and call :func:`render_act` or :func:`render_acts`.

Why it is built the way it is:

* One act or a thousand go through the same path. :func:`render_acts` lays the acts out
  one after another in one reportlab document, each from a new page, and feeds them to
  the layout engine one act at a time, so a month of acts never sits in memory as one
  story.
* "Страница 1 из 2" needs the act's page count before its first page is written. The
  canvas (:class:`_ActCanvas`) holds an act's finished pages back until the act ends,
  then stamps each footer and releases them: one pass, the footer is ordinary page text
  (searchable, extractable), and numbering restarts with every act in a combined PDF.
* Speed. A batch of a thousand acts is a normal month-end job, so the act is built from
  a few small flowables of our own (:class:`_Text`, :class:`_LineTable`,
  :class:`_Signatures`) rather than Paragraphs in platypus Tables: those parse markup and
  apply a style list to every cell of every table, which cost more than the whole rest of
  an act. Ours lay text out with reportlab's font metrics, wrap long names inside their
  cell (breaking over-long words too), split between rows across pages and repeat the
  table's header row on every page, as ``Table(repeatRows=1)`` does, and keep the total
  and signatures with the last rows of the table (:class:`_Block`). Styles, label
  widths, wrapped names and formatted numbers are computed once and cached; a signature
  image is decoded once per distinct image.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache, lru_cache
from itertools import chain
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
)

from fsm_core import files
from fsm_core.documents.fonts import BOLD, REGULAR, register_fonts
from fsm_core.documents.text import width_of, wrap
from fsm_core.documents.words import amount_in_words
from fsm_core.errors import InvalidInput
from fsm_core.formatting import local_time, money, number

__all__ = [
    "ActBlock",
    "ActDocument",
    "ActLine",
    "Progress",
    "basis_line",
    "contractor_line",
    "render_act",
    "render_acts",
    "vat_line",
]


# --------------------------------------------------------------------------------------
# The data contract
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActLine:
    """One row of a work block's table: the work itself, an executor's hours, a material."""

    name: str  # "Чистка радиатора испарителя" / "Фреон R410A" / "Работа: Иванов К. П."
    quantity: Decimal  # 1, 2.5 (hours), 0.8 (kg)
    unit: str  # "усл.", "ч", "кг", "шт"
    price: Decimal  # per unit
    amount: Decimal  # computed by the core's one rounding rule; printed, never recomputed
    kind: str  # "work" | "labour" | "material"


@dataclass(frozen=True)
class ActBlock:
    """One work entry (выполненная работа) with the lines it was billed with."""

    work_type: str
    object_name: str | None
    object_address: str | None
    started_at: datetime | None  # timezone-aware UTC
    finished_at: datetime | None
    executors: tuple[str, ...]
    lines: tuple[ActLine, ...]
    subtotal: Decimal


@dataclass(frozen=True)
class ActDocument:
    """Everything one act shows; amounts are final, the act only prints them."""

    act_number: str
    act_date: date
    order_number: str
    company_name: str
    company_phone: str | None
    customer_name: str
    customer_inn: str | None
    customer_address: str | None
    object_name: str | None
    object_address: str | None
    description: str
    blocks: tuple[ActBlock, ...]
    total: Decimal
    executors: tuple[str, ...]
    comment: str | None
    signer_name: str | None  # the customer's signature (получить подпись)
    signed_at: datetime | None
    signature_image: bytes | None  # PNG/JPEG bytes of the captured signature
    currency: str = "RUB"
    # Who signs for the company under "Исполнитель": the person the company names (its
    # director, a manager with a power of attorney), never simply the technician; when
    # not given, the name and position are left blank for pen and ink.
    executor_signer: str | None = None
    executor_signer_position: str | None = None
    signer_position: str | None = None  # the customer's signer's position
    # the contractor's requisites (реквизиты), from the company's settings
    company_legal_name: str | None = None
    company_inn: str | None = None
    company_kpp: str | None = None
    company_ogrn: str | None = None
    company_legal_address: str | None = None
    company_bank_details: str | None = None
    # the basis (основание): the customer's contract, else the order of ``order_date``
    contract_number: str | None = None
    contract_date: date | None = None
    order_date: date | None = None
    # VAT included in the total at ``vat_rate`` percent; None: «Без НДС»
    vat_rate: Decimal | None = None
    vat_amount: Decimal | None = None


Progress = Callable[[int, int], None]
"""``progress(done, total)``, called after each act is laid out."""

Output = files.Output


# --------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------

_LABELS: dict[str, tuple[str, str]] = {
    # key: (English, Russian)
    "title": (
        "Act of completed works No. {number} of {date}",
        "Акт выполненных работ № {number} от {date}",
    ),
    "acts_title": ("Acts of completed works", "Акты выполненных работ"),
    "phone": ("Phone: {phone}", "Тел.: {phone}"),
    "order": ("Order:", "Заявка:"),
    "order_value": ("No.\u00a0{number}", "№\u00a0{number}"),
    "contractor": ("Contractor:", "Исполнитель:"),
    "contractor_address": ("Legal address:", "Юр. адрес:"),
    "bank": ("Bank details:", "Банк. реквизиты:"),
    "customer": ("Customer:", "Заказчик:"),
    "inn": ("INN\u00a0{inn}", "ИНН\u00a0{inn}"),
    "kpp": ("KPP\u00a0{kpp}", "КПП\u00a0{kpp}"),
    "ogrn": ("OGRN\u00a0{ogrn}", "ОГРН\u00a0{ogrn}"),
    "ogrnip": ("OGRNIP\u00a0{ogrn}", "ОГРНИП\u00a0{ogrn}"),
    "customer_address": ("Customer address:", "Адрес заказчика:"),
    "basis": ("Basis:", "Основание:"),
    "contract": ("contract", "договор"),
    "by_order": ("order", "заявка"),
    "doc_number": ("No.\u00a0{number}", "№\u00a0{number}"),
    "doc_date": ("of\u00a0{date}", "от\u00a0{date}"),
    "object": ("Object:", "Объект:"),
    "object_address": ("Object address:", "Адрес объекта:"),
    "description": ("Request:", "Описание заявки:"),
    "when": ("Performed:", "Выполнено:"),
    "from": ("from {start}", "с {start}"),
    "until": ("until {end}", "до {end}"),
    "executor": ("Performed by:", "Выполнил:"),
    "executors": ("Performed by:", "Выполнили:"),
    "col_no": ("No.", "№"),
    "col_name": ("Name", "Наименование"),
    "col_qty": ("Qty", "Кол-во"),
    "col_unit": ("Unit", "Ед."),
    "col_price": ("Price, {cur}", "Цена, {cur}"),
    "col_amount": ("Amount, {cur}", "Сумма, {cur}"),
    "subtotal": ("Subtotal:", "Итого по работе:"),
    "total": ("Total to pay: {amount}", "Итого к оплате: {amount}"),
    "vat": ("Including VAT {rate}%: {amount}", "В том числе НДС {rate}\u00a0%: {amount}"),
    "no_vat": ("VAT not applicable", "Без НДС"),
    "in_words": ("Amount in words:", "Сумма прописью:"),
    "comment": ("Comment:", "Комментарий:"),
    "statement": (
        "The works listed above have been performed in full. The customer has no claims "
        "regarding their scope, quality or timing.",
        "Вышеперечисленные работы выполнены полностью. Заказчик претензий по объёму, "
        "качеству и срокам выполнения работ не имеет.",
    ),
    "side_executor": ("Contractor", "Исполнитель"),
    "side_customer": ("Customer", "Заказчик"),
    "sign_caption": ("(signature)", "(подпись)"),
    "name_caption": ("(full name)", "(расшифровка подписи)"),
    "position_caption": ("(position)", "(должность)"),
    "stamp": ("L.S.", "М.П."),
    "signed": ("Signed: {when}", "Подписано: {when}"),
    "date_blank": ("Date: ______________", "Дата: ______________"),
    "footer_act": ("Act No. {number} of {date}", "Акт № {number} от {date}"),
    "page": ("Page {page} of {pages}", "Страница {page} из {pages}"),
}

_LANGS = ("en", "ru")
_PDF_LANG = {"en": "en-US", "ru": "ru-RU"}  # the PDF's /Lang, for screen readers


def _t(key: str, lang: str, **values: object) -> str:
    text = _LABELS[key][_LANGS.index(lang)]
    return text.format(**values) if values else text


def _check_lang(lang: str) -> None:
    if lang not in _LANGS:
        raise InvalidInput(f"unknown act language {lang!r}", field="lang", hint="use 'ru' or 'en'")


# --------------------------------------------------------------------------------------
# Numbers and dates, cached: the same prices and quantities recur act after act, and
# Babel's formatting would otherwise be the dearest thing in a table cell.
# --------------------------------------------------------------------------------------


def _decimals(value: Decimal, *, least: int, most: int) -> int:
    """How many decimals ``value`` needs to be shown exactly, kept within [least, most]."""
    exponent = value.normalize().as_tuple().exponent
    shown = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(least, min(most, shown))


@lru_cache(maxsize=4096)
def _quantity(value: Decimal, lang: str) -> str:
    """``1``, ``2,5``, ``0,8``: as many decimals as the quantity has (up to 4)."""
    return number(value, lang=lang, digits=_decimals(value, least=0, most=4))


@lru_cache(maxsize=4096)
def _price(value: Decimal, lang: str) -> str:
    """``1 750,00``; a unit price finer than kopecks keeps its digits (up to 4)."""
    return number(value, lang=lang, digits=_decimals(value, least=2, most=4))


@lru_cache(maxsize=4096)
def _amount(value: Decimal, lang: str) -> str:
    return number(value, lang=lang, digits=2)


@lru_cache(maxsize=1024)
def _money(value: Decimal, lang: str, currency: str) -> str:
    return money(value, lang=lang, currency=currency)


@lru_cache(maxsize=32)
def _currency_sign(lang: str, currency: str) -> str:
    """The sign exactly as :func:`money` prints it (``₽`` in Russian, ``RUB`` in English)."""
    zero = Decimal(0)
    return money(zero, lang=lang, currency=currency).replace(_amount(zero, lang), "").strip()


def _day(value: date, lang: str) -> str:
    return value.strftime("%d.%m.%Y" if lang == "ru" else "%Y-%m-%d")


def _period(start: datetime | None, end: datetime | None, tz: tzinfo, lang: str) -> str:
    """``26.11.2026 10:00 – 12:30``; the second date only when the work crossed midnight."""
    if start is not None and end is not None:
        first = local_time(start, tz, lang=lang)
        if start.astimezone(tz).date() == end.astimezone(tz).date():
            return f"{first} – {end.astimezone(tz).strftime('%H:%M')}"
        return f"{first} – {local_time(end, tz, lang=lang)}"
    if start is not None:
        return _t("from", lang, start=local_time(start, tz, lang=lang))
    if end is not None:
        return _t("until", lang, end=local_time(end, tz, lang=lang))
    return ""


def _joined(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


# --------------------------------------------------------------------------------------
# Text metrics
# --------------------------------------------------------------------------------------

_CAP_HEIGHT = 0.73  # DejaVu Sans capital height, as a share of the font size


def _width(text: str, font: str, size: float) -> float:
    return width_of(text, font, size)


def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """The documents' one wrapping (:func:`fsm_core.documents.text.wrap`), for a column."""
    return wrap(text, font=font, size=size, width=width)


def _baseline(line_top: float, leading: float, size: float) -> float:
    """Where to put the baseline so that capitals sit in the middle of the line's box."""
    return line_top - leading + (leading - _CAP_HEIGHT * size) / 2


# --------------------------------------------------------------------------------------
# Page geometry and styles, built once
# --------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT_MARGIN = 20 * mm
RIGHT_MARGIN = 15 * mm
TOP_MARGIN = 15 * mm
BOTTOM_MARGIN = 18 * mm
FOOTER_Y = 10 * mm
FRAME_WIDTH = PAGE_WIDTH - LEFT_MARGIN - RIGHT_MARGIN
FRAME_HEIGHT = PAGE_HEIGHT - TOP_MARGIN - BOTTOM_MARGIN

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#5F6368")
RULE = colors.HexColor("#9AA0A6")
HEADER_FILL = colors.HexColor("#ECEFF1")


@dataclass(frozen=True)
class _Style:
    """How a :class:`_Text` looks; the act's few styles are module constants."""

    font: str = REGULAR
    size: float = 9
    leading: float = 12
    align: str = "left"  # "left" | "centre" | "right"
    color: colors.Color = INK
    label_font: str = BOLD
    space_before: float = 0
    space_after: float = 0
    rule_above: float = 0  # line width of a rule over the text, 0 for none


BODY = _Style()
COMPANY = _Style(font=BOLD, size=12, leading=15)
PHONE = _Style(color=MUTED, space_after=3)
TITLE = _Style(
    font=BOLD, size=13, leading=17, align="centre", rule_above=0.8, space_before=4, space_after=8
)
BLOCK_TITLE = _Style(font=BOLD, size=10, leading=13, space_before=12)
BLOCK_FACTS = _Style(space_after=3)
TOTAL = _Style(font=BOLD, size=12, leading=16, align="right", rule_above=1, space_before=10)
TAIL_FACTS = _Style(space_before=8)
PARTIES = _Style(space_after=5)
VAT = _Style(align="right", space_before=2)
WORDS = _Style(space_before=6)
STATEMENT = _Style(size=8.5, leading=11, space_before=10, space_after=14)

# The work table: № | Наименование | Кол-во | Ед. | Цена | Сумма.
CELL_SIZE = 8.5
CELL_LEADING = 10.5
HEAD_SIZE = 8
CELL_PAD_X = 3
CELL_PAD_Y = 2.5
_COLUMNS = (8 * mm, 0.0, 16 * mm, 12 * mm, 24 * mm, 26 * mm)  # the name takes the rest
_COL_WIDTHS = tuple(w or FRAME_WIDTH - sum(_COLUMNS) for w in _COLUMNS)
_COL_X = tuple(sum(_COL_WIDTHS[:i]) for i in range(len(_COL_WIDTHS) + 1))
_NAME_ROOM = _COL_WIDTHS[1] - 2 * CELL_PAD_X
_ALIGN = ("right", "left", "right", "left", "right", "right")
# A row whose name runs to this many lines may continue on the next page (a short row
# moves whole); each part keeps at least _ROW_PART_LINES lines.
_TALL_ROW_LINES = 8
_ROW_PART_LINES = 3
_FUZZ = 1e-6  # rounding slack when deciding what fits


@cache
def _label_width(lang: str) -> float:
    """The label column of the facts lists: as wide as the widest label in this language,
    so that every list in the act lines its values up on the same edge."""
    keys: tuple[str, ...] = (
        "order",
        "customer",
        "customer_address",
        "object",
        "object_address",
        "description",
    )
    keys += ("when", "executor", "executors", "comment", "contractor", "contractor_address")
    keys += ("bank", "basis", "in_words")
    return max(stringWidth(_t(k, lang), BOLD, BODY.size) for k in keys) + 8


# --------------------------------------------------------------------------------------
# Flowables of our own
# --------------------------------------------------------------------------------------


class _Text(Flowable):
    """Wrapped text, or label / value rows ("Заказчик:  ООО «Ромашка»"), in one style.

    Laid out with the font's metrics and drawn as one PDF text object; splits between
    lines when it reaches the bottom of a page, so a long description or comment simply
    continues on the next one.
    """

    def __init__(
        self,
        rows: Sequence[tuple[str, str]],
        style: _Style = BODY,
        *,
        label_width: float = 0.0,
        lines: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.rows = rows
        self.style = style
        self.label_width = label_width
        self.spaceBefore = style.space_before
        self.spaceAfter = style.space_after
        # the lines as laid out for ``_laid_for`` points of width; a part made by
        # ``split`` comes with its lines fixed
        self._lines = lines
        self._laid_for: float | None = None
        self._fixed = lines is not None

    @classmethod
    def plain(cls, text: str, style: _Style = BODY) -> _Text:
        return cls((("", text),), style)

    def _layout(self, width: float) -> list[tuple[str, str]]:
        if self._lines is None or not (self._fixed or self._laid_for == width):
            s = self.style
            room = width - self.label_width
            lines: list[tuple[str, str]] = []
            for label, value in self.rows:
                for i, text in enumerate(_wrap(value, s.font, s.size, room)):
                    lines.append((label if i == 0 else "", text))
            self._lines, self._laid_for = lines, width
        return self._lines

    def _rule_space(self) -> float:
        return 4.0 if self.style.rule_above else 0.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        lines = self._layout(availWidth)
        self.width = availWidth
        self.height = len(lines) * self.style.leading + self._rule_space()
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        lines = self._layout(availWidth)
        fit = int((availHeight - self._rule_space()) // self.style.leading)
        if fit <= 0 or fit >= len(lines):
            return []
        head = _Text(
            self.rows,
            replace(self.style, space_after=0),
            label_width=self.label_width,
            lines=lines[:fit],
        )
        tail = _Text(
            self.rows,
            replace(self.style, space_before=0, rule_above=0),
            label_width=self.label_width,
            lines=lines[fit:],
        )
        return [head, tail]

    def draw(self) -> None:
        s = self.style
        c = self.canv
        if s.rule_above:
            c.setStrokeColor(s.color)
            c.setLineWidth(s.rule_above)
            c.line(0, self.height - s.rule_above / 2, self.width, self.height - s.rule_above / 2)
        text = c.beginText()
        text.setFillColor(s.color)
        font = None
        top = self.height - self._rule_space()
        right = self.width
        for label, value in self._lines or ():
            y = _baseline(top, s.leading, s.size)
            top -= s.leading
            if label:
                text.setFont(s.label_font, s.size)
                font = s.label_font
                text.setTextOrigin(0, y)
                text.textLine(label)
            if not value:
                continue
            if font != s.font:
                text.setFont(s.font, s.size)
                font = s.font
            if s.align == "left":
                x = self.label_width
            elif s.align == "right":
                x = right - _width(value, s.font, s.size)
            else:
                x = (self.label_width + right - _width(value, s.font, s.size)) / 2
            text.setTextOrigin(x, y)
            text.textLine(value)
        c.drawText(text)


def _facts(rows: list[tuple[str, str]], lang: str, style: _Style = BODY) -> _Text:
    """Label / value rows, values lined up on one edge across the whole act."""
    return _Text(
        [(label, value) for label, value in rows if value], style, label_width=_label_width(lang)
    )


@dataclass(frozen=True)
class _Row:
    """One laid-out table row: its cells' text lines (the name wrapped) and its height."""

    cells: tuple[tuple[str, ...], ...]

    @property
    def lines(self) -> int:
        return max(1, *(len(cell) for cell in self.cells))

    @property
    def height(self) -> float:
        return self.lines * CELL_LEADING + 2 * CELL_PAD_Y

    def cut(self, lines: int) -> tuple[_Row, _Row]:
        """The row's first ``lines`` name lines with all its other cells, and the rest of
        the name alone, to continue on the next page."""
        head = tuple(cell[:lines] if i == 1 else cell for i, cell in enumerate(self.cells))
        tail = tuple(cell[lines:] if i == 1 else () for i, cell in enumerate(self.cells))
        return _Row(head), _Row(tail)


def _row(cells: Sequence[str]) -> _Row:
    """A table row; the name wraps inside its column."""
    name = _wrap(cells[1], REGULAR, CELL_SIZE, _NAME_ROOM)
    return _Row(tuple(name if i == 1 else ((v,) if v else ()) for i, v in enumerate(cells)))


def _cell_text(
    text: Any, value: str, font: str, left: float, right: float, y: float, align: str
) -> None:
    """One line of a cell, aligned within its padding. A value that cannot wrap (an amount,
    a quantity, a unit) and is wider than its column is set in smaller type to fit, never
    over the column's edge."""
    room = right - left - 2 * CELL_PAD_X
    width = _width(value, font, CELL_SIZE)
    size = CELL_SIZE
    if width > room:
        size, width = CELL_SIZE * room / width, room
        text.setFont(font, size)
    x = left + CELL_PAD_X if align == "left" else right - CELL_PAD_X - width
    text.setTextOrigin(x, y)
    text.textLine(value)
    if size != CELL_SIZE:
        text.setFont(font, CELL_SIZE)


class _LineTable(Flowable):
    """The table of a work block, with its header row repeated on every page it runs to.

    № | Наименование | Кол-во | Ед. | Цена | Сумма: names wrap inside their column, numbers
    are right-aligned; the last row is the block's subtotal, a label across the first
    five columns and the amount boxed under "Сумма". Splits between rows (inside a row
    only when its name runs to many lines), never leaves the subtotal alone on a page,
    and draws each part with one text object and one path for the grid.
    """

    def __init__(self, header: tuple[str, ...], rows: list[_Row], subtotal: tuple[str, str]):
        super().__init__()
        self.header = header
        self.rows = rows
        self.subtotal = subtotal
        self.head_height = CELL_LEADING + 2 * CELL_PAD_Y + 1
        self.foot_height = CELL_LEADING + 2 * CELL_PAD_Y + 2 if subtotal[1] else 0.0
        self.width = FRAME_WIDTH

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.height = self.head_height + sum(r.height for r in self.rows) + self.foot_height
        return self.width, self.height

    def cut(self, height: float) -> tuple[_LineTable, _LineTable] | None:
        """Cut the table so that its first part (header and rows) fits in ``height``.

        The second part always keeps at least one row, or the end of one, so that the
        subtotal (and after the last table, the total and signatures) never stands
        alone. A short row moves whole; a tall one (a very long name) may continue on the
        next page. None when not even the first row can start here.
        """
        rows = self.rows
        room = height - self.head_height + _FUZZ
        for index, row in enumerate(rows):
            if row.height <= room and index < len(rows) - 1:
                room -= row.height
                continue
            if row.height <= room:  # everything fits but what has to follow the table
                lines = row.lines - _ROW_PART_LINES
            else:
                lines = min(int((room - 2 * CELL_PAD_Y) // CELL_LEADING), row.lines - 1)
                lines = min(lines, row.lines - _ROW_PART_LINES)
            if row.lines >= _TALL_ROW_LINES and lines >= _ROW_PART_LINES:
                head, tail = row.cut(lines)
                first, rest = [*rows[:index], head], [tail, *rows[index + 1 :]]
            elif index:
                first, rest = list(rows[:index]), list(rows[index:])
            else:
                return None
            return (
                _LineTable(self.header, first, ("", "")),
                _LineTable(self.header, rest, self.subtotal),
            )
        return None

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        parts = self.cut(availHeight)
        return list(parts) if parts else []

    def draw(self) -> None:
        c = self.canv
        x = _COL_X
        top = self.height
        body_bottom = self.foot_height
        text = c.beginText()
        text.setFillColor(INK)

        # header row: shaded, bold, centred
        c.setFillColor(HEADER_FILL)
        c.rect(0, top - self.head_height, self.width, self.head_height, stroke=0, fill=1)
        text.setFont(BOLD, HEAD_SIZE)
        y = _baseline(top - (self.head_height - CELL_LEADING) / 2, CELL_LEADING, HEAD_SIZE)
        for i, label in enumerate(self.header):
            text.setTextOrigin((x[i] + x[i + 1] - _width(label, BOLD, HEAD_SIZE)) / 2, y)
            text.textLine(label)

        # body rows
        text.setFont(REGULAR, CELL_SIZE)
        row_top = top - self.head_height
        edges = [top, row_top]
        for row in self.rows:
            line_top = row_top - CELL_PAD_Y
            for i, lines in enumerate(row.cells):
                for n, value in enumerate(lines):
                    yy = _baseline(line_top - n * CELL_LEADING, CELL_LEADING, CELL_SIZE)
                    _cell_text(text, value, REGULAR, x[i], x[i + 1], yy, _ALIGN[i])
            row_top -= row.height
            edges.append(row_top)

        # grid: one path for every rule of the body, a box round the subtotal's amount
        path = c.beginPath()
        for y_edge in edges:
            path.moveTo(0, y_edge)
            path.lineTo(self.width, y_edge)
        for x_edge in x:
            path.moveTo(x_edge, top)
            path.lineTo(x_edge, body_bottom)
        if self.foot_height:
            label, value = self.subtotal
            path.rect(x[-2], 0, x[-1] - x[-2], body_bottom)
            y = _baseline(body_bottom - CELL_PAD_Y - 1, CELL_LEADING, CELL_SIZE)
            text.setFont(BOLD, CELL_SIZE)
            _cell_text(text, label, BOLD, 0, x[-2], y, "right")
            _cell_text(text, value, BOLD, x[-2], x[-1], y, "right")
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.drawPath(path, stroke=1, fill=0)
        c.drawText(text)


class _Block(Flowable):
    """A work block: its heading and facts, kept with at least the first row of its table;
    for the act's last block also the closing part (the total, the statement and the
    signatures), kept with at least the table's last row.

    Platypus's own keep-with-next and KeepTogether move a whole group to the next page
    when it does not fit, which for a table longer than a page leaves a first page blank,
    and for the closing part can leave the signatures on a page of their own. A page with
    nothing but signatures is what a careful customer refuses to sign (it can be stapled
    to any other act), so the closing part always takes the last rows over with it.
    """

    def __init__(
        self, lead: list[Flowable], table: _LineTable, tail: list[Flowable] | None = None
    ) -> None:
        super().__init__()
        self.lead = lead
        self.table = table
        self.tail = tail or []
        self.spaceBefore = lead[0].getSpaceBefore() if lead else 0.0
        self.spaceAfter = 0.0

    def _stacked(
        self, parts: list[Flowable], width: float, height: float
    ) -> list[tuple[Flowable, float, float]]:
        """Each part with the space above it and its height. The space above the first
        part is this flowable's own ``spaceBefore``, which the frame applies; between
        parts it is the larger of one's space after and the next's space before, as a
        frame would leave."""
        laid: list[tuple[Flowable, float, float]] = []
        previous: Flowable | None = None
        for part in parts:
            above = 0.0
            if previous is not None:
                above = max(part.getSpaceBefore(), previous.getSpaceAfter())
            laid.append((part, above, part.wrap(width, height)[1]))
            previous = part
        return laid

    def _parts(self) -> list[Flowable]:
        return [*self.lead, self.table, *self.tail]

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        laid = self._stacked(self._parts(), availWidth, availHeight)
        self.height = sum(above + h for _, above, h in laid)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        laid = self._stacked(self._parts(), availWidth, availHeight)
        n = len(self.lead)
        above_table = sum(above + h for _, above, h in laid[:n]) + laid[n][1]
        parts = self.table.cut(availHeight - above_table)
        if parts is None:
            if availHeight < FRAME_HEIGHT - 1:
                return []  # all of it on the next page
            return self._parts()  # cannot even start on a fresh page: let its parts flow
        first, rest = parts
        if self.tail:
            return [*self.lead, first, _Block([], rest, self.tail)]
        return [*self.lead, first, rest]

    def draw(self) -> None:
        top = self.height
        for part, above, height in self._stacked(self._parts(), self.width, self.height):
            top -= above + height
            part.drawOn(self.canv, 0, top)


def _line_table(block: ActBlock, lang: str, currency: str) -> _LineTable:
    sign = _currency_sign(lang, currency)
    header = (
        _t("col_no", lang),
        _t("col_name", lang),
        _t("col_qty", lang),
        _t("col_unit", lang),
        _t("col_price", lang, cur=sign),
        _t("col_amount", lang, cur=sign),
    )
    rows = [
        _row(
            (
                str(index),
                line.name,
                _quantity(line.quantity, lang),
                line.unit,
                _price(line.price, lang),
                _amount(line.amount, lang),
            )
        )
        for index, line in enumerate(block.lines, start=1)
    ]
    return _LineTable(header, rows, (_t("subtotal", lang), _amount(block.subtotal, lang)))


# --------------------------------------------------------------------------------------
# The signature block
# --------------------------------------------------------------------------------------


_SIGNATURE_PIXELS = (300, 100)  # ~190 dpi in the signature box: plenty for ink


@lru_cache(maxsize=16)
def _signature_reader(data: bytes) -> ImageReader:
    """Decode a captured signature once: grey ink on white, at about print resolution.

    Phone signature pads send RGBA PNGs, dark ink on a transparent background, with more
    pixels than a 40 × 13 mm box needs. Compositing onto white here spares reportlab an
    alpha mask (a second image per act), grey is a third of the colour data, and an
    integer box reduction to about 300 × 100 pixels is cheap and keeps strokes crisp;
    together they make the image a small part of an act's cost and size. Cached, so a
    combined PDF or a re-render decodes each distinct image once.
    """
    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(data)) as opened:
        if opened.format == "JPEG":
            opened.draft("L", _SIGNATURE_PIXELS)  # let libjpeg decode at a reduced scale
        opened.load()
        if opened.mode in ("LA", "PA", "P") or "transparency" in opened.info:
            image = opened.convert("RGBA")
        else:
            image = opened
        # the lowest alpha; getextrema() of one band is (min, max), typed for many bands too
        lowest = image.getchannel("A").getextrema()[0] if image.mode == "RGBA" else 255
        if isinstance(lowest, tuple):
            lowest = lowest[0]
        if lowest < 255:
            # white + alpha * (ink - white), done on whole channels
            ink = ImageChops.invert(image.convert("L"))
            grey = ImageChops.invert(ImageChops.multiply(ink, image.getchannel("A")))
        else:
            grey = image.convert("L")  # always a new image: the file closes below
    factor = min(grey.width // _SIGNATURE_PIXELS[0], grey.height // _SIGNATURE_PIXELS[1])
    if factor > 1:
        grey = grey.reduce(factor)
    return ImageReader(grey)


def _signature(doc: ActDocument) -> ImageReader | None:
    if not doc.signature_image:
        return None
    try:
        return _signature_reader(bytes(doc.signature_image))
    except Exception as exc:  # Pillow raises many unrelated types for bad data
        raise InvalidInput(
            f"act {doc.act_number}: the customer's signature is not a readable PNG or "
            f"JPEG image ({type(exc).__name__})",
            field="signature_image",
            hint="capture the signature again",
        ) from exc


def _fit_name(name: str, room: float, size: float, most: int = 3) -> tuple[tuple[str, ...], float]:
    """A name over a signature line, printed whole: wrapped onto up to ``most`` lines,
    in smaller type when even that is not enough (down to 6 pt, then it simply wraps
    further). Returns the lines and the type size."""
    lines = _wrap(name, REGULAR, size, room)
    while len(lines) > most and size > 6:
        size -= 0.5
        lines = _wrap(name, REGULAR, size, room)
    return lines, size


@dataclass(frozen=True)
class _Side:
    """One party's column of the signature block."""

    heading: str  # "Исполнитель" / "Заказчик"
    party: str  # the company
    position: str | None  # the signer's position (должность)
    name: str | None  # the signer's name, over the line
    image: ImageReader | None = None  # the captured signature
    signed: str | None = None  # "Подписано: …", else a blank date


class _Signatures(Flowable):
    """The two signature columns, drawn straight onto the canvas.

    Each side: its heading ("Исполнитель" / "Заказчик"), the company, the signer's
    position over a line captioned "(должность)", the space for the signature (the
    captured one scaled into it), a line to sign on with the signer's name beside it,
    "М.П." for the stamp and the date. Left is the company, signed by the person it
    names; right the customer, with the time of signing when it was captured. What is
    not known stays blank for pen and ink, with a blank date.
    """

    GAP = 14 * mm
    BOX = 16 * mm  # the space above the line where a signature (and the stamp) goes
    HEAD = 9
    NAME = 8.5
    SMALL = 7
    LINE = 10.5
    CAPTION = 10  # from a line down to under its caption

    def __init__(self, *, lang: str, executor: _Side, customer: _Side) -> None:
        super().__init__()
        self.lang = lang
        self.sides = (executor, customer)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.col = (availWidth - self.GAP) / 2
        self.parties = [_wrap(side.party, REGULAR, self.NAME, self.col) for side in self.sides]
        self.positions = [
            _fit_name(side.position, self.col - 4, self.NAME, most=2) if side.position else None
            for side in self.sides
        ]
        rows = max(len(lines) for lines in self.parties)
        # heading, the parties' names, the position over its line and caption, the box,
        # the signing line and its captions, М.П., the date
        self.height = (
            12
            + rows * self.LINE
            + self._position_room()
            + self.CAPTION
            + self.BOX
            + self.CAPTION
            + 12
            + 12
        )
        return self.width, self.height

    def _position_room(self) -> float:
        """From the bottom of the parties' names down to the position's line."""
        lines = [len(p[0]) * p[1] * 1.15 for p in self.positions if p is not None]
        return max([self.LINE, *lines]) + 5

    def draw(self) -> None:
        c = self.canv
        lang = self.lang
        col = self.col
        sign_length = col * 0.5
        name_room = col - sign_length - 6
        text = c.beginText()
        path = c.beginPath()
        names_bottom = self.height - 12 - max(len(p) for p in self.parties) * self.LINE
        y_position = names_bottom - self._position_room()
        y_line = y_position - self.CAPTION - self.BOX
        for x, side, party, position in zip(
            (0.0, col + self.GAP), self.sides, self.parties, self.positions, strict=True
        ):
            y = self.height - self.HEAD
            text.setFillColor(INK)
            text.setFont(BOLD, self.HEAD)
            text.setTextOrigin(x, y)
            text.textLine(side.heading)
            text.setFont(REGULAR, self.NAME)
            for line in party:
                y -= self.LINE
                text.setTextOrigin(x, y)
                text.textLine(line)
            # the position, over its own line
            path.moveTo(x, y_position)
            path.lineTo(x + col, y_position)
            if position is not None:
                lines, size = position
                text.setFont(REGULAR, size)
                for n, shown in enumerate(lines):
                    lift = (len(lines) - 1 - n) * size * 1.15
                    text.setTextOrigin(x + 2, y_position + 3 + lift)
                    text.textLine(shown)
            # the signature, its line and the name beside it
            if side.image is not None:
                self._draw_image(side.image, x, y_line + 1.5, sign_length, self.BOX - 3)
            name_x = x + sign_length + 6
            path.moveTo(x, y_line)
            path.lineTo(x + sign_length, y_line)
            path.moveTo(name_x, y_line)
            path.lineTo(x + col, y_line)
            if side.name:
                lines, size = _fit_name(side.name, name_room - 4, self.NAME)
                text.setFont(REGULAR, size)
                for n, shown in enumerate(lines):  # the last line sits on the line
                    lift = (len(lines) - 1 - n) * size * 1.15
                    text.setTextOrigin(name_x + 2, y_line + 3 + lift)
                    text.textLine(shown)
            text.setFont(REGULAR, self.SMALL)
            text.setFillColor(MUTED)
            for caption, left, width, line_y in (
                (_t("position_caption", lang), x, col, y_position),
                (_t("sign_caption", lang), x, sign_length, y_line),
                (_t("name_caption", lang), name_x, name_room, y_line),
            ):
                text.setTextOrigin(
                    left + (width - _width(caption, REGULAR, self.SMALL)) / 2, line_y - 8
                )
                text.textLine(caption)
            text.setFillColor(INK)
            text.setFont(BOLD, self.NAME)
            text.setTextOrigin(x, y_line - self.CAPTION - 10)
            text.textLine(_t("stamp", lang))
            text.setFont(REGULAR, self.NAME)
            text.setTextOrigin(x, y_line - self.CAPTION - 22)
            text.textLine(side.signed or _t("date_blank", lang))
        c.setStrokeColor(INK)
        c.setLineWidth(0.6)
        c.drawPath(path, stroke=1, fill=0)
        c.drawText(text)

    def _draw_image(self, image: ImageReader, x: float, y: float, w: float, h: float) -> None:
        iw, ih = image.getSize()
        scale = min(w / iw, h / ih)
        dw, dh = iw * scale, ih * scale
        self.canv.drawImage(image, x + (w - dw) / 2, y, dw, dh)


# --------------------------------------------------------------------------------------
# Acts in a document: markers, the canvas that numbers pages per act, the template
# --------------------------------------------------------------------------------------


class _ActMark(Flowable):
    """An invisible marker at an act's first or last flowable: tells the canvas where an
    act starts (footer text, outline entry) and where it ends (release its pages)."""

    def __init__(
        self,
        *,
        footer: str = "",
        outline: str | None = None,
        end: bool = False,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.footer = footer
        self.outline = outline
        self.end = end
        self.on_end = on_end
        self.width = self.height = 0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        canvas = self.canv
        assert isinstance(canvas, _ActCanvas)
        if self.end:
            canvas.end_act()
            if self.on_end is not None:
                self.on_end()
        else:
            canvas.begin_act(self.footer, self.outline)


class _ActCanvas(Canvas):
    """Holds an act's finished pages until the act ends, then stamps "Страница i из n".

    Holding a page keeps its content list and graphics state (a shallow copy of the
    canvas's attributes, reportlab's well-known recipe for "page x of y"); the pages are
    released at the end of every act, so at most one act is ever held.
    """

    def __init__(self, *args: Any, footer_lang: str = "ru", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer_lang = footer_lang
        self._held: list[dict[str, Any]] = []
        self._footer = ""
        self._ended = False
        self._outlines = 0

    def begin_act(self, footer: str, outline: str | None) -> None:
        self._footer = footer
        self._ended = False
        if outline:
            key = f"act{self._outlines}"
            self._outlines += 1
            self.bookmarkPage(key)
            self.addOutlineEntry(outline, key, level=0)

    def end_act(self) -> None:
        self._ended = True

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's own, not in its stubs
        if self._ended:
            self._release()

    def save(self) -> None:
        if self._held:
            self._release()
        super().save()

    def _release(self) -> None:
        held, footer, lang = self._held, self._footer, self._footer_lang
        pages = len(held)
        for page, state in enumerate(held, start=1):
            self.__dict__.update(state)
            self._draw_footer(footer, _t("page", lang, page=page, pages=pages))
            Canvas.showPage(self)
        self._held = []
        self._ended = False

    def _draw_footer(self, left: str, right: str) -> None:
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(LEFT_MARGIN, FOOTER_Y + 9, PAGE_WIDTH - RIGHT_MARGIN, FOOTER_Y + 9)
        text = self.beginText()
        text.setFont(REGULAR, 7.5)
        text.setFillColor(MUTED)
        text.setTextOrigin(LEFT_MARGIN, FOOTER_Y)
        text.textLine(left)
        text.setTextOrigin(PAGE_WIDTH - RIGHT_MARGIN - _width(right, REGULAR, 7.5), FOOTER_Y)
        text.textLine(right)
        self.drawText(text)


class _ActsTemplate(BaseDocTemplate):
    """A4 with one frame; lays out acts one story at a time (see :meth:`build_acts`)."""

    def __init__(self, out: Any, *, lang: str, **kwargs: Any) -> None:
        super().__init__(
            out,
            pagesize=A4,
            leftMargin=LEFT_MARGIN,
            rightMargin=RIGHT_MARGIN,
            topMargin=TOP_MARGIN,
            bottomMargin=BOTTOM_MARGIN,
            creator="fsm",
            lang=_PDF_LANG[lang],
            # the canvas opens every page by selecting this font: ours, so that the PDF
            # names no Helvetica it never uses
            initialFontName=REGULAR,
            initialFontSize=BODY.size,
            initialLeading=BODY.leading,
            **kwargs,
        )
        frame = Frame(
            LEFT_MARGIN,
            BOTTOM_MARGIN,
            FRAME_WIDTH,
            FRAME_HEIGHT,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="act",
        )
        self.addPageTemplates([PageTemplate(id="act", frames=[frame], pagesize=A4)])
        self._footer_lang = lang

    def build_acts(self, stories: Iterable[list[Flowable]]) -> None:
        """Like ``build``, but takes the story act by act.

        ``BaseDocTemplate.build`` wants the whole story as one list and deletes from its
        front flowable by flowable, which is quadratic and keeps every act of a large
        batch in memory at once. The loop below is ``build``'s own, run per act.
        """
        lang = self._footer_lang

        def canvasmaker(*args: Any, **kwargs: Any) -> _ActCanvas:
            return _ActCanvas(*args, footer_lang=lang, **kwargs)

        # reportlab's BaseDocTemplate.build, split in its own private steps (not in its stubs)
        self._startBuild(None, canvasmaker)  # type: ignore[attr-defined]
        canvas = self.canv
        canvas._doctemplate = self  # type: ignore[attr-defined]
        try:
            for story in stories:
                while story:
                    self.clean_hanging()
                    self.handle_flowable(story)
        finally:
            del canvas._doctemplate  # type: ignore[attr-defined]
        self._endBuild()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# The act's story
# --------------------------------------------------------------------------------------


def _block(
    number_: int,
    block: ActBlock,
    doc: ActDocument,
    *,
    lang: str,
    tz: tzinfo,
    tail: list[Flowable] | None = None,
) -> _Block:
    lead: list[Flowable] = [_Text.plain(f"{number_}. {block.work_type}", BLOCK_TITLE)]
    rows: list[tuple[str, str]] = []
    if (block.object_name, block.object_address) != (doc.object_name, doc.object_address):
        rows.append((_t("object", lang), _joined(block.object_name, block.object_address)))
    rows.append((_t("when", lang), _period(block.started_at, block.finished_at, tz, lang)))
    key = "executors" if len(block.executors) > 1 else "executor"
    rows.append((_t(key, lang), ", ".join(block.executors)))
    if any(value for _, value in rows):
        lead.append(_facts(rows, lang, BLOCK_FACTS))
    return _Block(lead, _line_table(block, lang, doc.currency), tail)


_HELD = re.compile(r"(?<!\w)(р/с|к/с|л/с|БИК|ИНН|КПП|№)\s+(?=\d)", re.IGNORECASE)


def _held(text: str) -> str:
    """Bank details as typed, with each requisite's name held to its number by a no-break
    space, so that "к/с" never ends a line with "30101810…" on the next."""
    return _HELD.sub(lambda m: m.group(1) + "\u00a0", text)


def vat_line(doc: ActDocument, lang: str) -> str:
    """ "В том числе НДС 20 %: 2 241,67 ₽", or "Без НДС"."""
    if doc.vat_rate is None:
        return _t("no_vat", lang)
    amount = doc.vat_amount if doc.vat_amount is not None else Decimal("0.00")
    return _t(
        "vat", lang, rate=_quantity(doc.vat_rate, lang), amount=_money(amount, lang, doc.currency)
    )


def contractor_line(doc: ActDocument, lang: str) -> str:
    """The contractor as a primary document names it: its full legal name, ИНН, КПП and
    ОГРН (ОГРНИП for a sole trader's 15 digits)."""
    parts = [doc.company_legal_name or doc.company_name]
    if doc.company_inn:
        parts.append(_t("inn", lang, inn=doc.company_inn))
    if doc.company_kpp:
        parts.append(_t("kpp", lang, kpp=doc.company_kpp))
    if doc.company_ogrn:
        key = "ogrnip" if len(doc.company_ogrn) == 15 else "ogrn"
        parts.append(_t(key, lang, ogrn=doc.company_ogrn))
    return ", ".join(parts)


def basis_line(doc: ActDocument, lang: str) -> str:
    """ "договор № 15/2026 от 01.02.2026"; without a contract the order itself is the
    basis: "заявка № 26-0046 от 25.11.2026"."""
    if doc.contract_number or doc.contract_date:
        parts = [_t("contract", lang)]
        number_, day = doc.contract_number, doc.contract_date
    else:
        parts = [_t("by_order", lang)]
        number_, day = doc.order_number, doc.order_date
    if number_:
        parts.append(_t("doc_number", lang, number=number_))
    if day:
        parts.append(_t("doc_date", lang, date=_day(day, lang)))
    return " ".join(parts)


def _act_story(
    doc: ActDocument,
    *,
    lang: str,
    tz: tzinfo,
    outline: bool,
    on_end: Callable[[], None] | None = None,
) -> list[Flowable]:
    """Every flowable of one act, its start marker first and its end marker last."""
    image = _signature(doc)  # a broken image fails the act before anything is laid out
    act_day = _day(doc.act_date, lang)
    title = _t("title", lang, number=doc.act_number, date=act_day)
    story: list[Flowable] = [
        _ActMark(
            footer=_t("footer_act", lang, number=doc.act_number, date=act_day),
            outline=title if outline else None,
        ),
        _Text.plain(doc.company_name, COMPANY),
    ]
    if doc.company_phone:
        story.append(_Text.plain(_t("phone", lang, phone=doc.company_phone), PHONE))
    story.append(_Text.plain(title, TITLE))

    customer = doc.customer_name
    if doc.customer_inn:
        customer = f"{customer}, {_t('inn', lang, inn=doc.customer_inn)}"
    by_contract = bool(doc.contract_number or doc.contract_date)
    story.append(
        _facts(
            [
                (_t("contractor", lang), contractor_line(doc, lang)),
                (_t("contractor_address", lang), doc.company_legal_address or ""),
                (_t("bank", lang), _held(doc.company_bank_details or "")),
                (_t("customer", lang), customer),
                (_t("customer_address", lang), doc.customer_address or ""),
                (_t("basis", lang), basis_line(doc, lang)),
            ],
            lang,
            PARTIES,
        )
    )
    story.append(
        _facts(
            [
                (
                    _t("order", lang),
                    _t("order_value", lang, number=doc.order_number) if by_contract else "",
                ),
                (_t("object", lang), doc.object_name or ""),
                (_t("object_address", lang), doc.object_address or ""),
                (_t("description", lang), doc.description),
            ],
            lang,
        )
    )

    key = "executors" if len(doc.executors) > 1 else "executor"
    signed = (
        _t("signed", lang, when=local_time(doc.signed_at, tz, lang=lang))
        if doc.signed_at is not None
        else None
    )
    vat = vat_line(doc, lang)
    words = amount_in_words(doc.total, lang=lang, currency=doc.currency)
    tail: list[Flowable] = [
        _Text.plain(_t("total", lang, amount=_money(doc.total, lang, doc.currency)), TOTAL),
        _Text.plain(vat, VAT),
        _facts([(_t("in_words", lang), words)], lang, WORDS),
        _facts(
            [
                (_t(key, lang), ", ".join(doc.executors)),
                (_t("comment", lang), doc.comment or ""),
            ],
            lang,
            TAIL_FACTS,
        ),
        _Text.plain(_t("statement", lang), STATEMENT),
        _Signatures(
            lang=lang,
            executor=_Side(
                heading=_t("side_executor", lang),
                party=doc.company_name,
                position=doc.executor_signer_position,
                name=doc.executor_signer,
            ),
            customer=_Side(
                heading=_t("side_customer", lang),
                party=doc.customer_name,
                position=doc.signer_position,
                name=doc.signer_name,
                image=image,
                signed=signed,
            ),
        ),
    ]
    # the closing part stays on one page, with at least the last row of the last table
    last = len(doc.blocks)
    for n, block in enumerate(doc.blocks, start=1):
        story.append(_block(n, block, doc, lang=lang, tz=tz, tail=tail if n == last else None))
    if not doc.blocks:
        story.append(KeepTogether(tail))
    story.append(_ActMark(end=True, on_end=on_end))
    return story


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


@files.writes_output
def render_act(doc: ActDocument, *, out: Output, lang: str = "ru", tz: tzinfo) -> None:
    """Write one act to ``out`` (a path or a binary file object) as an A4 PDF.

    ``tz`` is the company's zone: block times and the time of signing are shown in it.
    Raises :class:`~fsm_core.errors.InvalidInput` for an unknown ``lang`` or a signature
    image that cannot be read.
    """
    _check_lang(lang)
    register_fonts()
    template = _ActsTemplate(
        out,
        lang=lang,
        title=_t("title", lang, number=doc.act_number, date=_day(doc.act_date, lang)),
        author=doc.company_name,
    )
    template.build_acts([_act_story(doc, lang=lang, tz=tz, outline=False)])


@files.writes_output
def render_acts(
    docs: Iterable[ActDocument],
    *,
    out: Output,
    lang: str = "ru",
    tz: tzinfo,
    progress: Progress | None = None,
) -> int:
    """Write many acts into one PDF, each from a new page, pages numbered within each act.

    ``docs`` may be a generator: acts are laid out as they arrive, so a large batch never
    sits in memory as one story. ``progress(done, total)`` is called after each act;
    ``total`` is 0 when ``docs`` has no length. The PDF's outline lists the acts, so a
    reader can jump to one. Returns the number of acts written.

    Raises :class:`~fsm_core.errors.InvalidInput` when there is no act, for an unknown
    ``lang``, or for an act whose signature cannot be read (naming the act); the PDF is
    written only at the end, so a failed batch leaves no half-written file at a path.
    """
    _check_lang(lang)
    total = len(docs) if isinstance(docs, Sequence) else 0
    acts = iter(docs)
    first = next(acts, None)
    if first is None:
        raise InvalidInput("there are no acts to write", hint="choose at least one act")
    register_fonts()
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def stories() -> Iterable[list[Flowable]]:
        for index, doc in enumerate(chain([first], acts)):
            story = _act_story(doc, lang=lang, tz=tz, outline=True, on_end=tick)
            yield [PageBreak(), *story] if index else story

    template = _ActsTemplate(out, lang=lang, title=_t("acts_title", lang))
    template.build_acts(stories())
    return done
