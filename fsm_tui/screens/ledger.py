"""One item's ledger (движение ТМЦ): where it is now, and every movement newest first —
when, what kind, from where to where, how much, at what price, for which order, by whom.
``enter`` on a movement for an order opens that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from fsm_core.formatting import money, quantity
from fsm_core.i18n import movement_name
from fsm_core.services import lookup, stock_queries
from fsm_core.services import settings as company_settings
from fsm_tui import cells
from fsm_tui.node import AppNode
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.line_table import Column, Line, LineTable
from fsm_tui.workers import WorkerErrors

if TYPE_CHECKING:
    pass

LIMIT = 1000  # movements shown: the newest; `fsm stock ledger --item` has them all


@dataclass(frozen=True)
class LedgerData:
    item: Any  # fsm_core.models.Item, read off the session
    where: tuple[stock_queries.StockLine, ...]
    movements: tuple[stock_queries.LedgerLine, ...]
    low: bool
    tz: Any
    currency: str


def read_ledger(session: Session, item_id: int) -> LedgerData:
    item = stock_queries.get_item(session=session, item_id=item_id)
    session.expunge(item)
    availability = stock_queries.availability(session=session, item_id=item_id)
    movements = stock_queries.ledger(session=session, item_id=item_id, limit=LIMIT)
    settings = company_settings.load(session=session)
    low = stock_queries.item_is_low(session=session, item=item)
    return LedgerData(
        item,
        tuple(availability.lines),
        tuple(movements),
        low,
        settings.tz,
        settings["currency"] or "RUB",
    )


class LedgerScreen(AppNode, WorkerErrors, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="ledger.close"),
        Binding("enter", "open_order", "Open order", id="ledger.open_order"),
    ]

    @dataclass
    class Loaded(Message):
        data: LedgerData

    @dataclass
    class OrderFound(Message):
        order_id: int

    def __init__(self, item_id: int) -> None:
        super().__init__(id="ledger")
        self.item_id = item_id
        self.data: LedgerData | None = None

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog ledger") as box:
            box.border_title = t("ledger.title", lang)
            yield Static(t("loading", lang), id="ledger-item")
            yield LineTable(
                [
                    Column("warehouse", t("warehouse", lang), 30, flex=1),
                    Column("on_hand", t("on_hand", lang), 12, right=True),
                    Column("reserved", t("reserved", lang), 12, right=True),
                    Column("available", t("available", lang), 12, right=True),
                ],
                lang=lang,
                empty=t("stock.nowhere", lang),
                cursor=False,
                id="ledger-where",
            )
            yield LineTable(
                [
                    Column("when", t("when", lang), 12),  # Dec 06 15:39
                    Column("kind", t("movement", lang), 12),
                    Column("from", t("from", lang), 18, flex=2),
                    Column("to", t("to", lang), 18, flex=2),
                    Column("quantity", t("quantity", lang), 8, right=True),
                    Column("price", t("price", lang), 11, right=True),
                    Column("order", t("order", lang), 8),
                    Column("who", t("who", lang), 13),
                    Column("note", t("ledger.note", lang), 8, flex=1),
                ],
                lang=lang,
                empty=t("ledger.empty", lang),
                id="ledger-lines",
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#ledger-lines", LineTable).focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ledger-load")
    def _load(self) -> None:
        with self.fsm.backend.reader() as session:
            data = read_ledger(session, self.item_id)
        self.post_message(self.Loaded(data))

    def on_ledger_screen_loaded(self, message: Loaded) -> None:
        data = self.data = message.data
        lang = self.lang
        item = data.item
        head = Text()
        head.append(item.name, style="bold")
        head.append(f" · {item.sku} · {item.unit}")

        def price(value: Any) -> str:
            return money(value, lang=lang, currency=data.currency)

        facts = [
            f"{t('purchase_price', lang)} {price(item.purchase_price)}",
            f"{t('sale_price', lang)} {price(item.sale_price)}",
        ]
        if item.min_level:
            facts.append(f"{t('min_level', lang)} {quantity(item.min_level, item.unit, lang=lang)}")
        head.append("\n" + " · ".join(facts), style="dim")
        if data.low:
            head.append("  " + t("stock.low_mark", lang), style="bold red")
        self.query_one("#ledger-item", Static).update(head)
        where = self.query_one("#ledger-where", LineTable)
        where.set_lines(
            [
                Line(
                    line.warehouse_id,
                    (
                        line.warehouse,
                        quantity(line.on_hand, line.unit, lang=lang),
                        quantity(line.reserved, line.unit, lang=lang) if line.reserved else "",
                        (quantity(line.available, line.unit, lang=lang), "strong"),
                    ),
                )
                for line in data.where
            ]
        )
        where.styles.height = min(len(data.where), 6) + 1 if data.where else 2
        movements = [self._movement(m, data) for m in data.movements]
        self.query_one("#ledger-lines", LineTable).set_lines(movements, keep=False)
        if len(data.movements) >= LIMIT:
            self.notify(t("ledger.limited", lang, n=LIMIT))

    def _movement(self, m: stock_queries.LedgerLine, data: LedgerData) -> Line:
        lang = self.lang
        note = " · ".join(x for x in (m.document, m.reason) if x)
        kind_style = {"write_off": "warn", "receipt": "good", "adjustment": "dim"}.get(m.kind)
        return Line(
            m.id,
            (
                cells.when(m.at, data.tz, lang, self.fsm.backend.now()),
                (movement_name(m.kind, lang), kind_style),
                m.from_warehouse or "",
                m.to_warehouse or "",
                quantity(m.quantity, m.unit, lang=lang),
                money(m.unit_price, lang=lang, currency=data.currency),
                (m.order or "", "strong"),
                m.actor,
                cells.one_line(note),
            ),
            data=m,
        )

    # --- actions -------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_order":
            line = self.query_one("#ledger-lines", LineTable).current_line
            return line is not None and bool(line.data.order)
        return True

    def on_line_table_highlighted(self, message: LineTable.Highlighted) -> None:
        self.refresh_bindings()

    def on_line_table_chosen(self, message: LineTable.Chosen) -> None:
        if message.table.id == "ledger-lines":
            self.action_open_order()

    def action_open_order(self) -> None:
        line = self.query_one("#ledger-lines", LineTable).current_line
        if line is not None and line.data.order:
            self._find_order(line.data.order)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ledger-order")
    def _find_order(self, number: str) -> None:
        with self.fsm.backend.reader() as session:
            order = lookup.resolve_order(session=session, ref=number)
            assert order.id is not None
        self.post_message(self.OrderFound(order.id))

    def on_ledger_screen_order_found(self, message: OrderFound) -> None:
        self.dismiss(None)
        self.fsm.open_order(message.order_id)
