"""Drawing the map: the projection (equirectangular around the centre, square dots), the
braille lines, markers and their labels, the scale bar, fitting, panning and zooming."""

from __future__ import annotations

import math

import pytest

from fsm_tui.widgets.map_canvas import (
    BRAILLE,
    LAYER,
    M_PER_DEG_LAT,
    Marker,
    Polyline,
    Scene,
    View,
    draw_lines,
    fit,
    plain,
    render,
    scale_bar,
)

SPB = (59.93, 30.36)


def metres_north(point: tuple[float, float], m: float) -> tuple[float, float]:
    return point[0] + m / M_PER_DEG_LAT, point[1]


def metres_east(point: tuple[float, float], m: float) -> tuple[float, float]:
    return point[0], point[1] + m / (111_320.0 * math.cos(math.radians(point[0])))


def test_the_centre_is_the_middle_and_a_kilometre_is_as_long_across_as_up() -> None:
    view = View(*SPB, m_per_dot=10.0, width=40, height=10)
    assert view.to_dot(*SPB) == (40.0, 20.0)
    x, _ = view.to_dot(*metres_east(SPB, 1000))
    _, y = view.to_dot(*metres_north(SPB, 1000))
    assert x - 40 == pytest.approx(100, rel=1e-3)  # 100 dots of 10 m
    assert 20 - y == pytest.approx(100, rel=1e-3)  # up is as long: dots are square
    lat, lon = view.to_geo(*view.to_dot(59.95, 30.40))
    assert (lat, lon) == (pytest.approx(59.95), pytest.approx(30.40))
    # a cell is 2 dots across and 4 down: twice as tall as wide, as a terminal's are
    assert view.to_cell(*SPB) == (20, 5)


def test_pan_moves_by_cells_and_zoom_keeps_the_centre_within_limits() -> None:
    view = View(*SPB, m_per_dot=10.0, width=40, height=10)
    moved = view.pan(10, 0)  # 10 cells = 20 dots = 200 m east
    assert moved.to_cell(*metres_east(SPB, 200)) == (20, 5)
    assert moved.pan(-10, 0).lon == pytest.approx(view.lon)
    down = view.pan(0, 2)  # 2 cells = 8 dots = 80 m south
    assert down.lat == pytest.approx(SPB[0] - 80 / M_PER_DEG_LAT)
    assert view.zoom(2).m_per_dot == 5.0
    assert view.zoom(2).lat == view.lat
    assert view.zoom(1e9).m_per_dot == 0.5
    assert view.zoom(1e-9).m_per_dot == 50_000.0


def test_fit_shows_every_point_inside_the_margin() -> None:
    points = [SPB, metres_east(SPB, 5000), metres_north(SPB, 3000)]
    view = fit(points, 60, 20, margin=2)
    assert view is not None
    for lat, lon in points:
        cx, cy = view.to_cell(lat, lon)
        assert 2 <= cx < 58, (cx, cy)
        assert 2 <= cy < 18, (cx, cy)
    alone = fit([SPB], 60, 20)
    assert alone is not None
    assert alone.m_per_dot == 2.0
    assert fit([], 60, 20) is None


@pytest.mark.parametrize(
    ("m_per_dot", "ru", "en"),
    [
        (10.0, "200 м", "200 m"),
        (40.0, "1 км", "1 km"),
        (100.0, "2 км", "2 km"),
        (1.0, "20 м", "20 m"),
    ],
)
def test_the_scale_bar_is_a_round_distance_in_a_quarter_of_the_width(m_per_dot, ru, en) -> None:
    view = View(*SPB, m_per_dot=m_per_dot, width=80, height=20)
    cells, label = scale_bar(view, "ru")
    assert label == ru
    assert scale_bar(view, "en")[1] == en
    assert 1 <= cells <= 20
    metres = int(ru.split()[0]) * (1000 if "км" in ru else 1)
    assert cells == round(metres / (m_per_dot * 2))


def test_a_line_sets_the_braille_dots_it_passes() -> None:
    view = View(*SPB, m_per_dot=10.0, width=4, height=2)  # 8 × 8 dots
    # along the top row of dots, left to right: every cell of row 0 gets its top dots
    top_left = view.to_geo(0.5, 0.5)
    top_right = view.to_geo(7.5, 0.5)
    bits, layers = draw_lines(view, [Polyline.from_points("road", [top_left, top_right])])
    assert list(bits) == [0x09, 0x09, 0x09, 0x09, 0, 0, 0, 0]  # dots (0,0) and (1,0)
    assert list(layers[:4]) == [LAYER["road"]] * 4
    # a line that leaves the view on both sides is clipped, not lost
    far_w = view.to_geo(-500, 7.5)
    far_e = view.to_geo(500, 7.5)
    bits, _ = draw_lines(view, [Polyline.from_points("water", [far_w, far_e])])
    assert list(bits[4:]) == [0x40 | 0x80] * 4  # bottom dots of row 1
    # a line wholly outside is skipped
    outside = [view.to_geo(-50, -50), view.to_geo(-40, -60)]
    assert not any(draw_lines(view, [Polyline.from_points("road", outside)])[0])


def test_the_track_is_drawn_over_the_background_in_its_cells() -> None:
    view = View(*SPB, m_per_dot=10.0, width=4, height=2)
    road = Polyline.from_points("road", [view.to_geo(0.5, 1.5), view.to_geo(7.5, 1.5)])
    track = Polyline.from_points("track", [view.to_geo(0.5, 2.5), view.to_geo(1.5, 2.5)])
    rows = render(Scene([road, track]), view, scale=False)
    assert rows[0][0] == (BRAILLE[0x02 | 0x10 | 0x04 | 0x20], "track")
    assert rows[0][1] == (BRAILLE[0x02 | 0x10] * 3, "road")


def test_markers_and_labels_never_cover_each_other() -> None:
    view = View(*SPB, m_per_dot=10.0, width=60, height=3)
    a = Marker(*SPB, "■", "sla-ok", "26-0001", key="order:1")
    right = metres_east(SPB, 45)  # two cells to the right: in the way of a's label
    b = Marker(*right, "●", "tech-en_route", "Иванов К. П. · 26-0001", key="tech:1")
    rows = render(Scene([], [a, b]), view, scale=False)
    text = plain(rows)
    # b is drawn on top and labelled first; a's label would cover b: it gives way
    assert text[1] == (" " * 30 + "■ ● Иванов К. П. · 26-0001").ljust(60)
    styles = {key for text_, key in rows[1] if "●" in text_}
    assert styles == {"tech-en_route"}


def test_a_label_with_no_room_on_the_right_goes_left_or_is_cut() -> None:
    view = View(*SPB, m_per_dot=10.0, width=30, height=3)
    edge = metres_east(SPB, 260)  # cell 28 of 30
    rows = plain(
        render(Scene([], [Marker(*edge, "●", "tech-on_site", "Петров")]), view, scale=False)
    )
    assert rows[1].rstrip().endswith("Петров ●")
    long_label = "Петров А. С. · 26-0068 · 3 мин назад"
    rows = plain(
        render(Scene([], [Marker(*SPB, "●", "tech-on_site", long_label)]), view, scale=False)
    )
    assert rows[1] == " " * 15 + "● Петров А. С.…"  # to the edge
    assert len(rows[1]) == 30


def test_the_scale_bar_sits_in_the_bottom_left_corner() -> None:
    view = View(*SPB, m_per_dot=10.0, width=40, height=5)
    rows = render(Scene(), view, lang="ru")
    assert plain(rows)[-1].startswith(" ├─────────┤ 200 м")
    assert {key for _text, key in rows[-1]} == {"scale", None}
