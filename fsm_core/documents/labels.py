"""QR marking labels (маркировка) for service objects, on label sheets or a thermal printer.

A label sticks to the object; a phone camera on its QR code opens the object's passport
link, where the customer submits a request. Next to the code the label names the object, its
owner, its address and inventory number, and the service company's phone, for whoever has no
phone at hand or no signal in a basement.

Geometry is in millimetres, as label paper is sold ("A4, 24 labels 70 × 37 mm"), and every
label's position is computed from the layout (margin + index × pitch), never accumulated, so
the last row sits exactly where the die cut is. Text that does not fit is shortened with "…"
measured in the real font and size, never spills over into the neighbour label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fsm_core import files
from fsm_core.documents.fonts import register_fonts
from fsm_core.documents.qr import DEFAULT_ERROR, LABEL_MASK, draw_qr
from fsm_core.documents.text import width_of as string_width
from fsm_core.documents.text import wrap
from fsm_core.errors import InvalidInput

MM = 72 / 25.4
"""Points per millimetre."""


Output = files.Output
"""Where a document goes: a file path, or a binary file object (an open file, BytesIO)."""


@dataclass(frozen=True)
class LabelData:
    """One object's label: plain values, so that this module knows nothing of the database."""

    url: str
    title: str
    customer: str | None
    address: str | None
    inventory_number: str | None
    company_phone: str | None


@dataclass(frozen=True)
class LabelLayout:
    """A label stock: the page, the grid of labels on it, and the type sizes that suit it.

    All lengths in millimetres. ``pitch_x``/``pitch_y`` are the distances between the left
    (top) edges of neighbouring labels, so gaps between die-cut labels are pitch minus size.
    ``padding`` keeps text away from the label's edges: label sheets have no side margins
    and most office printers cannot print the outer 4 mm of a page. ``qr_inset`` is the
    distance from the label's edges to the QR code's square (quiet zone included);
    ``qr_size`` None makes the code as tall as the label allows.
    """

    key: str
    description: str
    page_width: float
    page_height: float
    margin_left: float
    margin_top: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    pitch_x: float
    pitch_y: float
    padding: float
    qr_inset: float
    name_size: float
    text_size: float
    qr_size: float | None = None

    def __post_init__(self) -> None:
        right = self.margin_left + (self.columns - 1) * self.pitch_x + self.label_width
        bottom = self.margin_top + (self.rows - 1) * self.pitch_y + self.label_height
        if right > self.page_width + 1e-9 or bottom > self.page_height + 1e-9:
            raise ValueError(f"layout {self.key}: the label grid does not fit the page")
        if self.pitch_x < self.label_width or self.pitch_y < self.label_height:
            raise ValueError(f"layout {self.key}: labels overlap")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def qr_side(self) -> float:
        """Side of the QR code's square, quiet zone included, in millimetres."""
        if self.qr_size is not None:
            return self.qr_size
        return self.label_height - 2 * self.qr_inset

    def cell(self, index: int) -> tuple[float, float, float, float]:
        """The ``index``-th label on a page (row by row from the top left) as
        ``(x, y, width, height)`` in points, y from the page's bottom as PDF counts it.

        Computed afresh from the layout for every label, so that rounding never adds up
        along a row or a column.
        """
        row, column = divmod(index, self.columns)
        x = (self.margin_left + column * self.pitch_x) * MM
        top = (self.margin_top + row * self.pitch_y) * MM
        y = self.page_height * MM - top - self.label_height * MM
        return x, y, self.label_width * MM, self.label_height * MM


LAYOUTS: dict[str, LabelLayout] = {
    layout.key: layout
    for layout in (
        # The commonest Russian label paper (Lomond, ProMEGA, "24 наклейки 70×37"): no side
        # margins, 0.5 mm top and bottom. Office printers leave up to 4.2 mm of each page
        # edge blank (HP LaserJet), so on the outer labels nothing dark may come nearer:
        # text keeps 4.5 mm from every label edge, and the code, inset 1 mm, starts its
        # dark modules 1 + 4 modules (0.85 mm each) = 4.4 mm from it.
        LabelLayout(
            key="a4-3x8",
            description="A4, 3 × 8, 70 × 37 mm",
            page_width=210,
            page_height=297,
            margin_left=0,
            margin_top=0.5,
            columns=3,
            rows=8,
            label_width=70,
            label_height=37,
            pitch_x=70,
            pitch_y=37,
            padding=4.5,
            qr_inset=1,
            name_size=7.5,
            text_size=6.5,
        ),
        # "14 наклеек 105×42,3": two columns, no side margins, 0.45 mm top and bottom;
        # the same printer margins as above.
        LabelLayout(
            key="a4-2x7",
            description="A4, 2 × 7, 105 × 42.3 mm",
            page_width=210,
            page_height=297,
            margin_left=0,
            margin_top=0.45,
            columns=2,
            rows=7,
            label_width=105,
            label_height=42.3,
            pitch_x=105,
            pitch_y=42.3,
            padding=4.5,
            qr_inset=1,
            name_size=10,
            text_size=8,
        ),
        # One label per page, as thermal label printers (Xprinter, Godex, TSC) take them;
        # they print to within a millimetre of the edge.
        LabelLayout(
            key="thermal-58x40",
            description="58 × 40 mm, one label per page (thermal printer)",
            page_width=58,
            page_height=40,
            margin_left=0,
            margin_top=0,
            columns=1,
            rows=1,
            label_width=58,
            label_height=40,
            pitch_x=58,
            pitch_y=40,
            padding=2,
            qr_inset=1,
            # A 38 mm code would leave 17 mm for text, too little for a name; at 30 mm the
            # modules are still 0.7 mm (six dots of a 203 dpi print head).
            name_size=7,
            text_size=6,
            qr_size=30,
        ),
    )
}

_TEXTS = {
    "ru": {"inventory": "Инв. № {}", "phone": "Тел. {}"},
    "en": {"inventory": "Inv. no. {}", "phone": "Tel. {}"},
}


def fit_lines(text: str, *, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` in at most ``max_lines`` lines of at most ``width`` points, the words
    Russian typesetting keeps together held together, the rest shortened with "…" (the
    documents' one wrapping, :func:`fsm_core.documents.text.wrap`)."""
    return list(wrap(text, font=font, size=size, width=width, max_lines=max_lines, glue=True))


@dataclass(frozen=True)
class _Line:
    text: str
    font: str
    size: float


def _label_lines(
    label: LabelData, *, layout: LabelLayout, width: float, height: float, lang: str
) -> tuple[list[_Line], list[_Line]]:
    """The label's text as lines that fit: (top block, bottom block).

    The text column beside the code is narrow but tall, so long names and addresses get up
    to three lines each (the customer two, the inventory number one) while there is height
    for them; the phone sits at the bottom. When the column is too short, the customer's
    second line goes first, then the address's and the name's third lines and so on (see
    ``plans``); the phone always stays: with the code it is what the label is for.
    """
    regular, bold = register_fonts()
    texts = _TEXTS.get(lang, _TEXTS["ru"])
    name_size, text_size = layout.name_size, layout.text_size

    def fit(value: str | None, font: str, size: float, max_lines: int) -> list[_Line]:
        if not value or max_lines <= 0:
            return []
        found = fit_lines(value, font=font, size=size, width=width, max_lines=max_lines)
        return [_Line(line, font, size) for line in found]

    bottom: list[_Line] = []
    if label.company_phone:
        # A phone number cut short is useless: drop the "Tel." before cutting digits.
        phone = " ".join(label.company_phone.split())
        labelled = texts["phone"].format(phone)
        text = labelled if string_width(labelled, bold, text_size) <= width else phone
        bottom = fit(text, bold, text_size, 1)
    inventory = (
        texts["inventory"].format(label.inventory_number) if label.inventory_number else None
    )
    plans = (  # lines for (name, customer, address), most generous first
        (3, 2, 3),
        (3, 1, 3),
        (3, 1, 2),
        (2, 1, 2),
        (2, 1, 1),
        (1, 1, 1),
        (1, 0, 1),
        (1, 0, 0),
    )
    gap = text_size / 2 if bottom else 0.0  # between the top block and the phone
    top: list[_Line] = []
    for name_lines, customer_lines, address_lines in plans:
        top = [
            *fit(label.title, bold, name_size, name_lines),
            *fit(label.customer, regular, text_size, customer_lines),
            *fit(label.address, regular, text_size, address_lines),
            *fit(inventory, regular, text_size, 1),
        ]
        if _block_height(top) + _block_height(bottom) + gap <= height:
            break
    while top and _block_height(top) + _block_height(bottom) + gap > height:
        top.pop()
    return top, bottom


LEADING = 1.18
"""Line spacing as a multiple of the type size: compact, for small labels."""


def _block_height(lines: Sequence[_Line]) -> float:
    return sum(line.size * LEADING for line in lines)


def _draw_label(
    canvas: Any,
    label: LabelData,
    *,
    layout: LabelLayout,
    cell: tuple[float, float, float, float],
    mask: int | None,
    lang: str,
) -> None:
    from reportlab.pdfbase.pdfmetrics import getAscentDescent

    x, y, w, h = cell
    inset = layout.qr_inset * MM
    side = layout.qr_side * MM
    qr_x, qr_y = x + inset, y + (h - side) / 2
    draw_qr(canvas, label.url, x=qr_x, y=qr_y, size=side, error=DEFAULT_ERROR, mask=mask)

    pad = layout.padding * MM
    left = qr_x + side  # the quiet zone's outer edge: text starts right after it
    width = x + w - pad - left
    top_y, bottom_y = y + h - pad, y + pad
    top, bottom = _label_lines(
        label, layout=layout, width=width, height=top_y - bottom_y, lang=lang
    )

    # Baselines: the first line's ascent touches the top of the text box, the bottom
    # block's last descent touches its bottom.
    baseline = top_y
    for number, line in enumerate(top):
        ascent, _ = getAscentDescent(line.font, line.size)
        baseline -= line.size * LEADING if number else ascent
        canvas.setFont(line.font, line.size)
        canvas.drawString(left, baseline, line.text)
    baseline = bottom_y
    for line in reversed(bottom):
        _, descent = getAscentDescent(line.font, line.size)
        canvas.setFont(line.font, line.size)
        canvas.drawString(left, baseline - descent, line.text)
        baseline += line.size * LEADING


@files.writes_output
def render_labels(
    labels: Sequence[LabelData],
    *,
    layout: str | LabelLayout = "a4-3x8",
    out: Output,
    progress: Callable[[int, int], None] | None = None,
    lang: str = "ru",
    mask: int | None = LABEL_MASK,
    start: int = 0,
) -> int:
    """Write ``labels`` as a PDF of label sheets to ``out`` (a path or a binary file).

    ``layout`` is a key of ``LAYOUTS`` or a ``LabelLayout``. Labels fill each page row by
    row, and go on to new pages as needed; ``start`` skips that many positions on the first
    page, to use up a partly used sheet. ``progress(done, total)`` is called after each
    page. ``mask`` fixes the QR mask (fast, see ``qr``); None lets segno choose per code.
    Returns the number of pages.
    """
    if isinstance(layout, str):
        try:
            layout = LAYOUTS[layout]
        except KeyError:
            known = ", ".join(LAYOUTS)
            raise InvalidInput(
                f"unknown label layout {layout!r}", hint=f"one of: {known}"
            ) from None
    if not labels:
        raise InvalidInput("no labels to print")
    if not 0 <= start < layout.per_page:
        raise InvalidInput(
            f"start position {start} is not on a sheet of {layout.per_page} labels",
            field="start",
        )
    from reportlab.pdfgen.canvas import Canvas

    register_fonts()
    canvas = Canvas(
        files.stream_of(out),
        pagesize=(layout.page_width * MM, layout.page_height * MM),
        pageCompression=1,
    )
    canvas.setTitle("QR labels" if lang == "en" else "QR-наклейки")
    canvas.setCreator("fsm")
    total = len(labels)
    pages = 0
    position = start
    for done, label in enumerate(labels, start=1):
        if position == layout.per_page:
            canvas.showPage()
            position = 0
        if position == 0 or done == 1:
            pages += 1
        _draw_label(canvas, label, layout=layout, cell=layout.cell(position), mask=mask, lang=lang)
        position += 1
        if progress is not None and (position == layout.per_page or done == total):
            progress(done, total)
    canvas.showPage()
    canvas.save()
    return pages
