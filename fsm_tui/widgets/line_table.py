"""A table of lines drawn only where they show: stock balances, a ledger, an order's
checklist items and materials.

Textual's DataTable measures every cell of every row it is given; this table takes its
lines as plain tuples of text (fetched by a worker), lays its columns out once per width
and draws each visible line on demand, so tens of thousands of lines cost no more to show
than ten. A line is either a row of cells or a heading that spans the width (a checklist's
name, a warehouse); the cursor moves over rows only.

Styles are component classes (``line-table--<name>``) given their looks in fsm.tcss; a
line or a single cell names one of :data:`STYLES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fsm_tui import cells
from fsm_tui.text import localize_bindings, t

STYLES = ("dim", "low", "bad", "good", "warn", "strong", "heading", "total", "mark")
"""What a line or a cell may be styled as (see ``LineTable`` in fsm.tcss)."""

Cell = str | tuple[str, str | None]
"""A cell's text, or its text and one of :data:`STYLES`."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header, already in the user's language
    width: int
    flex: int = 0  # share of the width left over (0: fixed)
    right: bool = False  # numbers: aligned right
    group: bool = False  # blank when the line above says the same (a warehouse's lines)


@dataclass(frozen=True)
class Line:
    """One line: ``cells`` in column order, or a ``heading`` across the whole width."""

    key: Any
    cells: tuple[Cell, ...] = ()
    style: str | None = None
    heading: str | None = None
    data: Any = None  # what the owner needs back when the line is chosen

    @property
    def selectable(self) -> bool:
        return self.heading is None


def _fit_right(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return " " * (width - cell_len(text)) + text
    return set_cell_size(text, width - 1) + "…"


def _foreground(style: Style) -> Style:
    return Style(color=style.color, bold=style.bold, dim=style.dim, italic=style.italic)


class LineTable(cells.LineDrawn, ScrollView, can_focus=True):
    """Lines under a header; up/down/page/home/end move the cursor, a double click
    chooses (the owner binds enter to what choosing means there)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="lines.cursor_up"),
        Binding("down", "cursor(1)", "Down", show=False, id="lines.cursor_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="lines.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="lines.page_down"),
        Binding("home", "first", "First line", show=False, id="lines.first"),
        Binding("end", "last", "Last line", show=False, id="lines.last"),
        Binding("right", "sideways(1)", "More columns", show=False, id="lines.right"),
        Binding("left", "sideways(-1)", "Back to the first columns", show=False, id="lines.left"),
    ]

    columns: tuple[Column, ...]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-table--header",
        "line-table--cursor",
        "line-table--cursor-blurred",
        *(f"line-table--{name}" for name in STYLES),
    }

    DEFAULT_CSS = """
    LineTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
    }
    """

    cursor: reactive[int] = reactive(0, init=False)

    @dataclass
    class Highlighted(Message):
        table: LineTable
        line: Line | None

    @dataclass
    class Chosen(Message):
        """A double click on a line (enter is the owner's binding)."""

        table: LineTable
        line: Line

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        lang: str,
        empty: str = "",
        cursor: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.show_cursor = cursor
        self.can_focus = cursor
        localize_bindings(self, lang)
        self.lang = lang
        self.columns = tuple(columns)
        self.empty = empty
        self.lines: list[Line] = []
        self.loaded = False
        self._highlighted: Any = object()

    # --- content -------------------------------------------------------------------------

    def set_lines(self, lines: Sequence[Line], *, keep: bool = True) -> None:
        """Show ``lines``; the cursor stays on the line with the same key when there is one
        (``keep``), else on the first row."""
        current = self.current_line
        self.lines = list(lines)
        self.loaded = True
        index = None
        if keep and current is not None:
            index = next((i for i, ln in enumerate(self.lines) if ln.key == current.key), None)
        if index is None:
            index = self._next_row(0, 1)
        self._update_size()
        self.set_reactive(LineTable.cursor, index if index is not None else 0)
        self._scroll_to_cursor()
        self.refresh()
        self._highlighted = object()  # the same line may say something new: tell again
        self._report()

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self._columns_changed()
        self.refresh()

    @property
    def current_line(self) -> Line | None:
        if 0 <= self.cursor < len(self.lines) and self.lines[self.cursor].selectable:
            return self.lines[self.cursor]
        return None

    def move_to(self, key: Any) -> bool:
        for index, line in enumerate(self.lines):
            if line.key == key and line.selectable:
                self.cursor = index
                return True
        return False

    # --- geometry and cursor -------------------------------------------------------------

    def _update_size(self) -> None:
        # the header, and the lines or the one that says there are none (or loading)
        rows = max(len(self.lines), 1) + 1
        self.virtual_size = Size(self.scrollable_content_region.width, rows)

    def on_resize(self, event: events.Resize) -> None:
        self._update_size()

    @property
    def _visible(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _next_row(self, start: int, step: int) -> int | None:
        index = start
        while 0 <= index < len(self.lines):
            if self.lines[index].selectable:
                return index
            index += step
        return None

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        new = self.cursor
        if new < top or (new > 0 and new - 1 < top and not self.lines[new - 1].selectable):
            # a row just under a heading brings its heading into view too
            target = new - 1 if new > 0 and not self.lines[new - 1].selectable else new
            self.scroll_to(y=max(target, 0), animate=False, immediate=True)
        elif new >= top + self._visible:
            self.scroll_to(y=new - self._visible + 1, animate=False, immediate=True)

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._report()

    def _report(self) -> None:
        line = self.current_line
        key = line.key if line is not None else None
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(self, line))

    def action_cursor(self, delta: int) -> None:
        if not self.lines:
            return
        step = 1 if delta > 0 else -1
        target = max(0, min(self.cursor + delta, len(self.lines) - 1))
        found = self._next_row(target, step)
        if found is None:
            found = self._next_row(target, -step)
        if found is not None:
            self.cursor = found

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * self._visible)

    def action_first(self) -> None:
        found = self._next_row(0, 1)
        if found is not None:
            self.cursor = found
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_last(self) -> None:
        found = self._next_row(len(self.lines) - 1, -1)
        if found is not None:
            self.cursor = found

    def action_sideways(self, step: int) -> None:
        self.sideways(step, self.scrollable_content_region.width)

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        event.stop()
        self.action_sideways(1)

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        event.stop()
        self.action_sideways(-1)

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self.lines) and self.lines[index].selectable:
            self.cursor = index
            if event.chain >= 2:
                self.post_message(self.Chosen(self, self.lines[index]))

    # --- drawing -------------------------------------------------------------------------

    def _style(self, name: str | None) -> Style | None:
        if name is None or name not in STYLES:
            return None
        return self.get_component_rich_style(f"line-table--{name}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        widths = self._layout(width)
        if y == 0:
            style = base + self.get_component_rich_style("line-table--header")
            text = " ".join(
                _fit_right(c.label, w) if c.right else cells.fit(c.label, w)
                for c, w in zip(self.columns, widths, strict=True)
            )
            return Strip([Segment(self._header(text, width), style)], width)
        top = int(self.scroll_offset.y)
        index = top + y - 1
        if index >= len(self.lines):
            if index == 0:
                text = self.empty if self.loaded else t("loading", self.lang)
                dim = self._style("dim") or Style()
                return Strip([Segment(cells.fit("  " + text, width), base + dim)], width)
            return Strip.blank(width, base)
        line = self.lines[index]
        line_style = base
        if index == self.cursor and line.selectable and self.show_cursor:
            cursor = "line-table--cursor" if self.has_focus else "line-table--cursor-blurred"
            line_style = base + self.get_component_rich_style(cursor)
        if line.heading is not None:
            heading = self._style(line.style or "heading") or Style()
            return Strip([Segment(cells.fit(line.heading, width), line_style + heading)], width)
        own = self._style(line.style)
        body = line_style + _foreground(own) if own is not None else line_style
        above = self.lines[index - 1] if index > top else None
        segments: list[Segment] = []
        for i, (column, cell_width) in enumerate(zip(self.columns, widths, strict=True)):
            cell = line.cells[i] if i < len(line.cells) else ""
            text, name = (cell, None) if isinstance(cell, str) else cell
            if column.group and above is not None and above.heading is None:
                previous = above.cells[i] if i < len(above.cells) else ""
                if (previous if isinstance(previous, str) else previous[0]) == text:
                    text = ""
            if i:
                segments.append(Segment(" ", body))
            cell_style = self._style(name)
            style = body + _foreground(cell_style) if cell_style is not None else body
            shown = _fit_right(text, cell_width) if column.right else cells.fit(text, cell_width)
            segments.append(Segment(shown, style))
        used = sum(widths) + len(widths) - 1
        if used < width:
            segments.append(Segment(" " * (width - used), body))
        return self._crop(segments, width)  # wider than the screen: it scrolls sideways
