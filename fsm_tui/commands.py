"""The command palette's own commands (ctrl+p): go to a section, do what the keys on the
current screen do, open an order by its number, reload the reference data."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from fsm_core.services import order_queries
from fsm_core.services.order_queries import OrderFilter
from fsm_tui import cells
from fsm_tui.text import t

if TYPE_CHECKING:
    from fsm_tui.app import FsmApp

Command = tuple[str, str, Any]  # title, help, callback

ORDER_TASKS: tuple[tuple[str, tuple[str, str]], ...] = (
    # name (its words are cmd.task.<name>), (tab, the tab's action)
    ("message", ("messages", "compose")),
    ("work", ("execution", "work")),
    ("write_off", ("execution", "material")),
    ("sign", ("execution", "sign")),
    ("act", ("act", "generate")),
)
"""What a dispatcher does to an order in its tabs; new order, assign, plan and move are
the board's own keys (and so in the palette too)."""


def order_reference(query: str) -> str | None:
    """What in the palette's query names an order: ``26-0092`` in "26-0092", "open order
    26-0092" or "открыть заявку 26-0092" (the word with digits; None when there is none)."""
    words = [w.strip(".,;:#№") for w in query.split()]
    numbered = [w for w in words if any(ch.isdigit() for ch in w)]
    if not numbered:
        return None
    word = max(numbered, key=len)
    return word if len(word) >= 2 else None


def _company_details(app: FsmApp) -> None:
    from fsm_tui.screens.company_details import open_company_details

    open_company_details(app)


class FsmCommands(Provider):
    @property
    def fsm(self) -> FsmApp:
        return cast("FsmApp", self.app)

    def _commands(self) -> list[Command]:
        app = self.fsm
        lang = app.lang
        commands: list[Command] = []
        for section in app.sections():
            name = t(f"section.{section.mode}", lang)
            commands.append(
                (
                    t("cmd.section", lang, name=name),
                    t("cmd.section_help", lang, name=name),
                    partial(app.action_section, section.mode),
                )
            )
        seen: set[str] = set()
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.id or binding.id in seen or not active.enabled:
                continue
            if binding.id.startswith(("app.section", "app.command_palette", "table.cursor")):
                continue
            seen.add(binding.id)
            display = binding.key_display or app.get_key_display(binding)
            commands.append(
                (
                    binding.description,
                    t("cmd.binding_help", lang, key=display, where=binding.id),
                    partial(app.call_later, app.run_action, binding.action, active.node),
                )
            )
        commands.extend(self._order_tasks())
        commands.append(
            (
                t("cmd.reload_catalog", lang),
                t("cmd.reload_catalog_help", lang),
                app.reload_catalog,
            )
        )
        commands.append(
            (
                t("cmd.company_details", lang),
                t("cmd.company_details_help", lang),
                partial(_company_details, app),
            )
        )
        return commands

    def _order_at_hand(self) -> tuple[int, str] | None:
        """The order the user is on: the board's highlighted one, or the open one."""
        from fsm_tui.screens.board import BoardScreen
        from fsm_tui.screens.order import OrderScreen

        screen = self.screen
        if isinstance(screen, BoardScreen):
            row = screen.current_row()
            return (row["id"], row["number"]) if row else None
        if isinstance(screen, OrderScreen) and screen.details is not None:
            return screen.order_id, screen.details["number"]
        return None

    def _order_tasks(self) -> list[Command]:
        """The order's tasks that live in its tabs, each one step from here."""
        at_hand = self._order_at_hand()
        if at_hand is None:
            return []
        order_id, number = at_hand
        lang = self.fsm.lang
        return [
            (
                t(f"cmd.task.{name}", lang, number=number),
                t(f"cmd.task.{name}_help", lang),
                partial(self.fsm.open_order, order_id, task=task),
            )
            for name, task in ORDER_TASKS
        ]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
        text = order_reference(query)
        if text is not None:
            for row in await asyncio.to_thread(self._orders, text):
                title = t("cmd.open_order", self.fsm.lang, number=row["number"])
                yield Hit(
                    1.0 if row["number"] == text else 0.9,
                    title,
                    partial(self.fsm.open_order, row["id"]),
                    help=t(
                        "cmd.open_order_help",
                        self.fsm.lang,
                        customer=row.get("customer") or "",
                        description=cells.one_line(row.get("description"))[:60],
                    ),
                )

    def _orders(self, text: str) -> list[dict[str, Any]]:
        """Orders whose number (or text) has ``text``: runs in a thread, off the loop."""
        backend = self.fsm.backend
        with backend.reader() as session:
            return order_queries.list_orders(
                session=session, filters=OrderFilter(text=text), limit=5, now=backend.now()
            )
