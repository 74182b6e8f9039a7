"""The map's background: a GeoJSON file checked, simplified and kept in the database
(``fsm map background FILE``, ``--clear``, and without FILE: what is loaded)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from fsm_core.errors import InvalidInput
from fsm_core.services.gps import background as bg
from tests.cli_runner import Fsm

DATA = Path(__file__).parent / "data" / "spb.geojson"


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def line(coords: list[list[float]], **props: str) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def test_the_sample_file_keeps_lines_and_rings_styled_by_their_properties() -> None:
    parsed = bg.parse_geojson(DATA.read_bytes(), name="spb.geojson")
    styles = [x.style for x in parsed.lines]
    # 5 roads (two parts of one MultiLineString), 2 rivers, 2 lakes, 1 railway; the museum
    # (a point) is not drawn
    assert sorted(styles) == sorted(["major"] * 5 + ["road"] + ["water"] * 4 + ["rail"])
    assert parsed.features == 11
    lat_lo, lon_lo, lat_hi, lon_hi = parsed.bbox
    assert (lat_lo, lon_lo, lat_hi, lon_hi) == (59.82, 30.29, 60.095, 30.43)
    ring = next(x for x in parsed.lines if x.style == "water" and len(x.coords) == 10)
    assert ring.coords[:2] == ring.coords[-2:]  # a polygon's ring comes back closed


@pytest.mark.parametrize(
    ("props", "style"),
    [
        ({"highway": "primary"}, "major"),
        ({"highway": "trunk_link"}, "major"),
        ({"highway": "residential"}, "road"),
        ({"waterway": "river"}, "water"),
        ({"natural": "water"}, "water"),
        ({"landuse": "reservoir"}, "water"),
        ({"railway": "rail"}, "rail"),
        ({"building": "yes"}, "other"),
        (None, "other"),
    ],
)
def test_style_of(props, style) -> None:
    assert bg.style_of(props) == style


def test_simplification_drops_points_that_add_nothing() -> None:
    # 1,001 points on a straight street with ±1 m wobble, and one real corner
    points = [(30.30 + i * 1e-5, 59.93 + (1e-5 * 0.5 if i % 2 else 0.0)) for i in range(1001)]
    points.append((30.31, 59.95))
    simple = bg.simplify(points, 4.0)
    assert simple[0] == points[0]
    assert simple[-1] == points[-1]
    assert len(simple) <= 4
    assert (30.30 + 1000 * 1e-5, 59.93) in simple  # the corner stays


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "area.geojson: not JSON: Expecting property name"),
        (b"\xff\xfe", "area.geojson: not JSON (not UTF-8 text)"),
        (b"[1, 2]", "area.geojson: not GeoJSON"),
        (b'{"type": "Topology"}', "area.geojson: not GeoJSON"),
        (b'{"type": "FeatureCollection"}', 'a FeatureCollection without "features"'),
        (collection({"type": "Polygon"}), "area.geojson: feature 1 is not a GeoJSON Feature"),
        (
            collection(line([[30.3, 59.9], [30.4, 59.9]]), line([[59.9, 130.3], [59.9, 30.4]])),
            "area.geojson: feature 2: coordinates out of range: longitude 59.9, latitude 130.3",
        ),
        (collection(line([[30.3, "x"]])), "feature 1: a position must be [longitude, latitude]"),
        (
            collection({"type": "Feature", "geometry": {"type": "Circle", "coordinates": []}}),
            "feature 1: unknown geometry type 'Circle'",
        ),
        (
            collection({"type": "Feature", "geometry": {"type": "Point", "coordinates": [30, 59]}}),
            "area.geojson: no lines or polygons to draw",
        ),
    ],
)
def test_bad_files_are_refused_in_one_line(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        bg.parse_geojson(raw, name="area.geojson")
    assert message in err.value.one_line("en")
    assert "\n" not in err.value.one_line("en")


def test_too_big_files_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bg, "MAX_BYTES", 1000)
    with pytest.raises(InvalidInput, match="too big"):
        bg.parse_geojson(b" " * 1001, name="big.geojson")
    monkeypatch.setattr(bg, "MAX_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(bg, "MAX_POINTS", 100)
    zigzag = [[30.3 + i * 1e-3, 59.9 + (i % 2) * 1e-3] for i in range(200)]
    with pytest.raises(InvalidInput, match=r"more than 100 points even simplified"):
        bg.parse_geojson(collection(line(zigzag)), name="dense.geojson")


def test_stored_once_read_by_any_dashboard_and_replaced(db) -> None:
    parsed = bg.parse_geojson(DATA.read_bytes(), name="spb.geojson")
    with db.transaction() as s:
        info = bg.store_background(session=s, background=parsed, actor="tester")
    assert (info.lines, info.points) == (len(parsed.lines), parsed.points)
    with db.reader() as s:
        loaded = bg.load_background(session=s)
        shown = bg.background_info(session=s)
    assert loaded is not None
    assert loaded.lines == parsed.lines
    assert shown is not None
    assert shown.name == "spb.geojson"
    assert shown.loaded_by == "tester"
    other = bg.parse_geojson(
        collection(line([[30.3, 59.9], [30.4, 59.9]], highway="primary")), name="b"
    )
    with db.transaction() as s:
        bg.store_background(session=s, background=other, actor="tester")
    with db.reader() as s:
        loaded = bg.load_background(session=s)
    assert loaded is not None
    assert [x.style for x in loaded.lines] == ["major"]
    with db.transaction() as s:
        assert bg.clear_background(session=s) is True
    with db.transaction() as s:
        assert bg.clear_background(session=s) is False
        assert bg.load_background(session=s) is None


def test_cli_loads_shows_and_clears(db, tmp_path: Path) -> None:
    fsm = Fsm(db.url, stderr=True)
    assert "No map background" in fsm("map", "background")
    assert "Map background spb.geojson: 11 lines" in fsm("map", "background", str(DATA))
    shown = fsm.json("map", "background")
    assert (shown["name"], shown["features"], shown["lines"]) == ("spb.geojson", 11, 11)
    assert math.isclose(shown["bbox"][0], 59.82)
    bad = tmp_path / "roads.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    assert fsm.error("map", "background", str(bad)) == (
        "roads.geojson: not JSON: Expecting value at line 1, column 44"
    )
    missing = tmp_path / "missing.geojson"
    assert fsm.error("map", "background", str(missing)) == (
        f"{missing}: cannot read: No such file or directory"
    )
    assert (
        fsm.error("map", "background", str(DATA), "--clear") == "give a FILE or --clear, not both"
    )
    assert fsm.json("map", "background")["name"] == "spb.geojson"  # refusals changed nothing
    assert "Map background removed" in fsm("map", "background", "--clear")
    assert fsm.json("map", "background") is None
