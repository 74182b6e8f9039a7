"""The order board (заявки): a filter bar, counts by stage, and the orders as a table or as
columns by stage. Keys create, assign, move and open orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, Select

from fsm_core.services.order_queries import OrderFilter
from fsm_tui.backend import Catalog
from fsm_tui.messages import OrdersChanged
from fsm_tui.screens.base import SectionScreen
from fsm_tui.text import t
from fsm_tui.widgets.filter_bar import OPEN, FilterBar
from fsm_tui.widgets.kanban import KanbanBoard
from fsm_tui.widgets.order_table import OrderTable
from fsm_tui.widgets.stage_counts import StageCounts
from fsm_tui.widgets.status_line import StatusLine

Row = dict[str, Any]


class BoardScreen(SectionScreen):
    SECTION = "board"

    AUTO_REFRESH: ClassVar[float] = 60.0
    """Seconds between quiet reloads of the shown orders (SLA time left, others' changes)
    while live updates are off."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_order", "New", id="board.new_order"),
        Binding("a", "assign", "Assign", id="board.assign"),
        Binding("m", "move", "Stage", id="board.move"),
        Binding("p", "plan", "Plan visit", id="board.plan"),
        Binding("o", "open", "Open", show=False, id="board.open"),
        Binding("v", "toggle_view", "Table/columns", id="board.toggle_view"),
        Binding("slash", "search", "Search", key_display="/", id="board.search"),
        Binding("f", "filters", "Filters", show=False, id="board.filters"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="board.clear_filters"),
        Binding("r", "refresh", "Refresh", show=False, id="board.refresh"),
        Binding("escape", "focus_list", "To the list", show=False, id="board.focus_list"),
    ]

    def __init__(self) -> None:
        super().__init__(id="board")
        self.view = "table"
        self._stale: set[str] = {"kanban"}  # views whose content is not for the current filter
        self.highlighted: Row | None = None

    # --- layout --------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        backend = self.fsm.backend
        yield FilterBar(lang=self.lang, id="filters")
        yield StageCounts(lang=self.lang, id="stage-counts")
        with ContentSwitcher(initial="table", id="views"):
            yield OrderTable(backend, lang=self.lang, id="table")
            yield KanbanBoard(backend, lang=self.lang, id="kanban")

    @property
    def table(self) -> OrderTable:
        return self.query_one("#table", OrderTable)

    @property
    def kanban(self) -> KanbanBoard:
        return self.query_one("#kanban", KanbanBoard)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one("#filters", FilterBar)

    def on_mount(self) -> None:  # Textual calls FsmScreen.on_mount too, after this one
        self.table.focus()
        head = self.fsm.take_head_start()
        if head is not None and head.filters == self.filter_bar.filters():
            self.table.load(head.filters, first_page=head.rows)  # drawn on the first frame
        elif self.fsm.catalog is None:
            # the first page does not need the reference data: fetch it alongside
            self.table.load(self.filter_bar.filters())
        if self.AUTO_REFRESH:
            self.set_interval(self.AUTO_REFRESH, self._minute_refresh)
        self._count_failed_notifications()

    def catalog_ready(self, catalog: Catalog) -> None:
        self.filter_bar.set_catalog(catalog)
        self.query_one(StageCounts).set_catalog(catalog)
        self.table.set_catalog(catalog)
        self.kanban.set_catalog(catalog)
        filters = self.filter_bar.current()
        if self.view == "table" and self.table.filters == filters:
            return  # already on its way (or here): the table draws it with the catalog
        self._show(filters)

    # --- loading -------------------------------------------------------------------------

    def _show(self, filters: OrderFilter, *, focus_id: int | None = None) -> None:
        """Query the visible view; the hidden one loads when it is shown."""
        self.query_one(StageCounts).show_loading()
        self._stale = {"table", "kanban"} - {self.view}
        if self.view == "table":
            self.table.load(filters, focus_id=focus_id)
        else:
            self.kanban.load(filters, focus_id=focus_id)

    def _reload(self, *, focus_id: int | None = None) -> None:
        self._stale = {"table", "kanban"} - {self.view}
        if self.view == "table":
            self.table.reload(focus_id=focus_id)
        else:
            self.kanban.reload(focus_id=focus_id)

    def _minute_refresh(self) -> None:  # not _auto_refresh: Textual's DOMNode has that name
        self._count_failed_notifications()
        if self.fsm.live_state != "on" and self.fsm.catalog is not None:
            self._reload()

    # --- notifications that failed: a count in the status line -----------------------------

    @dataclass
    class FailedNotifications(Message):
        count: int

    @work(thread=True, exclusive=True, exit_on_error=False, group="board-notify")
    def _count_failed_notifications(self) -> None:
        from fsm_core.services import notify

        backend = self.fsm.backend
        if backend.database.principal.scope("notify.read") is None:
            return  # a technician's or a storekeeper's board: not theirs to see
        with backend.reader() as session:
            count = notify.failed_count(session=session)
        self.post_message(self.FailedNotifications(count))

    def on_board_screen_failed_notifications(self, message: FailedNotifications) -> None:
        for line in self.query(StatusLine):
            line.failed_notifications = message.count

    def on_filter_bar_changed(self, message: FilterBar.Changed) -> None:
        self._show(message.filters)

    def orders_changed(self, message: OrdersChanged) -> None:
        self._count_failed_notifications()
        if self.fsm.catalog is not None:
            self._reload(focus_id=message.focus_id)

    def _selected_stage(self) -> str | None:
        value = self.query_one("#filter-stage", Select).value
        return value if isinstance(value, str) and value != OPEN else None

    def on_order_table_counts_loaded(self, message: OrderTable.CountsLoaded) -> None:
        self.query_one(StageCounts).show(
            message.counts, message.total, self._selected_stage(), capped=message.capped
        )

    def on_kanban_board_counts_loaded(self, message: KanbanBoard.CountsLoaded) -> None:
        self.query_one(StageCounts).show(
            message.counts, message.total, self._selected_stage(), capped=message.capped
        )

    def on_order_table_highlighted(self, message: OrderTable.Highlighted) -> None:
        if self.view == "table":
            self.highlighted = message.row

    def on_kanban_board_highlighted(self, message: KanbanBoard.Highlighted) -> None:
        if self.view == "kanban":
            self.highlighted = message.row

    def on_order_table_opened(self, message: OrderTable.Opened) -> None:
        self.fsm.open_order(message.row["id"])

    def on_kanban_board_opened(self, message: KanbanBoard.Opened) -> None:
        self.fsm.open_order(message.row["id"])

    # --- actions -------------------------------------------------------------------------

    def current_row(self) -> Row | None:
        return self.table.current_row if self.view == "table" else self.kanban.current_row

    def _require_row(self) -> Row | None:
        row = self.current_row()
        if row is None:
            self.notify(t("board.nothing_selected", self.lang), severity="warning")
        return row

    def action_new_order(self) -> None:
        self.fsm.new_order()

    def action_assign(self) -> None:
        row = self._require_row()
        if row is not None:
            self.fsm.assign_order(row)

    def action_move(self) -> None:
        row = self._require_row()
        if row is not None:
            self.fsm.move_order(row)

    def action_plan(self) -> None:
        row = self._require_row()
        if row is not None:
            self.fsm.plan_visit(row)

    def action_open(self) -> None:
        row = self._require_row()
        if row is not None:
            self.fsm.open_order(row["id"])

    def action_toggle_view(self) -> None:
        self.view = "kanban" if self.view == "table" else "table"
        self.query_one("#views", ContentSwitcher).current = self.view
        if self.view in self._stale:
            self._stale.discard(self.view)
            filters = self.filter_bar.current()
            self.query_one(StageCounts).show_loading()
            if self.view == "table":
                self.table.load(filters)
            else:
                self.kanban.load(filters)
        self.action_focus_list()

    def action_search(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def action_filters(self) -> None:
        self.query_one("#filter-stage", Select).focus()

    def action_clear_filters(self) -> None:
        self.filter_bar.clear()

    def action_refresh(self) -> None:
        self._reload()

    def action_focus_list(self) -> None:
        if self.view == "table":
            self.table.focus()
        else:
            self.kanban.focus_cards()

    def action_filter_stage(self, code: str) -> None:
        """A click on a stage in the counts line."""
        self.filter_bar.set_stage(code or OPEN)
