"""The object's electronic passport (электронный паспорт объекта): one A4 page.

The page hangs next to the equipment or lies in the customer's folder: what the object is,
where exactly it stands, its numbers, who services it and how to call them, the last visits,
and a large QR code that opens the request form, so that whoever finds the air conditioner
dripping can ask for service with a phone camera instead of looking for a phone number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from fsm_core import files
from fsm_core.documents.fonts import register_fonts
from fsm_core.documents.labels import MM, Output, fit_lines
from fsm_core.documents.qr import DEFAULT_ERROR, draw_qr
from fsm_core.documents.text import shorten
from fsm_core.documents.text import width_of as string_width


@dataclass(frozen=True)
class PassportEntry:
    """One service visit in the object's history (an order that touched it)."""

    date: datetime
    """When (timezone-aware, as stored; a naive one is taken as UTC, like every stored time)."""
    order_number: str
    description: str
    stage: str
    """The stage's name as the reader should see it (stages are configurable)."""


@dataclass
class PassportData:
    """Everything the passport page shows, as plain values."""

    url: str
    name: str
    kind: str | None = None
    customer: str | None = None
    address: str | None = None
    location_hint: str | None = None
    building: str | None = None
    floor: str | None = None
    serial_number: str | None = None
    inventory_number: str | None = None
    coordinates: tuple[float, float] | None = None
    """(latitude, longitude) in degrees."""
    company_name: str | None = None
    company_phone: str | None = None
    history: tuple[PassportEntry, ...] = field(default_factory=tuple)


_TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "title": "ЭЛЕКТРОННЫЙ ПАСПОРТ ОБЪЕКТА",
        "kind": "Тип",
        "customer": "Заказчик",
        "address": "Адрес",
        "location_hint": "Как найти",
        "building": "Здание",
        "floor": "Этаж",
        "serial_number": "Зав. №",
        "inventory_number": "Инв. №",
        "coordinates": "Координаты",
        "scan": "Отсканируйте, чтобы оставить заявку",
        "history": "История обслуживания",
        "date": "Дата",
        "order": "Заявка",
        "stage": "Стадия",
        "description": "Работы",
        "no_history": "Заявок по объекту ещё не было.",
        "shown_of": "Показаны последние {shown} из {total}.",
        "date_format": "%d.%m.%Y",
    },
    "en": {
        "title": "ELECTRONIC PASSPORT OF THE OBJECT",
        "kind": "Kind",
        "customer": "Customer",
        "address": "Address",
        "location_hint": "Where exactly",
        "building": "Building",
        "floor": "Floor",
        "serial_number": "Serial no.",
        "inventory_number": "Inventory no.",
        "coordinates": "Coordinates",
        "scan": "Scan to request service",
        "history": "Service history",
        "date": "Date",
        "order": "Order",
        "stage": "Stage",
        "description": "Work",
        "no_history": "No service orders for this object yet.",
        "shown_of": "The last {shown} of {total} shown.",
        "date_format": "%Y-%m-%d",
    },
}

PAGE_WIDTH, PAGE_HEIGHT = 210 * MM, 297 * MM
MARGIN = 18 * MM
QR_SIDE = 68 * MM
"""The code's square, quiet zone included: about 1.6 mm modules for a passport link, which a
phone reads from a metre away, through the plastic sleeve the page often hangs in."""
GREY = 0.4
RULE_GREY = 0.8


def _aware(value: datetime) -> datetime:
    """Stored times are UTC; a naive one can only mean UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _local_date(value: datetime, tz: tzinfo, fmt: str) -> str:
    return _aware(value).astimezone(tz).strftime(fmt)


def _fields(data: PassportData, texts: dict[str, str]) -> list[tuple[str, str, int]]:
    """The data table's rows: (label, value, at most this many lines); empty ones left out."""
    coordinates = None
    if data.coordinates is not None:
        latitude, longitude = data.coordinates
        coordinates = f"{latitude:.6f}, {longitude:.6f}"
    rows = [
        ("kind", data.kind, 2),
        ("customer", data.customer, 2),
        ("address", data.address, 3),
        ("location_hint", data.location_hint, 4),
        ("building", data.building, 2),
        ("floor", data.floor, 1),
        ("serial_number", data.serial_number, 2),
        ("inventory_number", data.inventory_number, 2),
        ("coordinates", coordinates, 1),
    ]
    return [
        (texts[key], value.strip(), lines) for key, value, lines in rows if value and value.strip()
    ]


def _draw_lines(
    canvas: Any,
    lines: Sequence[str],
    *,
    x: float,
    top: float,
    font: str,
    size: float,
    leading: float,
    align: str = "left",
) -> float:
    """Draw ``lines`` from ``top`` (the first line's ascent touches it) downwards; returns
    the y just below the last line's descent."""
    from reportlab.pdfbase.pdfmetrics import getAscentDescent

    ascent, descent = getAscentDescent(font, size)
    canvas.setFont(font, size)
    baseline = top - ascent
    for line in lines:
        if align == "center":
            canvas.drawCentredString(x, baseline, line)
        elif align == "right":
            canvas.drawRightString(x, baseline, line)
        else:
            canvas.drawString(x, baseline, line)
        baseline -= leading
    return baseline + leading + descent if lines else top


@files.writes_output
def render_passport(data: PassportData, *, out: Output, lang: str = "ru", tz: tzinfo) -> int:
    """Write the passport of one object as a one-page A4 PDF to ``out``.

    History entries are shown newest first, as many as fit on the page (their descriptions
    at most two lines each); a note says how many of how many are shown. Dates are shown in
    ``tz``, the company's zone. Returns the number of history entries shown.
    """
    from reportlab.pdfgen.canvas import Canvas

    regular, bold = register_fonts()
    texts = _TEXTS.get(lang, _TEXTS["ru"])
    canvas = Canvas(
        files.stream_of(out),
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        pageCompression=1,
    )
    canvas.setTitle(f"{texts['title'].capitalize()}: {data.name}")
    canvas.setCreator("fsm")
    left, right = MARGIN, PAGE_WIDTH - MARGIN
    width = right - left
    y = PAGE_HEIGHT - MARGIN

    # The service company: who to call, on every page the customer keeps.
    if data.company_name or data.company_phone:
        phone = " ".join((data.company_phone or "").split())
        phone_width = string_width(phone, bold, 11)
        if phone:
            _draw_lines(
                canvas, [phone], x=right, top=y, font=bold, size=11, leading=13, align="right"
            )
        if data.company_name:
            name = shorten(
                data.company_name, font=bold, size=11, width=width - phone_width - 6 * MM
            )
            _draw_lines(canvas, [name], x=left, top=y, font=bold, size=11, leading=13)
        y -= 18
        canvas.setStrokeGray(RULE_GREY)
        canvas.setLineWidth(0.6)
        canvas.line(left, y, right, y)
        y -= 16

    canvas.setFillGray(GREY)
    y = _draw_lines(canvas, [texts["title"]], x=left, top=y, font=regular, size=9, leading=11)
    canvas.setFillGray(0)
    y -= 8
    title = fit_lines(data.name, font=bold, size=18, width=width, max_lines=3)
    y = _draw_lines(canvas, title, x=left, top=y, font=bold, size=18, leading=22)
    y -= 8 * MM

    # The data table on the left, the code with its caption on the right.
    middle_top = y
    qr_x = right - QR_SIDE
    draw_qr(canvas, data.url, x=qr_x, y=middle_top - QR_SIDE, size=QR_SIDE, error=DEFAULT_ERROR)
    centre = qr_x + QR_SIDE / 2
    caption = fit_lines(texts["scan"], font=bold, size=12, width=QR_SIDE, max_lines=2)
    qr_bottom = _draw_lines(
        canvas,
        caption,
        x=centre,
        top=middle_top - QR_SIDE,
        font=bold,
        size=12,
        leading=14.5,
        align="center",
    )
    link = fit_lines(data.url, font=regular, size=7.5, width=QR_SIDE, max_lines=2)
    canvas.setFillGray(GREY)
    qr_bottom = _draw_lines(
        canvas,
        link,
        x=centre,
        top=qr_bottom - 3,
        font=regular,
        size=7.5,
        leading=9,
        align="center",
    )
    canvas.setFillGray(0)

    label_width = 30 * MM
    table_right = qr_x - 8 * MM
    value_x = left + label_width
    value_width = table_right - value_x
    y = middle_top
    canvas.setLineWidth(0.4)
    for number, (label, value, max_lines) in enumerate(_fields(data, texts)):
        if number:
            y -= 5
            canvas.setStrokeGray(RULE_GREY)
            canvas.line(left, y, table_right, y)
            y -= 5
        lines = fit_lines(value, font=regular, size=10, width=value_width, max_lines=max_lines)
        canvas.setFillGray(GREY)
        label_lines = fit_lines(
            label, font=regular, size=9, width=label_width - 3 * MM, max_lines=1
        )
        _draw_lines(canvas, label_lines, x=left, top=y - 1, font=regular, size=9, leading=11)
        canvas.setFillGray(0)
        y = _draw_lines(canvas, lines, x=value_x, top=y, font=regular, size=10, leading=12.5)
    y = min(y, qr_bottom) - 10 * MM

    return _draw_history(canvas, data.history, y=y, tz=tz, texts=texts)


def _draw_history(
    canvas: Any,
    history: Sequence[PassportEntry],
    *,
    y: float,
    tz: tzinfo,
    texts: dict[str, str],
) -> int:
    """The service history table from ``y`` down to the bottom margin, newest first, then
    the page is saved. Returns the number of entries shown."""
    regular, bold = register_fonts()
    left, right = MARGIN, PAGE_WIDTH - MARGIN
    y = _draw_lines(canvas, [texts["history"]], x=left, top=y, font=bold, size=12, leading=14)
    y -= 6
    entries = sorted(history, key=lambda entry: _aware(entry.date), reverse=True)
    if not entries:
        _draw_lines(canvas, [texts["no_history"]], x=left, top=y, font=regular, size=10, leading=12)
        canvas.showPage()
        canvas.save()
        return 0

    # Columns: date, order number, stage as wide as their widest entry (within limits, so
    # that the description keeps most of the width), description the rest.
    size, leading, gap = 9, 11, 4 * MM
    headers = (texts["date"], texts["order"], texts["stage"], texts["description"])
    dates = [_local_date(entry.date, tz, texts["date_format"]) for entry in entries]

    def column_width(values: Sequence[str], font: str, header: str, limit: float) -> float:
        widest = max(string_width(value, font, size) for value in values)
        return min(max(widest, string_width(header, regular, 8.5)), limit)

    widths = [
        column_width(dates, regular, headers[0], 30 * MM),
        column_width([e.order_number for e in entries], bold, headers[1], 40 * MM),
        column_width([e.stage for e in entries], regular, headers[2], 32 * MM),
    ]
    columns = [left]
    for column_w in widths:
        columns.append(columns[-1] + column_w + gap)
    widths.append(right - columns[-1])
    canvas.setFillGray(GREY)
    for x, header in zip(columns, headers, strict=True):
        _draw_lines(canvas, [header], x=x, top=y, font=regular, size=8.5, leading=10)
    canvas.setFillGray(0)
    y -= 14
    canvas.setStrokeGray(RULE_GREY)
    canvas.setLineWidth(0.6)
    canvas.line(left, y, right, y)

    note_room = 22  # the "shown N of M" line under the table
    floor = MARGIN + note_room
    shown = 0
    for entry, date in zip(entries, dates, strict=True):
        cells = (
            [date],
            fit_lines(entry.order_number, font=bold, size=size, width=widths[1], max_lines=2),
            fit_lines(entry.stage, font=regular, size=size, width=widths[2], max_lines=2),
            fit_lines(entry.description, font=regular, size=size, width=widths[3], max_lines=2),
        )
        height = 5 + max(len(cell) or 1 for cell in cells) * leading + 3
        last = shown == len(entries) - 1
        if y - height < (MARGIN if last else floor):
            break
        top = y - 5
        for column, (x, cell) in enumerate(zip(columns, cells, strict=True)):
            font = bold if column == 1 else regular
            _draw_lines(canvas, cell, x=x, top=top, font=font, size=size, leading=leading)
        y -= height
        canvas.setStrokeGray(RULE_GREY)
        canvas.setLineWidth(0.3)
        canvas.line(left, y, right, y)
        shown += 1
    if shown < len(entries):
        canvas.setFillGray(GREY)
        note = texts["shown_of"].format(shown=shown, total=len(entries))
        _draw_lines(canvas, [note], x=left, top=y - 6, font=regular, size=8.5, leading=10)
        canvas.setFillGray(0)
    canvas.showPage()
    canvas.save()
    return shown
