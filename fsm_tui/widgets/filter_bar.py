"""The board's filters, changed in place: stage, assignee, customer, object, criticality,
SLA status and free text. Choices post at once; typing is debounced briefly so that a burst
of keys (a paste without bracketed paste) makes one query, not ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Select

from fsm_core.i18n import criticality_name, sla_name
from fsm_core.models import Criticality, SlaStatus
from fsm_core.services.order_queries import OrderFilter
from fsm_tui.backend import Catalog
from fsm_tui.text import t

OPEN = "__open__"
UNASSIGNED = "__none__"
INITIAL_FILTER = OrderFilter(open_only=True)
"""What the bar asks for before the user touches it: the open orders."""


class FilterBar(Horizontal):
    """One line of compact pickers and a search box above the board."""

    DEBOUNCE: ClassVar[float] = 0.01
    """Seconds of quiet after a keystroke in the search box before the query runs: enough to
    make one query of a paste that a terminal delivers as a burst of keys, short enough not
    to be felt. A query still running when the next one starts is interrupted (see
    :class:`~fsm_tui.backend.QueryHandle`), so fast typing never piles queries up."""

    @dataclass
    class Changed(Message):
        bar: FilterBar
        filters: OrderFilter

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.catalog: Catalog | None = None
        self._timer: Timer | None = None
        self._last: OrderFilter | None = None

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Select[str](
            [(t("filter.open", lang), OPEN)],
            prompt=t("filter.stage", lang),
            value=OPEN,
            compact=True,
            id="filter-stage",
        )
        yield Select[Any]([], prompt=t("filter.assignee", lang), compact=True, id="filter-assignee")
        yield Select[int]([], prompt=t("filter.customer", lang), compact=True, id="filter-customer")
        yield Select[int]([], prompt=t("filter.object", lang), compact=True, id="filter-object")
        yield Select[str](
            [(criticality_name(c.value, lang), c.value) for c in Criticality],
            prompt=t("filter.criticality", lang),
            compact=True,
            id="filter-criticality",
        )
        yield Select[str](
            [(sla_name(s.value, lang), s.value) for s in SlaStatus if s != SlaStatus.NONE],
            prompt=t("filter.sla", lang),
            compact=True,
            id="filter-sla",
        )
        yield Input(placeholder=t("filter.search", lang), compact=True, id="filter-text")

    # --- choices from the catalog --------------------------------------------------------

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        lang = self.lang
        stages = [(t("filter.open", lang), OPEN)] + [
            (s.name(lang), s.code) for s in catalog.workflow.stages.values()
        ]
        self._refill("#filter-stage", stages)
        people: list[tuple[str, Any]] = [(t("filter.unassigned", lang), UNASSIGNED)]
        people += [(e.name, e.id) for e in catalog.employees]
        self._refill("#filter-assignee", people)
        self._refill("#filter-customer", [(c.name, c.id) for c in catalog.customers])
        self._refill_objects()

    def _refill(self, selector: str, options: list[tuple[str, Any]]) -> None:
        select: Select[Any] = self.query_one(selector, Select)
        keep = select.value
        select.set_options(options)
        if keep is not Select.NULL and any(value == keep for _, value in options):
            select.value = keep

    def _refill_objects(self) -> None:
        if self.catalog is None:
            return
        customer = self.query_one("#filter-customer", Select).value
        customer_id = customer if isinstance(customer, int) else None
        self._refill(
            "#filter-object",
            [(o.label, o.id) for o in self.catalog.objects_of(customer_id)],
        )

    # --- events --------------------------------------------------------------------------

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "filter-customer":
            self._refill_objects()
        self._post()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.DEBOUNCE, self._post)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._post()

    def _post(self) -> None:
        """Tell the board, unless the filter is what it was (refilled choices, a clear)."""
        self._timer = None
        if self.catalog is None:
            return  # not ready: the board loads its first page when the catalog arrives
        flt = self.filters()
        if flt != self._last:
            self._last = flt
            self.post_message(self.Changed(self, flt))

    def current(self) -> OrderFilter:
        """The filter as it stands, taken as the one the board shows."""
        self._last = self.filters()
        return self._last

    # --- the filter ----------------------------------------------------------------------

    def _value(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value

    def filters(self) -> OrderFilter:
        flt = OrderFilter()
        stage = self._value("#filter-stage")
        if stage == OPEN:
            flt.open_only = True
        elif stage:
            flt.stages = [stage]
        assignee = self._value("#filter-assignee")
        if assignee == UNASSIGNED:
            flt.unassigned = True
        elif assignee is not None:
            flt.assignee_ids = [assignee]
        customer = self._value("#filter-customer")
        if customer is not None:
            flt.customer_ids = [customer]
        obj = self._value("#filter-object")
        if obj is not None:
            flt.object_ids = [obj]
        criticality = self._value("#filter-criticality")
        if criticality:
            flt.criticalities = [criticality]
        status = self._value("#filter-sla")
        if status:
            flt.sla = [SlaStatus(status)]
        text = self.query_one("#filter-text", Input).value.strip()
        flt.text = text or None
        return flt

    def set_stage(self, code: str | None) -> None:
        """Filter by one stage (None: every stage, OPEN: open orders)."""
        select = self.query_one("#filter-stage", Select)
        if code is None:
            select.clear()
        else:
            select.value = code

    def clear(self) -> None:
        for select in self.query(Select):
            if select.id == "filter-stage":
                select.value = OPEN
            else:
                select.clear()
        self._refill_objects()
        self.query_one("#filter-text", Input).value = ""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._post()


def shows_stage(flt: OrderFilter, catalog: Catalog, code: str) -> bool:
    """Whether orders in stage ``code`` can match ``flt`` (the kanban's columns)."""
    if flt.stages:
        return code in flt.stages
    if flt.open_only:
        stage = catalog.stage(code)
        return stage is not None and not stage.final
    return True
