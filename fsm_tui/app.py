"""The dispatcher's dashboard: :class:`FsmApp`, :func:`make_app` (tests reuse it) and
:func:`run` (what ``fsm tui`` calls).

Each top-level section (the board, the planner, chats, stock, the map) is an
app mode with its own screen stack, listed in :data:`SECTIONS`: the mode, the key that
switches to it and the import path of its screen. Adding a section is one entry there, a
screen in ``fsm_tui/screens/`` subclassing :class:`~fsm_tui.screens.base.SectionScreen`,
and its words in :mod:`fsm_tui.text`.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import os
import re
import tomllib
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.filter import LineFilter
from textual.message_pump import MessagePump
from textual.reactive import var
from textual.screen import Screen
from textual.worker import get_current_worker

from fsm_core.db import Database
from fsm_core.errors import FsmError
from fsm_core.formatting import moment
from fsm_tui.backend import Backend, Catalog, HeadStart, resolve_user
from fsm_tui.commands import FsmCommands
from fsm_tui.live_bridge import LiveBridge
from fsm_tui.messages import (
    CatalogLoaded,
    ForwardChatMessage,
    LiveStateChanged,
    MessagesArrived,
    OpenOrder,
    OrderRead,
    OrdersChanged,
    PositionsArrived,
)
from fsm_tui.safe_text import ControlCharacters
from fsm_tui.text import localize_bindings, t
from fsm_tui.textual_fixes import (
    exit_when_the_terminal_goes,
    fix_styles_cache,
    keep_writing_when_the_terminal_goes,
)


@dataclass(frozen=True)
class Section:
    """A top-level section of the dashboard: one app mode, one base screen."""

    mode: str
    screen: str  # "package.module:ClassName", imported when the section is first shown
    key: str

    def make_screen(self) -> Screen[Any]:
        module, _, name = self.screen.partition(":")
        screen: Screen[Any] = getattr(importlib.import_module(module), name)()
        return screen


SECTIONS: tuple[Section, ...] = (
    Section("board", "fsm_tui.screens.board:BoardScreen", "f2"),
    Section("planner", "fsm_tui.screens.planner:PlannerScreen", "f3"),
    Section("chat", "fsm_tui.screens.chat:ChatScreen", "f4"),
    Section("stock", "fsm_tui.screens.stock:StockScreen", "f5"),
    Section("map", "fsm_tui.screens.map:MapScreen", "f6"),
)


SPARE_ORDER_SCREEN = "fsm-spare-order-screen"
"""The name the order screen kept for the next order is installed under."""


def _section_bindings() -> list[BindingType]:
    return [
        Binding(s.key, f"section('{s.mode}')", s.mode.title(), id=f"app.section.{s.mode}")
        for s in SECTIONS
    ]


def keymap_path() -> Path:
    """Where a user remaps keys: ``keymap.toml`` in fsm's config folder (or FSM_KEYMAP)."""
    if os.environ.get("FSM_KEYMAP"):
        return Path(os.environ["FSM_KEYMAP"])
    from platformdirs import user_config_path

    return user_config_path("fsm", appauthor=False) / "keymap.toml"


class Keymap(dict[str, str]):
    """``binding id -> key`` as read from a keymap file, with the line each id is on
    (:attr:`lines`) so that a mistake can be pointed at."""

    def __init__(self, keys: dict[str, str] | None = None, lines: dict[str, int] | None = None):
        super().__init__(keys or {})
        self.lines: dict[str, int] = dict(lines or {})


_PART_RE = r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'"""  # a TOML key: bare or quoted
_PART = re.compile(_PART_RE)
_TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
_KEY = re.compile(rf"^\s*((?:{_PART_RE})(?:\s*\.\s*(?:{_PART_RE}))*)\s*=")


def _dotted(text: str) -> list[str]:
    return [part.strip("\"'") for part in _PART.findall(text)]


def _key_lines(text: str) -> dict[str, int]:
    """The line (from 1) of each ``id = "key"`` in a keymap file, ids as read_keymap
    names them: ``board.new_order``, ``"board.move"``, or a key under ``[board]`` or
    ``[keymap]``."""
    lines: dict[str, int] = {}
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            table = _dotted(header.group(1))
            continue
        key = _KEY.match(line)
        if key:
            path = [*table, *_dotted(key.group(1))]
            if path[:1] == ["keymap"]:
                path = path[1:]
            lines.setdefault(".".join(path), number)
    return lines


def read_keymap(path: Path) -> Keymap:
    """``binding.id = "key"`` lines (top level or under ``[keymap]``); a missing file is
    empty."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        return Keymap()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FsmError(f"cannot read the keymap {path}: {exc}") from None
    table = data.get("keymap", data)

    def flat(prefix: str, node: dict[str, Any]) -> Iterable[tuple[str, str]]:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):  # board.new_order = "..." is a dotted TOML key
                yield from flat(f"{name}.", value)
            elif isinstance(value, str):
                yield name, value

    return Keymap(dict(flat("", table)), _key_lines(text))


class FsmApp(App[None]):
    CSS_PATH = "fsm.tcss"
    TITLE = "FSM"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {FsmCommands}
    MODES: ClassVar[dict[str, Any]] = {s.mode: s.make_screen for s in SECTIONS}
    DEFAULT_MODE: ClassVar[str] = SECTIONS[0].mode
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (declared so by App)
    """Below 100 columns (an 80-column terminal) every screen is ``-narrow``: fsm.tcss
    stacks or narrows what would not fit side by side."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Keys", id="app.help"),
        *_section_bindings(),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            id="app.command_palette",
        ),
        Binding("f8", "analytics", "Analytics", show=False, id="app.analytics"),
        Binding("f9", "audit", "Audit trail", show=False, id="app.audit"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    catalog: var[Catalog | None] = var(None, init=False)
    live_state: var[str] = var("off", init=False)

    def __init__(
        self,
        backend: Backend,
        *,
        keymap: dict[str, str] | None = None,
        keymap_file: Path | None = None,
        live: bool = True,
        head_start: HeadStart | None = None,
    ) -> None:
        self._control_characters = ControlCharacters()  # before App asks for the filters
        fix_styles_cache()
        keep_writing_when_the_terminal_goes()
        super().__init__()
        self.backend = backend
        self._head_start = head_start
        self._warmed_up = False
        if head_start is not None:  # the board draws its first page with it, at once
            self.set_reactive(FsmApp.catalog, head_start.catalog)
        self.live = LiveBridge(self, backend.database) if live else None
        self.lang = backend.lang
        self.keymap = dict(keymap or {})
        self.keymap_lines: dict[str, int] = dict(getattr(keymap, "lines", {}))
        self.keymap_path = str(keymap_file) if keymap_file else None
        # every open screen, and widgets that follow the app-wide news themselves (a chat
        # thread in an order screen's tab): broadcast() posts each of them a copy
        self.screens_to_notify: weakref.WeakSet[MessagePump] = weakref.WeakSet()
        self._spare_order: OrderScreen | None = None
        """An order screen closed and kept for the next order opened (see on_order_read)."""
        self.cursor_blink = True
        localize_bindings(self, self.lang)
        self.title = t("app_title", self.lang)
        if self.keymap:
            self.set_keymap(self.keymap)

    def _still_cursors(self, screen: Screen[Any]) -> None:
        """Stop the cursors of ``screen`` blinking (tests ask for it: screenshots must not
        depend on the moment they are taken). Runs for every screen that comes up, ours
        or Textual's (the command palette), once it has drawn."""

        def still() -> None:
            from textual.widgets import Input, TextArea

            for widget in [*screen.query(Input), *screen.query(TextArea)]:
                widget.cursor_blink = False

        self.call_after_refresh(still)

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Restyle ``node`` and what it holds after a change of its classes, unless it is
        not in the DOM yet: a widget made in a compose whose constructor sets a class
        (``compact``, a button's variant) is styled when it mounts, with its parents'
        rules; Textual would also style it at once, alone, for nothing (a sixth of the
        work of opening an order went to such restyles)."""
        if node is not self and not node.is_attached:
            return
        super().update_styles(node, animate=animate)

    def breakpoint_classes(self) -> list[str]:
        """The width class (:attr:`HORIZONTAL_BREAKPOINTS`) a screen gets at the app's
        present size, as Textual gives it on a screen's first resize."""
        width = self.size.width
        breakpoints = self.HORIZONTAL_BREAKPOINTS or []
        fitting = [(at, name) for at, name in breakpoints if width >= at]
        return [max(fitting)[1]] if fitting else []

    # --- sections ------------------------------------------------------------------------

    def sections(self) -> tuple[Section, ...]:
        return SECTIONS

    def binding_sources(self) -> list[tuple[str, Any]]:
        from fsm_tui.screens.help import binding_sources

        sources: list[tuple[str, Any]] = [("app", type(self))]
        for section in SECTIONS:
            module, _, name = section.screen.partition(":")
            sources.append((section.mode, getattr(importlib.import_module(module), name)))
        return sources + binding_sources()

    def binding_ids(self) -> set[str]:
        """Every binding id the dashboard knows (what keymap.toml may name)."""
        return {
            binding.id
            for _scope, cls in self.binding_sources()
            for binding in Binding.make_bindings(cls.BINDINGS)
            if binding.id
        }

    def _check_keymap(self) -> None:
        """Say which ids in keymap.toml no key has (a typo there changed nothing), one
        line each with the file and the line."""
        unknown = sorted(set(self.keymap) - self.binding_ids())
        if not unknown:
            return
        lines = self.keymap_lines
        where = self.keymap_path or "keymap.toml"
        text = "\n".join(
            t("keymap.unknown", self.lang, file=where, line=lines.get(name, "?"), id=name)
            for name in unknown
        )
        self.notify(text, title=t("keymap.title", self.lang), severity="warning", timeout=30)

    def action_section(self, mode: str) -> None:
        if mode != self.current_mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        from fsm_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_analytics(self) -> None:
        """Analytics: the employees of last month ranked, each one's card."""
        from fsm_tui.screens.analytics import open_section

        open_section(self)

    def action_audit(self) -> None:
        """The audit trail (admins: the core refuses anyone else, and the screen says so)."""
        from fsm_tui.screens.audit import AuditScreen

        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # ours (F1) lists every key, remappable
                yield command
        yield SystemCommand(
            t("help.title", self.lang), t("help.title", self.lang), self.action_help
        )

    # --- reference data ------------------------------------------------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the one that keeps data's escapes off the terminal."""
        return [*super().get_line_filters(), self._control_characters]

    def on_mount(self) -> None:
        exit_when_the_terminal_goes(self)
        if not self.cursor_blink:
            self.screen_change_signal.subscribe(self, self._still_cursors)
        self._check_keymap()
        self.reload_catalog()
        if self.live is not None:
            self.live.start()

    def take_head_start(self) -> HeadStart | None:
        """The first page read before the app started, once (then every read is a worker's)."""
        head, self._head_start = self._head_start, None
        return head

    def reload_catalog(self) -> None:
        self._load_catalog()

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog")
    def _load_catalog(self) -> None:
        # first what the board draws with, then the pick lists: the first page shows as soon
        # as it is read, however many objects and contacts the company has
        if self.catalog is None:
            self.post_message(CatalogLoaded(self.backend.catalog(complete=False)))
        self.post_message(CatalogLoaded(self.backend.catalog()))

    def watch_catalog(self, catalog: Catalog | None) -> None:
        """Tell the open screens. They are not made to ``watch`` the app's catalog: Textual
        keeps such a watcher, and through it the whole screen, until the catalog next
        changes (textualize/textual#6666), so every order screen closed stayed in memory
        and each full collection of the garbage collector took longer."""
        from fsm_tui.screens.base import FsmScreen

        for node in list(self.screens_to_notify):
            if isinstance(node, FsmScreen):
                node._catalog_changed(catalog)

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        first = message.catalog.complete and not self._warmed_up
        self.catalog = message.catalog
        if first:  # the dashboard is up and its reads done: prepare the sections' first opens
            self._warmed_up = True
            self._warm_up()

    @work(thread=True, exit_on_error=False, group="warm-up")
    def _warm_up(self) -> None:
        """Import ahead, off the UI thread, what a section would otherwise import on its
        first open (the Analytics chart's plotext: 90 ms)."""
        from fsm_tui.screens.analytics import warm_up

        warm_up()

    def on_worker_state_changed(self, event: Any) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR and not event.worker.is_cancelled:
            self.report_error(event.worker.error)

    # --- errors --------------------------------------------------------------------------

    def report_error(self, error: BaseException | None) -> None:
        """Show an error: a user's (FsmError) by its one line, anything else briefly."""
        if error is None:
            return
        if isinstance(error, FsmError):
            text = error.one_line(self.lang)
        else:
            original = getattr(error, "orig", None)
            text = t("error.unexpected", self.lang, error=str(original or error).strip())
            self.log.error(repr(error))
        self.notify(text, title=t("error.title", self.lang), severity="error", timeout=10)

    # --- messages to every screen --------------------------------------------------------

    def broadcast(
        self, message: OrdersChanged | MessagesArrived | PositionsArrived | LiveStateChanged
    ) -> None:
        """Deliver ``message`` to every open screen, in every section."""
        if isinstance(message, LiveStateChanged):
            self.live_state = message.state
        for screen in list(self.screens_to_notify):
            screen.post_message(dataclasses.replace(message))  # one copy per screen

    def on_orders_changed(self, message: OrdersChanged) -> None:
        self.broadcast(message)

    def on_messages_arrived(self, message: MessagesArrived) -> None:
        self.broadcast(message)

    def on_positions_arrived(self, message: PositionsArrived) -> None:
        self.broadcast(message)

    def on_live_state_changed(self, message: LiveStateChanged) -> None:
        self.broadcast(message)

    # --- order actions shared by every section -------------------------------------------

    def on_forward_chat_message(self, request: ForwardChatMessage) -> None:
        from fsm_tui.screens.forward import Forwarded, ForwardScreen

        lang = request.lang

        def done(result: Forwarded | None) -> None:
            if result is None:
                return
            channel = t(f"chat.{result.channel}", lang)
            self.notify(t("chat.forwarded_to", lang, number=result.number, channel=channel))
            self.broadcast(MessagesArrived((result.order_id,), (result.message_id,)))

        self.push_screen(ForwardScreen(request.message), done)

    def on_open_order(self, message: OpenOrder) -> None:
        self.open_order(message.order_id)

    def open_order(self, order_id: int, *, task: tuple[str, str] | None = None) -> None:
        """The order's screen; ``task`` (a tab and its pane's action: ``("execution",
        "work")``) starts there at once."""
        from fsm_tui.screens.order import OrderScreen

        screen = self.screen
        if task is not None and isinstance(screen, OrderScreen) and screen.order_id == order_id:
            screen.run_task(*task)
            return
        self._when_catalog(lambda catalog: self._read_order(order_id, task, catalog))

    @work(thread=True, exclusive=True, exit_on_error=False, group="open-order")
    def _read_order(self, order_id: int, task: tuple[str, str] | None, catalog: Catalog) -> None:
        """Read the order, then make its screen with it (:class:`OrderRead`): the screen is
        built and drawn once, with the order's fields, instead of empty and then again."""
        from fsm_tui.screens.order import make_link, read_order

        worker = get_current_worker()
        with self.backend.reader() as session:
            loaded = read_order(
                session, order_id, now=self.backend.now(), lang=self.lang, tz=catalog.tz
            )
        make_link(self.backend, order_id, loaded[0])
        if not worker.is_cancelled:
            self.post_message(OrderRead(order_id, task, loaded))

    async def on_order_read(self, message: OrderRead) -> None:
        """Show the order read: in the order screen closed last, when the app kept it (made
        again for this order before it is shown: see ``OrderScreen.reopen``), else in a new
        one. Making the screen's ~75 widgets and styling them took half of the time from
        ``enter`` to the order on screen."""
        from fsm_tui.screens.order import OrderScreen

        screen, self._spare_order = self._spare_order, None
        if screen is not None:
            self.uninstall_screen(screen)
            if screen.can_reopen():
                await screen.emptied()
                screen.reopen(message.order_id, loaded=message.loaded, task=message.task)
                self.push_screen(screen)
                return
            await screen.remove()  # made for another language, catalog, size or theme
        self.push_screen(OrderScreen(message.order_id, task=message.task, loaded=message.loaded))

    def keep_order_screen(self, screen: Screen[Any]) -> bool:
        """Keep the order screen being closed for the next order opened, instead of letting
        Textual remove it (an installed screen is not removed when popped): True when kept.
        One is kept at most, none once the app is closing, and only one shown right over
        its section's screen: Textual notes the screens under the one it draws in a context
        variable (``visible_screen_stack``), which the tasks of the widgets made afterwards
        (a footer's keys, a list's overlay) inherit, so a screen kept after it was shown over
        another order screen (opened from the palette) would keep that one in memory."""
        from fsm_tui.screens.order import OrderScreen

        stack = self.screen_stack
        if (
            self._spare_order is not None
            or self._exit
            or not isinstance(screen, OrderScreen)
            or len(stack) != 2
            or stack[-1] is not screen
        ):
            return False
        self.install_screen(screen, SPARE_ORDER_SCREEN)
        self._spare_order = screen
        return True

    def _when_catalog(self, then: Callable[[Catalog], object]) -> None:
        if self.catalog is None or not self.catalog.complete:
            self.notify(t("loading", self.lang))
            return
        then(self.catalog)

    def new_order(self) -> None:
        from fsm_tui.screens.new_order import Created, NewOrderScreen

        def done(created: Created | None) -> None:
            if created is None or self.catalog is None:
                return
            stage = self.catalog.stage_name(created.stage_code, self.lang)
            self.notify(t("order.created", self.lang, number=created.number, stage=stage))
            self.broadcast(OrdersChanged((created.order_id,), focus_id=created.order_id))

        self._when_catalog(lambda catalog: self.push_screen(NewOrderScreen(catalog), done))

    def assign_order(self, row: dict[str, Any]) -> None:
        from fsm_tui.screens.assign import Assigned, AssignScreen

        def done(result: Assigned | None) -> None:
            if result is None or self.catalog is None:
                return
            stage = self.catalog.stage_name(result.stage_code, self.lang)
            key = "assigned" if result.assignee else "unassigned"
            self.notify(t(key, self.lang, number=result.number, name=result.assignee, stage=stage))
            self.broadcast(OrdersChanged((result.order_id,), focus_id=result.order_id))

        self._when_catalog(lambda catalog: self.push_screen(AssignScreen(catalog, row), done))

    def move_order(self, row: dict[str, Any]) -> None:
        from fsm_tui.screens.move import Moved, MoveScreen

        def done(result: Moved | None) -> None:
            if result is None or self.catalog is None:
                return
            stage = self.catalog.stage_name(result.stage_code, self.lang)
            self.notify(t("moved", self.lang, number=result.number, stage=stage))
            self.broadcast(OrdersChanged((result.order_id,), focus_id=result.order_id))

        self._when_catalog(lambda catalog: self.push_screen(MoveScreen(catalog, row), done))

    def plan_visit(self, row: dict[str, Any]) -> None:
        """Plan a visit of the order ``row`` (a board row or an order's details): the
        order's assignee first, at their first free moment (the core's offer)."""
        from fsm_tui.screens.plan_visit import Planned, Target, VisitScreen, visit_summary

        def done(result: Planned | None) -> None:
            if result is None or self.catalog is None:
                return
            b = result.end.astimezone(self.catalog.tz)
            when = moment(result.start, self.catalog.tz, lang=self.lang, now=self.backend.now())
            stage = self.catalog.stage_name(result.stage_code, self.lang)
            self.notify(
                t(
                    "planner.planned",
                    self.lang,
                    number=result.number,
                    who=result.employee,
                    when=f"{when}–{b:%H:%M}",
                    stage=stage,
                )
            )
            self.broadcast(OrdersChanged((result.order_id,), focus_id=result.order_id))

        target = Target(
            order_id=row["id"],
            number=row["number"],
            summary=visit_summary(
                row["number"],
                row.get("customer") or "",
                row.get("object"),
                row.get("description") or "",
            ),
            object_id=row.get("object_id"),
            day=None,
            minutes=None,
        )
        self._when_catalog(
            lambda catalog: self.push_screen(VisitScreen(target, tz=catalog.tz), done)
        )

    # --- shutting down -------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.exit()

    def on_unmount(self) -> None:
        if self.live is not None:
            self.live.stop()
        self.backend.close()


def make_app(
    database: Database | str,
    *,
    lang: str,
    user: str | None = None,
    now: datetime | None = None,
    keymap: dict[str, str] | None = None,
    keymap_file: Path | None = None,
    cursor_blink: bool = True,
    live: bool = True,
    head_start: bool = True,
) -> FsmApp:
    """The dashboard on ``database`` (a Database or its URL), acting as ``user`` (a login,
    name or short name; None: the company's default user). An unknown user is an
    :class:`~fsm_core.errors.FsmError` here, before any screen.

    ``now`` pins the clock (tests, snapshots); ``cursor_blink=False`` keeps screenshots
    stable; ``live=False`` leaves live updates off (the board then re-reads itself every
    minute). ``head_start`` reads the light catalog and the board's first page here, before
    the app starts (:class:`~fsm_tui.backend.HeadStart`), so the board shows it on its first
    frame.
    """
    if isinstance(database, str):
        database = Database(database)
    actor = resolve_user(database, user)
    backend = Backend(database, actor=actor, lang=lang if lang in ("ru", "en") else "en", now=now)
    head = None
    if head_start:
        from fsm_tui.widgets.filter_bar import INITIAL_FILTER
        from fsm_tui.widgets.order_table import OrderTable

        head = backend.head_start(INITIAL_FILTER, OrderTable.PAGE_SIZE)
    app = FsmApp(backend, keymap=keymap, keymap_file=keymap_file, live=live, head_start=head)
    app.cursor_blink = cursor_blink
    return app


GC_THRESHOLD = 10_000
"""Allocations between two young collections (Python's default: 700)."""


def prepare_process() -> None:
    """Settle the interpreter before the first screen: everything imported so far lives as
    long as the process, so the garbage collector is told to stop rescanning it (with
    SQLAlchemy and Textual loaded, each full collection otherwise walks ~10^6 objects and
    the first screen takes a third longer).

    Young collections come every :data:`GC_THRESHOLD` allocations instead of 700: building
    an order screen allocates ~10^5 objects that all live while it is shown, and at 700 the
    collector walked them ~65 times per open, moving them on to the older generations, whose
    collections then came every second open (70-180 ms each, on the UI thread). At 10,000:
    ~4 young collections per open and no full one in 15 opens (bench/open_order.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def run(
    database_url: str | None = None, *, lang: str | None = None, user: str | None = None
) -> None:
    """Open the dashboard (``fsm tui``): the database, language and user default to the
    settings (FSM_DATABASE_URL, FSM_LANG or the locale, FSM_USER or the company's
    default_user). A user the database does not know is refused before the screen."""
    from fsm_core.config import get_settings
    from fsm_core.db import open_database
    from fsm_core.services.settings import language

    settings = get_settings()
    database = open_database(database_url)
    database.ensure_schema()  # a database this version cannot use is refused before the screen
    with database.reader() as session:
        lang = language(session=session, explicit=lang)
    path = keymap_path()
    app = make_app(
        database,
        lang=lang,
        user=user or settings.user,
        keymap=read_keymap(path),
        keymap_file=path,
    )
    prepare_process()
    app.run()


if TYPE_CHECKING:  # the screens' view of the app is the app
    from fsm_tui.protocol import Dashboard
    from fsm_tui.screens.order import OrderScreen

    _dashboard: type[Dashboard] = FsmApp
