"""The map (карта): where the technicians are, the objects of open orders coloured by SLA,
the day's track of the technician selected in the list, and the company's background of
roads and water (``fsm map background FILE``).

The list beside the map: each technician, their current or next order, the distance to
its object, and whether they are on site (since when), en route or without a position —
as :func:`fsm_core.services.gps.board.map_view` computes it; this screen only draws.

Keys: ``h j k l`` (or the arrows, on the map) pan, ``+``/``-`` zoom, ``f``/``0`` fits
everything, ``/`` finds a technician or an order, ``b`` binds an unknown device to an
employee, ``enter`` opens the selected technician's order. New positions arrive live
(:class:`~fsm_tui.messages.PositionsArrived`): the map re-reads itself at most every
:attr:`MapScreen.THROTTLE` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Select, Static
from textual.worker import get_current_worker

from fsm_core.services.gps import background as map_background
from fsm_core.services.gps import board
from fsm_tui.messages import OrdersChanged, PositionsArrived
from fsm_tui.screens.base import SectionScreen
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.map_canvas import MapCanvas, Marker, Polyline, Scene, View

TECH = "●"
ORDER = "■"


def tech_label(tech: board.MapTechnician, now: Any, lang: str) -> str:
    """``Иванов И. И. · 0042 · 3 мин назад``: who, their order, how old the fix is."""
    parts = [tech.name]
    if tech.order is not None:
        parts.append(tech.order.number)
    if tech.fix_at is not None:
        parts.append(board.format_age(tech.fix_at, now, lang))
    return " · ".join(parts)


def status_text(tech: board.MapTechnician, now: Any, tz: Any, lang: str) -> str:
    """``на объекте с 10:42``, ``в пути``, ``нет позиции · 2 ч назад``."""
    text = board.state_text(tech.state, lang)
    if tech.state == board.ON_SITE and tech.since is not None:
        return t("map.on_site_since", lang, time=f"{tech.since.astimezone(tz):%H:%M}")
    if tech.state == board.NO_POSITION and tech.fix_at is not None:
        return f"{text} · {board.format_age(tech.fix_at, now, lang)}"
    return text


def build_scene(
    view: board.MapView,
    background: list[Polyline],
    *,
    selected: int | None,
    lang: str,
) -> Scene:
    """What the canvas draws for ``view``: the background and the selected technician's
    track under the orders' objects (coloured by SLA), the technicians on top."""
    lines = []
    if view.track and view.track_of == selected:
        lines.append(Polyline.from_points("track", view.track))
    markers = [
        Marker(
            o.latitude,
            o.longitude,
            ORDER,
            f"sla-{o.sla_status}",
            o.number,
            key=f"order:{o.order_id}",
        )
        for o in view.orders
    ]
    chosen: list[Marker] = []
    for tech in view.technicians:
        if tech.latitude is None or tech.longitude is None:
            continue
        is_selected = tech.employee_id == selected
        marker = Marker(
            tech.latitude,
            tech.longitude,
            TECH,
            "tech-selected" if is_selected else f"tech-{tech.state}",
            tech_label(tech, view.now, lang),
            "label-selected" if is_selected else "label",
            key=f"tech:{tech.employee_id}",
        )
        (chosen if is_selected else markers).append(marker)
    return Scene(lines, markers + chosen, background)  # the selected one on top


@dataclass(frozen=True)
class MapData:
    view: board.MapView
    background: list[Polyline] | None  # None: unchanged (not re-read)
    background_name: str | None


class MapScreen(SectionScreen):
    SECTION = "map"

    THROTTLE: ClassVar[float] = 0.5
    """Seconds between re-reads while positions keep arriving (live updates)."""
    TICK: ClassVar[float] = 30.0
    """Seconds between re-reads with no news ("3 мин назад" grows old)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h,left", "pan(-1, 0)", "Pan left", show=False, id="map.pan_left"),
        Binding("l,right", "pan(1, 0)", "Pan right", show=False, id="map.pan_right"),
        Binding("k,up", "pan(0, -1)", "Pan up", show=False, id="map.pan_up"),
        Binding("j,down", "pan(0, 1)", "Pan down", show=False, id="map.pan_down"),
        Binding("plus,equals_sign", "zoom(1)", "Zoom in", key_display="+", id="map.zoom_in"),
        Binding("minus", "zoom(-1)", "Zoom out", key_display="-", id="map.zoom_out"),
        Binding("f,0", "fit", "Fit all", id="map.fit"),
        Binding("slash", "search", "Find", key_display="/", id="map.search"),
        Binding("enter", "open_order", "Open order", id="map.open_order"),
        Binding("b", "bind_device", "Bind device", id="map.bind_device"),
        Binding("r", "refresh", "Refresh", show=False, id="map.refresh"),
        Binding("escape", "close_search", "To the list", show=False, id="map.focus_list"),
    ]

    @dataclass
    class Loaded(Message):
        generation: int
        data: MapData

    def __init__(self) -> None:
        super().__init__(id="map")
        self.data: board.MapView | None = None
        self.selected: int | None = None
        self.background: list[Polyline] = []
        self.background_name: str | None = None
        self._background_stale = True
        self._generation = 0
        self._pending: Timer | None = None
        self._fitted = False

    # --- layout --------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with Horizontal(id="map-body"):
            yield MapCanvas(lang=lang, id="map-canvas")
            with Vertical(id="map-side"):
                yield Static("", id="map-summary")
                yield Input(
                    placeholder=t("map.search_placeholder", lang), compact=True, id="map-search"
                )
                table: DataTable[Any] = DataTable(
                    id="map-list", cursor_type="row", zebra_stripes=True
                )
                table.add_column(t("map.col.who", lang), key="who")
                table.add_column(t("map.col.order", lang), key="order")
                table.add_column(t("map.col.distance", lang), key="distance")
                table.add_column(t("map.col.status", lang), key="status")
                yield table

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#map-search", Input).display = False
        self.query_one("#map-list", DataTable).focus()
        self.set_interval(self.TICK, self.reload)

    @property
    def canvas(self) -> MapCanvas:
        return self.query_one("#map-canvas", MapCanvas)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#map-list", DataTable)

    # --- loading -------------------------------------------------------------------------

    def catalog_ready(self, catalog: Any) -> None:
        if self.data is None:
            self.reload()

    def orders_changed(self, message: OrdersChanged) -> None:
        self.reload_soon()

    def positions_arrived(self, message: PositionsArrived) -> None:
        self.reload_soon()

    def reload_soon(self) -> None:
        """Re-read within :attr:`THROTTLE` seconds, once however many news come meanwhile."""
        if self._pending is None:
            self._pending = self.set_timer(self.THROTTLE, self._reload_now)

    def _reload_now(self) -> None:
        self._pending = None
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self._load(self._generation, self.selected, self._background_stale)

    @work(thread=True, exclusive=True, exit_on_error=False, group="map-load")
    def _load(self, generation: int, selected: int | None, with_background: bool) -> None:
        worker = get_current_worker()
        backend = self.fsm.backend
        lines: list[Polyline] | None = None
        name: str | None = None
        with backend.reader() as session:
            view = board.map_view(session=session, now=backend.now(), track_of=selected)
            if with_background:
                found = map_background.load_background(session=session)
                lines = []
                if found is not None:
                    name = found.name
                    lines = [Polyline.from_flat(x.style, x.coords) for x in found.lines]
        if not worker.is_cancelled:
            self.post_message(self.Loaded(generation, MapData(view, lines, name)))

    def on_map_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        data = message.data
        if data.background is not None:
            self.background = data.background
            self.background_name = data.background_name
            self._background_stale = False
        self.data = data.view
        self._fill_table()
        self._draw()

    def _draw(self) -> None:
        if self.data is None:
            return
        canvas = self.canvas
        scene = build_scene(self.data, self.background, selected=self.selected, lang=self.lang)
        canvas.show(scene)
        if not self._fitted and canvas.size.width > 0:
            # the markers alone: the selected one's track may or may not have arrived by
            # the first frame with room, and the first view must not depend on which
            self._fitted = canvas.fit_all(with_lines=False)
        self._summary()

    def _summary(self) -> None:
        lang = self.lang
        data = self.data
        if data is None:
            return
        text = Text(t("map.counts", lang, people=len(data.technicians), orders=len(data.orders)))
        if data.without_coordinates:
            text.append(" · " + t("map.no_coordinates", lang, n=data.without_coordinates))
        if self.background_name:
            text.append("\n" + t("map.background", lang, name=self.background_name), style="dim")
        if data.unknown_devices:
            text.append("\n")
            text.append(t("map.unknown_devices", lang, n=len(data.unknown_devices)), style="bold")
        self.query_one("#map-summary", Static).update(text)

    def _fill_table(self) -> None:
        data = self.data
        if data is None:
            return
        lang = self.lang
        tz = self.fsm.catalog.tz if self.fsm.catalog is not None else None
        table = self.table
        rows = []
        for tech in data.technicians:
            order = tech.order.number if tech.order is not None else "—"
            status = status_text(tech, data.now, tz, lang)
            style = {"on_site": "green", "en_route": "", "no_position": "dim"}[tech.state]
            rows.append(
                (
                    str(tech.employee_id),
                    (
                        tech.name,
                        order,
                        Text(board.format_distance(tech.distance_m, lang), justify="right"),
                        Text(status, style=style),
                    ),
                )
            )
        keys = [key for key, _cells in rows]
        if [key.value for key in table.rows] == keys:  # the same people: in place
            for key, cells in rows:
                for column, value in zip(
                    ("who", "order", "distance", "status"), cells, strict=True
                ):
                    table.update_cell(key, column, value)
            return
        keep = self.selected
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if keep is not None and str(keep) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep)), animate=False)

    # --- the list ------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#map-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None or event.cursor_row != self.table.cursor_row:
            return  # a refill's passing highlight: the cursor is elsewhere by now
        employee_id = int(event.row_key.value)
        if employee_id == self.selected:
            return
        first = self.selected is None  # the list's own first row: the map stays fitted
        self.selected = employee_id
        if not first:
            self._centre_on_selected()
        self._draw()
        self.reload()  # the track of the newly selected technician

    @on(DataTable.RowSelected, "#map-list")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_order()

    def _centre_on_selected(self) -> None:
        tech = self.data.technician(self.selected) if self.data and self.selected else None
        canvas = self.canvas
        if tech is None or canvas.view is None:
            return
        if tech.latitude is not None and tech.longitude is not None:
            canvas.set_view(canvas.view.centred(tech.latitude, tech.longitude))

    # --- keys ----------------------------------------------------------------------------

    def _view(self) -> View | None:
        canvas = self.canvas
        if canvas.view is None:
            return None
        return canvas.view.resized(canvas.size.width, canvas.size.height)

    def action_pan(self, dx: int, dy: int) -> None:
        view = self._view()
        if view is not None:
            self.canvas.set_view(
                view.pan(dx * max(view.width // 4, 1), dy * max(view.height // 4, 1))
            )

    def action_zoom(self, direction: int) -> None:
        view = self._view()
        if view is not None:
            self.canvas.set_view(view.zoom(1.5 if direction > 0 else 1 / 1.5))

    def action_fit(self) -> None:
        self.canvas.fit_all()

    def action_search(self) -> None:
        search = self.query_one("#map-search", Input)
        search.display = True
        search.value = ""
        search.focus()

    def action_close_search(self) -> None:
        search = self.query_one("#map-search", Input)
        search.display = False
        self.table.focus()

    @on(Input.Submitted, "#map-search")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        if self.data is None:
            return
        found = board.find_on_map(self.data, event.value)
        if found is None:
            self.notify(t("map.not_found", self.lang, text=event.value.strip()), severity="warning")
            return
        kind, ident, lat, lon = found
        self.action_close_search()
        if kind == "tech" and str(ident) in self.table.rows:
            self.table.move_cursor(row=self.table.get_row_index(str(ident)))
        view = self._view()
        if view is not None and lat is not None and lon is not None:
            self.canvas.set_view(view.centred(lat, lon))

    def action_open_order(self) -> None:
        tech = self.data.technician(self.selected) if self.data and self.selected else None
        if tech is None or tech.order is None:
            self.notify(t("map.no_order", self.lang), severity="warning")
            return
        self.fsm.open_order(tech.order.order_id)

    def action_refresh(self) -> None:
        self._background_stale = True
        self.reload()

    def action_bind_device(self) -> None:
        data = self.data
        catalog = self.fsm.catalog
        if data is None or catalog is None or not catalog.complete:
            self.notify(t("loading", self.lang))
            return
        if not data.unknown_devices:
            self.notify(t("map.no_unknown_devices", self.lang))
            return

        def done(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.notify(t("map.bound", self.lang, device=result[0], name=result[1]))
                self.reload()

        employees = [(c.name, c.id) for c in catalog.employees]
        self.app.push_screen(BindDeviceScreen(data.unknown_devices, employees), done)


class BindDeviceScreen(FormScreen[tuple[str, str] | None]):
    """Bind a device that sent positions while bound to nobody to an employee."""

    def __init__(self, devices: tuple[str, ...], employees: list[tuple[str, int]]) -> None:
        super().__init__(id="bind-device")
        self.devices = devices
        self.employees = employees

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog") as box:
            box.border_title = t("map.bind_title", lang)
            yield Label(t("map.device", lang))
            yield Select[str](
                [(d, d) for d in self.devices],
                value=self.devices[0],
                allow_blank=False,
                compact=True,
                id="device",
            )
            yield Label("", classes="field-error", id="error-device")
            yield Label(t("map.employee", lang))
            yield Select[int](self.employees, prompt="—", compact=True, id="assignee")
            yield Label("", classes="field-error", id="error-assignee")
            yield Label("", classes="field-error", id="error-form")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#assignee", Select).focus()

    def action_submit(self) -> None:
        from fsm_core.services.gps import bind_device
        from fsm_core.services.lookup import resolve_employee

        device = self.query_one("#device", Select).value
        employee = self.query_one("#assignee", Select).value
        if not isinstance(employee, int):
            self.show_error(t("map.pick_employee", self.lang), "assignee")
            return

        def work(session: Session) -> tuple[str, str]:
            bound = bind_device(session=session, identifier=str(device), employee=employee)
            person = resolve_employee(session=session, ref=employee)
            return bound.identifier, person.short_name

        self.save(work)
