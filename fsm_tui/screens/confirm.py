"""A yes/no question before something that cannot be taken back with a key (removing a
visit): ``y`` or enter says yes, ``n`` or escape says no."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from fsm_tui.node import AppNode
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    pass


class ConfirmScreen(AppNode, ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, *, title: str = "") -> None:
        super().__init__(id="confirm")
        self.question = question
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text or t("confirm.title", self.lang)
            yield Static(self.question, id="question")
        yield KeyFooter()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
