"""A new order (новая заявка), as a dispatcher takes it on the phone.

"Find" resolves whatever the caller reads out — the object's inventory or serial number from
its label, the company's INN or name — through :mod:`fsm_core.services.lookup`, and fills
the customer and object; when several match ("пекарня"), they are listed under it to pick
from with the arrows and Enter. Every rule is the core's: ``create_order`` numbers the order, sets
its SLA deadlines, moves it to "assigned" when an assignee is given, and its errors are
shown next to the field they are about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, Select, TextArea
from textual.widgets.option_list import Option

from fsm_core.errors import FsmError
from fsm_core.i18n import criticality_name, label
from fsm_core.models import Criticality
from fsm_core.services import lookup, orders
from fsm_tui.backend import Catalog
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter


@dataclass
class Created:
    order_id: int
    number: str
    stage_code: str


class NewOrderScreen(FormScreen[Created | None]):
    """Returns the created order (or None when cancelled)."""

    @dataclass
    class Found(Message):
        customer_id: int
        object_id: int | None
        what: str

    @dataclass
    class Choices(Message):
        """Several lines to pick from: one Found for each of the core's picks."""

        found: list[NewOrderScreen.Found]
        picks: list[lookup.Pick]

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(id="new-order")
        self.catalog = catalog
        self._filled_for: int | None = None
        self._choices: list[NewOrderScreen.Found] = []

    def compose(self) -> ComposeResult:
        lang = self.lang
        catalog = self.catalog
        with Vertical(classes="dialog wide") as box:
            box.border_title = t("new_order.title", lang)
            with Grid(classes="form-grid"):
                yield Label(t("form.find", lang))
                yield Input(placeholder=t("form.find_placeholder", lang), compact=True, id="find")
            # outside the grid: a grid row spanning both columns sizes itself for one
            yield Label("", classes="field-error", id="error-find")
            yield OptionList(id="find-matches", classes="find-matches")
            with Grid(classes="form-grid"):
                yield Label(label("customer", lang) + " *")
                yield Select(
                    [(c.name, c.id) for c in catalog.customers],
                    prompt=t("form.pick_customer", lang),
                    compact=True,
                    id="customer",
                )
                yield Label("", classes="field-error", id="error-customer")
                yield Label(label("object", lang))
                yield Select[int]([], prompt=t("form.none", lang), compact=True, id="object")
                yield Label("", classes="field-error", id="error-object")
                yield Label(label("contact", lang))
                yield Select[int]([], prompt=t("form.none", lang), compact=True, id="contact")
                yield Label("", classes="field-error", id="error-contact")
                yield Label(label("criticality", lang))
                yield Select(
                    [(criticality_name(c.value, lang), c.value) for c in Criticality],
                    value=Criticality.NORMAL.value,
                    allow_blank=False,
                    compact=True,
                    id="criticality",
                )
                yield Label("", classes="field-error", id="error-criticality")
                yield Label(label("description", lang) + " *")
                yield TextArea(compact=True, id="description", classes="description")
                yield Label("", classes="field-error", id="error-description")
                yield Label(label("assignee", lang))
                yield Select(
                    [(f"{e.name}  {e.detail}".strip(), e.id) for e in catalog.employees],
                    prompt=t("form.none", lang),
                    compact=True,
                    id="assignee",
                )
                yield Label("", classes="field-error", id="error-assignee")
            yield Label("", classes="field-error", id="error-form")
            with Horizontal(classes="buttons"):
                yield Button(t("form.create", lang), variant="primary", id="submit")
                yield Button(t("form.cancel", lang), id="cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#find-matches").display = False
        self.query_one("#description", TextArea).placeholder = t(
            "form.description_placeholder", self.lang
        )
        self.query_one("#find", Input).focus()

    # --- the customer's objects and contacts ---------------------------------------------

    @on(Select.Changed, "#customer")
    def _customer_changed(self, event: Select.Changed) -> None:
        customer_id = event.value if isinstance(event.value, int) else None
        if customer_id != self._filled_for:  # not already filled by "find"
            self._fill_for(customer_id)

    def _fill_for(self, customer_id: int | None, object_id: int | None = None) -> None:
        self._filled_for = customer_id
        objects = self.query_one("#object", Select)
        contacts = self.query_one("#contact", Select)
        if customer_id is None:
            objects.set_options([])
            contacts.set_options([])
            return
        objects.set_options(
            [(f"{o.label}  {o.detail}".strip(), o.id) for o in self.catalog.objects_of(customer_id)]
        )
        contacts.set_options(
            [(f"{c.name}  {c.detail}".strip(), c.id) for c in self.catalog.contacts_of(customer_id)]
        )
        if object_id is not None:
            objects.value = object_id

    # --- find by what the caller reads out -----------------------------------------------

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.clear_errors()
            self.query_one("#find-matches").display = False
            self._find(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="new-order-find")
    def _find(self, text: str) -> None:
        with self.fsm.backend.reader() as session:
            picks = lookup.search_for_order(session=session, text=text)
        single = lookup.single_pick(picks)
        if single is not None:
            self.post_message(self._found(single))
        else:
            self.post_message(self.Choices([self._found(p) for p in picks], picks))

    def _found(self, pick: lookup.Pick) -> Found:
        row = pick.object
        if row is None:
            inn = f", {label('inn', self.lang)} {pick.inn}" if pick.inn else ""
            return self.Found(pick.customer_id, None, f"{pick.customer}{inn}")
        if row.depth == 0:
            where = f", {row.address}" if row.address else ""
            return self.Found(pick.customer_id, row.id, f"{row.name}{where}")
        return self.Found(pick.customer_id, row.id, f"{row.site} › {row.name}")

    def _pick_prompt(self, pick: lookup.Pick) -> Text:
        """``ООО «СМ-Трейд» · ИНН …``, its sites under it with their address, and each
        site's equipment under the site with its inventory number."""
        row = pick.object
        if row is None:
            text = Text(pick.customer, style="bold")
            if pick.inn:
                text.append(f" · {label('inn', self.lang)} {pick.inn}", style="dim")
        else:
            text = Text("\u00a0\u00a0" * (row.depth + 1))
            text.append(row.name, style="" if pick.matched else "dim")
            detail = row.address if row.depth == 0 else (row.inventory_number or row.serial_number)
            if detail:
                text.append(f" · {detail}", style="dim")
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def on_new_order_screen_choices(self, message: Choices) -> None:
        self._choices = message.found
        matches = self.query_one("#find-matches", OptionList)
        matches.set_options([Option(self._pick_prompt(p)) for p in message.picks])
        matches.display = True
        first = next((i for i, p in enumerate(message.picks) if p.matched), 0)
        matches.highlighted = first
        shown = sum(1 for p in message.picks if p.matched)
        key = "form.find_several" if shown > 1 else "form.find_site"
        self.show_error(t(key, self.lang, n=shown), "find")
        matches.focus()

    @on(OptionList.OptionSelected, "#find-matches")
    def _match_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self._choices[event.option_index])

    def on_new_order_screen_found(self, message: Found) -> None:
        self.query_one("#find-matches").display = False
        customer = self.query_one("#customer", Select)
        customer.value = message.customer_id
        self._fill_for(message.customer_id, message.object_id)
        found = self.query_one("#error-find", Label)
        found.update(t("form.found", self.lang, what=message.what))
        found.display = True
        found.add_class("found")
        self.query_one("#description", TextArea).focus()

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if worker.group == "new-order-find" and error is not None:
            message = error.one_line(self.lang) if isinstance(error, FsmError) else str(error)
            self.show_error(message, "find")
            self.query_one("#error-find", Label).remove_class("found")
            return True
        return super().handle_worker_error(worker, error)

    # --- create --------------------------------------------------------------------------

    def _value(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value

    def action_submit(self) -> None:
        self.clear_errors()
        customer_id = self._value("#customer")
        if customer_id is None:
            self.show_error(t("form.pick_customer", self.lang), "customer")
            self.query_one("#customer", Select).focus()
            return
        data: dict[str, Any] = {
            "customer_id": customer_id,
            "object_id": self._value("#object"),
            "contact_id": self._value("#contact"),
            "description": self.query_one("#description", TextArea).text,
            "criticality": self._value("#criticality"),
            "assignee_id": self._value("#assignee"),
        }
        self._create(data)

    def _create(self, data: dict[str, Any]) -> None:
        backend = self.fsm.backend

        def work(session: Session) -> Created:
            order = orders.create_order(session=session, data=data, actor=backend.user)
            assert order.id is not None
            created = Created(order.id, order.number, order.stage_code)
            return created

        self.save(work)
