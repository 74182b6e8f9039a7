"""A virtualised order table: draws only the rows on screen, fetches 200-row pages.

Textual's DataTable measures every cell of every row it is given (0.24 ms a row, 24 s and
240 MB for 100,000 orders, the event loop blocked throughout). This table knows only the
number of matching orders and the pages it has fetched; each visible line is drawn from
its page, and a line whose page is missing asks for it in a worker and shows "…" until it
arrives. At most :attr:`OrderTable.MAX_PAGES` pages are kept.

Queries run in workers with a generation number: a new filter starts a new generation,
cancels (and interrupts) the running queries, and whatever an older generation reports is
dropped.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from fsm_core.formatting import sla_for
from fsm_core.services import order_queries
from fsm_core.services.order_queries import OrderFilter
from fsm_tui import cells
from fsm_tui.backend import Backend, Catalog, QueryHandle
from fsm_tui.text import localize_bindings, t
from fsm_tui.workers import WorkerErrors

Row = dict[str, Any]


def _foreground(style: Style) -> Style:
    """A cell's own style without its background, so the cursor line shows through."""
    return Style(color=style.color, bold=style.bold, dim=style.dim, italic=style.italic)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # i18n key
    width: int
    flex: int = 0  # share of the width left over (0: fixed)


COLUMNS: tuple[Column, ...] = (
    Column("number", "number", 9),  # 26-0087 ▦: a customer's QR request
    Column("created", "created", 12),
    Column("stage", "stage", 13),
    Column("criticality", "crit", 8),
    Column("customer", "customer", 12, flex=2),
    Column("object", "object", 12, flex=2),
    Column("assignee", "assignee", 14),
    Column("sla", "sla", 12),
    Column("description", "description", 14, flex=3),
)

NARROW_BELOW = 100
"""Under this many cells (an 80-column terminal) the columns a dispatcher acts on come
first — stage, SLA, assignee — and the rest is a sideways scroll away."""
NARROW_COLUMNS: tuple[Column, ...] = tuple(
    next(c for c in COLUMNS if c.key == key)
    for key in (
        "number",
        "stage",
        "sla",
        "assignee",
        "customer",
        "object",
        "criticality",
        "created",
        "description",
    )
)


@dataclass
class _Query:
    generation: int
    filters: OrderFilter
    handles: list[QueryHandle] = field(default_factory=list)


class OrderTable(WorkerErrors, cells.LineDrawn, ScrollView, can_focus=True):
    """Orders matching a filter, newest first, one line each."""

    columns: tuple[Column, ...] = COLUMNS
    PAGE_SIZE: ClassVar[int] = 200
    MAX_PAGES: ClassVar[int] = 20

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.cursor_up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.cursor_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "first", "First order", show=False, id="table.first"),
        Binding("end", "last", "Last order", show=False, id="table.last"),
        Binding("enter", "select", "Open", id="table.select"),
        Binding("right", "sideways(1)", "More columns", show=False, id="table.right"),
        Binding("left", "sideways(-1)", "Back to the first columns", show=False, id="table.left"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "order-table--header",
        "order-table--cursor",
        "order-table--cursor-blurred",
        "order-table--pending",
        "order-table--number",
        "order-table--qr",
        "order-table--crit-high",
        "order-table--crit-critical",
        "order-table--crit-low",
        "order-table--sla-ok",
        "order-table--sla-at_risk",
        "order-table--sla-violated",
        "order-table--sla-none",
        "order-table--finished",
    }

    DEFAULT_CSS = """
    OrderTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
    }
    """

    cursor_row: reactive[int] = reactive(0, init=False)

    # --- messages ----------------------------------------------------------------------

    @dataclass
    class PageLoaded(Message):
        generation: int
        page: int
        rows: list[Row]

    @dataclass
    class CountsLoaded(Message):
        """How many orders match, in total and by stage (for the board's header)."""

        table: OrderTable
        generation: int
        counts: dict[str, int]
        total: int
        capped: bool = False  # more than ``total`` match (a search counted up to a cap)

    @dataclass
    class Highlighted(Message):
        table: OrderTable
        row: Row | None

    @dataclass
    class Opened(Message):
        """The user pressed enter (or double-clicked) on an order."""

        table: OrderTable
        row: Row

    @dataclass
    class Painted(Message):
        """The first rows of a generation are on screen (the benchmark waits for this)."""

        table: OrderTable
        generation: int
        rows: int

    # --- state -------------------------------------------------------------------------

    def __init__(
        self,
        backend: Backend,
        *,
        lang: str,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        localize_bindings(self, lang)
        self.backend = backend
        self.lang = lang
        self.catalog: Catalog | None = None
        self.now: Callable[[], datetime] = backend.now
        self._query: _Query | None = None
        self._generation = 0
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._pending: set[int] = set()
        self._total: int | None = None  # None until counted
        self._known_end: int | None = None  # rows known to exist (before the count arrives)
        self._focus_id: int | None = None
        self._highlighted_id: int | None = None
        self._unpainted: int | None = None  # a generation whose rows are not drawn yet

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def filters(self) -> OrderFilter | None:
        return self._query.filters if self._query else None

    @property
    def row_count(self) -> int:
        if self._total is not None:
            return self._total
        return self._known_end or 0

    @property
    def total(self) -> int | None:
        """How many orders match (None until counted)."""
        return self._total

    @property
    def loaded_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def row_at(self, index: int) -> Row | None:
        page = self._pages.get(index // self.PAGE_SIZE)
        if page is None:
            return None
        offset = index % self.PAGE_SIZE
        return page[offset] if offset < len(page) else None

    @property
    def current_row(self) -> Row | None:
        return self.row_at(self.cursor_row)

    def set_catalog(self, catalog: Catalog) -> None:
        first = self.catalog is None
        self.catalog = catalog
        for rows in self._pages.values():
            self._note_years(rows)
        self.refresh()
        if first and self._pages:  # the first page came before the catalog: now it shows
            self._unpainted = self._generation

    # --- queries -----------------------------------------------------------------------

    def load(
        self,
        filters: OrderFilter,
        *,
        keep_position: bool = False,
        focus_id: int | None = None,
        first_page: list[Row] | None = None,
    ) -> int:
        """Show the orders matching ``filters``; returns the new generation.

        ``keep_position`` (a refresh of the same list) keeps the cursor and the scroll;
        otherwise the cursor goes to the top. ``focus_id`` puts the cursor on that order
        if it is on the first page. ``first_page``: that page's rows, already read (the
        app's head start); only the counts are then queried.
        """
        if self._query is not None:
            for handle in self._query.handles:
                handle.cancel()
        self._generation += 1
        self._query = _Query(self._generation, filters)
        self._pages.clear()
        self._pending.clear()
        self._focus_id = focus_id
        start_page = 0
        if keep_position:
            start_page = int(self.scroll_offset.y) // self.PAGE_SIZE
        else:
            self._total = None
            self._known_end = None
            self.cursor_row = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        if first_page is not None and start_page == 0:
            self._take_page(self._generation, 0, first_page)
            self._load_first(self._query, 0, read_page=False)
        else:
            self._pending.add(start_page)
            self._load_first(self._query, start_page)
        self.refresh()
        return self._generation

    def reload(self, *, focus_id: int | None = None) -> None:
        """Fetch the same list again (after a change), keeping the position."""
        if self._query is not None:
            self.load(self._query.filters, keep_position=True, focus_id=focus_id)

    def _handle(self, query: _Query) -> QueryHandle:
        handle = QueryHandle()
        query.handles.append(handle)
        return handle

    @work(thread=True, exclusive=True, exit_on_error=False, group="order-table-first")
    def _load_first(self, query: _Query, page: int, *, read_page: bool = True) -> None:
        """The page the user looks at (unless it is here already), then the counts (the
        slower query) for the header."""
        worker = get_current_worker()
        handle = self._handle(query)
        now = self.backend.now()
        try:
            with self.backend.reader(handle) as session:
                if read_page:
                    rows = order_queries.list_orders(
                        session=session,
                        filters=query.filters,
                        limit=self.PAGE_SIZE,
                        offset=page * self.PAGE_SIZE,
                        now=now,
                    )
                    if worker.is_cancelled or handle.cancelled:
                        return
                    self.post_message(self.PageLoaded(query.generation, page, rows))
                counts = order_queries.board_counts(session=session, filters=query.filters, now=now)
        except Exception:
            if handle.cancelled or worker.is_cancelled:
                return  # interrupted on purpose: a newer query replaced this one
            raise
        if not (worker.is_cancelled or handle.cancelled):
            self.post_message(
                self.CountsLoaded(
                    self, query.generation, counts.by_stage, counts.total, counts.capped
                )
            )

    @work(thread=True, exit_on_error=False, group="order-table-page")
    def _load_page(self, query: _Query, page: int) -> None:
        handle = self._handle(query)
        try:
            with self.backend.reader(handle) as session:
                rows = order_queries.list_orders(
                    session=session,
                    filters=query.filters,
                    limit=self.PAGE_SIZE,
                    offset=page * self.PAGE_SIZE,
                    now=self.backend.now(),
                )
        except Exception:
            if handle.cancelled:
                return
            raise
        if not handle.cancelled:
            self.post_message(self.PageLoaded(query.generation, page, rows))

    def _request_page(self, page: int) -> None:
        if self._query is None or page in self._pending or page in self._pages:
            return
        self._pending.add(page)
        self._load_page(self._query, page)

    def on_order_table_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.generation == self._generation:
            self._take_page(message.generation, message.page, message.rows)

    def _note_years(self, rows: list[Row]) -> None:
        if self._older or self.catalog is None or not rows:
            return
        tz = self.catalog.tz
        year = self.now().astimezone(tz).year
        if any(r["created_at"].astimezone(tz).year != year for r in rows):
            self._older = True
            self._pick_columns()

    def _take_page(self, generation: int, page: int, rows: list[Row]) -> None:
        self._note_years(rows)
        self._pending.discard(page)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > self.MAX_PAGES:
            self._pages.popitem(last=False)
        end = page * self.PAGE_SIZE + len(rows)
        if len(rows) < self.PAGE_SIZE and self._total is None:
            self._total = end  # the last page: now we know how many there are
        self._known_end = max(self._known_end or 0, end + (1 if self._total is None else 0))
        if self._focus_id is not None:
            for offset, row in enumerate(rows):
                if row["id"] == self._focus_id:
                    self.cursor_row = page * self.PAGE_SIZE + offset
                    self._focus_id = None
                    break
        self._clamp_cursor()
        self._update_size()
        self.refresh()
        self._report_highlight()
        if self.catalog is not None:
            self._unpainted = generation

    def on_order_table_counts_loaded(self, message: CountsLoaded) -> None:
        if message.generation != self._generation:
            message.stop()
            return
        if not message.capped:
            self._total = message.total
        elif self._total is None:
            # at least this many: the table goes on past them a page at a time, as
            # before the count came, until a page comes short
            self._known_end = max(self._known_end or 0, message.total + 1)
        self._clamp_cursor()
        self._update_size()
        self.refresh()
        self._report_highlight()

    # --- geometry and cursor -----------------------------------------------------------

    def _update_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._narrow = event.size.width < NARROW_BELOW
        self._pick_columns()
        self._update_size()

    _narrow = False
    _older = False  # an order on the pages was created in another year: its date has one

    def _pick_columns(self) -> None:
        """The columns for the width (narrow: what a dispatcher acts on first), the
        "created" one wide enough for a year when a date needs it."""
        columns = NARROW_COLUMNS if self._narrow else COLUMNS
        if self._older:
            wide = len("Dec 31 2025 23:30")
            columns = tuple(
                dataclasses.replace(c, width=wide) if c.key == "created" else c for c in columns
            )
        if columns != self.columns:
            self.columns = columns
            self._columns_changed()
            self._x = 0
            self.refresh()

    def _clamp_cursor(self) -> None:
        last = max(self.row_count - 1, 0)
        if self.cursor_row > last:
            self.cursor_row = last

    @property
    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def watch_cursor_row(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + self._visible_rows:
            self.scroll_to(y=new - self._visible_rows + 1, animate=False, immediate=True)
        self.refresh()
        self._report_highlight()

    def _report_highlight(self) -> None:
        row = self.current_row
        row_id = row["id"] if row else None
        if row_id != self._highlighted_id:
            self._highlighted_id = row_id
            self.post_message(self.Highlighted(self, row))

    def action_cursor(self, delta: int) -> None:
        self.cursor_row = max(0, min(self.cursor_row + delta, max(self.row_count - 1, 0)))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * self._visible_rows)

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = max(self.row_count - 1, 0)

    def action_sideways(self, step: int) -> None:
        self.sideways(step, self.scrollable_content_region.width)

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        event.stop()
        self.action_sideways(1)

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        event.stop()
        self.action_sideways(-1)

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(self, row))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < self.row_count:
            self.cursor_row = index
            if event.chain >= 2:
                self.action_select()

    # --- drawing -----------------------------------------------------------------------

    _fit = staticmethod(cells.fit)

    def _announce_paint(self) -> None:
        """The rows of a new generation are being drawn: say so (once per generation)."""
        if self.catalog is not None and self._unpainted is not None:
            self.post_message(self.Painted(self, self._unpainted, self.loaded_rows))
            self._unpainted = None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        widths = self._layout(width)
        if y == 0:
            style = base + self.get_component_rich_style("order-table--header")
            text = " ".join(
                self._fit(t(c.label, self.lang), w)
                for c, w in zip(self.columns, widths, strict=True)
            )
            return Strip([Segment(self._header(text, width), style)], width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= self.row_count:
            if index == 0 and self._total == 0:
                self._announce_paint()
                return Strip(
                    [Segment(self._fit("  " + t("board.empty", self.lang), width), base)], width
                )
            return Strip.blank(width, base)
        row = self.row_at(index) if self.catalog is not None else None
        cursor = index == self.cursor_row
        line_style = base
        if cursor:
            name = "order-table--cursor" if self.has_focus else "order-table--cursor-blurred"
            line_style = base + self.get_component_rich_style(name)
        if row is None:
            if self.catalog is not None:
                self._request_page(index // self.PAGE_SIZE)
            pending = line_style + self.get_component_rich_style("order-table--pending")
            return Strip([Segment(self._fit("  …", width), pending)], width)
        self._announce_paint()
        full = max(width, self._full_width(width))
        return self._crop(self._row_segments(row, widths, full, line_style), width)

    def _row_segments(
        self, row: Row, widths: tuple[int, ...], width: int, line_style: Style
    ) -> list[Segment]:
        lang = self.lang
        catalog = self.catalog
        stage = catalog.stage(row["stage_code"]) if catalog else None
        finished = stage is not None and stage.finished
        tz = catalog.tz if catalog else None
        now = self.now()
        sla, status = sla_for(row, stage, now, lang)
        by_key: dict[str, tuple[str, Style | None]] = {
            "number": (row["number"], self.get_component_rich_style("order-table--number")),
            "created": (cells.when(row["created_at"], tz, lang, now) if tz else "", None),
            "stage": (stage.name(lang) if stage else row["stage_code"], None),
            "criticality": (
                cells.crit(row["criticality"], lang),
                self._crit_style(row["criticality"]),
            ),
            "customer": (row.get("customer") or "", None),
            "object": (row.get("object") or "", None),
            "assignee": (cells.assignee(row), None),
            "sla": (sla, self.get_component_rich_style(f"order-table--sla-{status}")),
            "description": (cells.one_line(row.get("description")), None),
        }
        values = [by_key[c.key] for c in self.columns]
        number_at = next((i for i, c in enumerate(self.columns) if c.key == "number"), -1)
        body_style = line_style
        if finished:
            finished_style = self.get_component_rich_style("order-table--finished")
            body_style = line_style + _foreground(finished_style)
        segments: list[Segment] = []
        for i, ((text, style), w) in enumerate(zip(values, widths, strict=True)):
            if i:
                segments.append(Segment(" ", body_style))
            cell_style = body_style + _foreground(style) if style is not None else body_style
            if i == number_at:
                number, mark = cells.number_cell(row, w)
                segments.append(Segment(number, cell_style))
                if mark:
                    qr = self.get_component_rich_style("order-table--qr")
                    segments.append(Segment(mark, body_style + _foreground(qr)))
                continue
            segments.append(Segment(self._fit(text, w), cell_style))
        used = sum(widths) + len(widths) - 1
        if used < width:
            segments.append(Segment(" " * (width - used), body_style))
        return segments

    def _crit_style(self, code: str) -> Style | None:
        if code in ("high", "critical", "low"):
            return self.get_component_rich_style(f"order-table--crit-{code}")
        return None
