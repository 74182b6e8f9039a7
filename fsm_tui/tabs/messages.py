"""The order screen's Messages tab (сообщения): the order's chat, team and customer
channels, with the same composer as the chat section (see
:class:`~fsm_tui.widgets.chat_thread.ChatThread`). The channel on screen is marked read
when the tab is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsm_tui.widgets.chat_thread import ChatThread

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard


def messages_pane(order_id: int, app: Dashboard) -> ChatThread:
    return ChatThread(app, order_id, with_header=False, id="order-messages")
