"""Assign an order (назначить): pick an employee, or take the order away from its assignee.

The list shows each employee's open orders (counted by the core's ``count_orders``, in a
worker, after the list is up) so the dispatcher sees who is free. A new order that gets
someone moves on to "assigned" (the core's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlmodel import Session
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fsm_core.db import search_fold
from fsm_core.services import order_queries, orders
from fsm_core.services.order_queries import OrderFilter
from fsm_tui import cells
from fsm_tui.backend import Catalog, Choice
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter

UNASSIGN = "unassign"


@dataclass
class Assigned:
    order_id: int
    number: str
    assignee: str | None
    stage_code: str


class AssignScreen(FormScreen[Assigned | None]):
    """Pick an employee for ``row`` (a board row or an order's details)."""

    @dataclass
    class Loads(Message):
        counts: dict[int, int]

    def __init__(self, catalog: Catalog, row: dict[str, Any]) -> None:
        super().__init__(id="assign")
        self.catalog = catalog
        self.row = row
        self.loads: dict[int, int] = {}
        self.typed = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = t("assign.title", self.lang, number=self.row["number"])
            yield Input(
                placeholder=t("assign.filter", self.lang),
                compact=True,
                select_on_focus=False,
                id="assign-filter",
            )
            yield OptionList(*self._options(), id="employees")
            yield Label("", classes="field-error", id="error-assignee")
            yield Label("", classes="field-error", id="error-form")
        yield KeyFooter()

    def _shown(self) -> list[Choice]:
        """The employees whose name, position or area has every word typed."""
        words = (search_fold(self.typed) or "").split()
        return [
            e
            for e in self.catalog.employees
            if all(w in (search_fold(f"{e.name} {e.detail}") or "") for w in words)
        ]

    def _options(self) -> list[Option]:
        options = []
        current = self.row.get("assignee_id")
        for employee in self._shown():
            options.append(Option(self._prompt(employee, current), id=str(employee.id)))
        if current is not None and not self.typed:  # a typed name never lands on "nobody"
            name = self.catalog.name_of("employees", current)
            options.append(Option(t("assign.unassign", self.lang, name=name), id=UNASSIGN))
        return options

    WIDTH = 60  # the dialog's inner width: each employee is one line

    def _prompt(self, employee: Choice, current: int | None) -> Text:
        """``● Иванов К. П.   открытых: 3  Старший инженер, Центр`` (● marks the assignee)."""
        mine = employee.id == current
        text = Text("● " if mine else "\u00a0\u00a0", style="bold")  # NBSP: kept when drawn
        text.append(cells.fit(employee.name, 16), style="bold" if mine else "")
        load = ""
        if employee.id in self.loads:
            load = t("assign.open_orders", self.lang, n=self.loads[employee.id])
        text.append(" " + cells.fit(load, 13))
        room = self.WIDTH - text.cell_len - 1
        if employee.detail and room > 3:
            text.append(" " + cells.fit(employee.detail, room).rstrip(), style="dim")
        return text

    def on_mount(self) -> None:
        self.clear_errors()
        options = self.query_one("#employees", OptionList)
        self.query_one("#assign-filter", Input).focus()  # type a name, or ↑↓
        current = self.row.get("assignee_id")
        if current is not None:
            index = options.get_option_index(str(current)) if current else 0
            options.highlighted = index
        else:
            options.highlighted = 0
        self._count_loads([e.id for e in self.catalog.employees])

    @work(thread=True, exclusive=True, exit_on_error=False, group="assign-loads")
    def _count_loads(self, employee_ids: list[int]) -> None:
        worker = get_current_worker()
        backend = self.fsm.backend
        counts: dict[int, int] = {}
        with backend.reader() as session:
            for employee_id in employee_ids:
                if worker.is_cancelled:
                    return
                flt = OrderFilter(assignee_ids=[employee_id], open_only=True)
                counts[employee_id] = order_queries.count_orders(
                    session=session, filters=flt, now=backend.now()
                )
        self.post_message(self.Loads(counts))

    def on_assign_screen_loads(self, message: Loads) -> None:
        self.loads = message.counts
        options = self.query_one("#employees", OptionList)
        current = self.row.get("assignee_id")
        for employee in self._shown():
            options.replace_option_prompt(str(employee.id), self._prompt(employee, current))

    @on(Input.Changed, "#assign-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self.typed = event.value.strip()
        options = self.query_one("#employees", OptionList)
        options.set_options(self._options())
        options.highlighted = 0 if options.option_count else None

    @on(Input.Submitted, "#assign-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_key(self, event: events.Key) -> None:
        """↑/↓ move in the list while the name is typed; typing in the list types it."""
        field = self.query_one("#assign-filter", Input)
        options = self.query_one("#employees", OptionList)
        if field.has_focus and event.key in ("up", "down"):
            event.stop()
            event.prevent_default()
            if event.key == "down":
                options.action_cursor_down()
            else:
                options.action_cursor_up()
        elif options.has_focus and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            field.focus()
            field.insert_text_at_cursor(event.character)

    @on(OptionList.OptionSelected, "#employees")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        options = self.query_one("#employees", OptionList)
        if options.highlighted is None:
            return
        option = options.get_option_at_index(options.highlighted)
        assignee_id = None if option.id == UNASSIGN else int(option.id or 0)
        self.clear_errors()
        self._assign(assignee_id)

    def _assign(self, assignee_id: int | None) -> None:
        backend = self.fsm.backend

        def work(session: Session) -> Assigned:
            order = orders.assign_order(
                session=session,
                order_id=self.row["id"],
                assignee_id=assignee_id,
                actor=backend.user,
                expected_version=self.row.get("version"),
            )
            assert order.id is not None
            result = Assigned(
                order.id,
                order.number,
                self.catalog.name_of("employees", order.assignee_id) or None,
                order.stage_code,
            )
            return result

        self.save(work)
