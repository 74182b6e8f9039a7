"""What the dashboard's screens, tabs and widgets need of the app, as a typed protocol.

They reach the app through ``self.app`` (Textual's), and see it as a :class:`Dashboard`:
the database side (``backend``), the reference data (``catalog``), the language, the
app-wide messages and the order actions every section shares. None of them imports
:class:`~fsm_tui.app.FsmApp`; ``app.py`` checks that FsmApp is a Dashboard.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from fsm_tui.backend import Backend, Catalog, HeadStart
    from fsm_tui.messages import (
        LiveStateChanged,
        MessagesArrived,
        OrdersChanged,
        PositionsArrived,
    )


class Dashboard(Protocol):
    backend: Backend
    lang: str
    keymap: dict[str, str]
    keymap_path: str | None
    screens_to_notify: weakref.WeakSet[MessagePump]

    @property
    def catalog(self) -> Catalog | None: ...

    @property
    def live_state(self) -> str: ...

    def binding_sources(self) -> list[tuple[str, Any]]: ...

    def breakpoint_classes(self) -> list[str]: ...

    def take_head_start(self) -> HeadStart | None: ...

    def report_error(self, error: BaseException | None) -> None: ...

    def broadcast(
        self, message: OrdersChanged | MessagesArrived | PositionsArrived | LiveStateChanged
    ) -> None: ...

    def open_order(self, order_id: int, *, task: tuple[str, str] | None = None) -> None: ...

    def keep_order_screen(self, screen: Any) -> bool: ...

    def new_order(self) -> None: ...

    def assign_order(self, row: dict[str, Any]) -> None: ...

    def move_order(self, row: dict[str, Any]) -> None: ...

    def plan_visit(self, row: dict[str, Any]) -> None: ...
