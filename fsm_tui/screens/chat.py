"""Chats (сообщения): the orders with messages, the latest conversation first, each with
the acting user's unread count, and the chosen order's chat beside them.

Moving through the conversations shows each one's chat; the channel shown is marked read
(its badge drops). New messages, written here or by anyone else (live updates), move their
conversation to the top and raise its badge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fsm_core.services import chat
from fsm_tui import cells
from fsm_tui.backend import Catalog
from fsm_tui.messages import MessagesArrived, OrdersChanged
from fsm_tui.screens.base import SectionScreen
from fsm_tui.text import t
from fsm_tui.widgets.chat_thread import ChatThread

Row = dict[str, Any]


class ConversationList(OptionList):
    """The conversations. It knows whether its cursor was last moved by the user (keys,
    mouse) or put there by the screen, so a conversation the screen merely shows (the
    first one, on arrival) is a preview and nothing is marked read."""

    moved_by_user = False

    def _user(self) -> None:
        self.moved_by_user = True

    def action_cursor_up(self) -> None:
        self._user()
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self._user()
        super().action_cursor_down()

    def action_first(self) -> None:
        self._user()
        super().action_first()

    def action_last(self) -> None:
        self._user()
        super().action_last()

    def action_page_up(self) -> None:
        self._user()
        super().action_page_up()

    def action_page_down(self) -> None:
        self._user()
        super().action_page_down()

    async def _on_click(self, event: events.Click) -> None:
        self._user()  # Textual then runs OptionList's own click handler


class ChatScreen(SectionScreen):
    SECTION = "chat"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "compose", "Write", id="chat.compose"),
        Binding("ctrl+t", "switch_channel", "Team/customer", show=False, id="chat.channel"),
        Binding("u", "toggle_unread", "Unread only", id="chat.unread_only"),
        Binding("o", "open_order", "Open order", id="chat.open_order"),
        Binding("r", "refresh", "Refresh", show=False, id="chat.refresh"),
        Binding("escape", "focus_list", "To the list", show=False, id="chat.focus_list"),
    ]

    LIMIT: ClassVar[int] = 200
    """Conversations listed (the most recent ones)."""

    @dataclass
    class ListLoaded(Message):
        rows: list[Row]
        total_unread: int
        unread_only: bool

    def __init__(self) -> None:
        super().__init__(id="chat")
        self.rows: list[Row] = []
        self.unread_only = False
        self.total_unread = 0

    # --- layout --------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            with Vertical(id="chat-side"):
                yield Static("", id="chat-list-title")
                yield ConversationList(id="conversations")
            yield ChatThread(self.fsm, id="chat-thread")

    @property
    def conversations(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def thread(self) -> ChatThread:
        return self.query_one(ChatThread)

    def on_mount(self) -> None:  # Textual calls FsmScreen.on_mount too, after this one
        self.conversations.focus()
        self._show_title()

    def on_screen_resume(self) -> None:
        # shown (again): what was read or written meanwhile elsewhere shows
        self.reload()
        self.thread.reload()

    def catalog_ready(self, catalog: Catalog) -> None:
        if self.thread.header is not None:
            self.thread.reload()  # names and times need the catalog

    # --- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        self._load(self.unread_only)

    @work(thread=True, exclusive=True, exit_on_error=False, group="chat-list")
    def _load(self, unread_only: bool) -> None:
        worker = get_current_worker()
        backend = self.fsm.backend
        with backend.reader() as session:
            rows = chat.chat_list(
                session=session, user=backend.actor, unread_only=unread_only, limit=self.LIMIT
            )
            total = chat.unread(session=session, user=backend.actor).total
        if not worker.is_cancelled:
            self.post_message(self.ListLoaded(rows, total, unread_only))

    def on_chat_screen_list_loaded(self, message: ListLoaded) -> None:
        if message.unread_only != self.unread_only:
            return
        self.rows = message.rows
        self.total_unread = message.total_unread
        self._show_title()
        options = self.conversations
        current = self.thread.order_id
        options.clear_options()
        options.add_options([self._option(row) for row in self.rows])
        ids = [row["order_id"] for row in self.rows]
        if not ids:
            self.thread.show_order(None)
            return
        index = ids.index(current) if current in ids else 0
        options.moved_by_user = False  # a preview: opening the section reads nothing
        options.highlighted = index
        self.call_after_refresh(self._rewrap)  # the list may only now be laid out

    def _show_title(self) -> None:
        lang = self.lang
        title = Text(t("chat.conversations", lang), style="bold")
        if self.total_unread:
            title.append(f"  {t('chat.unread', lang)} {chat.badge(self.total_unread)}")
        if self.unread_only:
            title.append(f"  · {t('chat.only_unread', lang)}", style="dim")
        self.query_one("#chat-list-title", Static).update(title)

    def _width(self) -> int:
        """The room a conversation's line has: the side's width in fsm.tcss (#chat-side:
        44, or 32 in a narrow terminal) less its border, a cell of padding each side and
        the scrollbar (counted whether it shows or not). Taken from the layout's rule, not
        a measured size, so lines are cut alike whenever the rows arrive."""
        side = 32 if self.has_class("-narrow") else 44
        return side - 1 - 4

    def on_resize(self) -> None:
        """A narrower list (80 columns) gets its lines cut anew, not wrapped (once the
        new layout is there)."""
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        if self.rows and self._width() != self._cut_to:
            keep = self.conversations.highlighted
            self.conversations.clear_options()
            self.conversations.add_options([self._option(row) for row in self.rows])
            if keep is not None:
                self.conversations.moved_by_user = False
                self.conversations.highlighted = keep

    _cut_to = 0  # the width the lines were cut to

    def _option(self, row: Row) -> Option:
        """``26-0082  ООО «СМ-Трейд»        3`` over ``Смирнова: Спасибо! Сейчас сухо.``"""
        width = self._cut_to = self._width()
        badge = chat.badge(row["unread"])
        first = Text(row["number"], style="bold")
        room = width - len(row["number"]) - len(badge) - 3
        first.append("  " + cells.fit(row["customer"] or "", max(room, 1)))
        if badge:
            first.append(" ")
            first.append(f"{badge}", style="bold reverse")
        author = (row["last_author"] or "").split()
        who = author[0] if author else ""
        second = Text(cells.fit(f"{who}: {cells.one_line(row['last_text'])}", width), style="dim")
        first.append("\n")
        first.append_text(second)
        first.no_wrap, first.overflow = True, "ellipsis"  # cut, never wrapped
        return Option(first, id=str(row["order_id"]))

    # --- the app's news ------------------------------------------------------------------

    def messages_arrived(self, message: MessagesArrived) -> None:
        self.reload()

    def orders_changed(self, message: OrdersChanged) -> None:
        # a technician's scope follows assignments; a number or customer may have changed
        if message.order_ids is None or any(r["order_id"] in message.order_ids for r in self.rows):
            self.reload()

    # --- choosing a conversation ---------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#conversations")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            read = self.conversations.moved_by_user
            self.thread.show_order(int(event.option.id), read=read)

    @on(OptionList.OptionSelected, "#conversations")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.thread.action_compose()

    def on_chat_thread_read(self, message: ChatThread.Read) -> None:
        if message.count:
            self.reload()

    # --- actions -------------------------------------------------------------------------

    def action_toggle_unread(self) -> None:
        self.unread_only = not self.unread_only
        self._show_title()
        self.reload()

    def action_compose(self) -> None:
        self.thread.action_compose()

    def action_switch_channel(self) -> None:
        self.thread.action_switch_channel()

    def action_open_order(self) -> None:
        if self.thread.order_id is None:
            self.notify(t("board.nothing_selected", self.lang), severity="warning")
            return
        self.fsm.open_order(self.thread.order_id)

    def action_refresh(self) -> None:
        self.reload()
        self.thread.reload()

    def action_focus_list(self) -> None:
        self.conversations.focus()
