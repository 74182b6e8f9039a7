"""One order (заявка), in tabs as the reference product has them.

**Order** (its fields, editable, and what the core derives: stage, SLA, deadlines, where)
first and **History** (the change log) last; between them the features' tabs, each an
:class:`OrderTab` in :data:`ORDER_TABS` (a pane factory that gets the order id and the app),
in the reference product's order: Checklists, Execution, Act, Messages, Materials;
after History, Analytics (:data:`AFTER_HISTORY`). The
panes live in :mod:`fsm_tui.tabs`.

Saving sends only the fields the user changed, with the version the screen loaded. When
someone else saved first, the core refuses (``Conflict``); the screen then shows, field by
field, what it had loaded, what the user typed and what is in the database now, keeps the
form as typed, and offers to take the current version with the user's edits laid over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.await_remove import AwaitRemove
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from fsm_core.errors import Conflict, FsmError
from fsm_core.formatting import due_time, local_time, moment, number, sla_for
from fsm_core.i18n import criticality_name, label, sla_name
from fsm_core.models import Criticality, Order
from fsm_core.services import order_queries, orders
from fsm_core.services.gps.order_view import OrderGps, order_gps
from fsm_core.services.order_feedback import OrderFeedback, order_feedback, rating_level
from fsm_core.services.order_queries import HistoryLine
from fsm_core.timeparse import parse_datetime
from fsm_core.values import format_phone
from fsm_tui import cells
from fsm_tui.backend import Catalog
from fsm_tui.messages import OrdersChanged, PositionsArrived
from fsm_tui.screens.base import FsmScreen
from fsm_tui.screens.modal import error_field
from fsm_tui.tabs.act import ActPane
from fsm_tui.tabs.analytics import AnalyticsPane
from fsm_tui.tabs.base import OrderPane
from fsm_tui.tabs.checklists import ChecklistPane
from fsm_tui.tabs.execution import ExecutionPane
from fsm_tui.tabs.materials import MaterialsPane
from fsm_tui.tabs.messages import messages_pane
from fsm_tui.text import UI, t
from fsm_tui.widgets.chat_thread import ChatThread, Composer
from fsm_tui.widgets.form_select import FormSelect
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard

Details = dict[str, Any]


@dataclass(frozen=True)
class OrderTab:
    """A tab a feature adds to the order screen (checklists, execution, act, messages,
    materials): ``make(order_id, app)`` returns the pane's content widget."""

    id: str
    title_en: str
    title_ru: str
    make: Callable[[int, Dashboard], Widget]

    def title(self, lang: str) -> str:
        return self.title_ru if lang == "ru" else self.title_en


ORDER_TABS: list[OrderTab] = [
    OrderTab("checklists", *UI["tab.checklists"], ChecklistPane),
    OrderTab("execution", *UI["tab.execution"], ExecutionPane),
    OrderTab("act", *UI["tab.act"], ActPane),
    OrderTab("messages", *UI["tab.messages"], messages_pane),
    OrderTab("materials", *UI["tab.materials"], MaterialsPane),
]
"""Feature tabs, in the reference product's order."""

AFTER_HISTORY: list[OrderTab] = [
    OrderTab("analytics", *UI["tab.analytics"], AnalyticsPane),
]
"""Tabs after History, which keeps the number it had (7) before they came."""

# the editable fields, in the form's order, with their labels
FIELDS: tuple[tuple[str, str], ...] = (
    ("customer_id", "customer"),
    ("object_id", "object"),
    ("contact_id", "contact"),
    ("criticality", "criticality"),
    ("description", "description"),
    ("planned_start", "form.planned_start"),
    ("planned_end", "form.planned_end"),
    ("resolution_due", "resolution_due"),
    ("external_id", "external_id"),
)
TIME_FIELDS = ("planned_start", "planned_end", "resolution_due")
FIELD_OF_ERROR = {
    "customer": "customer_id",
    "object": "object_id",
    "contact": "contact_id",
    "description": "description",
    "criticality": "criticality",
    "planned_start": "planned_start",
    "planned_end": "planned_end",
    "resolution_due": "resolution_due",
    "reaction_due": "resolution_due",
    "external_id": "external_id",
}


def read_order(
    session: Any, order_id: int, *, now: Any, lang: str, tz: Any
) -> tuple[Details, list[HistoryLine]]:
    """What the order screen shows of an order: its details and its change history as a
    person reads it (in a worker: the app reads it before it makes the screen, the screen
    when it reloads)."""
    from fsm_core.errors import NotFound

    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    details = order_queries.order_details(session=session, order=order, now=now)
    details["gps"] = order_gps(session=session, order_id=order_id, lang=lang, now=now)
    details["feedback"] = order_feedback(session=session, order_id=order_id)
    history = order_queries.history_lines(session=session, order_id=order_id, lang=lang, tz=tz)
    details["notifications"] = _notifications(session, order_id)
    return details, history


def _notifications(session: Any, order_id: int) -> list[Any]:
    """The notifications sent (or being sent) to the order's contact, oldest first; none
    for whoever may not see them."""
    from fsm_core.access import principal_of
    from fsm_core.services import notify

    if principal_of(session).scope("notify.read") is None:
        return []
    return notify.list_notifications(session=session, order_id=order_id)[::-1]


RATING_STYLE = {"low": "bold red", "fair": "bold yellow", "good": "bold green"}


def rating_style(mean: Any) -> str:
    return RATING_STYLE[rating_level(mean)]


def make_link(backend: Any, order_id: int, details: Details) -> None:
    """The order's status link, made when it has none and this user makes links (the
    first time anyone who changes orders opens it), so that the screen shows it from its
    first frame (in a worker, after :func:`read_order`)."""
    feedback: OrderFeedback | None = details.get("feedback")
    if feedback is not None and feedback.link_wanted:
        with backend.transaction() as session:
            details["feedback"] = order_feedback(session=session, order_id=order_id, make_link=True)


# What the screen's workers bring back carries the screen's ``opening`` (see
# OrderScreen.reopen) at the time they started: a screen reused for another order drops what
# is still coming for the one it showed before.


@dataclass
class Loaded(Message):
    details: Details
    history: list[HistoryLine]
    opening: int = 0


@dataclass
class GpsLoaded(Message):
    place: OrderGps | None
    opening: int = 0


@dataclass
class Saved(Message):
    details: Details
    history: list[HistoryLine]
    changed: bool
    opening: int = 0


@dataclass
class ConflictFound(Message):
    error: Conflict
    current: Details
    history: list[HistoryLine] = field(default_factory=list)
    opening: int = 0


class OrderScreen(FsmScreen):
    """The order screen, pushed over the section it was opened from (once the catalog is
    loaded: see ``Dashboard.open_order``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="order.back"),
        Binding("ctrl+s", "save", "Save", id="order.save", priority=True),
        Binding("a", "assign", "Assign", id="order.assign"),
        Binding("m", "move", "Stage", id="order.move"),
        Binding("p", "plan", "Plan visit", id="order.plan"),
        Binding("ctrl+r", "reapply", "Reapply on current", id="order.reapply"),
        Binding("ctrl+l", "reload", "Reload", id="order.reload"),
        Binding("ctrl+pagedown", "next_tab(1)", "Next tab", show=False, id="order.next_tab"),
        Binding("ctrl+pageup", "next_tab(-1)", "Previous tab", show=False, id="order.prev_tab"),
        # a tab by its number, as the tab bar shows it (digits type into a field when one
        # has the focus; alt+digits do not reach the app in every terminal)
        Binding("1", "tab(1)", "Tabs", key_display="1…8", id="order.tab_1"),
        *(
            Binding(str(n), f"tab({n})", f"Tab {n}", show=False, id=f"order.tab_{n}")
            for n in range(2, 9)
        ),
    ]

    def __init__(
        self,
        order_id: int,
        *,
        task: tuple[str, str] | None = None,
        loaded: tuple[Details, list[HistoryLine]] | None = None,
    ) -> None:
        # no id: two order screens may be open at once (one per section, or one opened
        # from the palette over another), and the app's screens may not share one
        super().__init__()
        # the app's width class (-wide, -narrow) from the start: the widgets are then
        # styled once, as they mount, not again when the first resize adds the class
        self.add_class(*self.fsm.breakpoint_classes(), update=False)
        self.order_id = order_id
        self.loaded = loaded
        """The order as read just before the screen was made (see ``FsmApp.open_order``):
        the form is filled before the screen's first frame, not after a second read."""
        self._composed_with: Catalog | None = None
        self._resumed = False
        self.first_task = task  # (tab id, its pane's action) to start with: see run_task
        self.details: Details | None = None
        self.baseline: dict[str, Any] = {}
        self.version: int | None = None
        self.conflict: ConflictFound | None = None
        self._filled_for: int | None = None
        self._focus_wanted: str | None = None
        self._task_wanted: tuple[str, str] | None = None
        self.opening = 0
        """How many times the screen was closed or reopened (see :meth:`put_aside`): what
        its workers bring back is for the order of the opening they started in."""
        self.aside = False
        """Closed and kept by the app for the next order (see :meth:`put_aside`)."""
        self._aside_in: tuple[Any, ...] | None = None
        self._emptying: list[AwaitRemove] = []
        self._reset_wanted = False

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lang = self.lang
        catalog = self._composed_with = self.catalog
        # the form is made with the order's values when it was read already (see loaded):
        # filling it afterwards would restyle and redraw its fields once more
        values = self._form_of(self.loaded[0]) if self.loaded is not None else None
        customer = values["customer_id"] if values else None
        if values:
            self._filled_for = customer  # the object and contact lists are this customer's

        def chosen(name: str) -> Any:
            value = values.get(name) if values else None
            return Select.NULL if value is None else value

        yield Static("", id="order-header")
        with TabbedContent(id="order-tabs"):
            with TabPane(f"1 {t('tab.order', lang)}", id="tab-order"):  # noqa: SIM117
                with Horizontal(id="order-body"):
                    with VerticalScroll(id="order-form"):
                        yield Static("", id="conflict", classes="conflict")
                        with Horizontal(id="conflict-buttons"):
                            yield Button(
                                t("conflict.reapply", lang), variant="warning", id="reapply"
                            )
                            yield Button(t("conflict.discard", lang), id="discard")
                        with Grid(id="fields"):
                            yield Label(label("customer", lang))
                            yield FormSelect[int](
                                [(c.name, c.id) for c in catalog.customers],
                                allow_blank=False,
                                compact=True,
                                id="customer_id",
                                value=chosen("customer_id"),
                            )
                            yield Label(label("object", lang))
                            yield FormSelect[int](
                                [(o.label, o.id) for o in catalog.objects_of(customer)]
                                if values
                                else [],
                                prompt="—",
                                compact=True,
                                id="object_id",
                                value=chosen("object_id"),
                            )
                            yield Label(label("contact", lang))
                            yield FormSelect[int](
                                [(c.name, c.id) for c in catalog.contacts_of(customer)]
                                if values
                                else [],
                                prompt="—",
                                compact=True,
                                id="contact_id",
                                value=chosen("contact_id"),
                            )
                            yield Label(label("criticality", lang))
                            yield FormSelect(
                                [(criticality_name(c.value, lang), c.value) for c in Criticality],
                                allow_blank=False,
                                compact=True,
                                id="criticality",
                                value=chosen("criticality"),
                            )
                            yield Label(label("description", lang))
                            yield TextArea(
                                values["description"] if values else "",
                                compact=True,
                                id="description",
                            )
                            for name in ("planned_start", "planned_end", "resolution_due"):
                                key = name if name == "resolution_due" else f"form.{name}"
                                yield Label(t(key, lang))
                                yield Input(
                                    placeholder=t(
                                        "form.due_placeholder"
                                        if name == "resolution_due"
                                        else "form.date_placeholder",
                                        lang,
                                    ),
                                    compact=True,
                                    id=name,
                                    value=values[name] if values else None,
                                )
                            yield Label(label("external_id", lang))
                            yield Input(
                                values["external_id"] if values else None,
                                compact=True,
                                id="external_id",
                            )
                        yield Label("", id="error-form", classes="field-error")
                        yield Button(t("form.save", lang), variant="primary", id="save")
                    yield Static("", id="order-info")
            for n, tab in enumerate(ORDER_TABS, start=2):  # each filled when first shown
                yield TabPane(f"{n} {tab.title(lang)}", id=f"tab-{tab.id}")
            with TabPane(f"{len(ORDER_TABS) + 2} {t('tab.history', lang)}", id="tab-history"):
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            for n, tab in enumerate(AFTER_HISTORY, start=len(ORDER_TABS) + 3):
                yield TabPane(f"{n} {tab.title(lang)}", id=f"tab-{tab.id}")
        app = self.fsm
        status = StatusLine(lang=lang, database_url=app.backend.display_url, user=app.backend.user)
        status.section = t("section.board", lang)
        status.live = app.live_state
        yield status
        yield KeyFooter()

    def post_message(self, message: Message) -> bool:
        if isinstance(message, events.ScreenResume) and not self._resumed:
            # shown for the first time: its widgets were styled as they mounted, just now;
            # Textual would style all of them again (a resumed screen may have missed a
            # change of theme or classes while it was covered)
            self._resumed = True
            message.refresh_styles = False
        return super().post_message(message)

    def on_mount(self) -> None:  # Textual calls FsmScreen.on_mount too, after this one
        self.query_one("#conflict").display = False
        self.query_one("#conflict-buttons").display = False
        self.query_one("#error-form").display = False
        self._add_history_columns(self.query_one("#history", DataTable))
        if self.loaded is not None:
            details, rows = self.loaded
            self.loaded = None
            self._show(details, rows, refill=True)
        else:
            self._load()
        if self.first_task is not None:
            self.run_task(*self.first_task)

    # --- reused for the next order ------------------------------------------------------

    def _surroundings(self) -> tuple[Any, ...]:
        """What the screen's widgets were made and styled for besides the order: when any of
        it changed while the screen was set aside, it is not reused (a new one is made)."""
        app = self.app
        return (app.lang, self.fsm.catalog, app.size, app.theme, app.ansi_color, app.app_focus)

    def put_aside(self) -> None:
        """The screen was closed and the app keeps it for the next order opened (see
        ``FsmApp.keep_order_screen``): back to what a new screen is before it is filled,
        while no one sees it, and nothing of this order kept. It follows nothing meanwhile
        (no reloads, no app-wide news) and its workers' results are dropped. Its widgets
        are reset once the section's screen is drawn (see :meth:`_reset`), so that closing
        the order takes no longer to show than it did."""
        self.aside = True
        self.opening += 1
        self._aside_in = self._surroundings()
        self.fsm.screens_to_notify.discard(self)
        self.workers.cancel_node(self)
        self.forget_throttled()
        self.loaded = self.details = self.version = self.conflict = None
        self.baseline = {}
        self.first_task = self._focus_wanted = self._task_wanted = None
        self._reset_wanted = True
        self.app.call_after_refresh(self._reset)

    def _reset(self) -> None:
        """Put the widgets back as a new screen has them, while no one sees them."""
        if not self._reset_wanted:
            return
        self._reset_wanted = False
        self.set_focus(None)
        self._hide_conflict()
        self.query_one("#conflict", Static).update("")
        self._clear_error()
        self.query_one("#error-form", Label).update("")
        tabs = self.query_one("#order-tabs", TabbedContent)
        if tabs.active != "tab-order":
            # the Order tab, its underline at once: no animation left to finish when shown
            animation_level = self.app.animation_level
            self.app.animation_level = "none"
            try:
                tabs.active = "tab-order"
            finally:
                self.app.animation_level = animation_level
        self._emptying = [
            pane.remove_children()
            for tab in (*ORDER_TABS, *AFTER_HISTORY)
            if (pane := self.query_one(f"#tab-{tab.id}", TabPane)).children
        ]
        self.query_one("#order-header", Static).update("")
        self.query_one("#order-info", Static).update("")
        history = self.query_one("#history", DataTable)
        history.clear(columns=True)  # columns as wide as their titles again
        self._add_history_columns(history)
        # the fields as new ones: empty, the cursor and the view at their start
        area = self.query_one("#description", TextArea)
        area.load_text("")
        area.scroll_home(animate=False, immediate=True)
        for name in (*TIME_FIELDS, "external_id"):
            field_input = self.query_one(f"#{name}", Input)
            field_input.value = ""
            field_input.scroll_home(animate=False, immediate=True)
            # a value set now puts the cursor at its end, as on an Input made with it
            field_input._initial_value = True
        self.query_one("#order-form", VerticalScroll).scroll_home(animate=False, immediate=True)
        self._update_auto_focus()  # what a new screen has the focus on (the tabs)

    def can_reopen(self) -> bool:
        """Is the screen (set aside) as a new one would be made now?"""
        return self.aside and self._aside_in == self._surroundings()

    async def emptied(self) -> None:
        """Wait until the screen is reset and the panes of the order it showed are gone
        (see :meth:`put_aside`)."""
        self._reset()  # when the order is opened before the section's screen was drawn
        emptying, self._emptying = self._emptying, []
        for removal in emptying:
            await removal

    def reopen(
        self,
        order_id: int,
        *,
        loaded: tuple[Details, list[HistoryLine]],
        task: tuple[str, str] | None = None,
    ) -> None:
        """Show ``order_id`` (read just now: ``loaded``) as a screen made for it would, from
        the first frame it is pushed in (``FsmApp.on_order_read``)."""
        assert self.aside
        self.order_id = order_id
        self.opening += 1  # after the order id: a worker that reads this one reads the new id
        self.aside = False
        self._aside_in = None
        self._resumed = False  # nothing changed since it was styled: see post_message
        self.fsm.screens_to_notify.add(self)
        for line in self.query(StatusLine):
            line.live = self.fsm.live_state  # it heard no news while set aside
        details, rows = loaded
        self._show(details, rows, refill=True)
        if task is not None:
            self.run_task(*task)

    def _add_history_columns(self, history: DataTable[Any]) -> None:
        lang = self.lang
        for key in ("when", "who", "what", "old", "new"):
            history.add_column(label(key, lang), key=key)

    def catalog_ready(self, catalog: Catalog) -> None:
        for line in self.query(StatusLine):
            line.set_company(catalog.company_name)
        if catalog is self._composed_with:
            return  # the form was made (and filled) with this very catalog
        self._composed_with = catalog
        self._filled_for = None  # the object and contact lists are made from it again
        select = self.query_one("#customer_id", Select)
        keep = select.value
        select.set_options([(c.name, c.id) for c in catalog.customers])
        if keep is not Select.NULL:
            select.value = keep
        if self.details is not None:
            self._fill_form(self._form_of(self.details))

    @property
    def catalog(self) -> Catalog:
        catalog = self.fsm.catalog
        assert catalog is not None
        return catalog

    # --- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        if not self.aside:
            self._load_order(self.order_id, self.opening)

    @work(thread=True, exclusive=True, exit_on_error=False, group="order-load")
    def _load_order(self, order_id: int, opening: int) -> None:
        backend = self.fsm.backend
        with backend.reader() as session:
            details, history = self._read(session, order_id)
        make_link(backend, order_id, details)
        self.post_message(Loaded(details, history, opening))

    def _read(self, session: Any, order_id: int) -> tuple[Details, list[HistoryLine]]:
        return read_order(
            session,
            order_id,
            now=self.fsm.backend.now(),
            lang=self.lang,
            tz=self.catalog.tz,
        )

    def on_loaded(self, message: Loaded) -> None:
        if message.opening != self.opening:
            return  # read for the order this screen showed before
        dirty = self.is_dirty()
        if dirty and self.conflict is None and self._form_of(message.details) == self.baseline:
            # only what the form does not edit moved on (the stage, the assignee: say, this
            # user's own assign): the edits still apply to exactly what they were made on
            self.version = message.details["version"]
        self._show(message.details, message.history, refill=not dirty)

    def _show(self, details: Details, history: list[HistoryLine], *, refill: bool) -> None:
        """Show what the database holds. The form (and the version its edits are based on)
        changes only when ``refill``: unsaved edits are never overwritten by a reload."""
        self.details = details
        if refill:
            self.version = details["version"]
            self.baseline = self._form_of(details)
            self._fill_form(self.baseline)
        self._show_info(details)
        self._show_history(history)

    def orders_changed(self, message: OrdersChanged) -> None:
        if message.concerns(self.order_id):
            self._load()

    # --- positions: the assignee's distance and arrival, refreshed as fixes come ---------

    GPS_EVERY: ClassVar[float] = 5.0
    """Seconds between two refreshes of the position lines however fast the fixes come."""

    def positions_arrived(self, message: PositionsArrived) -> None:
        place: OrderGps | None = self.details.get("gps") if self.details else None
        if place is None or not any(message.concerns(e) for e in place.employee_ids):
            return
        self.throttled("order-gps", self.GPS_EVERY, self._load_gps)

    def _load_gps(self) -> None:
        if not self.aside:
            self._read_gps(self.order_id, self.opening)

    @work(thread=True, exclusive=True, exit_on_error=False, group="order-gps")
    def _read_gps(self, order_id: int, opening: int) -> None:
        backend = self.fsm.backend
        with backend.reader() as session:
            place = order_gps(session=session, order_id=order_id, lang=self.lang, now=backend.now())
        self.post_message(GpsLoaded(place, opening))

    def on_gps_loaded(self, message: GpsLoaded) -> None:
        if message.opening == self.opening and self.details is not None:
            self.details["gps"] = message.place
            self._show_info(self.details)

    # --- the form ------------------------------------------------------------------------

    def _time(self, value: Any) -> str:
        return local_time(value, self.catalog.tz, lang=self.lang) if value else ""

    def _form_of(self, d: Details) -> dict[str, Any]:
        """The form's values for an order's details (times as the user types them)."""
        return {
            "customer_id": d["customer_id"],
            "object_id": d.get("object_id"),
            "contact_id": d.get("contact_id"),
            "criticality": str(d["criticality"]),
            "description": d["description"] or "",
            "planned_start": self._time(d.get("planned_start")),
            "planned_end": self._time(d.get("planned_end")),
            "resolution_due": self._time(d.get("resolution_due")),
            "external_id": d.get("external_id") or "",
        }

    def _fill_form(self, values: dict[str, Any]) -> None:
        if self.fsm.catalog is None:
            return
        customer = self.query_one("#customer_id", Select)
        customer.value = values["customer_id"]
        if values["customer_id"] != self._filled_for:
            self._fill_for(values["customer_id"])
        self._set_select("#object_id", values["object_id"])
        self._set_select("#contact_id", values["contact_id"])
        self.query_one("#criticality", Select).value = values["criticality"]
        area = self.query_one("#description", TextArea)
        if area.text != values["description"]:
            area.load_text(values["description"])
        for name in (*TIME_FIELDS, "external_id"):
            self.query_one(f"#{name}", Input).value = values[name]

    def _set_select(self, selector: str, value: Any) -> None:
        select = self.query_one(selector, Select)
        if value is None:
            select.clear()
        else:
            select.value = value

    def _fill_for(self, customer_id: int | None) -> None:
        self._filled_for = customer_id
        catalog = self.catalog
        self.query_one("#object_id", Select).set_options(
            [(o.label, o.id) for o in catalog.objects_of(customer_id)]
        )
        self.query_one("#contact_id", Select).set_options(
            [(c.name, c.id) for c in catalog.contacts_of(customer_id)]
        )

    @on(Select.Changed, "#customer_id")
    def _customer_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, int) else None
        if value != self._filled_for and self.fsm.catalog is not None:
            self._fill_for(value)

    def _select_value(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value

    def form_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "customer_id": self._select_value("#customer_id"),
            "object_id": self._select_value("#object_id"),
            "contact_id": self._select_value("#contact_id"),
            "criticality": self._select_value("#criticality"),
            "description": self.query_one("#description", TextArea).text,
        }
        for name in (*TIME_FIELDS, "external_id"):
            values[name] = self.query_one(f"#{name}", Input).value.strip()
        return values

    def edits(self) -> dict[str, Any]:
        """The fields the user changed since the form was filled: {field: typed value}."""
        if not self.baseline:
            return {}
        form = self.form_values()
        return {k: v for k, v in form.items() if v != self.baseline.get(k)}

    def is_dirty(self) -> bool:
        return bool(self.edits())

    # --- saving --------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.details is None or self.version is None:
            return
        edits = self.edits()
        self._clear_error()
        if not edits:
            self.notify(t("order.unchanged", self.lang))
            return
        self._save(edits, self.version, self.order_id, self.opening)

    @work(thread=True, exclusive=True, exit_on_error=False, group="order-save")
    def _save(self, edits: dict[str, Any], version: int, order_id: int, opening: int) -> None:
        backend = self.fsm.backend
        tz = self.catalog.tz
        data: dict[str, Any] = {}
        for name, value in edits.items():
            if name in TIME_FIELDS:
                end_of_day = name == "resolution_due"
                data[name] = (
                    parse_datetime(value, tz=tz, field=name, end_of_day=end_of_day)
                    if value
                    else None
                )
                if name == "resolution_due" and not value:
                    data["reaction_due"] = None  # both back to the SLA policy
            elif name == "external_id":
                data[name] = value or None
            else:
                data[name] = value
        try:
            with backend.transaction() as session:
                before = version
                order = orders.update_order(
                    session=session,
                    order_id=order_id,
                    data=data,
                    actor=backend.user,
                    expected_version=version,
                )
                changed = order.version != before
                details, history = self._read(session, order_id)
        except Conflict as conflict:
            with backend.reader() as session:
                current, history = self._read(session, order_id)
            self.post_message(ConflictFound(conflict, current, history, opening))
            return
        self.post_message(Saved(details, history, changed, opening))

    def on_saved(self, message: Saved) -> None:
        if message.opening != self.opening:
            return  # the screen was closed (and shows another order now)
        self.conflict = None
        self._hide_conflict()
        self._show(message.details, message.history, refill=True)
        if message.changed:
            self.notify(
                t(
                    "order.saved",
                    self.lang,
                    number=message.details["number"],
                    version=message.details["version"],
                )
            )
            self.fsm.broadcast(OrdersChanged((self.order_id,)))
        else:
            self.notify(t("order.unchanged", self.lang))

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if worker.group == "order-save" and isinstance(error, FsmError):
            name = FIELD_OF_ERROR.get(error_field(error) or "")
            self._show_error(error.one_line(self.lang), name)
            return True
        return False

    def _show_error(self, message: str, field_name: str | None) -> None:
        error = self.query_one("#error-form", Label)
        error.update(message)
        error.display = True
        for widget in self.query("#fields > *"):
            widget.remove_class("-invalid")
        if field_name:
            self.query_one(f"#{field_name}").add_class("-invalid")

    def _clear_error(self) -> None:
        self.query_one("#error-form").display = False
        for widget in self.query("#fields > *"):
            widget.remove_class("-invalid")

    # --- conflicts -----------------------------------------------------------------------

    def on_conflict_found(self, message: ConflictFound) -> None:
        if message.opening != self.opening:
            return
        self.conflict = message
        self.details = message.current
        self._show_info(message.current)
        self._show_history(message.history)
        mine = self.form_values()
        theirs = self._form_of(message.current)
        lang = self.lang
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        for key in ("conflict.field", "conflict.loaded", "conflict.mine", "conflict.theirs"):
            table.add_column(t(key, lang), overflow="fold")
        for name, key in FIELDS:
            was, typed, now = self.baseline.get(name), mine.get(name), theirs.get(name)
            if typed == was and now == was:
                continue
            mine_style = "bold green" if typed != was else ""
            their_style = "bold yellow" if now != was else ""
            clash = typed != was and now != was and typed != now
            table.add_row(
                Text(t(key, lang), style="bold red" if clash else ""),
                self._display(name, was),
                Text(self._display(name, typed), style=mine_style),
                Text(self._display(name, now), style=their_style),
            )
        heading = Text(
            t(
                "conflict.title",
                lang,
                mine=message.error.expected_version,
                theirs=message.error.current_version,
            ),
            style="bold",
        )
        from rich.console import Group

        conflict = self.query_one("#conflict", Static)
        conflict.update(Group(heading, table))
        conflict.display = True
        self.query_one("#conflict-buttons").display = True
        self.refresh_bindings()
        self.query_one("#error-form").display = False
        self.query_one("#order-form", VerticalScroll).scroll_home(animate=False)

    def _display(self, name: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        catalog = self.catalog
        if name == "customer_id":
            return catalog.name_of("customers", value)
        if name == "object_id":
            return catalog.name_of("objects", value)
        if name == "contact_id":
            return catalog.name_of("contacts", value)
        if name == "criticality":
            return criticality_name(value, self.lang)
        return cells.one_line(str(value)) if name == "description" else str(value)

    def action_reapply(self) -> None:
        """Take the database's current version and lay the user's edits over it."""
        if self.conflict is None:
            return
        edits = self.edits()
        current = self.conflict.current
        self.version = current["version"]
        self.baseline = self._form_of(current)
        self._fill_form({**self.baseline, **edits})
        self.conflict = None
        self._hide_conflict()
        self.notify(t("conflict.reapplied", self.lang, version=self.version))

    def _discard(self) -> None:
        if self.conflict is None:
            return
        current = self.conflict.current
        self.version = current["version"]
        self.baseline = self._form_of(current)
        self._fill_form(self.baseline)
        self.conflict = None
        self._hide_conflict()

    def _hide_conflict(self) -> None:
        self.query_one("#conflict").display = False
        self.query_one("#conflict-buttons").display = False
        self.refresh_bindings()

    @on(Button.Pressed, "#reapply")
    def _reapply_pressed(self) -> None:
        self.action_reapply()

    @on(Button.Pressed, "#discard")
    def _discard_pressed(self) -> None:
        self._discard()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    # --- the read-only side and the history ----------------------------------------------

    def _show_info(self, d: Details) -> None:
        lang = self.lang
        catalog = self.catalog
        now = self.fsm.backend.now()
        sla, status = sla_for(d, catalog.stage(d["stage"]), now, lang)
        style = {"ok": "green", "at_risk": "bold yellow", "violated": "bold red"}.get(status, "")
        header = Text()
        header.append(t("order.title", lang, number=d["number"]), style="bold")
        if d.get("source") == "qr":
            header.append(f" {cells.QR_MARK}", style="bold")
        header.append(f" · {catalog.stage_name(d['stage'], lang)}")
        feedback: OrderFeedback | None = d.get("feedback")
        rating = feedback.rating if feedback is not None else None
        if rating is not None:
            mean = number(rating.rating, lang=lang)
            header.append(" · ")
            header.append(f"★ {mean}", style=rating_style(rating.rating))
        header.append(f" · {d.get('assignee') or d.get('crew') or '—'}")
        header.append(f" · SLA {sla_name(d['sla_status'], lang)}: ")
        header.append(sla, style=style)
        self.query_one("#order-header", Static).update(header)

        def when(value: Any) -> str:
            return moment(value, catalog.tz, lang=lang, now=now) if value else "—"

        def due(value: Any) -> str:  # "пн 10:00" within the coming week
            return due_time(value, catalog.tz, now=now, lang=lang) if value else "—"

        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        rows: list[tuple[str, str | Text]] = [
            ("number", d["number"]),
            ("stage", catalog.stage_name(d["stage"], lang)),
            ("assignee", d.get("assignee") or "—"),
            ("crew", d.get("crew") or "—"),
            ("sla", Text(f"{sla_name(d['sla_status'], lang)} · {sla}", style=style)),
            ("reaction_due", due(d.get("reaction_due"))),
            ("resolution_due", due(d.get("resolution_due"))),
            ("sla_calendar", d.get(f"sla_calendar_{lang}") or "—"),
            ("created", f"{when(d.get('created_at'))} ({d.get('created_by')})"),
            ("address", d.get("address") or "—"),
            ("location_hint", d.get("location_hint") or "—"),
            ("phone", format_phone(d["contact_phone"]) if d.get("contact_phone") else "—"),
            ("closed", when(d.get("closed_at"))),
        ]
        if d.get("source") == "qr":  # the customer sent it from the object's QR passport
            rows.insert(
                [k for k, _ in rows].index("created") + 1,
                ("source", f"{cells.QR_MARK} {t('order.from_qr', lang)}"),
            )
        for key, value in rows:
            table.add_row(label(key, lang), value)
        # the customer's side: their rating (once given) and their order's status page
        if rating is not None:
            shown = Text(f"★ {number(rating.rating, lang=lang)}", style=rating_style(rating.rating))
            scores = t(
                "order.scores",
                lang,
                promptness=rating.promptness,
                accuracy=rating.accuracy,
                communication=rating.communication,
            )
            shown.append(f"\n{scores}", style="dim")
            table.add_row(t("order.rating", lang), shown)
            if rating.comment:
                comment = cells.one_line(rating.comment)
                quoted = f"«{comment}»" if lang == "ru" else f"“{comment}”"
                table.add_row(t("order.comment", lang), Text(quoted, style="italic"))
        if feedback is not None and feedback.status_url:
            table.add_row(t("order.status_link", lang), feedback.status_url)
        for key, value in (
            ("version", str(d["version"])),
            (
                "allowed_stages",
                ", ".join(catalog.stage_name(c, lang) for c in d.get("allowed_stages", [])) or "—",
            ),
        ):
            table.add_row(label(key, lang), value)
        place: OrderGps | None = d.get("gps")
        if place is not None:  # only when its people are tracked: else as it always was
            table.add_row(t("order.position", lang), place.position)
            if place.arrival is not None:
                table.add_row(t("order.arrival", lang), place.arrival)
        for n, sent in enumerate(d.get("notifications") or []):  # only when there are any
            table.add_row(t("order.notifications", lang) if n == 0 else "", self._notice(sent))
        info = self.query_one("#order-info", Static)
        info.update(table)
        info.border_title = t("order.info", lang)

    def _notice(self, n: Any) -> Text:
        """``принята · email · отправлено 26.11 12:01`` (failed ones in red, with why)."""
        from fsm_core.services.notify.queries import EVENT_NAMES, STATE_NAMES

        lang, tz, now = self.lang, self.catalog.tz, self.fsm.backend.now()
        ru = lang == "ru"
        event = EVENT_NAMES.get(n.event, (n.event, n.event))[ru]
        state = STATE_NAMES.get(n.state, (n.state, n.state))[ru]
        when = n.sent_at if n.state == "sent" else n.next_attempt_at
        line = Text(f"{event} · {n.channel} · ")
        style = {"sent": "green", "failed": "bold red"}.get(n.state, "yellow")
        line.append(state, style=style)
        if when is not None:
            line.append(f" {moment(when, tz, lang=lang, now=now)}")
        if n.state == "failed" and n.last_error:
            line.append(f" ({cells.one_line(n.last_error)[:40]})", style="dim")
        return line

    def _show_history(self, history: list[HistoryLine]) -> None:
        """The rows :func:`~fsm_core.services.order_queries.history_lines` makes (names,
        not codes; local times), as ``fsm orders history`` prints them."""
        lang = self.lang
        catalog = self.catalog
        table = self.query_one("#history", DataTable)
        table.clear()
        now = self.fsm.backend.now()
        for h in history:
            table.add_row(
                moment(h.at, catalog.tz, lang=lang, now=now, seconds=True),
                h.actor,
                h.what,
                cells.one_line(h.old),
                cells.one_line(h.new),
            )

    # --- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reapply":
            return self.conflict is not None  # shown only while a conflict is on screen
        # ctrl+s sends the chat message being written (Messages tab), not the order's form
        return not (action == "save" and isinstance(self.focused, Composer))

    def action_back(self) -> None:
        """Back to the section: at once, or, when the form holds edits not saved, once the
        user said to drop them (escape pressed by habit in a field lost what was typed)."""
        if self.details is None or not self.is_dirty():
            self._close()
            return
        from fsm_tui.screens.confirm import ConfirmScreen

        def answered(drop: bool | None) -> None:
            if drop and self.is_current:
                self._close()

        question = t("order.leave_unsaved", self.lang, number=self.details["number"])
        title = t("order.leave_unsaved_title", self.lang)
        self.app.push_screen(ConfirmScreen(question, title=title), answered)

    def _close(self) -> None:
        kept = self.fsm.keep_order_screen(self)  # before the pop, which would remove it
        self.dismiss(None)
        if kept:
            self.put_aside()

    def action_reload(self) -> None:
        self._load()

    def _tab_ids(self) -> list[str]:
        return [
            "tab-order",
            *(f"tab-{tab.id}" for tab in ORDER_TABS),
            "tab-history",
            *(f"tab-{tab.id}" for tab in AFTER_HISTORY),
        ]

    def action_tab(self, n: int) -> None:
        """The n-th tab, counting from 1 (Order), with the focus in it: the tab's own keys
        (w for work, u for a material, …) work at once."""
        ids = self._tab_ids()
        if not 1 <= n <= len(ids):
            return
        tabs = self.query_one(TabbedContent)
        self._focus_wanted = ids[n - 1]
        if tabs.active == ids[n - 1]:
            self._focus_tab(ids[n - 1])
            self._start_task(self.query_one(f"#{ids[n - 1]}", TabPane))
        else:
            tabs.active = ids[n - 1]  # TabActivated fills it and then focuses it

    def run_task(self, tab: str, action: str) -> None:
        """Go to ``tab`` (``execution``, ``messages``, …) and run its pane's ``action``
        (``work``, ``compose``, …) once the pane has read the order: a core task in one
        step from the command palette."""
        self._task_wanted = (f"tab-{tab}", action)
        ids = self._tab_ids()
        if f"tab-{tab}" in ids:
            self.action_tab(ids.index(f"tab-{tab}") + 1)

    def _start_task(self, pane: TabPane) -> None:
        wanted = self._task_wanted
        if wanted is None or wanted[0] != pane.id or not pane.children:
            return
        self._task_wanted = None
        content = pane.children[0]
        action = wanted[1]
        if isinstance(content, OrderPane) and getattr(content, "data", None) is None:
            content.pending_action = action  # run when it has read the order
        else:
            self.call_after_refresh(self._run_task, content, action, self.opening)

    async def _run_task(self, content: Widget, action: str, opening: int) -> None:
        # not when the screen closed meanwhile: it would start for the order it showed
        if opening == self.opening:
            await content.run_action(action)

    @on(TabbedContent.TabActivated, "#order-tabs")
    async def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """A feature's pane is made when its tab is first shown: opening an order builds
        the form only, not five panes the user may never look at."""
        if self.aside:
            return  # a tab asked for just before the screen closed: it shows nothing now
        pane = event.pane
        tab = next(
            (tab for tab in (*ORDER_TABS, *AFTER_HISTORY) if f"tab-{tab.id}" == pane.id), None
        )
        if tab is not None and not pane.children:
            await pane.mount(tab.make(self.order_id, self.fsm))
        if pane.id is not None and self._focus_wanted == pane.id:
            self._focus_tab(pane.id)
        self._start_task(pane)

    def _focus_tab(self, tab_id: str) -> None:
        self._focus_wanted = None
        pane = self.query_one(f"#{tab_id}", TabPane)
        target: Widget | None = None
        if tab_id == "tab-order":
            target = self.query_one("#customer_id")
        elif tab_id == "tab-history":
            target = self.query_one("#history")
        elif pane.children:
            content = pane.children[0]
            if isinstance(content, OrderPane | ChatThread):
                target = content.focus_main()
        if target is not None:
            target.focus()

    def action_next_tab(self, step: int) -> None:
        ids = self._tab_ids()
        current = self.query_one(TabbedContent).active
        at = ids.index(current) if current in ids else 0
        self.action_tab((at + step) % len(ids) + 1)

    def _row(self) -> dict[str, Any] | None:
        d = self.details
        if d is None:
            return None
        return {
            "id": self.order_id,
            "number": d["number"],
            "stage_code": d["stage"],
            "assignee_id": d.get("assignee_id"),
            "version": d["version"],
            "customer": d.get("customer"),
            "object": d.get("object"),
            "object_id": d.get("object_id"),
            "description": d.get("description"),
        }

    def action_plan(self) -> None:
        row = self._row()
        if row is not None:
            self.fsm.plan_visit(row)

    def action_assign(self) -> None:
        row = self._row()
        if row is not None:
            self.fsm.assign_order(row)

    def action_move(self) -> None:
        row = self._row()
        if row is not None:
            self.fsm.move_order(row)
