"""One order's chat (переписка по заявке): the team and customer channels, the messages,
and a composer. The chat section shows it beside its conversations; the order screen's
Messages tab shows it for its order.

Everything it reads or writes goes through :mod:`fsm_core.services.chat` in a worker, as
the dashboard's acting user. A channel shown on screen is marked read (the unread counts
of that user drop); one that is not on screen is left unread. New messages written here
are announced to the whole app, and the thread follows the app's news itself
(:class:`~fsm_tui.messages.MessagesArrived`, from this process or, with live updates, from
any other), so a message another dispatcher sends appears within a second or two.

Keys: ``ctrl+enter`` sends, as in the reference product. Many terminals send ctrl+enter
as a plain enter (a new line), so ``ctrl+j`` and ``ctrl+s`` send too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Checkbox, OptionList, Static, Tab, Tabs, TextArea
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fsm_core.errors import NotFound
from fsm_core.formatting import moment
from fsm_core.models import Channel, Order
from fsm_core.services import chat
from fsm_core.services.chat import MessageView
from fsm_tui import cells
from fsm_tui.messages import (
    ForwardChatMessage,
    LiveStateChanged,
    MessagesArrived,
    OpenOrder,
    OrdersChanged,
)
from fsm_tui.text import localize_bindings, t
from fsm_tui.workers import WorkerErrors

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard

CHANNELS = (Channel.TEAM.value, Channel.CUSTOMER.value)


class Composer(TextArea):
    """Where a message is typed: enter starts a new line, ctrl+enter sends."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+enter", "send", "Send", id="composer.send"),
        # most terminals send ctrl+enter as a plain enter (only those that speak the kitty
        # keyboard protocol tell them apart): these two send there
        Binding("ctrl+j", "send", "Send", show=False, id="composer.send_ctrl_j"),
        Binding("ctrl+s", "send", "Send", show=False, id="composer.send_ctrl_s"),
    ]

    @dataclass
    class Submitted(Message):
        composer: Composer
        text: str

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id, compact=True, soft_wrap=True, show_line_numbers=False)
        localize_bindings(self, lang)
        self.placeholder = t("chat.placeholder.team", lang)

    def action_send(self) -> None:
        self.post_message(self.Submitted(self, self.text))


@dataclass(frozen=True)
class Header:
    """What the thread says about its order."""

    order_id: int
    number: str
    customer_id: int
    object_id: int | None
    description: str


class ChatThread(WorkerErrors, Vertical):
    """The chat of one order (``order_id``; the chat section changes it with
    :meth:`show_order`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "switch_channel", "Team/customer", id="thread.channel"),
        Binding("ctrl+o", "toggle_also", "Also to customer", id="thread.also_customer"),
        Binding("f", "forward", "Forward", id="thread.forward"),
        Binding("c", "compose", "Write", id="thread.compose"),
    ]

    @dataclass
    class Loaded(Message):
        thread: ChatThread
        generation: int
        header: Header
        channel: str
        messages: list[MessageView]
        unread: dict[str, int]

    @dataclass
    class Read(Message):
        """The user has now seen a channel of an order (its unread count is 0)."""

        thread: ChatThread
        order_id: int
        channel: str
        count: int

    @dataclass
    class Sent(Message):
        thread: ChatThread
        order_id: int
        message_ids: tuple[int, ...]
        channels: tuple[str, ...]

    def __init__(
        self,
        app: Dashboard,
        order_id: int | None = None,
        *,
        with_header: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="chat-thread")
        self.lang = app.lang
        self.order_id = order_id
        self.channel = Channel.TEAM.value
        self.with_header = with_header
        self.header: Header | None = None
        self.messages: list[MessageView] = []
        self.unread: dict[str, int] = {}
        self._generation = 0
        self._stale = True
        self._pick_channel = True  # the next load may start on the channel with news
        self.reading = True  # False while only previewed: nothing is marked read then
        localize_bindings(self, self.lang)

    @property
    def fsm(self) -> Dashboard:
        return cast("Dashboard", self.app)

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lang = self.lang
        if self.with_header:
            yield Static("", id="thread-header", classes="thread-header")
        yield Tabs(
            Tab(t("chat.team", lang), id=Channel.TEAM.value),
            Tab(t("chat.customer", lang), id=Channel.CUSTOMER.value),
            id="thread-channels",
        )
        yield OptionList(id="thread-messages", classes="thread-messages")
        yield Composer(lang=lang, id="composer")
        with Horizontal(classes="composer-bar"):
            yield Checkbox(t("chat.also_customer", lang), compact=True, id="also-customer")
            yield Static(t("chat.to_customer", lang), id="to-customer")
            yield Static(t("chat.hint", lang), classes="composer-hint")

    def on_mount(self) -> None:
        self.fsm.screens_to_notify.add(self)
        self._show_empty()

    def on_unmount(self) -> None:
        self.fsm.screens_to_notify.discard(self)

    def on_show(self, event: events.Show) -> None:
        if self._stale and self.order_id is not None:
            self.reload()
        elif self.header is not None:
            self._mark_read_if_seen()

    @property
    def seen(self) -> bool:
        """Whether the user can see the thread now (its screen on top, its tab shown)."""
        if not self.is_attached or self.screen is not self.app.screen:
            return False
        return all(getattr(node, "display", True) for node in self.ancestors_with_self)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def message_list(self) -> OptionList:
        return self.query_one("#thread-messages", OptionList)

    # --- loading -------------------------------------------------------------------------

    def show_order(self, order_id: int | None, *, read: bool = True) -> None:
        """Show another order's chat (the team channel first unless only the customer's
        has unread messages). ``read=False`` previews it: nothing is marked read until
        the user turns to it (:meth:`open`)."""
        if order_id == self.order_id:
            if read:
                self.open()
            return
        self.reading = read
        self.order_id = order_id
        self.header = None
        self.channel = Channel.TEAM.value
        self.composer.load_text("")
        self.query_one("#also-customer", Checkbox).value = False
        if order_id is None:
            self._show_empty()
            return
        self._pick_channel = True
        self.reload()

    def reload(self) -> None:
        if self.order_id is None:
            return
        self._stale = False
        self._generation += 1
        self._load(self._generation, self.order_id, self.channel, self._pick_channel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thread-load")
    def _load(self, generation: int, order_id: int, channel: str, pick: bool) -> None:
        worker = get_current_worker()
        backend = self.fsm.backend
        with backend.reader() as session:
            order = session.get(Order, order_id)
            if order is None:
                raise NotFound("order", f"#{order_id}")
            assert order.id is not None
            header = Header(
                order.id, order.number, order.customer_id, order.object_id, order.description
            )
            counts = chat.unread(session=session, user=backend.actor, order_id=order_id)
            unread = counts.by_order.get(order_id, {})
            if pick and not unread.get(Channel.TEAM.value) and unread.get(Channel.CUSTOMER.value):
                channel = Channel.CUSTOMER.value
            if backend.actor.kind == "customer":
                channel = Channel.CUSTOMER.value
            views = chat.messages(
                session=session, order_id=order_id, user=backend.actor, channel=Channel(channel)
            )
        if not worker.is_cancelled:
            self.post_message(self.Loaded(self, generation, header, channel, views, dict(unread)))

    def on_chat_thread_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.thread is not self or message.generation != self._generation:
            return
        self._pick_channel = False
        self.header = message.header
        self.channel = message.channel
        self.messages = message.messages
        self.unread = message.unread
        self._show()
        self._mark_read_if_seen()

    def open(self) -> None:
        """The user turned to this chat: what it shows is read from now on."""
        self.reading = True
        self._mark_read_if_seen()

    def _mark_read_if_seen(self) -> None:
        if self.header is None or not self.reading or not self.seen:
            return
        if self.unread.get(self.channel):
            self._mark_read(self.header.order_id, self.channel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thread-read")
    def _mark_read(self, order_id: int, channel: str) -> None:
        backend = self.fsm.backend
        with backend.transaction() as session:
            count = chat.mark_read(
                session=session, user=backend.actor, order_id=order_id, channel=Channel(channel)
            )
        self.post_message(self.Read(self, order_id, channel, count))

    def on_chat_thread_read(self, message: Read) -> None:
        if message.thread is not self:
            return
        if message.order_id == self.order_id:
            self.unread[message.channel] = 0
            self._show_channels()
        # and on to the screen: the chat section's badges drop

    # --- the app's news ------------------------------------------------------------------

    def on_messages_arrived(self, message: MessagesArrived) -> None:
        message.stop()  # the app sent it here; the screen has its own copy
        if self.order_id is not None and message.concerns(self.order_id):
            self._stale = True
            if self.seen or self.header is None:
                self.reload()

    def on_orders_changed(self, message: OrdersChanged) -> None:
        message.stop()  # the screen has its own copy

    def on_live_state_changed(self, message: LiveStateChanged) -> None:
        message.stop()

    # --- drawing -------------------------------------------------------------------------

    def _show_empty(self) -> None:
        if self.with_header:
            self.query_one("#thread-header", Static).update(t("chat.pick", self.lang))
        self.message_list.clear_options()
        self._show_channels()
        self._show_composer()

    def _show(self) -> None:
        header = self.header
        assert header is not None
        catalog = self.fsm.catalog
        if self.with_header:
            line = Text(header.number, style="bold")
            if catalog is not None:
                line.append(" · " + catalog.name_of("customers", header.customer_id))
                if header.object_id is not None:
                    line.append(" · " + catalog.name_of("objects", header.object_id), style="dim")
            line.append(" · " + cells.one_line(header.description), style="dim")
            line.truncate(max(self.size.width - 2, 20), overflow="ellipsis")
            self.query_one("#thread-header", Static).update(line)
        self._show_channels()
        self._show_composer()
        self._show_messages()

    def _show_channels(self) -> None:
        tabs = self.query_one("#thread-channels", Tabs)
        for channel in CHANNELS:
            label = Text(t(f"chat.{channel}", self.lang))
            count = self.unread.get(channel, 0)
            if count:
                label.append(f" {chat.badge(count)}", style="bold")
            tabs.query_one(f"#{channel}", Tab).label = label
        if tabs.active != self.channel:
            tabs.active = self.channel

    def _show_composer(self) -> None:
        """The composer says where a message goes: the customer's channel is marked, so
        nobody writes to a customer thinking they write to the team."""
        team = self.channel == Channel.TEAM.value
        self.query_one("#also-customer", Checkbox).display = team
        self.query_one("#to-customer").display = not team
        self.set_class(not team, "-customer")
        self.composer.placeholder = t(f"chat.placeholder.{self.channel}", self.lang)
        self.composer.disabled = self.order_id is None
        self.refresh_bindings()

    def _show_messages(self) -> None:
        options = self.message_list
        keep = options.highlighted_option.id if options.highlighted_option else None
        at_end = keep is None or options.highlighted == options.option_count - 1
        options.clear_options()
        if not self.messages:
            options.add_option(Option(Text(t("chat.empty", self.lang), style="dim"), disabled=True))
            return
        options.add_options(
            [self._option(m, last=i == len(self.messages) - 1) for i, m in enumerate(self.messages)]
        )
        ids = [str(m.id) for m in self.messages]
        if keep in ids and not at_end:
            options.highlighted = ids.index(keep)
        else:
            options.highlighted = len(ids) - 1
        options.scroll_end(animate=False, immediate=True)

    def _time(self, value: datetime) -> str:
        catalog = self.fsm.catalog
        if catalog is None:
            return ""
        now = self.fsm.backend.now()
        return moment(value, catalog.tz, lang=self.lang, now=now)

    def _option(self, m: MessageView, *, last: bool) -> Option:
        lang = self.lang
        mine = m.author_user_id == self.fsm.backend.actor.id
        text = Text()
        style = "bold green" if mine else "bold"
        if not mine and m.author_kind == "customer":
            style = "bold magenta"
        text.append(m.author, style=style)
        text.append(f"  {self._time(m.created_at)}", style="dim")
        if m.forwarded_from:
            origin = m.forwarded_from
            text.append("\n")
            text.append(
                t(
                    "chat.forwarded",
                    lang,
                    author=origin.get("author") or "?",
                    number=origin.get("number") or "?",
                    channel=t(f"chat.{origin.get('channel') or 'team'}", lang),
                ),
                style="italic dim",
            )
        text.append("\n")
        text.append(m.text)
        for attachment in m.attachments:
            text.append("\n")
            text.append(
                t("chat.attachment", lang, name=attachment["name"], size=attachment["size"]),
                style="dim",
            )
        if not last:
            text.append("\n")  # a blank line between messages
        return Option(text, id=str(m.id))

    def on_resize(self, event: events.Resize) -> None:
        if self.header is not None and self.with_header:
            self._show()

    # --- the user's actions --------------------------------------------------------------

    @on(Tabs.TabActivated, "#thread-channels")
    def _channel_picked(self, event: Tabs.TabActivated) -> None:
        event.stop()
        channel = event.tab.id or Channel.TEAM.value
        if channel != self.channel:
            self.reading = True
            self.channel = channel
            self._show_composer()
            self.reload()

    def action_switch_channel(self) -> None:
        self.query_one("#thread-channels", Tabs).active = (
            Channel.CUSTOMER.value if self.channel == Channel.TEAM.value else Channel.TEAM.value
        )

    def action_toggle_also(self) -> None:
        also = self.query_one("#also-customer", Checkbox)
        if also.display:
            also.value = not also.value

    def action_compose(self) -> None:
        if not self.composer.disabled:
            self.composer.focus()
            self.open()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self.header is not None and not self.reading:
            self.open()  # the user went into the chat (its messages or the composer)

    @on(OptionList.OptionSelected, "#thread-messages")
    def _message_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        if self.order_id is None:
            return
        text = event.text.strip()
        if not text:
            self.notify(t("chat.nothing_to_send", self.lang), severity="warning")
            return
        also = self.query_one("#also-customer", Checkbox)
        self._send(self.order_id, self.channel, text, also.display and also.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="thread-send")
    def _send(self, order_id: int, channel: str, text: str, also_customer: bool) -> None:
        backend = self.fsm.backend
        with backend.transaction() as session:
            written = chat.send_message(
                session=session,
                order_id=order_id,
                user=backend.actor,
                text=text,
                channel=Channel(channel),
                also_customer=also_customer,
            )
            ids = tuple(m.id for m in written if m.id is not None)
            channels = tuple(m.channel for m in written)
        self.post_message(self.Sent(self, order_id, ids, channels))

    def on_chat_thread_sent(self, message: Sent) -> None:
        message.stop()
        if message.thread is not self:
            return
        if message.order_id == self.order_id:
            self.composer.load_text("")
            self.query_one("#also-customer", Checkbox).value = False
        if len(message.channels) > 1:
            self.notify(t("chat.sent_both", self.lang))
        self.fsm.broadcast(MessagesArrived((message.order_id,), message.message_ids))

    def highlighted_message(self) -> MessageView | None:
        option = self.message_list.highlighted_option
        if option is None or option.id is None:
            return None
        for m in self.messages:
            if str(m.id) == option.id:
                return m
        return None

    def action_forward(self) -> None:
        message = self.highlighted_message()
        if message is None or self.header is None:
            self.notify(t("chat.nothing_selected", self.lang), severity="warning")
            return
        self.post_message(ForwardChatMessage(message, self.lang))

    def open_order(self) -> None:
        if self.order_id is not None:
            self.post_message(OpenOrder(self.order_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("switch_channel", "forward", "compose") and self.order_id is None:
            return False
        if action == "switch_channel" and self.fsm.backend.actor.kind == "customer":
            return False
        return not (action == "toggle_also" and self.channel != Channel.TEAM.value)

    def focus_main(self) -> OptionList:
        """The widget that takes the focus when the user enters the thread (as an order
        pane's :meth:`~fsm_tui.tabs.base.OrderPane.focus_main`)."""
        return self.message_list
