"""How an order's values read on screen: SLA time left, local times, one-line text.

The SLA wording is fsm_core.formatting's, the same as ``fsm orders list``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.strip import Strip

from fsm_core.formatting import moment
from fsm_core.i18n import criticality_name
from fsm_core.values import terminal_safe

SLA_CLASSES = ("ok", "at_risk", "violated", "none")


def when(value: datetime | None, tz: tzinfo, lang: str, now: datetime | None = None) -> str:
    """A moment as every screen shows it (:func:`fsm_core.formatting.moment`)."""
    return moment(value, tz, lang=lang, now=now)


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells; a control
    character it carries counts as the visible sign it is drawn as."""
    text = terminal_safe(text)
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def one_line(text: str | None) -> str:
    """A text from data on one line, its control characters shown as signs."""
    return " ".join(terminal_safe(text or "").split())


QR_MARK = "▦"
"""Beside an order's number: the customer sent it themselves, from the QR code on the
object's passport (source ``qr``)."""


def from_qr(row: Mapping[str, Any]) -> bool:
    return row.get("source") == "qr"


def number_cell(row: Mapping[str, Any], width: int) -> tuple[str, str]:
    """The order's number cut to ``width`` and, for a customer's QR request, the mark
    after it that the cut never takes: (number part, mark part), together ``width``."""
    if not from_qr(row) or width < 3:
        return fit(row["number"], width), ""
    return fit(row["number"], width - 2), f" {QR_MARK}"


def crit(code: str, lang: str) -> str:
    return criticality_name(code, lang)


def assignee(row: Mapping[str, Any]) -> str:
    return row.get("assignee") or row.get("crew") or ""


class Sized(Protocol):
    @property
    def width(self) -> int:  # the least width, in cells
        ...

    @property
    def flex(self) -> int:  # its share of the width left over (0: fixed)
        ...


def spread(columns: Sequence[Sized], width: int) -> tuple[int, ...]:
    """Each column's width in ``width`` cells, a space between columns: every column gets
    its least width, and what is left over goes to the flexible ones by their shares (the
    last of them takes the rounding)."""
    fixed = sum(c.width for c in columns) + len(columns) - 1
    spare = max(width - fixed, 0)
    flexible = [c for c in columns if c.flex]
    shares = sum(c.flex for c in flexible) or 1
    widths: list[int] = []
    given = 0
    for column in columns:
        extra = 0
        if column.flex:
            if column is flexible[-1]:
                extra = spare - given
            else:
                extra = spare * column.flex // shares
                given += extra
        widths.append(column.width + extra)
    return tuple(widths)


class LineDrawn:
    """Mixin for a table that draws its own lines (a ScrollView): its columns' widths,
    spread again only when its width changes, and a redraw when it gains or loses the
    focus (the cursor line looks different then).

    When the columns need more than the width (an 80-column terminal), the table scrolls
    sideways (left/right, or shift and the wheel) by :meth:`sideways`, its first column
    (the order's number, the warehouse) staying in place; the header shows ``◂``/``▸``
    where more is to see."""

    columns: Sequence[Sized]
    refresh: Callable[..., Any]  # the widget's
    _layout_width: int = -1
    _widths: tuple[int, ...] = ()
    _x: int = 0  # how far the columns after the first are scrolled to the left

    def _layout(self, width: int) -> tuple[int, ...]:
        if width != self._layout_width:
            self._widths = spread(self.columns, width)
            self._layout_width = width
            self._x = min(self._x, self._max_x(width))
        return self._widths

    def _columns_changed(self) -> None:
        self._layout_width = -1

    def _full_width(self, width: int) -> int:
        widths = self._layout(width)
        return sum(widths) + len(widths) - 1

    def _max_x(self, width: int) -> int:
        return max(self._full_width(width) - width, 0) if self._layout_width == width else 0

    def sideways(self, step: int, width: int) -> None:
        """Scroll the columns after the first by ``step`` columns (negative: back)."""
        widths = self._layout(width)
        edges = [0]
        for w in widths[1:]:
            edges.append(edges[-1] + w + 1)
        if step > 0:
            target = next((e for e in edges if e > self._x), edges[-1])
        else:
            target = max((e for e in edges if e < self._x), default=0)
        self._x = max(0, min(target, self._max_x(width)))
        self.refresh()

    def _crop(self, segments: list[Segment], width: int) -> Strip:
        """One line of all the columns, shown from the scroll position: the first column
        stays, the rest slides under it; a column the edge would cut is left blank (a
        number cut to its first digits would read as another number)."""
        full = Strip(segments)
        if not self._widths or self._full_width(width) <= width:
            return full.crop(0, width)
        frozen = self._widths[0] + 1
        right = self._shown_end(width)
        shown = full.crop(0, frozen)
        if right > frozen + self._x:
            shown = Strip.join([shown, full.crop(frozen + self._x, right)])
        blank = width - shown.cell_length
        if blank > 0:
            style = segments[-1].style if segments else None
            shown = Strip.join([shown, Strip([Segment(" " * blank, style)])])
        return shown.crop(0, width)

    def _shown_end(self, width: int) -> int:
        """Where the last column that fits whole ends, in the whole line's cells."""
        end = self._x + width
        right = 0
        for w in self._widths:
            if right + w > end:
                break
            right += w + 1
        return right

    def _header(self, full: str, width: int) -> str:
        """The header's text (all the columns) as shown from the scroll position, with
        ``◂`` after the first column when scrolled and ``▸`` at the end when more columns
        are to the right."""
        if self._widths and self._full_width(width) > width:
            frozen = self._widths[0] + 1
            full = full[:frozen] + full[frozen + self._x : self._shown_end(width)]
        chars = list(full.ljust(width)[:width])
        if self._x > 0 and self._widths:
            chars[min(self._widths[0], width - 1)] = "◂"
        if self._x < self._max_x(width):
            chars[-1] = "▸"
        return "".join(chars)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
