"""Move an order to another stage (перейти на стадию): only the stages the workflow allows
from where it is are offered; the core checks the rest (an assignee where one is needed,
the guards other modules register)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from fsm_core.services import orders
from fsm_tui.backend import Catalog
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter


@dataclass
class Moved:
    order_id: int
    number: str
    stage_code: str


class MoveScreen(FormScreen[Moved | None]):
    def __init__(self, catalog: Catalog, row: dict[str, Any]) -> None:
        super().__init__(id="move")
        self.catalog = catalog
        self.row = row
        self.allowed = catalog.workflow.allowed_from(row["stage_code"])

    def compose(self) -> ComposeResult:
        lang = self.lang
        stage = self.catalog.stage_name(self.row["stage_code"], lang)
        with Vertical(classes="dialog") as box:
            box.border_title = t("move.title", lang, number=self.row["number"], stage=stage)
            if self.allowed:
                yield OptionList(
                    *(Option(s.name(lang), id=s.code) for s in self.allowed), id="stages"
                )
                yield Input(placeholder=t("move.note", lang), select_on_focus=False, id="note")
            else:
                yield Label(t("move.none", lang, stage=stage))
            yield Label("", classes="field-error", id="error-stage")
            yield Label("", classes="field-error", id="error-form")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.clear_errors()
        if self.allowed:
            stages = self.query_one("#stages", OptionList)
            stages.highlighted = self._next_step()
            stages.focus()

    def _next_step(self) -> int:
        """The stage the order usually goes on to: the first allowed one further along
        the board that is neither a pause nor a cancellation (enter then takes it)."""
        here = self.catalog.stage(self.row["stage_code"])
        if here is None:
            return 0
        for index, stage in enumerate(self.allowed):
            if stage.position > here.position and stage.category not in ("paused", "cancelled"):
                return index
        return 0

    def on_key(self, event: events.Key) -> None:
        """Typing while a stage is highlighted writes the comment (no need to tab to it)."""
        note = self.query_one("#note", Input) if self.allowed else None
        if note is None or note.has_focus or not (event.is_printable and event.character):
            return
        event.stop()
        event.prevent_default()
        note.focus()
        note.insert_text_at_cursor(event.character)

    @on(OptionList.OptionSelected, "#stages")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    @on(Input.Submitted, "#note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        if not self.allowed:
            return
        stages = self.query_one("#stages", OptionList)
        if stages.highlighted is None:
            return
        code = stages.get_option_at_index(stages.highlighted).id
        note = self.query_one("#note", Input).value.strip() or None
        self.clear_errors()
        self._move(str(code), note)

    def _move(self, stage: str, note: str | None) -> None:
        backend = self.fsm.backend

        def work(session: Session) -> Moved:
            order = orders.move_order(
                session=session,
                order_id=self.row["id"],
                stage=stage,
                note=note,
                actor=backend.user,
                expected_version=self.row.get("version"),
            )
            assert order.id is not None
            result = Moved(order.id, order.number, order.stage_code)
            return result

        self.save(work)
