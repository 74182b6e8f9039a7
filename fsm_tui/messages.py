"""App-wide messages: what one part of the dashboard tells every other part.

Messages a single widget sends about itself are nested on that widget (``OrderTable.Opened``,
``FilterBar.Changed``); the ones here cross screens and sections. The app forwards
:class:`OrdersChanged` and :class:`LiveStateChanged` to every open screen (see
``FsmApp.broadcast``), so a board behind an order screen, or a planner in another mode, stays
current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from textual.message import Message

from fsm_tui.backend import Catalog


@dataclass
class CatalogLoaded(Message):
    """The reference data (stages, employees, customers, objects) was (re)read."""

    catalog: Catalog


@dataclass
class OrdersChanged(Message):
    """Orders were created or changed, here or (with live updates) by someone else.

    ``order_ids`` empty means "anything may have changed": reload what is shown.
    ``focus_id`` asks a board to put its cursor on that order (a new one, say).
    """

    order_ids: Sequence[int] = field(default_factory=tuple)
    focus_id: int | None = None


@dataclass
class LiveStateChanged(Message):
    """The live-update connection changed state: ``off``, ``connecting``, ``on`` or ``lost``.

    Posted by the live-update core's bridge when it exists; the status line shows it.
    """

    state: str


@dataclass
class OpenOrder(Message):
    """Open the order screen for an order (from a board, the palette, a chat, the planner)."""

    order_id: int
