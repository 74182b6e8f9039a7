"""How an order's values read on screen: SLA time left, local times, one-line text.

The SLA wording is fsm_core.formatting's, the same as ``fsm orders list``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size

from fsm_core.formatting import moment
from fsm_core.i18n import criticality_name

SLA_CLASSES = ("ok", "at_risk", "violated", "none")


def when(value: datetime | None, tz: tzinfo, lang: str, now: datetime | None = None) -> str:
    """A moment as every screen shows it (:func:`fsm_core.formatting.moment`)."""
    return moment(value, tz, lang=lang, now=now)


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def crit(code: str, lang: str) -> str:
    return criticality_name(code, lang)


def assignee(row: Mapping[str, Any]) -> str:
    return row.get("assignee") or row.get("crew") or ""


class Sized(Protocol):
    width: int  # the least width, in cells
    flex: int  # its share of the width left over (0: fixed)


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
    focus (the cursor line looks different then)."""

    columns: Sequence[Sized]
    refresh: Callable[..., Any]  # the widget's
    _layout_width: int = -1
    _widths: tuple[int, ...] = ()

    def _layout(self, width: int) -> tuple[int, ...]:
        if width != self._layout_width:
            self._widths = spread(self.columns, width)
            self._layout_width = width
        return self._widths

    def _columns_changed(self) -> None:
        self._layout_width = -1

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
