"""The stock dialogs: a receipt (приход), a transfer (перемещение), and an order's
reservation (необходимые материалы) and its release. Where the item is, and how much is
free there, is shown as it is chosen; every rule — never oversell, whole numbers for шт —
is the core's (:mod:`fsm_core.services.stock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Select, Static

from fsm_core.errors import FsmError, InvalidInput
from fsm_core.formatting import quantity
from fsm_core.services import lookup, stock, stock_queries
from fsm_core.values import parse_quantity
from fsm_tui.refs import Refs
from fsm_tui.screens.forms import (
    ChangeForm,
    Where,
    item_options,
    read_where,
    warehouse_options,
    where_text,
)
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter


def _amount(text: str, session: Session, item_id: int) -> tuple[Decimal, Any]:
    item = stock_queries.get_item(session=session, item_id=item_id)
    value = parse_quantity(text, field="quantity", unit=item.unit)
    if value is None:
        raise InvalidInput("quantity: how much?", field="quantity")
    return value, item


class StockForm(ChangeForm):
    """Item, warehouse(s) and quantity, with where the item is shown under them."""

    TITLE_KEY = ""
    SAVE_KEY = "form.save"

    @dataclass
    class WhereRead(Message):
        where: Where

    def __init__(
        self,
        refs: Refs,
        *,
        item_id: int | None = None,
        warehouse_id: int | None = None,
        order_id: int | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.refs = refs
        self.item_id = item_id
        self.warehouse_id = warehouse_id
        self.order_id = order_id
        self._picked_warehouse = warehouse_id is not None
        self._quantity_timer: Timer | None = None

    def item_field(self) -> ComposeResult:
        yield from self.field(
            t("item", self.lang) + " *",
            Select(
                item_options(self.refs),
                prompt=t("material.pick_item", self.lang),
                value=self.item_id if self.item_id is not None else Select.NULL,
                compact=True,
                id="item",
            ),
            "item",
        )

    def warehouse_field(self, name: str, label: str, value: int | None) -> ComposeResult:
        yield from self.field(
            label + " *",
            Select(
                warehouse_options(self.refs),
                prompt=t("material.pick_warehouse", self.lang),
                value=value if value is not None else Select.NULL,
                compact=True,
                id=name,
            ),
            name,
        )

    def quantity_field(self, value: str = "") -> ComposeResult:
        item = self.refs.item(self.item_id)
        yield from self.field(
            t("quantity", self.lang) + " *",
            Input(value, placeholder=item.unit if item else "", compact=True, id="quantity"),
            "quantity",
        )

    def fields(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide") as box:
            box.border_title = self.title_text()
            with Grid(classes="form-grid"):
                yield from self.fields()
            yield Static("", id="where", classes="hint")
            yield from self.buttons(t(self.SAVE_KEY, self.lang))
        yield KeyFooter()

    def title_text(self) -> str:
        return t(self.TITLE_KEY, self.lang)

    def on_mount(self) -> None:
        # the first required field still empty takes the focus
        for name in ("item", "warehouse", "target", "quantity"):
            found = self.query(f"#{name}")
            if found and self.value(f"#{name}") in (None, ""):
                found.first().focus()
                break
        if self.item_id is not None:
            self._ask_where()

    @on(Select.Changed, "#item")
    def _item_changed(self, event: Select.Changed) -> None:
        self.item_id = event.value if isinstance(event.value, int) else None
        item = self.refs.item(self.item_id)
        quantity_input = self.query_one("#quantity", Input)
        quantity_input.placeholder = item.unit if item else ""
        if self.item_id is not None:
            self._ask_where()
        else:
            self.query_one("#where", Static).update("")

    @on(Select.Changed, "#warehouse")
    def _warehouse_changed(self, event: Select.Changed) -> None:
        if event.select.has_focus:
            self._picked_warehouse = True

    @on(Input.Changed, "#quantity")
    def _quantity_changed(self, event: Input.Changed) -> None:
        """How much decides which warehouse has enough: ask again (unless one was picked)."""
        if self.order_id is None or self.item_id is None or self._picked_warehouse:
            return
        if self._quantity_timer is not None:
            self._quantity_timer.stop()
        self._quantity_timer = self.set_timer(0.3, self._ask_where)

    def _typed_quantity(self) -> Decimal | None:
        item = self.refs.item(self.item_id)
        try:
            return parse_quantity(
                self.query_one("#quantity", Input).value, unit=item.unit if item else None
            )
        except FsmError:
            return None

    def _ask_where(self) -> None:
        if self.item_id is not None:
            self._read_where(self.item_id, self._typed_quantity())

    @work(thread=True, exclusive=True, exit_on_error=False, group="stock-where")
    def _read_where(self, item_id: int, quantity: Decimal | None = None) -> None:
        with self.fsm.backend.reader() as session:
            where = read_where(session, item_id, self.order_id, quantity)
        self.post_message(self.WhereRead(where))

    def on_stock_form_where_read(self, message: WhereRead) -> None:
        where = message.where
        if where.item_id != self.item_id:
            return
        self.query_one("#where", Static).update(where_text(where, self.refs, self.lang))
        if not self._picked_warehouse and where.suggested is not None:
            select = self.query_one("#warehouse", Select)
            select.value = where.suggested

    def required(self, *names: str) -> dict[str, Any] | None:
        """The values of these fields; None (errors shown) when one is missing."""
        values = {name: self.value(f"#{name}") for name in names}
        missing = [name for name, value in values.items() if value in (None, "")]
        for name in missing:
            key = {
                "item": "material.pick_item",
                "warehouse": "material.pick_warehouse",
                "source": "material.pick_warehouse",
                "target": "material.pick_warehouse",
            }.get(name, "form.required")
            self.show_error(t(key, self.lang), name)
        return None if missing else values


class ReceiveScreen(StockForm):
    """Stock arrives at a warehouse, at the purchase price unless another is given."""

    TITLE_KEY = "receive.title"
    SAVE_KEY = "receive.save"

    def __init__(self, refs: Refs, **kwargs: Any) -> None:
        super().__init__(refs, id="receive-form", **kwargs)

    def fields(self) -> ComposeResult:
        lang = self.lang
        yield from self.item_field()
        yield from self.warehouse_field("warehouse", t("receive.to", lang), self.warehouse_id)
        yield from self.quantity_field()
        yield from self.field(
            t("receive.price", lang),
            Input(placeholder=t("receive.price_placeholder", lang), compact=True, id="price"),
            "price",
        )
        yield from self.field(
            t("document", lang),
            Input(placeholder=t("receive.document_placeholder", lang), compact=True, id="document"),
            "document",
        )

    def action_submit(self) -> None:
        values = self.required("item", "warehouse", "quantity")
        if values is None:
            return
        price = self.value("#price") or None
        document = self.value("#document") or None
        lang, actor = self.lang, self.fsm.backend.user

        def receive(session: Session) -> str:
            amount, item = _amount(values["quantity"], session, values["item"])
            movement = stock.receive(
                session=session,
                item_id=item.id,
                warehouse_id=values["warehouse"],
                quantity=amount,
                unit_price=price,
                document=document,
                actor=actor,
            )
            warehouse = stock_queries.get_warehouse(
                session=session, warehouse_id=values["warehouse"]
            )
            return t(
                "receive.saved",
                lang,
                item=item.name,
                n=quantity(movement.quantity, item.unit, lang=lang),
                warehouse=warehouse.name,
            )

        self.save(receive)


class TransferScreen(StockForm):
    """Stock moves between warehouses (central → a van); with an order, its reservation
    moves along."""

    TITLE_KEY = "transfer.title"
    SAVE_KEY = "transfer.save"

    def __init__(self, refs: Refs, **kwargs: Any) -> None:
        super().__init__(refs, id="transfer-form", **kwargs)

    def fields(self) -> ComposeResult:
        lang = self.lang
        yield from self.item_field()
        yield from self.warehouse_field("warehouse", t("transfer.from", lang), self.warehouse_id)
        yield from self.warehouse_field("target", t("transfer.to", lang), None)
        yield from self.quantity_field()
        yield from self.field(
            t("transfer.order", lang),
            Input(placeholder=t("transfer.order_placeholder", lang), compact=True, id="order"),
            "order",
        )

    def action_submit(self) -> None:
        values = self.required("item", "warehouse", "target", "quantity")
        if values is None:
            return
        order_ref = self.value("#order") or None
        lang, actor = self.lang, self.fsm.backend.user

        def move(session: Session) -> str:
            amount, item = _amount(values["quantity"], session, values["item"])
            order = lookup.resolve_order(session=session, ref=order_ref) if order_ref else None
            stock.transfer(
                session=session,
                item_id=item.id,
                from_warehouse_id=values["warehouse"],
                to_warehouse_id=values["target"],
                quantity=amount,
                order_id=order.id if order else None,
                actor=actor,
            )
            source = stock_queries.get_warehouse(session=session, warehouse_id=values["warehouse"])
            target = stock_queries.get_warehouse(session=session, warehouse_id=values["target"])
            return t(
                "transfer.saved",
                lang,
                item=item.name,
                n=quantity(amount, item.unit, lang=lang),
                source=source.name,
                target=target.name,
            )

        self.save(move)


class ReserveScreen(StockForm):
    """Promise free stock to an order (необходимые материалы) without moving it."""

    TITLE_KEY = "reserve.title"
    SAVE_KEY = "reserve.save"

    def __init__(self, refs: Refs, *, order_id: int, number: str, **kwargs: Any) -> None:
        super().__init__(refs, id="reserve-form", order_id=order_id, **kwargs)
        self.number = number

    def title_text(self) -> str:
        return t(self.TITLE_KEY, self.lang, number=self.number)

    def fields(self) -> ComposeResult:
        yield from self.item_field()
        yield from self.warehouse_field("warehouse", t("warehouse", self.lang), self.warehouse_id)
        yield from self.quantity_field()

    def action_submit(self) -> None:
        values = self.required("item", "warehouse", "quantity")
        if values is None:
            return
        order_id = self.order_id
        assert order_id is not None
        lang, actor = self.lang, self.fsm.backend.user

        def reserve(session: Session) -> str:
            amount, item = _amount(values["quantity"], session, values["item"])
            total = stock.reserve(
                session=session,
                order_id=order_id,
                item_id=item.id,
                warehouse_id=values["warehouse"],
                quantity=amount,
                actor=actor,
            )
            warehouse = stock_queries.get_warehouse(
                session=session, warehouse_id=values["warehouse"]
            )
            return t(
                "reserve.saved",
                lang,
                item=item.name,
                n=quantity(amount, item.unit, lang=lang),
                warehouse=warehouse.name,
                total=quantity(total, item.unit, lang=lang),
            )

        self.save(reserve)


class ReleaseScreen(ChangeForm):
    """Give back (some of) what an order has reserved of one item at one warehouse."""

    def __init__(
        self,
        *,
        order_id: int,
        item_id: int,
        warehouse_id: int,
        what: str,
        reserved: Decimal,
        unit: str,
    ) -> None:
        super().__init__(id="release-form")
        self.order_id = order_id
        self.item_id = item_id
        self.warehouse_id = warehouse_id
        self.what = what
        self.reserved = reserved
        self.unit = unit

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog") as box:
            box.border_title = t("release.title", lang)
            yield Static(
                t(
                    "release.what",
                    lang,
                    what=self.what,
                    n=quantity(self.reserved, self.unit, lang=lang),
                ),
                classes="question",
            )
            with Grid(classes="form-grid"):
                yield from self.field(
                    t("quantity", lang) + " *",
                    Input(
                        quantity(self.reserved, lang=lang),
                        placeholder=self.unit,
                        compact=True,
                        id="quantity",
                    ),
                    "quantity",
                )
            yield from self.buttons(t("release.save", lang))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#quantity", Input).focus()

    def action_submit(self) -> None:
        text = self.value("#quantity")
        if not text:
            self.show_error(t("form.required", self.lang), "quantity")
            return
        order_id, item_id, warehouse_id = self.order_id, self.item_id, self.warehouse_id
        lang, actor = self.lang, self.fsm.backend.user

        def release(session: Session) -> str:
            amount, item = _amount(text, session, item_id)
            released = stock.release(
                session=session,
                order_id=order_id,
                item_id=item_id,
                warehouse_id=warehouse_id,
                quantity=amount,
                actor=actor,
            )
            total = sum((r.quantity for r in released), Decimal(0))
            return t("release.saved", lang, item=item.name, n=quantity(total, item.unit, lang=lang))

        self.save(release)
