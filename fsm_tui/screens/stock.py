"""Stock (склад, ТМЦ): every warehouse's items with on hand, reserved and available; items
whose available stock is below their minimum level highlighted (and listed below, with how
much to order); ``enter`` shows an item's ledger.

Filters change in place: a warehouse, a text (SKU, name, barcode), ``l`` low stock only.
``i`` receives stock (приход), ``t`` transfers it (перемещение, e.g. central → a van).
Balances are read in a worker; the table draws only the lines on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Select, Static
from textual.worker import get_current_worker

from fsm_core.formatting import quantity
from fsm_core.services import stock_queries
from fsm_tui.refs import Refs, load_stock_refs
from fsm_tui.screens.base import SectionScreen
from fsm_tui.text import t
from fsm_tui.widgets.line_table import Column, Line, LineTable


@dataclass(frozen=True)
class StockFilter:
    warehouse_id: int | None = None
    text: str | None = None
    low_only: bool = False


@dataclass(frozen=True)
class StockData:
    lines: tuple[Line, ...]  # item at warehouse, ready to draw (``data`` is the item id)
    low_lines: tuple[Line, ...]
    low_ids: frozenset[int]
    low_count: int
    refs: Refs


def stock_lines(
    balances: Sequence[stock_queries.StockLine],
    low: Sequence[stock_queries.LowStock],
    lang: str,
) -> tuple[list[Line], list[Line]]:
    """The balance lines (an item below its minimum level in red) and the low-stock lines."""

    @lru_cache(maxsize=4096)
    def q(value: Decimal, unit: str) -> str:
        return quantity(value, unit, lang=lang)

    low_ids = {x.item_id for x in low}
    lines = []
    for line in balances:
        is_low = line.item_id in low_ids
        lines.append(
            Line(
                (line.warehouse_id, line.item_id),
                (
                    line.warehouse,
                    line.sku,
                    line.item,
                    q(line.on_hand, line.unit),
                    q(line.reserved, line.unit) if line.reserved else "",
                    (q(line.available, line.unit), "low" if is_low else "strong"),
                ),
                style="low" if is_low else None,
                data=line.item_id,
            )
        )
    low_lines = [
        Line(
            x.item_id,
            (
                x.sku,
                x.item,
                (q(x.available, x.unit), "low"),
                q(x.min_level, x.unit),
                (q(x.shortfall, x.unit), "strong"),
            ),
            data=x.item_id,
        )
        for x in low
    ]
    return lines, low_lines


class StockScreen(SectionScreen):
    SECTION = "stock"

    DEBOUNCE: ClassVar[float] = 0.05

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "ledger", "Ledger", id="stock.ledger"),
        Binding("i", "receive", "Receive", id="stock.receive"),
        Binding("t", "transfer", "Transfer", id="stock.transfer"),
        Binding("l", "low_only", "Low only", id="stock.low_only"),
        Binding("slash", "search", "Search", key_display="/", id="stock.search"),
        Binding("w", "warehouse", "Warehouse", show=False, id="stock.warehouse"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="stock.clear_filters"),
        Binding("r", "refresh", "Refresh", show=False, id="stock.refresh"),
        Binding("escape", "focus_list", "To the list", show=False, id="stock.focus_list"),
    ]

    @dataclass
    class Loaded(Message):
        generation: int
        data: StockData

    def __init__(self) -> None:
        super().__init__(id="stock")
        self.filter = StockFilter()
        self.data: StockData | None = None
        self.refs: Refs | None = None
        self._generation = 0
        self._timer: Timer | None = None
        self._stale = False

    # --- layout --------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with Horizontal(id="stock-filters"):
            yield Select[int](
                [], prompt=t("stock.all_warehouses", lang), compact=True, id="stock-warehouse"
            )
            yield Input(
                placeholder=t("stock.search_placeholder", lang), compact=True, id="stock-text"
            )
        yield Static("", id="stock-summary")
        yield LineTable(
            [
                # least widths that fit 80 columns; the names take what a wider screen adds
                Column("warehouse", t("warehouse", lang), 15, flex=1, group=True),
                Column("sku", t("sku", lang), 12),
                Column("item", t("item", lang), 20, flex=3),
                Column("on_hand", t("on_hand", lang), 9, right=True),
                Column("reserved", t("reserved", lang), 9, right=True),
                Column("available", t("available", lang), 9, right=True),
            ],
            lang=lang,
            empty=t("stock.empty", lang),
            id="stock-lines",
        )
        low = LineTable(
            [
                Column("sku", t("sku", lang), 12),
                Column("item", t("item", lang), 22, flex=1),
                Column("available", t("stock.available_all", lang), 15, right=True),
                Column("min", t("min_level", lang), 12, right=True),
                Column("shortfall", t("shortfall", lang), 11, right=True),
            ],
            lang=lang,
            empty=t("stock.no_low", lang),
            id="stock-low",
        )
        low.border_title = t("stock.low_title", lang)
        yield low

    @property
    def table(self) -> LineTable:
        return self.query_one("#stock-lines", LineTable)

    @property
    def low_table(self) -> LineTable:
        return self.query_one("#stock-low", LineTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._load()

    # --- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        self._generation += 1
        generation, flt = self._generation, self.filter
        self.run_worker(
            lambda: self._read(generation, flt),
            thread=True,
            exclusive=True,
            group="stock-load",
            exit_on_error=False,
        )

    def _read(self, generation: int, flt: StockFilter) -> None:
        """In a worker: the balances and low stock, and their lines ready to draw (tens of
        thousands of quantities take a while to format: not on the event loop)."""
        worker = get_current_worker()
        with self.fsm.backend.reader() as session:
            balances = stock_queries.balances(
                session=session, warehouse_id=flt.warehouse_id, text=flt.text
            )
            low = stock_queries.low_stock(session=session)
            refs = load_stock_refs(session)
        if worker.is_cancelled:
            return
        lines, low_lines = stock_lines(balances, low, self.lang)
        data = StockData(
            tuple(lines), tuple(low_lines), frozenset(x.item_id for x in low), len(low), refs
        )
        if not worker.is_cancelled:
            self.post_message(self.Loaded(generation, data))

    def on_stock_screen_loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return
        data = self.data = message.data
        if self.refs is None or self.refs.warehouses != data.refs.warehouses:
            select = self.query_one("#stock-warehouse", Select)
            keep = select.value
            select.set_options([(w.name, w.id) for w in data.refs.warehouses])
            if keep is not Select.NULL and any(w.id == keep for w in data.refs.warehouses):
                select.value = keep
        self.refs = data.refs
        self._show(data)

    def _show(self, data: StockData) -> None:
        lang = self.lang
        shown = [
            line for line in data.lines if not self.filter.low_only or line.data in data.low_ids
        ]
        self.table.set_lines(shown)
        self.low_table.set_lines(data.low_lines)
        warehouses = len({line.key[0] for line in shown})
        items = len({line.data for line in shown})
        summary = Text(
            t("stock.counts", lang, lines=len(shown), items=items, warehouses=warehouses)
        )
        if data.low_count:
            summary.append(" · ")
            summary.append(t("stock.low_count", lang, n=data.low_count), style="bold red")
        if self.filter.low_only:
            summary.append(" · " + t("stock.low_only_on", lang), style="bold")
        self.query_one("#stock-summary", Static).update(summary)

    def orders_changed(self, message: Any) -> None:
        # a write-off or a reservation moved stock: read again now if shown, else when it is
        if self.is_current:
            self._load()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self._load()

    # --- filters -------------------------------------------------------------------------

    def _set_filter(self, **changes: Any) -> None:
        new = StockFilter(**{**self.filter.__dict__, **changes})
        if new == self.filter:
            return
        low_only_changed = new.low_only != self.filter.low_only
        queried = (new.warehouse_id, new.text) != (self.filter.warehouse_id, self.filter.text)
        self.filter = new
        if queried:
            self._load()
        elif low_only_changed and self.data is not None:
            self._show(self.data)

    @on(Select.Changed, "#stock-warehouse")
    def _warehouse_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._set_filter(warehouse_id=event.value if isinstance(event.value, int) else None)

    @on(Input.Changed, "#stock-text")
    def _text_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.DEBOUNCE, self._apply_text)

    @on(Input.Submitted, "#stock-text")
    def _text_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_text()
        self.table.focus()

    def _apply_text(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.query_one("#stock-text", Input).value.strip()
        self._set_filter(text=text or None)

    def action_search(self) -> None:
        self.query_one("#stock-text", Input).focus()

    def action_warehouse(self) -> None:
        self.query_one("#stock-warehouse", Select).focus()

    def action_low_only(self) -> None:
        self._set_filter(low_only=not self.filter.low_only)

    def action_clear_filters(self) -> None:
        self.query_one("#stock-warehouse", Select).clear()
        self.query_one("#stock-text", Input).value = ""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._set_filter(warehouse_id=None, text=None, low_only=False)

    def action_refresh(self) -> None:
        self._load()

    def action_focus_list(self) -> None:
        self.table.focus()

    # --- the selected item ---------------------------------------------------------------

    def _selected(self) -> tuple[int | None, int | None]:
        """(item id, warehouse id) of the line in the focused table (or the main one)."""
        table = self.low_table if self.low_table.has_focus else self.table
        line = table.current_line
        if line is None:
            return None, None
        warehouse_id = line.key[0] if table is self.table else None
        return line.data, warehouse_id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in ("ledger", "receive", "transfer") and self.refs is None)

    def action_ledger(self) -> None:
        item_id, _ = self._selected()
        if item_id is None:
            return
        from fsm_tui.screens.ledger import LedgerScreen

        self.app.push_screen(LedgerScreen(item_id))

    def on_line_table_chosen(self, message: LineTable.Chosen) -> None:
        message.stop()
        self.action_ledger()

    def _open(self, screen: Any) -> None:
        def done(text: str | None) -> None:
            if text:
                self.notify(text)
                self._load()

        self.app.push_screen(screen, done)

    def action_receive(self) -> None:
        if self.refs is None:
            return
        from fsm_tui.screens.stock_forms import ReceiveScreen

        item_id, warehouse_id = self._selected()
        self._open(ReceiveScreen(self.refs, item_id=item_id, warehouse_id=warehouse_id))

    def action_transfer(self) -> None:
        if self.refs is None:
            return
        from fsm_tui.screens.stock_forms import TransferScreen

        item_id, warehouse_id = self._selected()
        self._open(TransferScreen(self.refs, item_id=item_id, warehouse_id=warehouse_id))
