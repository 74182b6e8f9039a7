"""App-wide messages: what one part of the dashboard tells every other part.

Messages a single widget sends about itself are nested on that widget (``OrderTable.Opened``,
``FilterBar.Changed``); the ones here cross screens and sections. The app forwards
:class:`OrdersChanged`, :class:`MessagesArrived` and :class:`LiveStateChanged` to every open
screen (see ``FsmApp.broadcast``), so a board behind an order screen, or a planner in
another mode, stays current.

"Which orders" is said the way :mod:`fsm_core.live` says it: a tuple of ids, or ``None``
for "too many to list, or unknown: anything may have changed".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from fsm_tui.backend import Catalog

if TYPE_CHECKING:
    from fsm_core.services.chat import MessageView
    from fsm_core.services.order_queries import HistoryLine


@dataclass
class CatalogLoaded(Message):
    """The reference data (stages, employees, customers, objects) was (re)read."""

    catalog: Catalog


@dataclass
class OrdersChanged(Message):
    """Orders (or their visits) were created or changed, here or, with live updates, by
    another process.

    ``order_ids`` None means "anything may have changed": reload what is shown (the live
    core says so when a change touched too many orders to list, or after a reconnect).
    ``focus_id`` asks a board to put its cursor on that order (a new one, say).
    """

    order_ids: Sequence[int] | None = None
    focus_id: int | None = None

    def concerns(self, order_id: int) -> bool:
        return self.order_ids is None or order_id in self.order_ids


@dataclass
class MessagesArrived(Message):
    """Chat messages were written (here, or by another process): ``order_ids`` the orders
    whose chats they are in, ``message_ids`` the new messages (None: anything may have)."""

    order_ids: Sequence[int] | None = None
    message_ids: Sequence[int] | None = None

    def concerns(self, order_id: int) -> bool:
        return self.order_ids is None or order_id in self.order_ids


@dataclass
class PositionsArrived(Message):
    """Technicians' positions came (written by ``fsm serve``, a pull or an import):
    ``employee_ids`` whose (None: anyone's)."""

    employee_ids: Sequence[int] | None = None

    def concerns(self, employee_id: int) -> bool:
        return self.employee_ids is None or employee_id in self.employee_ids


@dataclass
class LiveStateChanged(Message):
    """The live-update connection changed state: ``off``, ``connecting``, ``on`` or ``lost``.

    Posted by :class:`fsm_tui.live_bridge.LiveBridge`; the status line shows it.
    """

    state: str


@dataclass
class ForwardChatMessage(Message):
    """Forward a chat message to another order's channel (from any chat thread): the app
    opens the dialog, so a widget never opens a screen itself."""

    message: MessageView
    lang: str


@dataclass
class OpenOrder(Message):
    """Open the order screen for an order (from a board, the palette, a chat, the planner)."""

    order_id: int


@dataclass
class OrderRead(Message):
    """An order was read for its screen, about to be opened (see ``FsmApp.open_order``):
    its details and change history, and the task to start there (a tab and its pane's
    action), if any."""

    order_id: int
    task: tuple[str, str] | None
    loaded: tuple[dict[str, Any], list[HistoryLine]]
