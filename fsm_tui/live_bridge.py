"""Live updates for the dashboard: :mod:`fsm_core.live` polled in a worker thread, its
changes posted to the app as messages.

The bridge subscribes to the database (PostgreSQL ``LISTEN``, or SQLite's data version),
and turns each batch of :class:`~fsm_core.live.Change` into app-wide messages:

- order and visit changes -> one :class:`~fsm_tui.messages.OrdersChanged` (the board, the
  order screens and the planner reload what they show of those orders);
- new chat messages -> :class:`~fsm_tui.messages.MessagesArrived` (chats, the order
  screen's Messages tab, the unread badges);
- new positions -> :class:`~fsm_tui.messages.PositionsArrived` (the map, the order
  screen's distance to the object, the planner's actual stays).

The state goes to the status line as :class:`~fsm_tui.messages.LiveStateChanged`:
``connecting``, then ``on``; ``lost`` when the connection breaks (it is retried every
:attr:`LiveBridge.RETRY` seconds, and a reconnect reloads everything, since what happened
meanwhile is unknown); ``off`` when the database cannot be watched (an in-memory SQLite).
Changes this process makes come back too: a second refresh of what was just refreshed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from textual.message import Message
from textual.worker import Worker, get_current_worker

from fsm_core import live
from fsm_core.errors import InvalidInput
from fsm_tui.messages import LiveStateChanged, MessagesArrived, OrdersChanged, PositionsArrived

if TYPE_CHECKING:
    from fsm_core.db import Database
    from fsm_core.live import Change

GROUP = "live"
"""The worker group of the bridge (tests that wait for workers leave it out)."""


def _union(current: tuple[int, ...] | None, more: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if current is None or more is None:
        return None
    return tuple(dict.fromkeys(current + more))


def messages_for(changes: Iterable[Change]) -> Iterator[Message]:
    """The app's messages for a batch of changes: one per kind of news, ids united; a
    change that could not list its orders (``order_ids`` None) stays "everything"."""
    orders: tuple[int, ...] | None = ()
    chats: tuple[int, ...] | None = ()
    message_ids: tuple[int, ...] | None = ()
    employees: tuple[int, ...] | None = ()
    saw_orders = saw_chats = saw_positions = False
    for change in changes:
        if change.kind == "position":
            saw_positions = True
            employees = _union(employees, change.ids)
        elif change.kind == "message":
            saw_chats = True
            chats = _union(chats, change.order_ids)
            message_ids = _union(message_ids, change.ids)
        else:  # "order" and "visit": both change what the order lists and the planner show
            saw_orders = True
            orders = _union(orders, change.order_ids)
    if saw_orders:
        yield OrdersChanged(orders)
    if saw_chats:
        yield MessagesArrived(chats, message_ids)
    if saw_positions:
        yield PositionsArrived(employees)


class LiveBridge:
    """Watches one database for the app; :meth:`start` once the app runs."""

    POLL: ClassVar[float] = 0.3
    """Seconds one poll waits; also how soon the thread notices the app has closed."""
    RETRY: ClassVar[float] = 3.0
    """Seconds between attempts to reconnect after the connection was lost."""

    def __init__(self, app: Any, database: Database) -> None:
        self.app = app
        self.database = database
        self.worker: Worker[None] | None = None

    def start(self) -> None:
        self.worker = self.app.run_worker(
            self._run,
            name="live updates",
            group=GROUP,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _post(self, message: Message) -> None:
        self.app.post_message(message)

    def _wait(self, worker: Worker[Any], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not worker.is_cancelled and time.monotonic() < deadline:
            time.sleep(min(self.POLL, max(deadline - time.monotonic(), 0)))

    def _run(self) -> None:
        """The worker thread: subscribe, poll, post; reconnect when the connection breaks."""
        worker = get_current_worker()
        connected_before = False
        self._post(LiveStateChanged("connecting"))
        while not worker.is_cancelled:
            try:
                subscription = live.subscribe(self.database)
            except InvalidInput:  # nothing to watch (an in-memory database)
                self._post(LiveStateChanged("off"))
                return
            except Exception as error:  # the server is away: try again later
                self.app.log.warning(f"live updates: {error!r}")
                self._post(LiveStateChanged("lost"))
                self._wait(worker, self.RETRY)
                continue
            self._post(LiveStateChanged("on"))
            if connected_before:  # what happened while disconnected is unknown
                self._post(OrdersChanged(None))
                self._post(MessagesArrived(None, None))
            connected_before = True
            try:
                while not worker.is_cancelled:
                    for message in messages_for(subscription.poll(self.POLL)):
                        self._post(message)
            except Exception as error:
                self.app.log.warning(f"live updates lost: {error!r}")
                self._post(LiveStateChanged("lost"))
                self._wait(worker, self.RETRY)
            finally:
                with contextlib.suppress(Exception):  # already broken: nothing to release
                    subscription.close()
