"""The base of the dialogs that change stock and execution: fields in a grid with their
errors under them, one transaction in a worker, and a sentence for the user when it is done.

Each dialog builds its change as a function of a session (the core's service call) that
returns what to tell the user; :meth:`ChangeForm.save` runs it off the event loop. An error
the user can fix is shown next to its field (or under the form), and nothing is changed;
a stock refusal (not enough at that warehouse) is a one-line notification, the form stays
as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.text import Text
from sqlalchemy import select
from sqlmodel import Session
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select
from textual.widgets._select import SelectOverlay
from textual.worker import Worker

from fsm_core.errors import InsufficientStock
from fsm_core.formatting import quantity
from fsm_core.models import Order, Reservation
from fsm_core.services import stock_queries
from fsm_tui.refs import ItemChoice, Refs, WarehouseChoice
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t


def is_field_name(name: str | None) -> bool:
    """Whether an error's field can name a form field (the core sometimes names a field by
    a question's text: that error goes under the form)."""
    return bool(name) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name or "") is not None


class ChangeForm(FormScreen[str | None]):
    """Returns what was done, in a sentence (None: cancelled): its :meth:`save` work
    returns that sentence."""

    def field(self, label: str, widget: Widget, name: str) -> ComposeResult:
        """A row of the form grid: its label, the widget, the line for its error."""
        yield Label(label)
        yield widget
        yield Label("", classes="field-error", id=f"error-{name}")

    def buttons(self, submit: str) -> ComposeResult:
        yield Label("", classes="field-error", id="error-form")
        with Horizontal(classes="buttons"):
            yield Button(submit, variant="primary", id="submit")
            yield Button(t("form.cancel", self.lang), id="cancel")

    def on_mount(self) -> None:
        self.clear_errors()

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        if event.select.has_focus and event.value is not Select.NULL:
            self.focus_next()  # chosen: on to the next field

    def on_key(self, event: events.Key) -> None:
        """Typing on a closed list opens it and finds what is typed (the work type, the
        item): no enter first."""
        select = self.focused
        if (
            isinstance(select, Select)
            and not select.expanded
            and event.is_printable
            and event.character
            and not event.character.isspace()
        ):
            event.stop()
            event.prevent_default()
            select.expanded = True
            overlay = select.query_one(SelectOverlay)
            overlay.post_message(events.Key(event.key, event.character))

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def show_error(self, message: str, field: str | None = None) -> None:
        super().show_error(message, field if is_field_name(field) else None)

    def value(self, selector: str) -> Any:
        """A Select's value (None when blank) or an Input's text, stripped."""
        widget = self.query_one(selector)
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        assert isinstance(widget, Input)
        return widget.value.strip()

    def handle_worker_error(self, worker: Worker[Any], error: BaseException | None) -> bool:
        if isinstance(error, InsufficientStock):
            self.fsm.report_error(error)  # one line; the form stays as typed
            return True
        return super().handle_worker_error(worker, error)


# --- choices ------------------------------------------------------------------------------


def item_options(refs: Refs) -> list[tuple[str, int]]:
    return [(i.label, i.id) for i in refs.items]


def warehouse_options(refs: Refs) -> list[tuple[str, int]]:
    return [(w.name, w.id) for w in refs.warehouses]


def q(value: Decimal, item: ItemChoice | None, lang: str) -> str:
    return quantity(value, item.unit if item else None, lang=lang)


@dataclass(frozen=True)
class Where:
    """An item's stock at each warehouse, and what one order holds of it there."""

    item_id: int
    lines: tuple[tuple[int, Decimal, Decimal], ...]  # warehouse id, available, on hand
    held: dict[int, Decimal]  # warehouse id -> reserved for the order
    suggested: int | None = None  # where a write-off for the order would come from


def read_where(
    session: Session,
    item_id: int,
    order_id: int | None = None,
    quantity: Decimal | None = None,
) -> Where:
    """Runs in a worker: where ``item_id`` is, and (for an order) what it has reserved of
    it and which warehouse a write-off of ``quantity`` would come from (the core's
    ``suggest_write_off``: the reservation's, the technician's van if it has enough, else
    the nearest that has enough)."""
    lines = tuple(
        (line.warehouse_id, line.available, line.on_hand)
        for line in stock_queries.availability(session=session, item_id=item_id).lines
    )
    held: dict[int, Decimal] = {}
    suggested = None
    if order_id is not None:
        for warehouse_id, amount in session.execute(
            select(Reservation.warehouse_id, Reservation.quantity).where(
                Reservation.order_id == order_id, Reservation.item_id == item_id
            )
        ):
            held[warehouse_id] = amount
        order = session.get(Order, order_id)
        if order is not None:
            source = stock_queries.suggest_write_off(
                session=session, order=order, item_id=item_id, quantity=quantity
            )
            suggested = source.id if source is not None else None
    return Where(item_id, lines, held, suggested)


def where_text(where: Where, refs: Refs, lang: str, *, limit: int = 4) -> Text:
    """``Доступно: Центральный склад 28 л (резерв заявки 12 л) · Склад Юг 8,5 кг``."""
    item = refs.item(where.item_id)
    text = Text(t("stock.available_at", lang) + " ", style="dim")
    shown = [w for w in where.lines if w[1] > 0 or w[0] in where.held][:limit]
    if not shown:
        text.append(t("stock.nowhere", lang), style="bold")
        return text
    for index, (warehouse_id, available, _on_hand) in enumerate(shown):
        if index:
            text.append(" · ", style="dim")
        warehouse: WarehouseChoice | None = refs.warehouse(warehouse_id)
        text.append(f"{warehouse.name if warehouse else warehouse_id} ")
        text.append(q(available, item, lang), style="bold")
        if warehouse_id in where.held:
            text.append(" " + t("stock.held_here", lang, n=q(where.held[warehouse_id], item, lang)))
    return text
