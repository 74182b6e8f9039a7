"""Every key the dashboard knows, where it works, and the id to remap it by."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from fsm_tui.node import AppNode
from fsm_tui.text import binding_text, t
from fsm_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    pass


def binding_sources() -> list[tuple[str, Any]]:
    """(scope, class) for every part of the dashboard that declares bindings, in the order
    the help screen lists them. A new section adds its screen here through the app's
    SECTIONS (see :meth:`FsmApp.binding_sources`)."""
    from fsm_tui.screens.confirm import ConfirmScreen
    from fsm_tui.screens.ledger import LedgerScreen
    from fsm_tui.screens.modal import FormScreen
    from fsm_tui.screens.order import OrderScreen
    from fsm_tui.tabs.act import ActPane
    from fsm_tui.tabs.checklists import ChecklistPane
    from fsm_tui.tabs.execution import ExecutionPane
    from fsm_tui.tabs.materials import MaterialsPane
    from fsm_tui.widgets.chat_thread import ChatThread, Composer
    from fsm_tui.widgets.kanban import KanbanBoard
    from fsm_tui.widgets.line_table import LineTable
    from fsm_tui.widgets.order_table import OrderTable
    from fsm_tui.widgets.timeline import Timeline

    return [
        ("table", OrderTable),
        ("kanban", KanbanBoard),
        ("lines", LineTable),
        ("ledger", LedgerScreen),
        ("order", OrderScreen),
        ("checklists", ChecklistPane),
        ("execution", ExecutionPane),
        ("act", ActPane),
        ("thread", ChatThread),
        ("composer", Composer),
        ("materials", MaterialsPane),
        ("timeline", Timeline),
        ("form", FormScreen),
        ("confirm", ConfirmScreen),
        ("help", HelpScreen),
    ]


class HelpScreen(AppNode, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self) -> None:
        super().__init__(id="help")

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog help") as box:
            box.border_title = t("help.title", lang)
            yield DataTable(id="bindings", cursor_type="row", zebra_stripes=True)
            yield Static(
                t("help.remap", lang, path=self.fsm.keymap_path or "keymap.toml"),
                id="help-remap",
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        lang = self.lang
        table = self.query_one("#bindings", DataTable)
        for key in ("help.where", "help.key", "help.action", "help.id"):
            table.add_column(t(key, lang), key=key)
        keymap = self.fsm.keymap
        seen: set[str] = set()
        for scope, cls in self.fsm.binding_sources():
            for binding in Binding.make_bindings(cls.BINDINGS):
                if binding.id is None or binding.id in seen:
                    continue
                seen.add(binding.id)
                key = keymap.get(binding.id, binding.key)
                shown = binding.key_display if key == binding.key and binding.key_display else None
                table.add_row(
                    t(f"help.scope.{scope}", lang),
                    shown or self.app.get_key_display(Binding(key, binding.action)),
                    binding_text(binding.id, binding.description, lang),
                    binding.id,
                )
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
