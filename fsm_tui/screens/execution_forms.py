"""The execution dialogs of an order (выполнение), in the reference product's steps: work
done with its executors, materials used (written off a warehouse), then the comment,
attachments and the customer's signature. Every check is the core's
(:mod:`fsm_core.services.execution`); a dialog only reads what was typed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, TextArea

from fsm_core.errors import FsmError, InvalidInput
from fsm_core.formatting import local_time, money, quantity
from fsm_core.models.attachments import Attachment
from fsm_core.services import execution, planning, stock_queries
from fsm_core.timeparse import parse_datetime
from fsm_core.values import parse_decimal, parse_money, parse_quantity
from fsm_tui.refs import Refs
from fsm_tui.screens.forms import ChangeForm
from fsm_tui.screens.stock_forms import StockForm
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.path_suggester import PathSuggester

EXECUTOR_ROWS = 4


def round_down(moment: datetime, minutes: int = 5) -> datetime:
    return moment.replace(second=0, microsecond=0) - timedelta(minutes=moment.minute % minutes)


class WorkScreen(ChangeForm):
    """Work done (выполненная работа): the work type, when, and who with their rates.

    Start and end begin as the core's default (:func:`fsm_core.services.planning.work_window`:
    the planned time of the visit that has begun, else the last hour), read when the form
    opens; what the user has typed by then is kept."""

    @dataclass
    class WindowRead(Message):
        window: planning.WorkWindow

    def __init__(
        self,
        order_id: int,
        refs: Refs,
        *,
        tz: Any,
        now: datetime,
        executors: tuple[int, ...] = (),
    ) -> None:
        super().__init__(id="work-form")
        self.order_id = order_id
        self.refs = refs
        self.tz = tz
        self.now = now
        self.executors = executors

    def compose(self) -> ComposeResult:
        lang = self.lang
        refs = self.refs
        end = round_down(self.now.astimezone(self.tz))
        start = end - timedelta(hours=1)
        with Vertical(classes="dialog wide") as box:
            box.border_title = t("work.title", lang)
            with Grid(classes="form-grid"):
                yield from self.field(
                    t("work.type", lang) + " *",
                    Select(
                        [(self._work_type_label(w), w.id) for w in refs.work_types],
                        prompt=t("work.pick_type", lang),
                        compact=True,
                        id="work_type",
                    ),
                    "work_type",
                )
                yield from self.field(
                    t("work.start", lang) + " *",
                    Input(local_time(start, self.tz, lang=lang), compact=True, id="start"),
                    "start",
                )
                yield from self.field(
                    t("work.end", lang) + " *",
                    Input(local_time(end, self.tz, lang=lang), compact=True, id="end"),
                    "end",
                )
                yield from self.field(
                    t("work.quantity", lang),
                    Input("1", compact=True, id="quantity"),
                    "quantity",
                )
                for row in range(EXECUTOR_ROWS):
                    chosen = self.executors[row] if row < len(self.executors) else None
                    yield Label(t("work.executor", lang, n=row + 1) + (" *" if row == 0 else ""))
                    with Horizontal(classes="executor-row"):
                        yield Select(
                            [(self._employee_label(e.id), e.id) for e in refs.employees],
                            prompt="—",
                            value=chosen if chosen is not None else Select.NULL,
                            compact=True,
                            id=f"executor-{row}",
                        )
                        yield Input(
                            placeholder=self._rate_placeholder(chosen),
                            compact=True,
                            id=f"rate-{row}",
                            classes="rate",
                        )
                    yield Label("", classes="field-error", id=f"error-executor-{row}")
                yield from self.field(
                    t("work.comment", lang),
                    Input(placeholder=t("form.optional", lang), compact=True, id="comment"),
                    "comment",
                )
            yield Static("", id="work-window", classes="hint")
            yield Static(t("work.rate_hint", lang), classes="hint")
            yield from self.buttons(t("work.save", lang))
        yield KeyFooter()

    def _work_type_label(self, work_type: Any) -> str:
        """``Чистка · 3 500,00 ₽``; how it is charged when that is not the price alone:
        ``+ часы`` (both lines), ``по часам`` (the executors' hours only)."""
        if work_type.charge == "hours":
            return f"{work_type.name} · {t('work.by_hours', self.lang)}"
        price = money(work_type.price, lang=self.lang, currency=self.refs.currency)
        if work_type.charge == "both":
            return f"{work_type.name} · {price} {t('work.plus_hours', self.lang)}"
        return f"{work_type.name} · {price}"

    def _employee_label(self, employee_id: int) -> str:
        employee = self.refs.employee(employee_id)
        return employee.name if employee else str(employee_id)

    def _rate_placeholder(self, employee_id: int | None) -> str:
        employee = self.refs.employee(employee_id)
        if employee is None or employee.rate is None:
            return t("work.rate", self.lang)
        rate = money(employee.rate, lang=self.lang, currency=self.refs.currency)
        return t("work.rate_own", self.lang, rate=rate)

    def on_mount(self) -> None:
        self.query_one("#work_type", Select).focus()  # typing opens it and finds the type
        self._defaults = {n: self.query_one(f"#{n}", Input).value for n in ("start", "end")}
        self._read_window()

    @work(thread=True, exclusive=True, exit_on_error=False, group="work-window")
    def _read_window(self) -> None:
        with self.fsm.backend.reader() as session:
            window = planning.work_window(
                session=session, order_id=self.order_id, now=self.fsm.backend.now()
            )
        self.post_message(self.WindowRead(window))

    def on_work_screen_window_read(self, message: WindowRead) -> None:
        window = message.window
        lang = self.lang
        for name, value in (("start", window.start), ("end", window.end)):
            field = self.query_one(f"#{name}", Input)
            if field.value == self._defaults[name]:  # not typed over meanwhile
                field.value = local_time(value, self.tz, lang=lang)
        if window.visit_id is not None:
            self.query_one("#work-window", Static).update(t("work.from_visit", lang))

    @on(Select.Changed)
    def _executor_changed(self, event: Select.Changed) -> None:
        name = event.select.id or ""
        if name.startswith("executor-"):
            row = name.removeprefix("executor-")
            chosen = event.value if isinstance(event.value, int) else None
            self.query_one(f"#rate-{row}", Input).placeholder = self._rate_placeholder(chosen)

    def action_submit(self) -> None:
        values = {
            "work_type": self.value("#work_type"),
            "start": self.value("#start"),
            "end": self.value("#end"),
            "quantity": self.value("#quantity"),
            "comment": self.value("#comment") or None,
            "executors": [
                (self.value(f"#executor-{row}"), self.value(f"#rate-{row}"))
                for row in range(EXECUTOR_ROWS)
            ],
        }
        if values["work_type"] is None:
            self.show_error(t("work.pick_type", self.lang), "work_type")
            return
        tz, lang, order_id = self.tz, self.lang, self.order_id
        actor = self.fsm.backend.user
        currency = self.refs.currency

        def add(session: Session) -> str:
            executors = []
            for row, (employee_id, rate) in enumerate(values["executors"]):
                if employee_id is None:
                    continue
                executors.append(
                    execution.ExecutorInput(
                        employee_id=employee_id,
                        hourly_rate=parse_money(rate, field=f"executor-{row}") if rate else None,
                    )
                )
            entry = execution.add_work(
                session=session,
                order_id=order_id,
                work_type_id=values["work_type"],
                started_at=_required_time(values["start"], tz, "start"),
                finished_at=_required_time(values["end"], tz, "end"),
                executors=executors,
                quantity=parse_decimal(values["quantity"] or "1", field="quantity") or Decimal(1),
                comment=values["comment"],
                actor=actor,
            )
            computed = execution.totals(session=session, order_id=order_id, lang=lang)
            return t(
                "work.saved",
                lang,
                work=entry.work_type_name,
                total=money(computed.total, lang=lang, currency=currency)
                if computed.priced
                else "—",
            )

        self.save(add)


def _required_time(value: str, tz: Any, field: str) -> datetime:
    moment = parse_datetime(value, tz=tz, field=field)
    if moment is None:
        raise InvalidInput(f"{field}: a date and time are needed", field=field)
    return moment


class MaterialScreen(StockForm):
    """A material used on the order: written off a warehouse (списать), never below zero.
    The warehouse is suggested the core's way (the order's reservation, else the van of
    its technician); where the item is, and how much, is shown as the item is chosen."""

    TITLE_KEY = "material.title"
    SAVE_KEY = "material.save"

    def __init__(
        self,
        order_id: int,
        refs: Refs,
        *,
        item_id: int | None = None,
        warehouse_id: int | None = None,
        amount: Decimal | None = None,
    ) -> None:
        super().__init__(
            refs,
            item_id=item_id,
            warehouse_id=warehouse_id,
            order_id=order_id,
            id="material-form",
        )
        self.amount = amount

    def fields(self) -> ComposeResult:
        lang = self.lang
        yield from self.item_field()
        yield from self.quantity_field(
            quantity(self.amount, lang=lang) if self.amount is not None else ""
        )
        yield from self.warehouse_field("warehouse", t("warehouse", lang), self.warehouse_id)

    def action_submit(self) -> None:
        values = self.required("item", "quantity", "warehouse")
        if values is None:
            return
        order_id = self.order_id
        assert order_id is not None
        item_id, warehouse_id = values["item"], values["warehouse"]
        lang, actor = self.lang, self.fsm.backend.user

        def use(session: Session) -> str:
            item = stock_queries.get_item(session=session, item_id=item_id)
            value = parse_quantity(values["quantity"], field="quantity", unit=item.unit)
            if value is None:
                raise InvalidInput("quantity: how much was used?", field="quantity")
            used = execution.use_material(
                session=session,
                order_id=order_id,
                item_id=item_id,
                warehouse_id=warehouse_id,
                quantity=value,
                actor=actor,
            )
            warehouse = stock_queries.get_warehouse(session=session, warehouse_id=warehouse_id)
            left = next(
                (
                    line.available
                    for line in stock_queries.availability(session=session, item_id=item_id).lines
                    if line.warehouse_id == warehouse_id
                ),
                Decimal(0),
            )
            return t(
                "material.saved",
                lang,
                item=used.item_name,
                n=quantity(used.quantity, used.unit, lang=lang),
                warehouse=warehouse.name,
                left=quantity(left, used.unit, lang=lang),
            )

        self.save(use)


class CommentScreen(ChangeForm):
    """The execution comment, printed on the act."""

    def __init__(self, order_id: int, comment: str | None) -> None:
        super().__init__(id="comment-form")
        self.order_id = order_id
        self.comment = comment or ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = t("comment.title", self.lang)
            yield TextArea(self.comment, id="comment", classes="description")
            yield from self.buttons(t("form.save", self.lang))
        yield KeyFooter()

    def on_mount(self) -> None:
        area = self.query_one("#comment", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_submit(self) -> None:
        text = self.query_one("#comment", TextArea).text
        order_id, lang, actor = self.order_id, self.lang, self.fsm.backend.user

        def comment(session: Session) -> str:
            record = execution.set_comment(
                session=session, order_id=order_id, comment=text, actor=actor
            )
            return t("comment.saved" if record.comment else "comment.cleared", lang)

        self.save(comment)


class SignScreen(ChangeForm):
    """The customer's signature (получить подпись): who signed, in what position (printed
    on the act), and the image if any."""

    def __init__(self, order_id: int, signer: str | None, *, position: str | None = None) -> None:
        super().__init__(id="sign-form")
        self.order_id = order_id
        self.signer = signer or ""
        self.position = position or ""

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog") as box:
            box.border_title = t("sign.title", lang)
            with Grid(classes="form-grid"):
                yield from self.field(
                    t("sign.name", lang) + " *",
                    Input(self.signer, compact=True, id="name"),
                    "name",
                )
                yield from self.field(
                    t("sign.position", lang),
                    Input(
                        self.position,
                        placeholder=t("form.optional", lang),
                        compact=True,
                        id="position",
                    ),
                    "position",
                )
                yield from self.field(
                    t("sign.image", lang),
                    Input(
                        placeholder=t("sign.image_placeholder", lang),
                        suggester=PathSuggester(),
                        compact=True,
                        id="image",
                    ),
                    "image",
                )
            yield from self.buttons(t("sign.save", lang))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def action_submit(self) -> None:
        name = self.value("#name")
        position = self.value("#position") or None
        image = self.value("#image")
        lang = self.lang
        if not name:
            self.show_error(t("sign.name_needed", lang), "name")
            return
        order_id, actor = self.order_id, self.fsm.backend.user

        def sign(session: Session) -> str:
            record = execution.sign(
                session=session,
                order_id=order_id,
                signer_name=name,
                signer_position=position,
                image=os.path.expanduser(image) if image else None,
                actor=actor,
            )
            return t("sign.saved", lang, name=record.signer_name)

        self.save(sign)

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if isinstance(error, InvalidInput) and error.field in ("name", "position"):
            return super().handle_worker_error(worker, error)
        if isinstance(error, FsmError) and (
            "signature image" in error.message or "file" in error.message
        ):
            self.show_error(error.one_line(self.lang), "image")
            return True
        return super().handle_worker_error(worker, error)


class UnsignScreen(ChangeForm):
    """Withdraw the customer's signature (отозвать подпись), saying why: the act is then
    unsigned and can change; the order's history keeps the signature and the reason."""

    def __init__(self, order_id: int, signed: str) -> None:
        super().__init__(id="unsign-form")
        self.order_id = order_id
        self.signed = signed

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog") as box:
            box.border_title = t("unsign.title", lang)
            yield Static(self.signed, classes="hint")
            with Grid(classes="form-grid"):
                yield from self.field(
                    t("unsign.reason", lang) + " *",
                    Input(
                        placeholder=t("unsign.reason_placeholder", lang), compact=True, id="reason"
                    ),
                    "reason",
                )
            yield from self.buttons(t("unsign.save", lang))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def action_submit(self) -> None:
        reason = self.value("#reason")
        lang = self.lang
        if not reason:
            self.show_error(t("unsign.reason_needed", lang), "reason")
            return
        order_id, actor = self.order_id, self.fsm.backend.user

        def unsign(session: Session) -> str:
            execution.unsign(session=session, order_id=order_id, reason=reason, actor=actor)
            return t("unsign.saved", lang)

        self.save(unsign)


class AttachScreen(ChangeForm):
    """A photo or a document for the order (kept by content, size-limited)."""

    def __init__(self, order_id: int) -> None:
        super().__init__(id="attach-form")
        self.order_id = order_id

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog") as box:
            box.border_title = t("attach.title", lang)
            with Grid(classes="form-grid"):
                yield from self.field(
                    t("attach.path", lang) + " *",
                    Input(
                        placeholder=t("attach.path_placeholder", lang),
                        suggester=PathSuggester(),
                        compact=True,
                        id="path",
                    ),
                    "path",
                )
                yield from self.field(
                    t("attach.note", lang),
                    Input(placeholder=t("form.optional", lang), compact=True, id="note"),
                    "note",
                )
            yield from self.buttons(t("attach.save", lang))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def action_submit(self) -> None:
        path = self.value("#path")
        note = self.value("#note") or None
        lang = self.lang
        if not path:
            self.show_error(t("attach.path_needed", lang), "path")
            return
        order_id, actor = self.order_id, self.fsm.backend.user

        def attach(session: Session) -> str:
            link = execution.attach(
                session=session,
                order_id=order_id,
                path=os.path.expanduser(path),
                note=note,
                actor=actor,
            )
            stored = session.get(Attachment, link.attachment_id)
            return t("attach.saved", lang, name=stored.original_name if stored else path)

        self.save(attach)

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if isinstance(error, FsmError):
            self.show_error(error.one_line(self.lang), "path")
            return True
        return super().handle_worker_error(worker, error)
