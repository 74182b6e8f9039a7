"""The map section (F6): screenshots of the map and its list, its keys (pan, zoom, fit,
jump), binding an unknown device, and positions arriving live from another connection.

The demo company gets a morning of positions first (:mod:`fsm_core.demo_gps`: Петров on
site, Волков and Иванов en route, Соколов quiet for two hours, one unknown phone)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.demo_gps import UNKNOWN_DEVICE, load_demo_positions
from fsm_core.services import gps
from fsm_core.services.gps import background as bg
from fsm_core.services.gps import board
from fsm_tui.screens.map import BindDeviceScreen, MapScreen
from fsm_tui.widgets.map_canvas import plain, render
from tests.conftest import NOW
from tests.tui.conftest import build_app, settle, snap, wait_until

BACKGROUND = Path(__file__).parent.parent / "gps" / "data" / "spb.geojson"


def with_positions(url: str, *, background: bool = False) -> str:
    database = Database(url)
    try:
        with clock.frozen(NOW), database.transaction() as s:
            load_demo_positions(session=s, now=NOW)
            if background:
                parsed = bg.parse_geojson(BACKGROUND.read_bytes(), name=BACKGROUND.name)
                bg.store_background(session=s, background=parsed, actor="tester")
    finally:
        database.dispose()
    return url


def employee_id(url: str, name: str) -> int:
    database = Database(url)
    try:
        with database.reader() as s:
            from fsm_core.services.lookup import resolve_employee

            found = resolve_employee(session=s, ref=name).id
            assert found is not None
            return found
    finally:
        database.dispose()


def select_row(name: str):
    """A step: put the list's cursor on ``name``'s row (the map centres on them)."""

    async def step(pilot: Any) -> None:
        screen = pilot.app.screen
        table = screen.table
        row = next(i for i, key in enumerate(table.rows) if table.get_row(key)[0] == name)
        table.move_cursor(row=row)
        await settle(pilot)
        await wait_until(pilot, lambda: screen.data.track_of == screen.selected, what="the track")

    return step


async def on_map(pilot: Any) -> MapScreen:
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MapScreen)
    await wait_until(pilot, lambda: screen.data is not None, what="the map's data")
    await settle(pilot)
    return screen


# --- screenshots -------------------------------------------------------------------------


def test_map(snap_compare, sqlite_demo_url):
    """Russian, 120×40, with the background of roads and water."""
    assert snap(snap_compare, with_positions(sqlite_demo_url, background=True), "f6")


def test_map_track_of_the_selected_technician(snap_compare, sqlite_demo_url):
    url = with_positions(sqlite_demo_url)
    assert snap(snap_compare, url, "f6", select_row("Петров А. С."), "plus", "plus")


def test_map_in_english_narrow(snap_compare, sqlite_demo_url):
    url = with_positions(sqlite_demo_url)
    assert snap(snap_compare, url, "f6", lang="en", size=(80, 24))


def test_bind_device_dialog(snap_compare, sqlite_demo_url):
    url = with_positions(sqlite_demo_url)
    assert snap(snap_compare, url, "f6", "b", lang="en")


# --- what the list says ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_list_says_who_is_where(sqlite_demo_url):
    url = with_positions(sqlite_demo_url)
    app = build_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_map(pilot)
        rows = {
            str(cells[0]): [str(c) for c in cells[1:]]
            for cells in (screen.table.get_row(key) for key in screen.table.rows)
        }
    assert rows["Петров А. С."] == ["26-0068", "4 м", "на объекте с 10:14"]
    assert rows["Волков С. А."] == ["26-0051", "890 м", "в пути"]
    assert rows["Соколов Д. А."] == ["26-0083", "2,8 км", "нет позиции · 2 ч назад"]
    assert rows["Голубев А. Р."] == ["26-0066", "", "нет позиции"]


@pytest.mark.asyncio
async def test_a_fitted_map_fits_again_when_its_room_changes(sqlite_demo_url):
    """At 80 columns the map's first layout is wide and short, the narrow one that follows
    tall and thin: fitted once at the first, half the objects were off the map (and the
    screenshot changed from run to run). A fitted map fits again on every resize until the
    dispatcher moves it; a moved one keeps its place and scale."""
    url = with_positions(sqlite_demo_url)
    app = build_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_map(pilot)
        canvas = screen.canvas
        every = [(o.latitude, o.longitude) for o in screen.data.orders]

        def all_in_sight() -> bool:
            view = canvas.view
            assert view is not None
            cells = [view.to_cell(lat, lon) for lat, lon in every]
            return all(0 <= x < canvas.size.width and 0 <= y < canvas.size.height for x, y in cells)

        assert all_in_sight()
        scale = {}
        for size in ((80, 24), (200, 50), (120, 40)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert canvas.view.width == canvas.size.width, size
            assert all_in_sight(), size
            scale[size] = canvas.view.m_per_dot
        assert scale[(200, 50)] < scale[(120, 40)] < scale[(80, 24)]  # the room used
        await pilot.press("plus")  # moved by hand: a resize keeps it as it is
        zoomed = canvas.view
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert (canvas.view.lat, canvas.view.lon, canvas.view.m_per_dot) == (
            zoomed.lat,
            zoomed.lon,
            zoomed.m_per_dot,
        )
        await pilot.press("f")  # fitted again: follows the room again
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert canvas.view == canvas.fitted()
        assert all_in_sight()


@pytest.mark.asyncio
async def test_a_frame_drawn_before_the_resize_event_is_fitted_already(
    sqlite_demo_url, monkeypatch
):
    """Textual sets a widget's new size, may draw a frame at it, and only then delivers the
    Resize event: under load the narrow screenshot was that frame, at the old scale. The
    picture is made for the size it is drawn at."""
    from textual.geometry import Size

    from fsm_tui.widgets.map_canvas import MapCanvas, fit

    url = with_positions(sqlite_demo_url)
    app = build_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_map(pilot)
        canvas = screen.canvas
        wide = canvas.view
        assert wide is not None
        markers = canvas.scene.points(with_lines=False)
        # the compositor has given the canvas its new size; the Resize event is still queued
        monkeypatch.setattr(MapCanvas, "size", property(lambda self: Size(60, 12)))
        picture = canvas.strips()
        assert len(picture) == 12
        expected = fit(markers, 60, 12)
        assert expected is not None
        assert canvas.view is not None
        assert canvas.view.m_per_dot == pytest.approx(expected.m_per_dot)
        assert canvas.view.m_per_dot > wide.m_per_dot


# --- keys --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pan_zoom_fit_and_jump(sqlite_demo_url):
    url = with_positions(sqlite_demo_url)
    app = build_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_map(pilot)
        canvas = screen.canvas
        fitted = canvas.view
        assert fitted is not None
        every = [(o.latitude, o.longitude) for o in screen.data.orders]
        for lat, lon in every:  # fitted: every order's object is on the map
            x, y = fitted.to_cell(lat, lon)
            assert 0 <= x < canvas.size.width
            assert 0 <= y < canvas.size.height
        await pilot.press("l")  # a quarter of the width to the east
        assert canvas.view.lon > fitted.lon
        assert canvas.view.lat == pytest.approx(fitted.lat)
        await pilot.press("h", "k")
        assert canvas.view.lon == pytest.approx(fitted.lon)
        assert canvas.view.lat > fitted.lat
        await pilot.press("j")
        await pilot.press("plus")
        assert canvas.view.m_per_dot == pytest.approx(fitted.m_per_dot / 1.5)
        await pilot.press("minus", "minus")
        assert canvas.view.m_per_dot == pytest.approx(fitted.m_per_dot * 1.5)
        canvas.focus()
        await pilot.press("right")  # the arrows pan when the map has the focus
        assert canvas.view.lon > fitted.lon
        await pilot.press("f")  # everything: the orders, the people, the selected one's day
        assert canvas.view == canvas.fitted()
        assert canvas.view.m_per_dot >= fitted.m_per_dot * 0.99
        for lat, lon in [*every, *screen.data.track]:
            x, y = canvas.view.to_cell(lat, lon)
            assert 0 <= x < canvas.size.width
            assert 0 <= y < canvas.size.height
        # jump: the list's cursor on a technician centres the map on them
        petrov = screen.data.technician(employee_id(url, "Петров А. С."))
        await select_row("Петров А. С.")(pilot)
        assert (canvas.view.lat, canvas.view.lon) == (petrov.latitude, petrov.longitude)
        assert screen.data.track  # and draws their day
        # `/` finds an order by its number and centres on its object
        await pilot.press("slash", *"26-0051", "enter")
        order = next(o for o in screen.data.orders if o.number == "26-0051")
        assert (canvas.view.lat, canvas.view.lon) == (order.latitude, order.longitude)
        await pilot.press("slash", *"никого", "enter")
        assert (canvas.view.lat, canvas.view.lon) == (order.latitude, order.longitude)
        # the picture puts the order's marker in the middle
        picture = plain(render(canvas.scene, canvas.view))
        middle = picture[canvas.size.height // 2]
        assert middle[canvas.size.width // 2] == "■"


@pytest.mark.asyncio
async def test_enter_opens_the_selected_technician_s_order(sqlite_demo_url):
    from fsm_tui.screens.order import OrderScreen

    url = with_positions(sqlite_demo_url)
    app = build_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_map(pilot)
        await select_row("Петров А. С.")(pilot)
        tech = screen.data.technician(employee_id(url, "Петров А. С."))
        assert tech is not None
        assert tech.order is not None
        assert tech.order.number == "26-0068"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen), what="the order")
        assert app.screen.order_id == tech.order.order_id


# --- binding a device --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_unknown_device_is_bound_from_the_map(sqlite_demo_url):
    url = with_positions(sqlite_demo_url)
    app = build_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_map(pilot)
        assert screen.data.unknown_devices == (UNKNOWN_DEVICE,)
        summary = str(screen.query_one("#map-summary").render())
        assert "Неизвестных устройств: 1" in summary
        await pilot.press("b")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, BindDeviceScreen)
        await pilot.press("ctrl+s")  # no employee chosen: said beside the field
        await settle(pilot)
        assert "Выберите сотрудника" in str(dialog.query_one("#error-assignee").render())
        from textual.widgets import Select

        golubev = employee_id(url, "Голубев А. Р.")
        dialog.query_one("#assignee", Select).value = golubev
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        await wait_until(pilot, lambda: not screen.data.unknown_devices, what="the reload")
    database = Database(url)
    try:
        with database.reader() as s:
            device = next(d for d in gps.list_devices(session=s) if d.identifier == UNKNOWN_DEVICE)
    finally:
        database.dispose()
    assert device.employee_id == golubev


# --- live --------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.both_backends
async def test_a_position_recorded_elsewhere_moves_the_technician(demo_url, demo_db):
    with_positions(demo_url)
    app = build_app(demo_url, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.live_state == "on", what="live updates")
        screen = await on_map(pilot)
        golubev = employee_id(demo_url, "Голубев А. Р.")
        before = screen.data.technician(golubev)
        assert before is not None
        assert before.state == board.NO_POSITION
        target = before.order
        assert target is not None
        # another process (fsm serve) stores a fix of his, at his object
        with clock.frozen(NOW), demo_db.transaction() as s:
            gps.bind_device(session=s, identifier="golubev-phone", employee=golubev)
            gps.record_fixes(
                session=s,
                fixes=[
                    gps.Fix(
                        at=NOW - timedelta(seconds=20),
                        latitude=target.latitude,
                        longitude=target.longitude,
                        device="golubev-phone",
                    )
                ],
            )

        def moved() -> bool:
            tech = screen.data.technician(golubev)
            return tech is not None and tech.state == board.ON_SITE

        # within 2 s by construction (a 0.3 s poll, a 0.5 s throttle, one read); no
        # wall-clock assertion here: a loaded CI machine must not fail it
        await wait_until(pilot, moved, what="the new position on the map")
        row = screen.table.get_row(str(golubev))
        assert str(row[3]).startswith("на объекте")
        assert any(m.key == f"tech:{golubev}" for m in screen.canvas.scene.markers)
