"""Every key the dashboard knows, where it works, and the id to remap it by."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
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
    from fsm_tui.screens.analytics import AnalyticsScreen, EmployeeCard
    from fsm_tui.screens.audit import AuditScreen
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
        ("audit", AuditScreen),
        ("analytics", AnalyticsScreen),
        ("employee_card", EmployeeCard),
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
        keymap = self.fsm.keymap
        seen: set[str] = set()
        self.rows: list[tuple[str, str, str, str]] = []
        for scope, cls in self.fsm.binding_sources():
            for binding in Binding.make_bindings(cls.BINDINGS):
                if binding.id is None or binding.id in seen:
                    continue
                seen.add(binding.id)
                key = keymap.get(binding.id, binding.key)
                shown = binding.key_display if key == binding.key and binding.key_display else None
                self.rows.append(
                    (
                        t(f"help.scope.{scope}", lang),
                        shown or self.app.get_key_display(Binding(key, binding.action)),
                        binding_text(binding.id, binding.description, lang),
                        binding.id,
                    )
                )
        self.query_one("#bindings", DataTable).focus()

    def on_resize(self) -> None:
        self._fill()

    def _widths(self, room: int) -> tuple[int, int, int, int]:
        """Where, key, action, id in ``room`` cells: the ids and keys whole, always; the
        place and the action share what is left (and wrap within it)."""
        key = max(len(t("help.key", self.lang)), *(len(r[1]) for r in self.rows))
        ident = max(len(t("help.id", self.lang)), *(len(r[3]) for r in self.rows))
        where = max(len(r[0]) for r in self.rows)
        action = max(len(r[2]) for r in self.rows)
        spare = room - key - ident - 4 * 2  # each column has a cell of padding each side
        if where + action > spare:
            where = max(min(where, spare // 3), 8)
            action = max(spare - where, 10)
        return where, key, action, ident

    def _fill(self) -> None:
        table = self.query_one("#bindings", DataTable)
        # the list is longer than the screen: leave room for its scrollbar from the start
        room = table.content_region.width - table.styles.scrollbar_size_vertical
        widths = self._widths(room)
        if getattr(self, "_filled_for", None) == widths:
            return
        self._filled_for = widths
        cursor = table.cursor_row
        table.clear(columns=True)
        lang = self.lang
        columns = ("help.where", "help.key", "help.action", "help.id")
        for key, width in zip(columns, widths, strict=True):
            table.add_column(t(key, lang), key=key, width=width)
        for row in self.rows:
            cells = [Text(value, overflow="fold") for value in row]
            table.add_row(*cells, height=None)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))

    def action_close(self) -> None:
        self.dismiss(None)
