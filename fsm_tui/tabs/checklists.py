"""The order's checklists (чек-листы): every item with its answer, who gave it and when;
required items still unanswered are marked (the order cannot be closed while one is).
The item under the cursor is shown in full below: its hint, what answer it wants, its rule.

``enter`` answers the item as its kind asks (a check-in records the time now); ``y`` and
``n`` answer a yes/no item at once. What the item's rule did — a follow-up order, a raised
criticality — is said in a notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from fsm_core.formatting import moment
from fsm_core.models import Order
from fsm_core.services import execution
from fsm_core.services import settings as company_settings
from fsm_core.services.execution import ExecutionLock
from fsm_tui import cells
from fsm_tui.screens.answer import (
    Answered,
    AnswerScreen,
    ItemView,
    answered_message,
    item_view,
    kind_text,
    record_answer,
    rule_text,
)
from fsm_tui.tabs.base import OrderPane
from fsm_tui.text import t
from fsm_tui.widgets.line_table import Column, Line, LineTable

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard


@dataclass(frozen=True)
class ChecklistData:
    items: tuple[ItemView, ...]
    tz: Any
    lock: ExecutionLock | None  # answers are final: the order is closed, or its act signed
    number: str

    @property
    def closed(self) -> bool:
        return self.lock is not None


class ChecklistPane(OrderPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "answer", "Answer", id="checklist.answer"),
        Binding("y", "yes_no('yes')", "Yes", id="checklist.yes"),
        Binding("n", "yes_no('no')", "No", id="checklist.no"),
    ]

    def __init__(self, order_id: int, app: Dashboard) -> None:
        super().__init__(order_id, app, id="checklists")
        self.data: ChecklistData | None = None
        self._answered_id: int | None = None  # after its answer: on to the next open item

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static("", id="checklist-summary", classes="pane-summary")
        yield LineTable(
            [
                Column("mark", "", 1),
                Column("no", "№", 2, right=True),
                Column("text", t("checklist.item", lang), 30, flex=1),
                Column("kind", t("checklist.kind", lang), 12),
                Column("answer", t("checklist.answer_col", lang), 18),
                Column("who", t("who", lang), 15),
                Column("when", t("when", lang), 12),  # Dec 06 15:39
            ],
            lang=lang,
            empty=t("checklist.none", lang),
            id="checklist-items",
        )
        yield Static("", id="checklist-detail", classes="pane-detail")

    @property
    def table(self) -> LineTable:
        return self.query_one("#checklist-items", LineTable)

    def focus_main(self) -> LineTable:
        return self.table

    # --- reading -------------------------------------------------------------------------

    def read(self, session: Session) -> ChecklistData:
        tz = company_settings.load(session=session).tz
        order = session.get(Order, self.order_id)
        lock = execution.execution_lock(session=session, order=order) if order is not None else None
        states = execution.checklist_state(session=session, order_id=self.order_id)
        items = tuple(item_view(s, tz=tz, lang=self.lang) for s in states)
        number = order.number if order is not None else ""
        return ChecklistData(items=items, tz=tz, lock=lock, number=number)

    def show(self, data: ChecklistData) -> None:
        first = self.data is None
        self.data = data
        lang = self.lang
        lines: list[Line] = []
        template = None
        for item in data.items:
            if item.template != template:
                template = item.template
                lines.append(Line(("template", template), heading=template))
            lines.append(self._line(item, data.tz))
        self.table.set_lines(lines)
        if self._answered_id is not None:
            self._advance(data, self._answered_id)
            self._answered_id = None
        elif first:  # where the work is: the first required item without an answer
            todo = next((i for i in data.items if i.required and not i.answered), None)
            if todo is not None:
                self.table.move_to(todo.id)
        missing = [i for i in data.items if i.required and not i.answered]
        summary = Text()
        if data.items:
            answered = sum(1 for i in data.items if i.answered)
            summary.append(t("checklist.counts", lang, n=len(data.items), answered=answered))
            if missing:
                summary.append(" · ")
                summary.append(t("checklist.missing", lang, n=len(missing)), style="bold red")
            if data.lock is not None:
                key = "checklist.signed" if data.lock.signed else "checklist.closed"
                summary.append(" · " + t(key, lang), style="dim")
        self.query_one("#checklist-summary", Static).update(summary)
        self._show_detail(self.table.current_line)
        self.refresh_bindings()

    def _advance(self, data: ChecklistData, answered_id: int) -> None:
        """Put the cursor on the first item after ``answered_id`` still without an answer
        (else just the next item): a checklist is answered top to bottom."""
        items = list(data.items)
        index = next((i for i, item in enumerate(items) if item.id == answered_id), None)
        if index is None:
            return
        after = items[index + 1 :]
        target = next((i for i in after if not i.answered), after[0] if after else None)
        if target is not None:
            self.table.move_to(target.id)

    def _line(self, item: ItemView, tz: Any) -> Line:
        lang = self.lang
        if not item.answered:
            mark: tuple[str, str | None] = ("●", "bad") if item.required else ("○", "dim")
        elif item.triggered:
            mark = ("!", "warn")
        else:
            mark = ("✓", "good")
        answer: tuple[str, str | None]
        if item.answered:
            answer = (cells.one_line(item.shown), "warn" if item.triggered else None)
        else:
            key = "checklist.required" if item.required else "checklist.optional"
            answer = (t(key, lang), "bad" if item.required else "dim")
        return Line(
            item.id,
            (
                mark,
                str(item.position),
                cells.one_line(item.text),
                t(f"checklist.kind.{item.kind}", lang),
                answer,
                item.answered_by or "",
                cells.when(item.answered_at, tz, lang, self.fsm.backend.now())
                if item.answered_at
                else "",
            ),
            data=item,
        )

    # --- the item under the cursor -------------------------------------------------------

    def on_line_table_highlighted(self, message: LineTable.Highlighted) -> None:
        message.stop()
        self._show_detail(message.line)
        self.refresh_bindings()  # y / n only for a yes/no item

    def _show_detail(self, line: Line | None) -> None:
        detail = self.query_one("#checklist-detail", Static)
        item: ItemView | None = line.data if line is not None else None
        if item is None or self.data is None:
            detail.update("")
            return
        lang = self.lang
        parts: list[Text] = [Text(item.text, style="bold")]
        if item.hint:
            parts.append(Text(t("checklist.hint", lang, hint=item.hint), style="italic"))
        wants = t("checklist.wants", lang, kind=kind_text(item, lang))
        if item.required:
            wants += " · " + t("checklist.required_word", lang)
        parts.append(Text(wants, style="dim"))
        rule = rule_text(item, lang, self.data.number)
        if rule:
            parts.append(Text(t("checklist.rule", lang, rule=rule), style="dim"))
        if item.answered:
            when = moment(item.answered_at, self.data.tz, lang=lang)
            parts.append(
                Text(
                    t(
                        "checklist.given",
                        lang,
                        answer=item.shown,
                        who=item.answered_by or "",
                        when=when,
                    )
                )
            )
        detail.update(Group(*parts))

    # --- answering -----------------------------------------------------------------------

    def _current(self) -> ItemView | None:
        line = self.table.current_line
        return line.data if line is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.data is not None and self.data.closed:
            return False  # answers are final: the core's execution_lock says so
        if action == "yes_no":
            item = self._current()
            return item is not None and item.kind == "yes_no"
        return True

    def on_line_table_chosen(self, message: LineTable.Chosen) -> None:
        message.stop()
        self.action_answer()

    def action_answer(self) -> None:
        item = self._current()
        if item is None or self.data is None:
            return
        if item.kind == "check_in":
            self._record(item, None)
            return

        def done(result: Answered | None) -> None:
            if result is not None:
                self._answered_id = item.id
                self._answered(result)

        self.app.push_screen(AnswerScreen(self.order_id, item, tz=self.data.tz), done)

    def action_yes_no(self, value: str) -> None:
        item = self._current()
        if item is not None and item.kind == "yes_no":
            self._record(item, value)

    def _record(self, item: ItemView, value: str | None) -> None:
        assert self.data is not None
        self._answered_id = item.id
        backend = self.fsm.backend
        tz = self.data.tz
        lang = self.lang

        def work(session: Session) -> Answered:
            return record_answer(
                session,
                order_id=self.order_id,
                item_id=item.id,
                value=value,
                file=None,
                actor=backend.user,
                tz=tz,
                lang=lang,
            )

        self.change(work, self._answered, group="checklist-answer")

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if worker.group == "checklist-answer":
            self._answered_id = None  # refused: the cursor stays where it is
        return False

    def _answered(self, result: Answered) -> None:
        fired = result.follow_up_number is not None or result.raised_to is not None
        self.app.notify(
            answered_message(result, self.lang),
            severity="warning" if fired or result.out_of_range else "information",
            timeout=10 if fired else 5,
        )
        ids = (result.follow_up_id,) if result.follow_up_id is not None else ()
        self.announce(*ids)
