"""The act of completed works (акт выполненных работ): what it will say — the order, the
customer and object, every work block's lines, the total to pay, executors, comment and
signature — and ``g`` to write the PDF, in Russian or English, into a folder.

The folder is the current one unless ``FSM_ACT_DIR`` names another; it can be changed in
place for this order. The PDF is laid out in a worker (a long act takes a moment) and the
path it was written to is shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from fsm_core.errors import InvalidInput
from fsm_core.formatting import local_time, money, quantity
from fsm_core.models import Order
from fsm_core.services import execution
from fsm_core.services import settings as company_settings
from fsm_tui.tabs.base import OrderPane
from fsm_tui.text import t
from fsm_tui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard

ACT_DIR_VARIABLE = "FSM_ACT_DIR"


def default_folder() -> str:
    """Where acts are written unless the user says otherwise: ``FSM_ACT_DIR`` or the
    current folder."""
    return os.environ.get(ACT_DIR_VARIABLE) or os.getcwd()


def act_path(folder: str, number: str) -> Path:
    safe = "".join("-" if ch in '/\\:*?"<>|' else ch for ch in number)
    return Path(os.path.expanduser(folder or ".")).resolve() / f"act-{safe}.pdf"


def write_act(backend: Any, order_id: int, folder: str, lang: str) -> Path:
    """Runs in a worker: the act of ``order_id`` as a PDF in ``folder``; returns its path."""
    from fsm_core.documents.act import render_act

    with backend.reader() as session:
        document = execution.act_document(session=session, order_id=order_id, lang=lang)
        tz = company_settings.load(session=session).tz
    path = act_path(folder, document.order_number)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        render_act(document, out=path, lang=lang, tz=tz)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the act to {path}: {exc.strerror or exc}", field="folder"
        ) from None
    return path


def flat(text: str) -> str:
    """The act's no-break spaces as plain ones: the terminal wraps the preview itself."""
    return text.replace("\u00a0", " ")


def _person(name: str | None, position: str | None) -> str:
    """``Генеральный директор Соколов И. В.``; empty when nobody is named."""
    if not name:
        return ""
    return f"{position} {name}" if position else name


@dataclass(frozen=True)
class ActData:
    document: Any | None  # fsm_core.documents.act.ActDocument; None: nothing recorded yet
    why_not: str | None
    tz: Any
    number: str


class ActPane(OrderPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "generate", "Make PDF", id="act.generate"),
    ]

    def __init__(self, order_id: int, app: Dashboard) -> None:
        super().__init__(order_id, app, id="act")
        self.data: ActData | None = None
        self.written: Path | None = None

    def compose(self) -> ComposeResult:
        lang = self.lang
        # the preview comes first, so that it is what the focus enters (g works there at
        # once); the folder and the language are under it
        with VerticalScroll(id="act-preview", classes="pane-body"):
            yield Static(t("loading", lang), id="act-document")
        with Vertical(id="act-bottom"):
            yield Static("", id="act-written")
            with Horizontal(id="act-controls"):
                yield Label(t("act.folder", lang))
                yield Input(
                    default_folder(),
                    suggester=PathSuggester(folders_only=True),
                    compact=True,
                    id="act-folder",
                )
                yield Select(
                    [("Русский", "ru"), ("English", "en")],
                    value=lang if lang in ("ru", "en") else "ru",
                    allow_blank=False,
                    compact=True,
                    id="act-lang",
                )
                yield Button(
                    t("act.generate", lang), variant="primary", compact=True, id="act-make"
                )

    def focus_main(self) -> VerticalScroll:
        return self.query_one("#act-preview", VerticalScroll)

    # --- the act as it will read ---------------------------------------------------------

    def read(self, session: Session) -> ActData:
        tz = company_settings.load(session=session).tz
        order = session.get(Order, self.order_id)
        number = order.number if order else f"#{self.order_id}"
        try:
            document = execution.act_document(
                session=session, order_id=self.order_id, lang=self.lang
            )
        except InvalidInput as exc:
            return ActData(None, exc.one_line(self.lang), tz, number)
        return ActData(document, None, tz, number)

    def show(self, data: ActData) -> None:
        self.data = data
        self.query_one("#act-document", Static).update(self._document(data))
        self._show_written()

    def _money(self, amount: Any, currency: str) -> str:
        return money(amount, lang=self.lang, currency=currency)

    def _document(self, data: ActData) -> RenderableType:
        # the act's own phrases (reportlab loads with them: only once an act is shown)
        from fsm_core.documents.act import basis_line, contractor_line, vat_line
        from fsm_core.documents.words import amount_in_words

        lang = self.lang
        doc = data.document
        if doc is None:
            return Text(t("act.nothing", lang), style="dim")
        parts: list[RenderableType] = []
        parts.append(
            Text(
                t("act.heading", lang, number=doc.act_number, date=self._day(doc.act_date)),
                style="bold",
            )
        )
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="dim", no_wrap=True)
        facts.add_column(overflow="fold")
        customer = doc.customer_name + (
            f", {t('inn', lang)} {doc.customer_inn}" if doc.customer_inn else ""
        )
        facts.add_row(t("act.contractor", lang), flat(contractor_line(doc, lang)))
        facts.add_row(t("customer", lang), customer)
        facts.add_row(t("act.basis", lang), flat(basis_line(doc, lang)))
        if doc.object_name:
            where = f", {doc.object_address}" if doc.object_address else ""
            facts.add_row(t("object", lang), doc.object_name + where)
        facts.add_row(t("description", lang), doc.description)
        parts.append(facts)
        for number, block in enumerate(doc.blocks, 1):
            head = Text(f"\n{number}. {block.work_type}", style="bold")
            if block.started_at and block.finished_at:
                start = local_time(block.started_at, data.tz, lang=lang)
                end = block.finished_at.astimezone(data.tz).strftime("%H:%M")
                head.append(f" · {start}–{end}")
            if block.executors:
                head.append(" · " + ", ".join(block.executors), style="dim")
            parts.append(head)
            table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
            table.add_column("№", justify="right", no_wrap=True)
            table.add_column(t("act.col_name", lang), ratio=1, overflow="fold")
            table.add_column(t("quantity", lang), justify="right", no_wrap=True)
            table.add_column(t("price", lang), justify="right", no_wrap=True)
            table.add_column(t("amount", lang), justify="right", no_wrap=True)
            for index, line in enumerate(block.lines, 1):
                table.add_row(
                    str(index),
                    line.name,
                    quantity(line.quantity, line.unit, lang=lang),
                    self._money(line.price, doc.currency),
                    self._money(line.amount, doc.currency),
                )
            table.add_row(
                "",
                Text(t("act.subtotal", lang), style="dim"),
                "",
                "",
                Text(self._money(block.subtotal, doc.currency), style="dim"),
            )
            parts.append(table)
        total = Table.grid(expand=True)
        total.add_column(justify="right")
        total.add_row(
            Text(t("act.total", lang, total=self._money(doc.total, doc.currency)), style="bold")
        )
        total.add_row(flat(vat_line(doc, lang)))
        parts.append(Text(""))
        parts.append(total)
        tail = Table.grid(padding=(0, 1))
        tail.add_column(style="dim", no_wrap=True)
        tail.add_column(overflow="fold")
        tail.add_row(
            t("act.in_words", lang), amount_in_words(doc.total, lang=lang, currency=doc.currency)
        )
        if doc.executors:
            tail.add_row(t("act.executors", lang), ", ".join(doc.executors))
        if doc.comment:
            tail.add_row(t("act.comment", lang), doc.comment)
        tail.add_row(
            t("act.company_signer", lang),
            _person(doc.executor_signer, doc.executor_signer_position)
            or Text(t("act.company_signer_unset", lang), style="yellow"),
        )
        signer = _person(doc.signer_name, doc.signer_position) or t("act.unsigned", lang)
        if doc.signer_name and doc.signed_at:
            signer += ", " + local_time(doc.signed_at, data.tz, lang=lang)
        tail.add_row(t("act.signer", lang), signer)
        parts.append(tail)
        return Group(*parts)

    def _day(self, value: date) -> str:
        return value.strftime("%d.%m.%Y" if self.lang == "ru" else "%Y-%m-%d")

    def _show_written(self) -> None:
        label = self.query_one("#act-written", Static)
        if self.written is not None:
            label.update(Text(t("act.written", self.lang, path=str(self.written)), style="green"))
        elif self.data is not None and self.data.document is None:
            label.update(Text(self.data.why_not or "", style="dim"))
        else:
            label.update(Text(t("act.hint", self.lang), style="dim"))

    # --- writing the PDF -----------------------------------------------------------------

    def action_generate(self) -> None:
        folder = self.query_one("#act-folder", Input).value.strip() or default_folder()
        language = self.query_one("#act-lang", Select).value
        lang = language if isinstance(language, str) else self.lang
        backend = self.fsm.backend
        order_id = self.order_id
        self.query_one("#act-written", Static).update(Text(t("act.writing", self.lang)))

        def job() -> None:
            path = write_act(backend, order_id, folder, lang)
            self.post_message(self.Done(self, path, self._written))

        self.run_worker(job, thread=True, exclusive=True, group="act-write", exit_on_error=False)

    def _written(self, path: Path) -> None:
        self.written = path
        self._show_written()
        self.app.notify(t("act.written", self.lang, path=str(path)))

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if worker.group == "act-write":
            self._show_written()
        return False

    @on(Button.Pressed, "#act-make")
    def _make_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_generate()

    @on(Input.Submitted, "#act-folder")
    def _folder_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_generate()
