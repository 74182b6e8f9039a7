"""The order's materials (необходимые материалы): per item and warehouse, what is reserved
for it, written off against it and returned, and what is free there now.

Keys: ``r`` reserve free stock for the order, ``x`` release the line's reservation (all of
it, or as much as typed), ``u`` write the line's item off (a material used, as on the
execution tab: the reservation is used first). A cancelled or closed order holds nothing:
the core released its reservations when it got there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from fsm_core.formatting import quantity
from fsm_core.models import Order
from fsm_core.services import execution, stock_queries
from fsm_core.services.execution import ExecutionLock
from fsm_core.services.stock_queries import OrderMaterial
from fsm_tui.refs import Refs, load_stock_refs
from fsm_tui.screens.execution_forms import MaterialScreen
from fsm_tui.screens.stock_forms import ReleaseScreen, ReserveScreen
from fsm_tui.tabs.base import OrderPane
from fsm_tui.text import t
from fsm_tui.widgets.line_table import Column, Line, LineTable

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard


@dataclass(frozen=True)
class MaterialsData:
    lines: tuple[OrderMaterial, ...]
    refs: Refs
    number: str
    finished: bool  # closed or cancelled: it holds nothing, nothing is reserved for it
    lock: ExecutionLock | None = None  # nothing more is used: closed, cancelled or signed


class MaterialsPane(OrderPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reserve", "Reserve", id="materials.reserve"),
        Binding("x", "release", "Release", id="materials.release"),
        Binding("u", "write_off", "Write off", id="materials.write_off"),
    ]

    def __init__(self, order_id: int, app: Dashboard) -> None:
        super().__init__(order_id, app, id="materials")
        self.data: MaterialsData | None = None

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static("", id="materials-summary", classes="pane-summary")
        yield LineTable(
            [
                Column("item", t("item", lang), 24, flex=1),
                Column("sku", t("sku", lang), 13),
                Column("warehouse", t("warehouse", lang), 22),
                Column("reserved", t("reserved", lang), 10, right=True),
                Column("written_off", t("written_off", lang), 11, right=True),
                Column("returned", t("returned", lang), 10, right=True),
                Column("available", t("materials.free_there", lang), 10, right=True),
            ],
            lang=lang,
            empty=t("materials.none", lang),
            id="materials-lines",
        )

    @property
    def table(self) -> LineTable:
        return self.query_one("#materials-lines", LineTable)

    def focus_main(self) -> LineTable:
        return self.table

    # --- reading -------------------------------------------------------------------------

    def read(self, session: Session) -> MaterialsData:
        order = session.get(Order, self.order_id)
        lock = execution.execution_lock(session=session, order=order) if order is not None else None
        finished = lock is not None and not lock.signed
        lines = tuple(stock_queries.order_materials(session=session, order_id=self.order_id))
        number = order.number if order else f"#{self.order_id}"
        return MaterialsData(lines, load_stock_refs(session), number, finished, lock)

    def show(self, data: MaterialsData) -> None:
        self.data = data
        lang = self.lang

        def q(value: Decimal, unit: str) -> str:
            return quantity(value, unit, lang=lang) if value else ""

        lines = [
            Line(
                (m.item_id, m.warehouse_id),
                (
                    m.item,
                    m.sku,
                    m.warehouse,
                    (q(m.reserved, m.unit), "strong"),
                    q(m.written_off, m.unit),
                    q(m.returned, m.unit),
                    (quantity(m.available, m.unit, lang=lang), "low" if m.available <= 0 else None),
                ),
                data=m,
            )
            for m in data.lines
        ]
        self.table.set_lines(lines)
        held = sum(1 for m in data.lines if m.reserved)
        used = sum(1 for m in data.lines if m.used)
        summary = Text(t("materials.counts", lang, reserved=held, used=used))
        if data.finished:
            note = "materials.closed"
        elif data.lock is not None:
            note = "materials.signed"
        else:
            note = "materials.released_when"
        summary.append(" · " + t(note, lang), style="dim")
        self.query_one("#materials-summary", Static).update(summary)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a closed or cancelled order reserves nothing more; what an order used is settled
        # once it is closed, cancelled or its act signed (the core's execution_lock)
        data = self.data
        if data is None:
            return True
        if action == "reserve":
            return not data.finished
        if action == "write_off":
            return data.lock is None
        return True

    # --- actions -------------------------------------------------------------------------

    def _current(self) -> OrderMaterial | None:
        line = self.table.current_line
        return line.data if line is not None else None

    def action_reserve(self) -> None:
        if self.data is None:
            return
        current = self._current()
        self.open_form(
            ReserveScreen(
                self.data.refs,
                order_id=self.order_id,
                number=self.data.number,
                item_id=current.item_id if current else None,
                warehouse_id=current.warehouse_id if current else None,
            )
        )

    def action_release(self) -> None:
        current = self._current()
        if current is None or not current.reserved:
            self.app.notify(t("materials.nothing_reserved", self.lang), severity="warning")
            return
        self.open_form(
            ReleaseScreen(
                order_id=self.order_id,
                item_id=current.item_id,
                warehouse_id=current.warehouse_id,
                what=f"{current.item}, {current.warehouse}",
                reserved=current.reserved,
                unit=current.unit,
            )
        )

    def action_write_off(self) -> None:
        if self.data is None:
            return
        current = self._current()
        self.open_form(
            MaterialScreen(
                self.order_id,
                self.data.refs,
                item_id=current.item_id if current else None,
                warehouse_id=current.warehouse_id if current else None,
                amount=current.reserved if current and current.reserved else None,
            )
        )
