"""The board as columns by stage (канбан): a header with the count, and a page of cards.

Each column shows the newest :attr:`KanbanBoard.CARDS` orders of its stage; the count says
how many there are, and the table view (or a stage filter there) pages through the rest.
One worker reads the counts and every column's page; a newer filter cancels it and an
older generation's result is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, Vertical
from textual.message import Message
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fsm_core.formatting import sla_for
from fsm_core.services import order_queries
from fsm_core.services.order_queries import OrderFilter
from fsm_tui import cells
from fsm_tui.backend import Backend, Catalog, QueryHandle
from fsm_tui.text import localize_bindings, t
from fsm_tui.widgets.filter_bar import shows_stage
from fsm_tui.workers import WorkerErrors

Row = dict[str, Any]

SLA_STYLE = {"ok": "green", "at_risk": "bold yellow", "violated": "bold red", "none": "dim"}
CRIT_STYLE = {"low": "dim", "normal": "", "high": "bold yellow", "critical": "bold red"}


class KanbanColumn(Vertical):
    """One stage: its name and count, then its cards."""

    def __init__(self, code: str, title: str) -> None:
        super().__init__(id=f"column-{code}", classes="kanban-column")
        self.code = code
        self.title = title
        self.rows: list[Row] = []

    def compose(self) -> ComposeResult:
        yield Label(self.title, classes="kanban-header")
        yield OptionList(classes="kanban-cards")


class KanbanBoard(WorkerErrors, HorizontalScroll):
    """Columns by stage, in the workflow's order."""

    CARDS: ClassVar[int] = 30

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "column(-1)", "Previous column", show=False, id="kanban.left"),
        Binding("right", "column(1)", "Next column", show=False, id="kanban.right"),
    ]

    @dataclass
    class Loaded(Message):
        generation: int
        columns: dict[str, list[Row]]
        counts: order_queries.BoardCounts

    @dataclass
    class CountsLoaded(Message):
        board: KanbanBoard
        generation: int
        counts: dict[str, int]
        total: int
        capped: bool = False

    @dataclass
    class Highlighted(Message):
        board: KanbanBoard
        row: Row | None

    @dataclass
    class Opened(Message):
        board: KanbanBoard
        row: Row

    def __init__(self, backend: Backend, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        localize_bindings(self, lang)
        self.backend = backend
        self.lang = lang
        self.catalog: Catalog | None = None
        self._generation = 0
        self._filters: OrderFilter | None = None
        self._handle: QueryHandle | None = None
        self._focus_id: int | None = None
        self._mounting: Any = None  # the columns being mounted (awaited before filling)
        self._want_focus = False

    # --- columns -------------------------------------------------------------------------

    def set_catalog(self, catalog: Catalog) -> None:
        """Columns are built when the board is first shown as columns (a table-only user
        never pays for them), and again when the stages change."""
        changed = self.catalog is not None and self.catalog.workflow != catalog.workflow
        self.catalog = catalog
        if changed and self.columns():
            self.remove_children()
            self._build_columns()

    def _build_columns(self) -> None:
        assert self.catalog is not None
        self._mounting = self.mount_all(
            KanbanColumn(s.code, s.name(self.lang)) for s in self.catalog.workflow.stages.values()
        )

    def columns(self) -> list[KanbanColumn]:
        return list(self.query(KanbanColumn))

    # --- loading -------------------------------------------------------------------------

    def load(self, filters: OrderFilter, *, focus_id: int | None = None) -> int:
        if self._handle is not None:
            self._handle.cancel()
        self._generation += 1
        self._filters = filters
        self._focus_id = focus_id
        self._handle = QueryHandle()
        if self.catalog is not None:
            if not self.columns():
                self._build_columns()
            codes = [
                code
                for code in self.catalog.workflow.stages
                if shows_stage(filters, self.catalog, code)
            ]
            self._load(self._generation, filters, codes, self._handle)
        return self._generation

    def reload(self, *, focus_id: int | None = None) -> None:
        if self._filters is not None:
            self.load(self._filters, focus_id=focus_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kanban")
    def _load(
        self, generation: int, filters: OrderFilter, codes: list[str], handle: QueryHandle
    ) -> None:
        worker = get_current_worker()
        now = self.backend.now()
        columns: dict[str, list[Row]] = {}
        try:
            with self.backend.reader(handle) as session:
                counts = order_queries.board_counts(session=session, filters=filters, now=now)
                for code in codes:
                    if worker.is_cancelled:
                        return
                    if not counts.capped and not counts.by_stage.get(code):
                        columns[code] = []
                        continue
                    flt = OrderFilter(**{**vars(filters), "stages": [code]})
                    # capped counts: one card more tells whether the column has more
                    limit = self.CARDS + 1 if counts.capped else self.CARDS
                    columns[code] = order_queries.list_orders(
                        session=session, filters=flt, limit=limit, now=now
                    )
        except Exception:
            if handle.cancelled or worker.is_cancelled:
                return
            raise
        if not worker.is_cancelled:
            self.post_message(self.Loaded(generation, columns, counts))

    async def on_kanban_board_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.generation != self._generation or self.catalog is None:
            return
        if self._mounting is not None:
            await self._mounting
            self._mounting = None
        for column in self.columns():
            column.display = column.code in message.columns
        self._size_columns()
        for column in self.columns():
            rows = message.columns.get(column.code, [])
            count = message.counts.by_stage.get(column.code, 0)
            # capped: the counted orders of a search are only the first ones; a column's
            # cards tell its own count when they are all there, else "at least"
            more = message.counts.capped and len(rows) > self.CARDS
            if message.counts.capped:
                count = max(count, len(rows)) if more else len(rows)
                rows = rows[: self.CARDS]
            column.rows = rows
            column.query_one(Label).update(f"{column.title} · {count}{'+' if more else ''}")
            cards = column.query_one(OptionList)
            cards.clear_options()
            width = self._card_width()
            options: list[Option | None] = []
            for row in rows:
                if options:
                    options.append(None)  # a divider between cards
                options.append(Option(self._card(row, width), id=str(row["id"])))
            if count > len(rows):
                n = f"{count - len(rows)}{'+' if more else ''}"
                options.append(None)
                options.append(
                    Option(Text(t("board.more", self.lang, n=n), style="dim"), disabled=True)
                )
            cards.add_options(options)
            if rows:
                cards.highlighted = 0
            if self._focus_id is not None:
                for i, row in enumerate(rows):
                    if row["id"] == self._focus_id:
                        cards.highlighted = i
                        cards.focus()
                        self._focus_id = None
        if self._want_focus:
            self._want_focus = False
            self.focus_cards()
        counts = message.counts
        self.post_message(
            self.CountsLoaded(
                self, message.generation, counts.by_stage, counts.total, counts.capped
            )
        )
        self._report()

    MIN_COLUMN: ClassVar[int] = 20

    def _size_columns(self) -> None:
        """Share the width among the shown columns, none narrower than MIN_COLUMN (the
        board scrolls sideways then)."""
        shown = [c for c in self.columns() if c.display]
        if not shown:
            return
        width = max(self.MIN_COLUMN, self.scrollable_content_region.width // len(shown))
        self._column_width = width
        for column in shown:
            column.styles.width = width

    def _card_width(self) -> int:
        # the column's right border, the option's padding and the cards' scrollbar
        return max(getattr(self, "_column_width", self.MIN_COLUMN) - 4, 8)

    def on_resize(self) -> None:
        self._size_columns()

    def _card(self, row: Row, width: int) -> Text:
        """Four lines, each cut to ``width``: number and SLA time left; customer; object (or
        what is wrong); assignee and criticality (unless normal)."""
        assert self.catalog is not None
        lang = self.lang
        stage = self.catalog.stage(row["stage_code"])
        sla, status = sla_for(row, stage, self.backend.now(), lang, parts=1)
        card = Text(no_wrap=True, overflow="ellipsis")
        number = f"{row['number']} {cells.QR_MARK}" if cells.from_qr(row) else row["number"]
        self._line(card, (number, "bold"), (sla, SLA_STYLE.get(status, "")), width)
        card.append("\n" + cells.fit(row.get("customer") or "", width).rstrip())
        where = row.get("object") or cells.one_line(row.get("description"))
        card.append("\n" + cells.fit(where, width).rstrip())
        card.append("\n")
        code = row["criticality"]
        crit = "" if code == "normal" else cells.crit(code, lang)
        who = cells.assignee(row) or "—"
        self._line(card, (who, "italic"), (crit, CRIT_STYLE.get(code, "")), width)
        return card

    @staticmethod
    def _line(card: Text, left: tuple[str, str], right: tuple[str, str], width: int) -> None:
        """``left`` then ``right`` flush right, the left one cut when both do not fit."""
        text, style = right
        room = max(width - cell_len(text) - (1 if text else 0), 1)
        shown = cells.fit(left[0], room).rstrip() if cell_len(left[0]) > room else left[0]
        card.append(shown, style=left[1])
        card.append(" " * max(width - cell_len(shown) - cell_len(text), 1 if text else 0))
        card.append(text, style=style)

    # --- selection -----------------------------------------------------------------------

    def _focused_column(self) -> KanbanColumn | None:
        for column in self.columns():
            if column.has_focus_within:
                return column
        return None

    @property
    def current_row(self) -> Row | None:
        column = self._focused_column()
        if column is None:
            shown = [c for c in self.columns() if c.display and c.rows]
            if not shown:
                return None
            column = shown[0]
        cards = column.query_one(OptionList)
        index = cards.highlighted
        if index is None or index >= len(column.rows):
            return None
        return column.rows[index]

    def focus_cards(self) -> None:
        if self._mounting is not None or not self.columns():
            self._want_focus = True  # when the columns are there
            return
        column = self._focused_column()
        if column is not None:
            return
        for column in self.columns():
            if column.display and column.rows:
                column.query_one(OptionList).focus()
                return
        shown = [c for c in self.columns() if c.display]
        if shown:
            shown[0].query_one(OptionList).focus()

    def action_column(self, delta: int) -> None:
        shown = [c for c in self.columns() if c.display]
        if not shown:
            return
        current = self._focused_column()
        index = shown.index(current) if current in shown else 0
        target = shown[(index + delta) % len(shown)]
        cards = target.query_one(OptionList)
        cards.focus()
        if cards.highlighted is None and target.rows:
            cards.highlighted = 0
        target.scroll_visible()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._report()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(self, row))

    def on_descendant_focus(self) -> None:
        self._report()

    def _report(self) -> None:
        self.post_message(self.Highlighted(self, self.current_row))
