"""The map's background: roads and water from a GeoJSON file the company gives
(``fsm map background FILE``, e.g. an OpenStreetMap extract), checked, simplified and kept
in the database so that every dashboard draws the same one.

Only lines are kept: LineString and MultiLineString as they are, Polygon and MultiPolygon
by their rings (outlines); points are left out (the map has markers of its own). Each line
gets a style from its properties: ``water`` (waterway, natural=water, water, landuse=
reservoir/basin), ``major`` (highway motorway … secondary, and their links), ``road``
(any other highway), ``rail`` (railway) or ``other``. Lines are simplified
(Douglas–Peucker, :data:`TOLERANCE_M`) and rounded to 1e-5° (about a metre): a city's
extract of a few megabytes keeps a few hundred kilobytes, which a dashboard reads in
milliseconds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select as select_columns
from sqlmodel import Session, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InvalidInput

MAX_BYTES = 50 * 1024 * 1024
"""The largest file taken: an extract of a large city's roads and water."""
MAX_POINTS = 40_000
"""The most points kept after simplification: what a dashboard draws within ~50 ms when a
pan or a zoom redraws the whole background (bench/gps_map.py --background 40000); a
city's main roads and water fit, every lane of a metropolis does not."""
TOLERANCE_M = 4.0
"""How far (metres) a simplified line may stray from the original: under a braille dot at
the closest zoom the map has."""
STYLES = ("water", "major", "road", "rail", "other")
_MAJOR = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
}
_GEOMETRIES = {"LineString", "MultiLineString", "Polygon", "MultiPolygon"}
_ALL_GEOMETRIES = _GEOMETRIES | {"Point", "MultiPoint", "GeometryCollection"}


@dataclass(frozen=True)
class BackgroundLine:
    style: str
    coords: tuple[float, ...]  # lon, lat, lon, lat, ...


@dataclass(frozen=True)
class Background:
    """A background as read from a file or from the database."""

    name: str
    features: int
    lines: tuple[BackgroundLine, ...]
    bbox: tuple[float, float, float, float]  # min_lat, min_lon, max_lat, max_lon
    loaded_at: datetime | None = None
    loaded_by: str | None = None

    @property
    def points(self) -> int:
        return sum(len(line.coords) // 2 for line in self.lines)


@dataclass(frozen=True)
class BackgroundInfo:
    """What is loaded, without its lines (``fsm map background`` says it)."""

    name: str
    features: int
    lines: int
    points: int
    bbox: tuple[float, float, float, float]  # min_lat, min_lon, max_lat, max_lon
    loaded_at: datetime
    loaded_by: str


def style_of(properties: dict[str, Any] | None) -> str:
    """The style a feature is drawn in, from its OpenStreetMap-like properties."""
    props = properties or {}
    if (
        props.get("waterway")
        or props.get("natural") == "water"
        or props.get("water")
        or props.get("landuse") in ("reservoir", "basin")
    ):
        return "water"
    highway = props.get("highway")
    if highway:
        return "major" if highway in _MAJOR else "road"
    if props.get("railway"):
        return "rail"
    return "other"


def _where(index: int | None) -> str:
    return f"feature {index + 1}" if index is not None else "the geometry"


def _point(value: Any, index: int | None) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise InvalidInput(
            f"{_where(index)}: a position must be [longitude, latitude], got {value!r}"[:200]
        )
    lon, lat = float(value[0]), float(value[1])
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidInput(
            f"{_where(index)}: coordinates out of range: longitude {lon:g}, latitude {lat:g}"
            " (GeoJSON gives longitude first)"
        )
    return lon, lat


def _line(value: Any, index: int | None) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise InvalidInput(f"{_where(index)}: a line must be a list of positions")
    return [_point(p, index) for p in value]


def _lines_of(geometry: Any, index: int | None) -> Iterator[list[tuple[float, float]]]:
    if not isinstance(geometry, dict):
        if geometry is None:  # a feature without a geometry is allowed by GeoJSON
            return
        raise InvalidInput(f"{_where(index)}: the geometry is not an object")
    kind = geometry.get("type")
    if kind not in _ALL_GEOMETRIES:
        raise InvalidInput(f"{_where(index)}: unknown geometry type {kind!r}")
    if kind == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            yield from _lines_of(part, index)
        return
    coords = geometry.get("coordinates")
    if kind in ("Point", "MultiPoint"):
        return
    if not isinstance(coords, list):
        raise InvalidInput(f"{_where(index)}: {kind} without coordinates")
    if kind == "LineString":
        yield _line(coords, index)
    elif kind in ("MultiLineString", "Polygon"):
        for part in coords:
            yield _line(part, index)
    else:  # MultiPolygon
        for polygon in coords:
            if not isinstance(polygon, list):
                raise InvalidInput(f"{_where(index)}: a polygon must be a list of rings")
            for ring in polygon:
                yield _line(ring, index)


def simplify(
    points: Sequence[tuple[float, float]], tolerance_m: float
) -> list[tuple[float, float]]:
    """Douglas–Peucker on (lon, lat) in metres around the line's first point."""
    if len(points) < 3:
        return list(points)
    lat0 = points[0][1]
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_540.0
    xs = [p[0] * kx for p in points]
    ys = [p[1] * ky for p in points]
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    tol2 = tolerance_m * tolerance_m
    while stack:
        a, b = stack.pop()
        ax, ay, bx, by = xs[a], ys[a], xs[b], ys[b]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        worst, at = -1.0, -1
        for i in range(a + 1, b):
            px, py = xs[i] - ax, ys[i] - ay
            if length2 == 0:
                d2 = px * px + py * py
            else:
                cross = px * dy - py * dx
                d2 = cross * cross / length2
            if d2 > worst:
                worst, at = d2, i
        if worst > tol2 and at > 0:
            keep[at] = True
            stack.append((a, at))
            stack.append((at, b))
    return [p for p, k in zip(points, keep, strict=True) if k]


def parse_geojson(raw: bytes, *, name: str, tolerance_m: float = TOLERANCE_M) -> Background:
    """A background from a GeoJSON file's bytes (a FeatureCollection, a Feature or a bare
    geometry), or :class:`InvalidInput` saying in one line what is wrong and where."""
    if len(raw) > MAX_BYTES:
        raise InvalidInput(
            f"{name}: too big ({len(raw) / 1024 / 1024:.1f} MB; at most"
            f" {MAX_BYTES / 1024 / 1024:g} MB): cut the extract to the company's area"
        )
    try:
        text = raw.decode("utf-8-sig")  # GeoJSON is UTF-8 (RFC 7946)
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not JSON (not UTF-8 text)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{name}: not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(document, dict) or document.get("type") not in (
        "FeatureCollection",
        "Feature",
        *_ALL_GEOMETRIES,
    ):
        raise InvalidInput(
            f'{name}: not GeoJSON (expected an object with "type": "FeatureCollection")'
        )
    if document["type"] == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise InvalidInput(f'{name}: not GeoJSON: a FeatureCollection without "features"')
    elif document["type"] == "Feature":
        features = [document]
    else:
        features = [{"type": "Feature", "geometry": document, "properties": {}}]
    lines: list[BackgroundLine] = []
    kept = 0
    lat_lo, lon_lo, lat_hi, lon_hi = 90.0, 180.0, -90.0, -180.0
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise InvalidInput(f"{name}: feature {index + 1} is not a GeoJSON Feature")
        properties = feature.get("properties")
        style = style_of(properties if isinstance(properties, dict) else None)
        try:
            found = list(_lines_of(feature.get("geometry"), index))
        except InvalidInput as exc:
            raise InvalidInput(f"{name}: {exc.message}") from None
        for points in found:
            if len(points) < 2:
                continue
            simple = simplify(points, tolerance_m)
            flat: list[float] = []
            for lon, lat in simple:
                flat.append(round(lon, 5))
                flat.append(round(lat, 5))
                lat_lo, lat_hi = min(lat_lo, lat), max(lat_hi, lat)
                lon_lo, lon_hi = min(lon_lo, lon), max(lon_hi, lon)
            kept += len(simple)
            if kept > MAX_POINTS:
                raise InvalidInput(
                    f"{name}: too big: more than {MAX_POINTS:,} points even simplified"
                    f" (at feature {index + 1}): cut the extract to the company's area"
                )
            lines.append(BackgroundLine(style, tuple(flat)))
    if not lines:
        raise InvalidInput(f"{name}: no lines or polygons to draw (points are not drawn)")
    return Background(name, len(features), tuple(lines), (lat_lo, lon_lo, lat_hi, lon_hi))


@requires("settings.edit")
def store_background(*, session: Session, background: Background, actor: str) -> BackgroundInfo:
    """Keep ``background`` as the company's map background (replacing any before)."""
    from fsm_core.models import MapBackground

    session.execute(delete(MapBackground))
    data = json.dumps(
        [[line.style, list(line.coords)] for line in background.lines], separators=(",", ":")
    )
    min_lat, min_lon, max_lat, max_lon = background.bbox
    now = clock.now()
    session.add(
        MapBackground(
            name=background.name[:300],
            loaded_at=now,
            loaded_by=actor[:100],
            features=background.features,
            lines=len(background.lines),
            points=background.points,
            min_lat=min_lat,
            min_lon=min_lon,
            max_lat=max_lat,
            max_lon=max_lon,
            data=data,
        )
    )
    session.flush()
    return BackgroundInfo(
        background.name[:300],
        background.features,
        len(background.lines),
        background.points,
        background.bbox,
        now,
        actor,
    )


@requires("settings.edit")
def clear_background(*, session: Session) -> bool:
    """Remove the background; False when there was none."""
    from fsm_core import audit
    from fsm_core.models import MapBackground

    gone = session.execute(select(MapBackground.id, MapBackground.name)).all()
    session.execute(delete(MapBackground))
    for background_id, name in gone:  # (written with SQL: the session does not see it)
        audit.record(
            session,
            entity="map_background",
            key=background_id,
            action="delete",
            changes={"name": [name, None]},
        )
    return bool(gone)


@requires("gps.read")
def background_info(*, session: Session) -> BackgroundInfo | None:
    """What is loaded (name, counts, extent, when and by whom), without its lines."""
    from fsm_core.models import MapBackground

    row = session.execute(
        select_columns(
            MapBackground.name,
            MapBackground.features,
            MapBackground.min_lat,
            MapBackground.min_lon,
            MapBackground.max_lat,
            MapBackground.max_lon,
            MapBackground.loaded_at,
            MapBackground.loaded_by,
            MapBackground.lines,
            MapBackground.points,
        )
    ).first()
    if row is None:
        return None
    return BackgroundInfo(
        row[0], row[1], row[8], row[9], (row[2], row[3], row[4], row[5]), row[6], row[7]
    )


@requires("gps.read")
def load_background(*, session: Session) -> Background | None:
    """The background with its lines, as the map draws it (None: none loaded)."""
    from fsm_core.models import MapBackground

    row = session.exec(select(MapBackground)).first()
    if row is None:
        return None
    lines = tuple(BackgroundLine(style, tuple(coords)) for style, coords in json.loads(row.data))
    return Background(
        row.name,
        row.features,
        lines,
        (row.min_lat, row.min_lon, row.max_lat, row.max_lon),
        row.loaded_at,
        row.loaded_by,
    )
