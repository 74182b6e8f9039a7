"""The order's execution (выполнение), in the reference product's three steps: work done
with its executors and hours, materials used, then the comment, attachments and the
customer's signature — with every line's amount and the total, as the act will charge
them (the core computes them; this tab prints them).

Keys: ``w`` work, ``u`` a material used (written off a warehouse), ``c`` comment, ``f``
attach a file, ``s`` the customer's signature, ``x`` withdraw it. While the act is signed
(or the order closed or cancelled) the keys that would change it are off and the summary
says why: the core's :func:`~fsm_core.services.execution.execution_lock` decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from fsm_core.formatting import moment, money, quantity
from fsm_core.models import Contact, Order, ServiceObject
from fsm_core.models.attachments import Attachment
from fsm_core.models.execution import ExecutionRecord, OrderAttachment
from fsm_core.services import execution
from fsm_core.services import settings as company_settings
from fsm_core.services.execution import SIGNING_CATEGORIES, ExecutionLock
from fsm_core.services.stages import load_workflow
from fsm_tui.refs import Refs, load_refs
from fsm_tui.screens.execution_forms import (
    AttachScreen,
    CommentScreen,
    MaterialScreen,
    SignScreen,
    UnsignScreen,
    WorkScreen,
)
from fsm_tui.tabs.base import OrderPane
from fsm_tui.text import t

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard


@dataclass(frozen=True)
class BlockView:
    work: str | None  # None: materials not tied to a work entry
    started_at: datetime | None
    finished_at: datetime | None
    object_name: str | None
    executors: tuple[tuple[str, Decimal, Decimal], ...]  # name, hours, rate
    lines: tuple[execution.TotalLine, ...]
    subtotal: Decimal


@dataclass(frozen=True)
class AttachmentView:
    name: str
    size: int
    note: str | None
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class ExecutionData:
    blocks: tuple[BlockView, ...]
    total: Decimal
    priced: bool
    """False where the company keeps prices from technicians: amounts show as "—" """
    comment: str | None
    signer: str | None
    signed_at: datetime | None
    signature_image: bool
    attachments: tuple[AttachmentView, ...]
    refs: Refs
    tz: Any
    finished: bool
    executors: tuple[int, ...] = ()  # who worked on it by default: the assignee or crew
    contact: str | None = None
    materials: int = field(default=0)
    lock: ExecutionLock | None = None  # why nothing here may change now (signed, closed)
    signable: bool = False  # the stage is one where the customer can sign
    signer_position: str | None = None
    contact_position: str | None = None


def read_execution(session: Session, order_id: int, lang: str) -> ExecutionData:
    """Runs in a worker: the order's work, materials, comment, attachments, signature."""
    settings = company_settings.load(session=session)
    order = session.get(Order, order_id)
    computed = execution.totals(session=session, order_id=order_id, lang=lang)
    blocks = []
    materials = 0
    for block in computed.blocks:
        entry = block.entry
        obj = session.get(ServiceObject, entry.object_id) if entry and entry.object_id else None
        materials += sum(1 for line in block.lines if line.kind == "material")
        blocks.append(
            BlockView(
                work=entry.work_type_name if entry else None,
                started_at=entry.started_at if entry else None,
                finished_at=entry.finished_at if entry else None,
                object_name=obj.name if obj else None,
                executors=tuple((e.employee_name, e.hours, e.hourly_rate) for e in block.executors),
                lines=tuple(block.lines),
                subtotal=block.subtotal,
            )
        )
    record = session.get(ExecutionRecord, order_id)
    attachments = tuple(
        AttachmentView(a.original_name, a.size, link.note, link.added_by, link.added_at)
        for link, a in session.execute(
            select(OrderAttachment, Attachment)
            .join(Attachment, Attachment.id == OrderAttachment.attachment_id)
            .where(OrderAttachment.order_id == order_id)
            .order_by(OrderAttachment.id)
        )
    )
    executors: tuple[int, ...] = ()
    contact = contact_position = None
    finished = signable = False
    lock = None
    if order is not None:
        executors = tuple(execution.default_executors(session=session, order=order))
        person = session.get(Contact, order.contact_id) if order.contact_id else None
        contact = person.full_name if person else None
        contact_position = person.position if person else None
        stage = load_workflow(session=session).stages[order.stage_code]
        finished = stage.final
        signable = stage.category in SIGNING_CATEGORIES
        lock = execution.execution_lock(session=session, order=order)
    return ExecutionData(
        blocks=tuple(blocks),
        total=computed.total,
        priced=computed.priced,
        comment=record.comment if record else None,
        signer=record.signer_name if record else None,
        signed_at=record.signed_at if record else None,
        signature_image=bool(record and record.signature_id),
        attachments=attachments,
        refs=load_refs(session),
        tz=settings.tz,
        finished=finished,
        executors=executors,
        contact=contact,
        materials=materials,
        lock=lock,
        signable=signable,
        signer_position=record.signer_position if record else None,
        contact_position=contact_position,
    )


def size_text(size: int, lang: str) -> str:
    units = ("Б", "КБ", "МБ") if lang == "ru" else ("B", "KB", "MB")
    value = float(size)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            shown = f"{value:.0f}" if unit == units[0] else f"{value:.1f}"
            return f"{shown.replace('.', ',') if lang == 'ru' else shown} {unit}"
        value /= 1024
    return str(size)


class ExecutionPane(OrderPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "work", "Work", id="execution.work"),
        Binding("u", "material", "Material", id="execution.material"),
        Binding("c", "comment", "Comment", id="execution.comment"),
        Binding("f", "attach", "Attach", id="execution.attach"),
        Binding("s", "sign", "Signature", id="execution.sign"),
        Binding("x", "unsign", "Withdraw signature", id="execution.unsign"),
    ]

    def __init__(self, order_id: int, app: Dashboard) -> None:
        super().__init__(order_id, app, id="execution")
        self.data: ExecutionData | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="execution-summary", classes="pane-summary")
        with VerticalScroll(id="execution-body", classes="pane-body"):
            yield Static(t("loading", self.lang), id="execution-lines")
            yield Static("", id="execution-record")

    def focus_main(self) -> VerticalScroll:
        return self.query_one("#execution-body", VerticalScroll)

    # --- reading -------------------------------------------------------------------------

    def read(self, session: Session) -> ExecutionData:
        return read_execution(session, self.order_id, self.lang)

    def _money(self, amount: Decimal) -> str:
        assert self.data is not None
        if not self.data.priced:
            return "—"
        return money(amount, lang=self.lang, currency=self.data.refs.currency)

    def show(self, data: ExecutionData) -> None:
        self.data = data
        lang = self.lang
        summary = Text()
        summary.append(t("execution.total", lang, total=self._money(data.total)), style="bold")
        summary.append(
            " · "
            + t(
                "execution.counts",
                lang,
                works=sum(1 for b in data.blocks if b.work),
                materials=data.materials,
            )
        )
        if data.signer:
            summary.append(" · " + t("execution.signed_by", lang, name=data.signer), style="green")
        else:
            summary.append(" · " + t("execution.not_signed", lang), style="yellow")
        if data.finished:
            summary.append(" · " + t("execution.finished", lang), style="dim")
        elif data.lock is not None:
            summary.append(" · " + t("execution.frozen", lang), style="dim")
        self.query_one("#execution-summary", Static).update(summary)
        self.query_one("#execution-lines", Static).update(self._lines(data))
        self.query_one("#execution-record", Static).update(self._record(data))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # what the core's execution_lock forbids is not offered: a signed act, a closed or
        # cancelled order; attachments are not part of what was signed
        data = self.data
        if data is None or action == "attach":
            return True
        if action == "unsign":
            return data.lock is not None and data.lock.signed
        if action == "sign":
            return data.lock is None and data.signable
        return data.lock is None

    def _lines(self, data: ExecutionData) -> RenderableType:
        lang = self.lang
        if not data.blocks:
            return Text(t("execution.nothing", lang), style="dim")
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column(t("execution.line", lang), ratio=1, overflow="ellipsis", no_wrap=True)
        table.add_column(t("quantity", lang), justify="right", no_wrap=True)
        table.add_column(t("price", lang), justify="right", no_wrap=True)
        table.add_column(t("amount", lang), justify="right", no_wrap=True)
        for number, block in enumerate(data.blocks, 1):
            if block.work is None:
                heading = Text(t("execution.loose", lang), style="bold")
            else:
                heading = Text(f"{number}. {block.work}", style="bold")
                period = self._period(block.started_at, block.finished_at, data.tz)
                if period:
                    heading.append(" · " + period)
                if block.object_name:
                    heading.append(" · " + block.object_name, style="dim")
            table.add_row(heading, "", "", "")
            for line in block.lines:
                style = "" if line.kind == "work" else ("cyan" if line.kind == "labour" else "")
                table.add_row(
                    Text("   " + line.name, style=style),
                    quantity(line.quantity, line.unit, lang=lang),
                    self._money(line.price),
                    self._money(line.amount),
                )
            table.add_row(
                Text("   " + t("execution.subtotal", lang), style="dim"),
                "",
                "",
                Text(self._money(block.subtotal), style="dim"),
            )
        table.add_row(
            Text(t("execution.total_row", lang), style="bold"),
            "",
            "",
            Text(self._money(data.total), style="bold"),
        )
        return table

    def _period(self, start: datetime | None, end: datetime | None, tz: Any) -> str:
        if start is None or end is None:
            return ""
        now = self.fsm.backend.now()
        first = moment(start, tz, lang=self.lang, now=now)
        if start.astimezone(tz).date() == end.astimezone(tz).date():
            return f"{first}–{end.astimezone(tz).strftime('%H:%M')}"
        return f"{first} – {moment(end, tz, lang=self.lang, now=now)}"

    def _record(self, data: ExecutionData) -> RenderableType:
        lang = self.lang
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(t("execution.comment_label", lang), data.comment or "—")
        if data.attachments:
            files = Text()
            for index, a in enumerate(data.attachments):
                if index:
                    files.append("\n")
                files.append(a.name, style="bold")
                files.append(f" ({size_text(a.size, lang)})")
                if a.note:
                    files.append(f" — {a.note}")
                files.append(
                    f" · {a.added_by}, {moment(a.added_at, data.tz, lang=lang)}", style="dim"
                )
            grid.add_row(t("execution.attachments", lang), files)
        else:
            grid.add_row(t("execution.attachments", lang), "—")
        if data.signer:
            signed = Text(data.signer, style="bold")
            if data.signer_position:
                signed.append(f" ({data.signer_position})")
            if data.signed_at:
                signed.append(", " + moment(data.signed_at, data.tz, lang=lang))
            if data.signature_image:
                signed.append(" · " + t("execution.with_image", lang), style="dim")
        else:
            signed = Text(t("execution.not_signed", lang), style="yellow")
        grid.add_row(t("execution.signature", lang), signed)
        return Group(Text(""), grid)

    # --- actions -------------------------------------------------------------------------

    def action_work(self) -> None:
        if self.data is not None:
            self.open_form(
                WorkScreen(
                    self.order_id,
                    self.data.refs,
                    tz=self.data.tz,
                    now=self.fsm.backend.now(),
                    executors=self.data.executors,
                )
            )

    def action_material(self) -> None:
        if self.data is not None:
            self.open_form(MaterialScreen(self.order_id, self.data.refs))

    def action_comment(self) -> None:
        if self.data is not None:
            self.open_form(CommentScreen(self.order_id, self.data.comment))

    def action_attach(self) -> None:
        if self.data is not None:
            self.open_form(AttachScreen(self.order_id))

    def action_sign(self) -> None:
        if self.data is not None:
            self.open_form(
                SignScreen(
                    self.order_id,
                    self.data.signer or self.data.contact,
                    position=self.data.signer_position or self.data.contact_position,
                )
            )

    def action_unsign(self) -> None:
        data = self.data
        if data is not None and data.lock is not None and data.lock.signed:
            lock = data.lock
            intro = t("unsign.intro", self.lang, name=lock.signer, when=lock.when(self.lang))
            self.open_form(UnsignScreen(self.order_id, intro))
