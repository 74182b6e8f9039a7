"""The audit trail (журнал аудита), for admins: the newest changes of anything — when, who
(and on whose behalf), with which command, what record, what was done and what changed —
narrowed by what is typed in the filter (a record's key, an entity, a person, a command).

Opened with F9 or from the command palette. The core refuses anyone but an admin
(:func:`fsm_core.services.audit_log.list_entries`); the refusal is shown as a notification
and the screen closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker

from fsm_core.access import Forbidden
from fsm_core.services import audit_log
from fsm_core.services import settings as company_settings
from fsm_tui import cells
from fsm_tui.node import AppNode
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.line_table import Column, Line, LineTable
from fsm_tui.workers import WorkerErrors

LIMIT = 500  # rows shown: the newest; `fsm audit list` reaches the rest


@dataclass(frozen=True)
class AuditPage:
    rows: tuple[audit_log.AuditRow, ...]
    tz: Any


class AuditScreen(AppNode, WorkerErrors, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="audit.close"),
        Binding("slash", "find", "Filter", id="audit.find"),
        Binding("enter", "show", "All changes", id="audit.show"),
    ]
    DEBOUNCE = 0.25

    @dataclass
    class Loaded(Message):
        page: AuditPage

    def __init__(self) -> None:
        super().__init__(id="audit")
        self._timer: Timer | None = None
        self.page: AuditPage | None = None

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog audit") as box:
            box.border_title = t("audit.title", lang)
            yield Input(placeholder=t("audit.filter", lang), compact=True, id="audit-filter")
            yield LineTable(
                [
                    Column("when", t("when", lang), 14),  # 06.12 15:39:02
                    Column("who", t("who", lang), 14),
                    Column("behalf", t("audit.behalf", lang), 10),
                    Column("command", t("audit.command", lang), 12),
                    Column("entity", t("audit.entity", lang), 10),
                    Column("key", t("audit.key", lang), 10),
                    Column("action", t("audit.action", lang), 10),
                    Column("changes", t("audit.changes", lang), 20, flex=1),
                ],
                lang=lang,
                empty=t("audit.empty", lang),
                id="audit-lines",
            )
        yield KeyFooter()

    @property
    def table(self) -> LineTable:
        return self.query_one("#audit-lines", LineTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._load("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-load")
    def _load(self, text: str) -> None:
        with self.fsm.backend.reader() as session:
            rows = audit_log.list_entries(session=session, text=text, limit=LIMIT)
            tz = company_settings.load(session=session).tz
        self.post_message(self.Loaded(AuditPage(tuple(rows), tz)))

    def on_audit_screen_loaded(self, message: Loaded) -> None:
        page = self.page = message.page
        self.table.set_lines([self._line(row, page.tz) for row in page.rows], keep=False)
        limited = len(page.rows) >= LIMIT
        box = self.query_one(".audit", Vertical)
        box.border_subtitle = t("audit.limited", self.lang, n=LIMIT) if limited else ""

    def _line(self, row: audit_log.AuditRow, tz: Any) -> Line:
        lang = self.lang
        when = row.at.astimezone(tz).strftime("%d.%m %H:%M:%S")
        return Line(
            row.id,
            (
                when,
                row.actor,
                (row.on_behalf_of or "", "warn"),
                row.command or "",
                audit_log.entity_name(row.entity, lang),
                (row.key or "", "strong"),
                audit_log.action_name(row.action, lang),
                cells.one_line(audit_log.describe_changes(row.changes, width=30, tz=tz)),
            ),
            data=row,
        )

    def handle_worker_error(self, worker: Worker[Any], error: BaseException | None) -> bool:
        if isinstance(error, Forbidden):  # not an admin: say so, and go back
            self.fsm.report_error(error)
            self.dismiss(None)
            return True
        return False

    # --- the filter ----------------------------------------------------------------------

    @on(Input.Changed, "#audit-filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.DEBOUNCE, self._apply)

    @on(Input.Submitted, "#audit-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()
        self.table.focus()

    def _apply(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._load(self.query_one("#audit-filter", Input).value)

    def action_find(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_line_table_chosen(self, message: LineTable.Chosen) -> None:
        self.action_show()

    def action_show(self) -> None:
        """Every change of the highlighted row, whole (the column cuts them short)."""
        line = self.table.current_line
        if line is None or self.page is None:
            return
        row: audit_log.AuditRow = line.data
        lang = self.lang
        changes = audit_log.describe_changes(row.changes, width=200, tz=self.page.tz)
        title = f"{audit_log.entity_name(row.entity, lang)} {row.key or ''}".strip()
        self.notify(changes.replace("; ", "\n") or "—", title=title, timeout=20)
