"""What every section screen shares: the status line, the footer of keys, worker errors,
and the app-wide messages (catalog loaded, orders changed, chat messages arrived, positions
arrived, live state) delivered to it.

A section (board, planner, chat, stock) subclasses :class:`SectionScreen`, names its section
and yields its body from :meth:`compose_body`; it overrides :meth:`catalog_ready`,
:meth:`orders_changed`, :meth:`messages_arrived` or :meth:`live_state` to react to what the
app broadcasts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer

from fsm_tui.backend import Catalog
from fsm_tui.messages import LiveStateChanged, MessagesArrived, OrdersChanged, PositionsArrived
from fsm_tui.node import AppNode
from fsm_tui.text import t
from fsm_tui.textual_fixes import forget_closed_watchers
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.status_line import StatusLine
from fsm_tui.workers import WorkerErrors

if TYPE_CHECKING:
    pass


class FsmScreen(AppNode, WorkerErrors, Screen[Any]):
    """Base of every full screen: localised bindings, app-wide messages, worker errors."""

    _throttle_last: dict[str, float]
    _throttle_pending: dict[str, Timer]

    def on_mount(self) -> None:
        self._throttle_last = {}
        self._throttle_pending = {}
        self.fsm.screens_to_notify.add(self)  # the app calls _catalog_changed on these too
        self._catalog_changed(self.fsm.catalog)

    def on_unmount(self) -> None:
        self.fsm.screens_to_notify.discard(self)
        # what its widgets watched on the app (a TextArea the theme) would keep them alive
        self.app.call_later(forget_closed_watchers, self.app)

    def _catalog_changed(self, catalog: Catalog | None) -> None:
        if catalog is not None:
            self.catalog_ready(catalog)

    def catalog_ready(self, catalog: Catalog) -> None:
        """The reference data arrived (or was reloaded)."""

    def on_orders_changed(self, message: OrdersChanged) -> None:
        message.stop()  # the app sent it here; it must not bubble back to the app
        self.orders_changed(message)

    def orders_changed(self, message: OrdersChanged) -> None:
        """Orders changed (here or elsewhere): reload what this screen shows."""

    def on_messages_arrived(self, message: MessagesArrived) -> None:
        message.stop()
        self.messages_arrived(message)

    def messages_arrived(self, message: MessagesArrived) -> None:
        """Chat messages were written (here or elsewhere)."""

    def on_positions_arrived(self, message: PositionsArrived) -> None:
        message.stop()
        self.positions_arrived(message)

    def positions_arrived(self, message: PositionsArrived) -> None:
        """Technicians' positions came (live updates): see :meth:`throttled`."""

    def throttled(self, key: str, every: float, call: Callable[[], object]) -> None:
        """``call()`` now, or once when ``every`` seconds have passed since it last ran
        (positions may come every second: a screen reads them again at most this often)."""
        now = monotonic()
        last = self._throttle_last.get(key, -math.inf)
        if now - last >= every:
            self._throttle_last[key] = now
            call()
        elif key not in self._throttle_pending:

            def later() -> None:
                self._throttle_pending.pop(key, None)
                self._throttle_last[key] = monotonic()
                call()

            self._throttle_pending[key] = self.set_timer(every - (now - last), later)

    def forget_throttled(self) -> None:
        """Drop the calls :meth:`throttled` still has to make, and when it last made them."""
        for timer in self._throttle_pending.values():
            timer.stop()
        self._throttle_pending.clear()
        self._throttle_last.clear()

    def on_live_state_changed(self, message: LiveStateChanged) -> None:
        message.stop()
        for line in self.query(StatusLine):
            line.live = message.state
        self.live_state(message.state)

    def live_state(self, state: str) -> None:
        """The live-update connection changed state."""


class SectionScreen(FsmScreen):
    """A top-level section (one per app mode): its body, then the status line and the keys."""

    SECTION: ClassVar[str] = ""
    """The mode name; the status line shows the section's name from ``section.<SECTION>``."""

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        app = self.fsm
        status = StatusLine(
            lang=self.lang,
            database_url=app.backend.display_url,
            user=app.backend.user,
        )
        status.section = t(f"section.{self.SECTION}", self.lang)
        status.live = app.live_state
        yield status
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def _catalog_changed(self, catalog: Catalog | None) -> None:
        if catalog is not None:
            for line in self.query(StatusLine):
                line.set_company(catalog.company_name)
        super()._catalog_changed(catalog)
