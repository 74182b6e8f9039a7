"""Employees' business cards with a "save contact" QR code (vCard 3.0).

A customer points the phone camera at the card and gets "Сохранить контакт": the
technician's name, position, company, phones and e-mail land in the address book without
typing. The vCard is built here rather than by segno's helper so that the Russian name
order, the escaping and the phone types are ours to get right and to test.

Charset. vCard 3.0 (RFC 2425/2426) has no CHARSET parameter: the character set belongs to
the transport, and the bytes of a QR code carry none, so readers take UTF-8, which is what
the code holds (``qr.make_qr`` pins UTF-8; segno's own default would pick Shift_JIS for
Cyrillic). iOS's camera and Android's (Google Lens, the ZXing family) read UTF-8 vCard 3.0
that way; ``CHARSET=UTF-8`` is a vCard 2.1 parameter that strict 3.0 parsers may reject. This
was checked with zxing-cpp in the tests, not on a shelf of phones.

Folding. Long lines are not folded at 75 octets (RFC 2425 says "should"): every reader
accepts unfolded lines, folding costs bytes in the code, and a fold in the middle of a
two-byte Cyrillic letter is a classic way to break naive readers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from fsm_core import files
from fsm_core.documents.fonts import register_fonts
from fsm_core.documents.labels import MM, Output, fit_lines
from fsm_core.documents.qr import draw_qr, make_qr
from fsm_core.documents.text import width_of as string_width

CARD_ERROR: Final = "m"
"""Cards live in wallets, not on dusty machines, and a vCard is long (often 200-300 bytes of
UTF-8): level M keeps the symbol a few versions smaller than Q, so its modules are larger
and the code reads faster from a small card."""


@dataclass(frozen=True)
class Contact:
    """An employee as the card shows them.

    ``full_name`` is in Russian order, family name first: "Иванов Кирилл Петрович".
    """

    full_name: str
    position: str | None = None
    company: str | None = None
    phones: tuple[str, ...] = ()
    email: str | None = None
    address: str | None = None
    url: str | None = None


def split_name(full_name: str) -> tuple[str, str, str]:
    """(family, given, additional) from a name in Russian order.

    "Иванов Кирилл Петрович" -> ("Иванов", "Кирилл", "Петрович"); everything after the
    given name is the additional name ("Мамедов Рашид Ильхам оглы" -> "Ильхам оглы"); a
    single word is taken as the family name.
    """
    parts = full_name.split()
    family = parts[0] if parts else ""
    given = parts[1] if len(parts) > 1 else ""
    return family, given, " ".join(parts[2:])


def escape(value: str) -> str:
    """Escape a vCard 3.0 text value (RFC 2426 section 4): backslash, comma, semicolon and
    line breaks, so that a company "Рога, копыта; и партнёры" stays one value."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return re.sub(r"\r\n|\r|\n", "\\\\n", value)


def is_mobile(phone: str) -> bool:
    """Whether a Russian number is a mobile one: mobile codes are 9xx (+7 9xx, 8 9xx)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] in "78":
        return digits[1] == "9"
    return False


def vcard_text(contact: Contact) -> str:
    """The contact as a vCard 3.0, CRLF line endings (RFC 2425), for a QR code or a file.

    N carries the structured name (family;given;additional) so that the phone files the
    contact under the family name; FN is the name as written, in Russian order. Mobile
    numbers are TYPE=CELL, the others TYPE=WORK.
    """
    family, given, additional = split_name(contact.full_name)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{escape(family)};{escape(given)};{escape(additional)};;",
        f"FN:{escape(' '.join(contact.full_name.split()))}",
    ]
    if contact.company:
        lines.append(f"ORG:{escape(contact.company.strip())}")
    if contact.position:
        lines.append(f"TITLE:{escape(contact.position.strip())}")
    for phone in contact.phones:
        phone = " ".join(phone.split())
        if phone:
            kind = "CELL" if is_mobile(phone) else "WORK"
            lines.append(f"TEL;TYPE={kind}:{escape(phone)}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET:{escape(contact.email.strip())}")
    if contact.address:
        # One line of address in the street field: splitting "Санкт-Петербург, Невский
        # пр., 114" into locality and street would be guessing.
        lines.append(f"ADR;TYPE=WORK:;;{escape(contact.address.strip())};;;;")
    if contact.url:
        lines.append(f"URL:{escape(contact.url.strip())}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def save_card_png(contact: Contact, path: str | os.PathLike[str], *, scale: int = 10) -> None:
    """Write the contact's QR code alone as a PNG (``scale`` pixels a module, 4-module
    quiet zone), for a messenger, an e-mail signature or a web page."""
    qr = make_qr(vcard_text(contact), error=CARD_ERROR)
    with files.replacing(path) as out:
        qr.save(out, kind="png", scale=scale, border=4)


CARD_WIDTH, CARD_HEIGHT = 90 * MM, 50 * MM
COLUMNS, ROWS = 2, 5
PAGE_WIDTH, PAGE_HEIGHT = 210 * MM, 297 * MM
SHEET_LEFT = (PAGE_WIDTH - COLUMNS * CARD_WIDTH) / 2
SHEET_TOP = (PAGE_HEIGHT - ROWS * CARD_HEIGHT) / 2
CUT_MARK = 5 * MM
PADDING = 4 * MM
QR_INSET = 1.5 * MM
QR_SIDE = 40 * MM
"""The code's square, quiet zone included. A full vCard in Cyrillic is version 13-17 at
level M, so modules of 0.43-0.5 mm: a phone reads them from 10-15 cm, and the text
column keeps 44 mm for names like "Константинопольская-Щедрина"."""
GREY = 0.4

_TEXTS = {
    "ru": {"save": "Сохранить контакт: наведите камеру на код", "title": "Визитки"},
    "en": {"save": "Save the contact: point the camera at the code", "title": "Business cards"},
}


def _card_origin(index: int) -> tuple[float, float]:
    """Lower-left corner of the ``index``-th card on a page, computed from the grid."""
    row, column = divmod(index, COLUMNS)
    x = SHEET_LEFT + column * CARD_WIDTH
    y = PAGE_HEIGHT - SHEET_TOP - (row + 1) * CARD_HEIGHT
    return x, y


def _cut_marks(canvas: Any) -> None:
    """Hairlines in the margins on every cut line, so the sheet can be cut with a
    guillotine; nothing is drawn over the cards themselves."""
    canvas.saveState()
    canvas.setStrokeGray(0.5)
    canvas.setLineWidth(0.25)
    top = PAGE_HEIGHT - SHEET_TOP
    bottom = top - ROWS * CARD_HEIGHT
    right = SHEET_LEFT + COLUMNS * CARD_WIDTH
    for column in range(COLUMNS + 1):
        x = SHEET_LEFT + column * CARD_WIDTH
        canvas.line(x, top + 1 * MM, x, top + CUT_MARK)
        canvas.line(x, bottom - 1 * MM, x, bottom - CUT_MARK)
    for row in range(ROWS + 1):
        y = top - row * CARD_HEIGHT
        canvas.line(SHEET_LEFT - 1 * MM, y, SHEET_LEFT - CUT_MARK, y)
        canvas.line(right + 1 * MM, y, right + CUT_MARK, y)
    canvas.restoreState()


_Item = tuple[list[str], str, float, float, float]
"""Lines, font, size, grey level, extra space above."""


def _card_items(contact: Contact, *, width: float, room: float) -> list[_Item]:
    """The card's text that fits ``width`` × ``room`` points: name (bold), position,
    company, each up to two lines, then phones and the e-mail (two lines if long). When it
    is too tall, the e-mail, the position, the company and then the name lose their second
    lines, then phones beyond the first two go: a card with a missing third phone is still
    a card, one that overflows is not (and the QR code carries everything anyway)."""
    regular, bold = register_fonts()
    phones = [" ".join(phone.split()) for phone in contact.phones if phone.strip()]
    plans = (
        (2, 2, 2, 3, 2),
        (2, 2, 2, 3, 1),
        (2, 1, 2, 3, 1),
        (2, 1, 1, 3, 1),
        (1, 1, 1, 3, 1),
        (1, 1, 1, 2, 1),
        (1, 1, 1, 1, 1),
    )
    items: list[_Item] = []
    # A family name too long for the column ("Константинопольская-Щедрина") is set a little
    # smaller rather than broken in the middle of a word.
    name_size = 10.5
    widest = max(
        (string_width(word, bold, name_size) for word in contact.full_name.split()), default=0
    )
    if widest > width:
        name_size = max(8.0, name_size * width / widest)
    for name_lines, position_lines, company_lines, max_phones, email_lines in plans:
        # (text, font, size, lines, grey, space above); a little air between who the
        # person is and how to reach them.
        wanted = [
            (contact.full_name, bold, name_size, name_lines, 0, 0),
            (contact.position, regular, 7.5, position_lines, GREY, 1),
            (contact.company, bold, 7.5, company_lines, 0, 1),
            *(
                (phone, regular, 8.5, 1, 0, 4 if n == 0 else 1)
                for n, phone in enumerate(phones[:max_phones])
            ),
            (contact.email, regular, 8, email_lines, 0, 1 if phones else 4),
        ]
        items = [
            (
                fit_lines(text, font=font, size=size, width=width, max_lines=lines),
                font,
                size,
                grey,
                space,
            )
            for text, font, size, lines, grey, space in wanted
            if text and text.strip()
        ]
        if _items_height(items) <= room:
            break
    return items


def _items_height(items: Sequence[_Item]) -> float:
    height = 0.0
    for number, (lines, _font, size, _grey, space) in enumerate(items):
        height += size if number == 0 else size * 1.25 + space
        height += (len(lines) - 1) * size * 1.2
    return height + 3  # the last line's descent


def _draw_card(canvas: Any, contact: Contact, *, x: float, y: float, lang: str) -> None:
    from reportlab.pdfbase.pdfmetrics import getAscentDescent

    regular, _ = register_fonts()
    side = QR_SIDE
    qr_x = x + CARD_WIDTH - QR_INSET - side
    qr_y = y + (CARD_HEIGHT - side) / 2
    draw_qr(canvas, vcard_text(contact), x=qr_x, y=qr_y, size=side, error=CARD_ERROR)

    left = x + PADDING
    width = qr_x - 2 * MM - left  # plus the quiet zone: air between text and code
    save = fit_lines(_TEXTS[lang]["save"], font=regular, size=6.5, width=width, max_lines=2)
    room = CARD_HEIGHT - 2 * PADDING - len(save) * 6.5 * 1.2 - 4
    items = _card_items(contact, width=width, room=room)

    baseline = y + CARD_HEIGHT - PADDING
    for number, (lines, font, size, grey, space) in enumerate(items):
        ascent, _ = getAscentDescent(font, size)
        baseline -= ascent if number == 0 else size * 1.25 + space
        canvas.setFont(font, size)
        canvas.setFillGray(grey)
        for index, line in enumerate(lines):
            if index:
                baseline -= size * 1.2
            canvas.drawString(left, baseline, line)
    canvas.setFillGray(GREY)
    bottom = y + PADDING - getAscentDescent(regular, 6.5)[1]
    canvas.setFont(regular, 6.5)
    for index, line in enumerate(reversed(save)):
        canvas.drawString(left, bottom + index * 6.5 * 1.2, line)
    canvas.setFillGray(0)


@files.writes_output
def render_cards(contacts: Sequence[Contact], *, out: Output, lang: str = "ru") -> int:
    """Write business cards, 90 × 50 mm, ten to an A4 page (2 × 5) with cut marks, to
    ``out`` (a path or a binary file). Returns the number of pages."""
    from reportlab.pdfgen.canvas import Canvas

    from fsm_core.errors import InvalidInput

    if not contacts:
        raise InvalidInput("no business cards to print")
    lang = lang if lang in _TEXTS else "ru"
    register_fonts()
    canvas = Canvas(
        files.stream_of(out),
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        pageCompression=1,
    )
    canvas.setTitle(_TEXTS[lang]["title"])
    canvas.setCreator("fsm")
    per_page = COLUMNS * ROWS
    pages = 0
    for index, contact in enumerate(contacts):
        position = index % per_page
        if position == 0:
            if index:
                canvas.showPage()
            pages += 1
            _cut_marks(canvas)
        x, y = _card_origin(position)
        _draw_card(canvas, contact, x=x, y=y, lang=lang)
    canvas.showPage()
    canvas.save()
    return pages
