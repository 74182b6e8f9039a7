"""What every tab of the order screen shares (checklists, execution, act, materials).

A pane reads its order in a worker (:meth:`OrderPane.read`, in a read-only session) and
draws what came back (:meth:`OrderPane.show`); it reads when first shown, and again when
the order changes while it is shown (or when it is next shown, if it was hidden). A change
the user makes runs in a worker too (:meth:`OrderPane.change`, in one transaction) and is
announced to the whole app as :class:`~fsm_tui.messages.OrdersChanged`: the order screen,
the board behind it and every other pane of the order read again.

The app delivers OrdersChanged to the screens it knows; a pane asks to be one of them while
it is mounted, so a change made elsewhere (another tab, another dispatcher with live
updates) reaches it too.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlmodel import Session
from textual import events
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import get_current_worker

from fsm_tui.messages import LiveStateChanged, OrdersChanged
from fsm_tui.text import localize_bindings
from fsm_tui.workers import WorkerErrors

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard


class _AbstractWidgetMeta(type(Vertical), ABCMeta):  # type: ignore[misc]
    """Textual's widgets have a metaclass of their own; this one adds abstract methods."""


class OrderPane(WorkerErrors, Vertical, metaclass=_AbstractWidgetMeta):  # type: ignore[metaclass]
    """The content of one order tab: a subclass says what it reads and how it draws it."""

    DEFAULT_CLASSES: ClassVar[str] = "order-pane"

    @dataclass
    class Loaded(Message):
        pane: OrderPane
        data: Any

    @dataclass
    class Done(Message):
        pane: OrderPane
        result: Any
        then: Callable[[Any], None]

    def __init__(self, order_id: int, app: Dashboard, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.order_id = order_id
        self.lang = app.lang
        self.stale = True
        self.pending_action: str | None = None
        """An action of the pane to run once it has read its order (a task started from
        the command palette: "record work on 26-0091")."""
        localize_bindings(self, self.lang)

    @property
    def fsm(self) -> Dashboard:
        return cast("Dashboard", self.app)

    # --- loading -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.fsm.screens_to_notify.add(self)

    def on_unmount(self) -> None:
        self.fsm.screens_to_notify.discard(self)

    def on_show(self, event: events.Show) -> None:
        if self.stale:
            self.reload()

    @property
    def shown(self) -> bool:
        return all(getattr(node, "display", True) for node in self.ancestors_with_self)

    def reload(self) -> None:
        self.stale = False
        self.run_worker(
            self._read, thread=True, exclusive=True, group="pane-load", exit_on_error=False
        )

    def _read(self) -> None:
        worker = get_current_worker()
        with self.fsm.backend.reader() as session:
            data = self.read(session)
        if not worker.is_cancelled:
            self.post_message(self.Loaded(self, data))

    @abstractmethod
    def read(self, session: Session) -> Any:
        """Runs in a worker thread: everything the pane shows (never touch widgets here)."""

    @abstractmethod
    def show(self, data: Any) -> None:
        """On the event loop: draw what :meth:`read` returned."""

    def on_order_pane_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.pane is self:
            self.show(message.data)
            if self.pending_action is not None:
                action, self.pending_action = self.pending_action, None
                self.call_after_refresh(self.run_action, action)

    def on_orders_changed(self, message: OrdersChanged) -> None:
        message.stop()  # the app sent it here; the screen has its own copy
        if not message.concerns(self.order_id):
            return
        self.stale = True
        if self.shown:
            self.reload()

    def on_live_state_changed(self, message: LiveStateChanged) -> None:
        message.stop()  # for the screen's status line, which gets its own copy

    def on_messages_arrived(self, message: Message) -> None:
        message.stop()  # chat news: the screen and the Messages tab have their own copies

    # --- changing ------------------------------------------------------------------------

    def change(
        self, work: Callable[[Session], Any], then: Callable[[Any], None], *, group: str
    ) -> None:
        """Run ``work(session)`` in one transaction in a worker, then ``then(result)`` on
        the event loop. An error a user can cause is shown as a notification; nothing is
        changed then."""

        def job() -> None:
            with self.fsm.backend.transaction() as session:
                result = work(session)
            self.post_message(self.Done(self, result, then))

        self.run_worker(job, thread=True, exclusive=True, group=group, exit_on_error=False)

    def on_order_pane_done(self, message: Done) -> None:
        message.stop()
        if message.pane is self:
            message.then(message.result)

    def open_form(self, screen: Screen[str | None]) -> None:
        """Open a dialog that changes the order (it returns a sentence saying what it did,
        or None when cancelled): the sentence is shown and the change announced."""

        def done(text: str | None) -> None:
            if text:
                self.app.notify(text)
                self.announce()

        self.app.push_screen(screen, done)

    def announce(self, *order_ids: int) -> None:
        """Tell the app these orders changed (this one first): everything showing them
        reads again."""
        ids = (self.order_id, *(i for i in order_ids if i != self.order_id))
        self.fsm.broadcast(OrdersChanged(ids))

    def focus_main(self) -> Widget | None:
        """The widget that takes the focus when the user enters the pane."""
        return None
