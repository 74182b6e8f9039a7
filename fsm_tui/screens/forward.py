"""Forward a chat message (переслать) to a channel of this order or of another one.

The order is typed as its number (or external id); the channel defaults to the other one
of the message's own order, the common case being a technician's note passed on to the
customer. The core copies the text and the attachments and records where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label, Select, Static

from fsm_core.models import Channel
from fsm_core.services import chat, lookup
from fsm_core.services.chat import MessageView
from fsm_tui import cells
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter


@dataclass
class Forwarded:
    message_id: int
    order_id: int
    number: str
    channel: str


class ForwardScreen(FormScreen[Forwarded | None]):
    """Where to forward ``message``: an order (by number) and a channel."""

    FIELDS: ClassVar[tuple[str, ...]] = ("order", "channel")

    def __init__(self, message: MessageView) -> None:
        super().__init__(id="forward")
        self.message = message

    def compose(self) -> ComposeResult:
        lang = self.lang
        m = self.message
        other = Channel.CUSTOMER.value if m.channel == Channel.TEAM.value else Channel.TEAM.value
        with Vertical(classes="dialog") as box:
            box.border_title = t("forward.title", lang)
            quote = Text(f"{m.author}: ", style="bold")
            quote.append(cells.one_line(m.text)[:200])
            yield Static(quote, classes="forward-quote")
            with Grid(classes="form-grid"):
                yield Label(t("forward.order", lang))
                yield Input(m.number, compact=True, id="order")
                yield Label("", classes="field-error", id="error-order")
                yield Label(t("forward.channel", lang))
                yield Select(
                    [(t(f"chat.{c.value}", lang), c.value) for c in Channel],
                    value=other,
                    allow_blank=False,
                    compact=True,
                    id="channel",
                )
                yield Label("", classes="field-error", id="error-channel")
            yield Label("", classes="field-error", id="error-form")
            yield Static(t("forward.hint", lang), classes="dialog-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#order", Input).focus()

    @on(Input.Submitted, "#order")
    def _order_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        self.clear_errors()
        ref = self.query_one("#order", Input).value.strip()
        if not ref:
            self.show_error(t("forward.no_order", self.lang), "order")
            return
        channel = self.query_one("#channel", Select).value
        self._forward(ref, str(channel))

    def _forward(self, ref: str, channel: str) -> None:
        backend = self.fsm.backend

        def work(session: Session) -> Forwarded:
            order = lookup.resolve_order(session=session, ref=ref)
            assert order.id is not None
            message = chat.forward_message(
                session=session,
                message_id=self.message.id,
                order_id=order.id,
                user=backend.actor,
                channel=Channel(channel),
            )
            assert message.id is not None
            result = Forwarded(message.id, order.id, order.number, channel)
            return result

        self.save(work)
