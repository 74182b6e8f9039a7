"""A map drawn in the terminal, without tiles or internet: braille dots (2×4 per cell) for
lines (the background's roads and water, a technician's track), characters for markers,
text for labels, and a scale bar.

The projection is equirectangular around the view's centre: a degree of longitude is
``cos(latitude)`` of a degree of latitude, and a braille dot is as tall as it is wide (a
terminal cell is about twice as tall as wide and holds 2×4 dots), so distances look the
same across and up. Within a city the error is far under a dot.

What is drawn is a :class:`Scene` (plain data, made once per load); :func:`render` turns
a scene and a :class:`View` into rows of (text, style key) runs, with no Textual in it, so
the tests and the benchmark call it directly; :class:`MapCanvas` gives it the styles of
its component classes and shows the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
MIN_M_PER_DOT = 0.5
MAX_M_PER_DOT = 50_000.0
ZOOM_STEP = 1.5
MIN_LABEL = 8
"""A label cut shorter than this is left out."""

BRAILLE = [chr(0x2800 + bits) for bits in range(256)]
# the bit of the dot at (x % 2, y % 4) in a braille cell
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
DOT_BITS = tuple(_DOT[y][x] for y in range(4) for x in range(2))  # index (y % 4) * 2 + x % 2

# line layers, drawn under markers; a cell shows the highest layer any of its dots has
LAYERS = ("other", "rail", "road", "major", "water", "track")
LAYER = {name: index + 1 for index, name in enumerate(LAYERS)}

SCALE_STEPS = (
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
    200_000, 500_000, 1_000_000, 2_000_000,
)  # fmt: skip


@dataclass(frozen=True)
class View:
    """Where the map looks: its centre, metres per braille dot, its size in cells."""

    lat: float
    lon: float
    m_per_dot: float
    width: int
    height: int

    @property
    def kx(self) -> float:
        """Dots per degree of longitude at the centre."""
        return M_PER_DEG_LON * math.cos(math.radians(self.lat)) / self.m_per_dot

    @property
    def ky(self) -> float:
        return M_PER_DEG_LAT / self.m_per_dot

    def to_dot(self, lat: float, lon: float) -> tuple[float, float]:
        """The dot (x right, y down; fractional) a point falls on."""
        return self.width + (lon - self.lon) * self.kx, 2 * self.height - (lat - self.lat) * self.ky

    def to_cell(self, lat: float, lon: float) -> tuple[int, int]:
        x, y = self.to_dot(lat, lon)
        return math.floor(x / 2), math.floor(y / 4)

    def to_geo(self, x: float, y: float) -> tuple[float, float]:
        """The point at dot (x, y)."""
        return self.lat - (y - 2 * self.height) / self.ky, self.lon + (x - self.width) / self.kx

    def pan(self, cells_x: float, cells_y: float) -> View:
        """Moved by that many cells (right and down positive)."""
        lat, lon = self.to_geo(self.width + cells_x * 2, 2 * self.height + cells_y * 4)
        return replace(self, lat=lat, lon=lon)

    def zoom(self, factor: float) -> View:
        """``factor`` > 1 zooms in."""
        m = min(max(self.m_per_dot / factor, MIN_M_PER_DOT), MAX_M_PER_DOT)
        return replace(self, m_per_dot=m)

    def centred(self, lat: float, lon: float) -> View:
        return replace(self, lat=lat, lon=lon)

    def resized(self, width: int, height: int) -> View:
        return replace(self, width=max(width, 1), height=max(height, 1))


def fit(
    points: Iterable[tuple[float, float]], width: int, height: int, *, margin: int = 2
) -> View | None:
    """The view that shows every point, ``margin`` cells from the edges (None: no points)."""
    lats: list[float] = []
    lons: list[float] = []
    for lat, lon in points:
        lats.append(lat)
        lons.append(lon)
    if not lats:
        return None
    lat = (min(lats) + max(lats)) / 2
    lon = (min(lons) + max(lons)) / 2
    across = (max(lons) - min(lons)) * M_PER_DEG_LON * math.cos(math.radians(lat))
    up = (max(lats) - min(lats)) * M_PER_DEG_LAT
    room_x = max((width - 2 * margin) * 2 - 1, 1)  # the last dot is the margin's
    room_y = max((height - 2 * margin) * 4 - 1, 1)
    m = max(across / room_x, up / room_y, 2.0)  # one point alone: a street's scale
    return View(lat, lon, min(m, MAX_M_PER_DOT), max(width, 1), max(height, 1))


def scale_bar(view: View, lang: str, *, most_cells: int | None = None) -> tuple[int, str]:
    """The scale bar's length in cells and its label (``500 м``, ``2 км``): the longest
    round distance that fits in a quarter of the width (or ``most_cells``)."""
    room = most_cells if most_cells is not None else max(view.width // 4, 4)
    m_per_cell = view.m_per_dot * 2
    best = SCALE_STEPS[0]
    for step in SCALE_STEPS:
        if step / m_per_cell <= room:
            best = step
    cells = max(round(best / m_per_cell), 1)
    if best >= 1000:
        unit = "км" if lang == "ru" else "km"
        return cells, f"{best // 1000} {unit}"
    unit = "м" if lang == "ru" else "m"
    return cells, f"{best} {unit}"


@dataclass(frozen=True)
class Marker:
    lat: float
    lon: float
    char: str
    style: str  # a style key (see MapCanvas.COMPONENT_CLASSES, without the prefix)
    label: str = ""
    label_style: str = "label"
    key: str = ""  # what the marker is ("tech:12", "order:40"), for tests and jumps


@dataclass
class Polyline:
    """A line in degrees, with its bounding box (to skip lines out of view)."""

    layer: int
    lons: Sequence[float]
    lats: Sequence[float]
    min_lat: float = field(init=False)
    max_lat: float = field(init=False)
    min_lon: float = field(init=False)
    max_lon: float = field(init=False)

    def __post_init__(self) -> None:
        self.min_lat, self.max_lat = min(self.lats), max(self.lats)
        self.min_lon, self.max_lon = min(self.lons), max(self.lons)

    @classmethod
    def from_flat(cls, layer: str, coords: Sequence[float]) -> Polyline:
        """From ``lon, lat, lon, lat, ...``."""
        return cls(LAYER.get(layer, 1), coords[0::2], coords[1::2])

    @classmethod
    def from_points(cls, layer: str, points: Sequence[tuple[float, float]]) -> Polyline:
        """From (lat, lon) pairs."""
        return cls(LAYER[layer], [p[1] for p in points], [p[0] for p in points])


@dataclass
class Scene:
    """Everything on the map: the background's lines, lines over them (the track) and
    markers (the later on top; labels in the same order, a label never covering
    another's)."""

    lines: list[Polyline] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    background: list[Polyline] = field(default_factory=list)

    def points(self, *, with_lines: bool = False) -> list[tuple[float, float]]:
        found = [(m.lat, m.lon) for m in self.markers]
        if with_lines:
            for line in self.lines:
                if line.layer == LAYER["track"]:
                    found.extend(zip(line.lats, line.lons, strict=True))
        return found


Row = list[tuple[str, str | None]]
"""A row of the picture: runs of (text, style key or None for the plain background)."""


def _clip(
    x0: float, y0: float, x1: float, y1: float, w: float, h: float
) -> tuple[float, float, float, float] | None:
    """Liang–Barsky: the part of the segment inside [0, w) × [0, h), or None."""
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0), (dx, w - 1e-9 - x0), (-dy, y0), (dy, h - 1e-9 - y0)):
        if p == 0:
            if q < 0:
                return None
        else:
            r = q / p
            if p < 0:
                if r > t1:
                    return None
                t0 = max(t0, r)
            else:
                if r < t0:
                    return None
                t1 = min(t1, r)
    return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


def draw_lines(
    view: View, lines: Iterable[Polyline], base: tuple[bytearray, bytearray] | None = None
) -> tuple[bytearray, bytearray]:
    """The braille bits of every cell and the highest layer drawn in it (drawn over
    copies of ``base``, when given)."""
    w, h = view.width, view.height
    dots_w, dots_h = 2 * w, 4 * h
    bits = bytearray(base[0]) if base else bytearray(w * h)
    layers = bytearray(base[1]) if base else bytearray(w * h)
    # the view's extent in degrees, a little wider (a line may enter from outside)
    lat_hi, lon_lo = view.to_geo(-1, -1)
    lat_lo, lon_hi = view.to_geo(dots_w + 1, dots_h + 1)
    kx, ky = view.kx, view.ky
    ox, oy = view.width - view.lon * kx, 2 * view.height + view.lat * ky
    dot_bits = DOT_BITS
    for line in lines:
        if (
            line.max_lat < lat_lo
            or line.min_lat > lat_hi
            or line.max_lon < lon_lo
            or line.min_lon > lon_hi
        ):
            continue
        layer = line.layer
        lons, lats = line.lons, line.lats
        px, py = ox + lons[0] * kx, oy - lats[0] * ky
        pix, piy = int(px), int(py)
        if len(lons) == 1 and 0 <= px < dots_w and 0 <= py < dots_h:
            cell = (piy >> 2) * w + (pix >> 1)
            bits[cell] |= dot_bits[((piy & 3) << 1) | (pix & 1)]
            if layers[cell] < layer:
                layers[cell] = layer
        for k in range(1, len(lons)):
            x, y = ox + lons[k] * kx, oy - lats[k] * ky
            ix1, iy1 = int(x), int(y)
            if ix1 == pix and iy1 == piy and k > 1:
                continue  # in the dot already drawn: nothing new (most points, zoomed out)
            x0, y0, x1, y1 = px, py, x, y
            ix0, iy0 = pix, piy
            px, py, pix, piy = x, y, ix1, iy1
            if not (
                0 <= x0 < dots_w and 0 <= x1 < dots_w and 0 <= y0 < dots_h and 0 <= y1 < dots_h
            ):
                clipped = _clip(x0, y0, x1, y1, dots_w, dots_h)
                if clipped is None:
                    continue
                x0, y0, x1, y1 = clipped
                ix0, iy0, ix1, iy1 = int(x0), int(y0), int(x1), int(y1)
            steps = max(abs(ix1 - ix0), abs(iy1 - iy0))
            if steps <= 1:  # one dot or two neighbours: no walk
                for ix, iy in ((ix0, iy0), (ix1, iy1)):
                    cell = (iy >> 2) * w + (ix >> 1)
                    bits[cell] |= dot_bits[((iy & 3) << 1) | (ix & 1)]
                    if layers[cell] < layer:
                        layers[cell] = layer
                continue
            sx, sy = (x1 - x0) / steps, (y1 - y0) / steps
            fx, fy = x0, y0
            for _ in range(steps + 1):
                ix, iy = int(fx), int(fy)
                if 0 <= ix < dots_w and 0 <= iy < dots_h:
                    cell = (iy >> 2) * w + (ix >> 1)
                    bits[cell] |= dot_bits[((iy & 3) << 1) | (ix & 1)]
                    if layers[cell] < layer:
                        layers[cell] = layer
                fx += sx
                fy += sy
    return bits, layers


class BackgroundCache:
    """The background drawn for the last view: a frame with new positions (the live
    case) redraws only the track and the markers over it; a pan or a zoom draws the
    background again."""

    def __init__(self) -> None:
        self.key: tuple[View, int, int] | None = None
        self.raster: tuple[bytearray, bytearray] | None = None

    def get(self, view: View, background: list[Polyline]) -> tuple[bytearray, bytearray]:
        key = (view, id(background), len(background))
        if self.key != key or self.raster is None:
            self.raster = draw_lines(view, background)
            self.key = key
        return self.raster


def render(
    scene: Scene,
    view: View,
    *,
    lang: str = "en",
    scale: bool = True,
    cache: BackgroundCache | None = None,
) -> list[Row]:
    """The picture of ``scene`` in ``view``: one row of runs per line of cells."""
    w, h = view.width, view.height
    base = (cache or BackgroundCache()).get(view, scene.background) if scene.background else None
    bits, layers = draw_lines(view, scene.lines, base)
    # characters over the dots: markers, then labels where they fit, then the scale bar
    over: dict[int, tuple[str, str]] = {}
    placed: list[tuple[int, int, Marker]] = []
    for marker in scene.markers:
        cx, cy = view.to_cell(marker.lat, marker.lon)
        if 0 <= cx < w and 0 <= cy < h:
            over[cy * w + cx] = (marker.char, marker.style)
            placed.append((cx, cy, marker))
    taken = set(over)
    for cx, cy, marker in reversed(placed):  # the last drawn (on top) labels first
        if not marker.label:
            continue
        label = marker.label
        right, left = w - cx - 2, cx - 1  # room beside the marker, a space between
        if len(label) > right and len(label) <= left:
            on_left = True
        elif len(label) > right:  # fits on neither side: cut, on the right if it can
            on_left = right < MIN_LABEL <= left
            room = left if on_left else right
            if room < MIN_LABEL:
                continue
            label = label[: room - 1] + "…"
        else:
            on_left = False
        if on_left:
            start, shown = cx - len(label) - 1, label + " "
        else:
            start, shown = cx + 1, " " + label
        span = range(cy * w + start, cy * w + start + len(shown))
        if any(i in taken for i in span):
            continue
        for i, char in zip(span, shown, strict=True):
            over[i] = (char, marker.label_style)
            taken.add(i)
    if scale and w >= 12 and h >= 2:
        length, words = scale_bar(view, lang)
        bar = "├" + "─" * max(length - 1, 0) + "┤ " + words
        row = h - 1
        for i, char in enumerate(bar[: w - 1]):
            over[row * w + 1 + i] = (char, "scale")
    layer_styles = (None, *LAYERS)
    rows: list[Row] = []
    braille = BRAILLE
    for y in range(h):
        first = y * w
        runs: Row = []
        text: list[str] = []
        current: str | None = None
        for i in range(first, first + w):
            hit = over.get(i)
            if hit is not None:
                char, style = hit
                key: str | None = style
            else:
                b = bits[i]
                if b:
                    char, key = braille[b], layer_styles[layers[i]]
                else:
                    char, key = " ", None
            if key != current and text:
                runs.append(("".join(text), current))
                text = []
            current = key
            text.append(char)
        if text:
            runs.append(("".join(text), current))
        rows.append(runs)
    return rows


def to_strips(rows: Sequence[Row], styles: dict[str | None, Style], width: int) -> list[Strip]:
    """The rows as Textual draws them, each run in its style (``styles[None]`` for the
    plain background and any key it does not know)."""
    plain_style = styles[None]
    return [
        Strip([Segment(text, styles.get(key, plain_style)) for text, key in row], width)
        for row in rows
    ]


def plain(rows: Sequence[Row]) -> list[str]:
    """The picture's text, row by row (tests)."""
    return ["".join(text for text, _key in row) for row in rows]


class MapCanvas(Widget, can_focus=True):
    """Shows a :class:`Scene` in a :class:`View`; the screen moves the view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"map-canvas--{name}" for name in LAYERS),
        "map-canvas--label",
        "map-canvas--label-selected",
        "map-canvas--scale",
        "map-canvas--tech-on_site",
        "map-canvas--tech-en_route",
        "map-canvas--tech-no_position",
        "map-canvas--tech-selected",
        "map-canvas--sla-ok",
        "map-canvas--sla-at_risk",
        "map-canvas--sla-violated",
        "map-canvas--sla-none",
    }
    DEFAULT_CSS = """
    MapCanvas { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, lang: str = "en", id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.scene = Scene()
        self.view: View | None = None
        self._fit_points: list[tuple[float, float]] | None = None
        """what the view was fitted to, while nobody moved it: a resize fits them again"""
        self._strips: list[Strip] | None = None
        self._strips_size = Size(0, 0)
        self._styles: dict[str | None, Style] | None = None
        self._background = BackgroundCache()

    # --- what is shown -------------------------------------------------------------------

    def show(self, scene: Scene, view: View | None = None) -> None:
        self.scene = scene
        if view is not None:
            self.view = view
        self._strips = None
        self.refresh()

    def set_view(self, view: View) -> None:
        """Show ``view`` (a pan, a zoom, a jump): kept as it is when the canvas resizes."""
        self.view = view
        self._fit_points = None
        self._strips = None
        self.refresh()

    def fitted(self, *, with_lines: bool = True) -> View | None:
        size = self.size
        return fit(self.scene.points(with_lines=with_lines), size.width, size.height)

    def fit_all(self, *, with_lines: bool = True) -> bool:
        """Show everything in the scene (the markers alone without ``with_lines``), and
        keep it all in sight when the canvas resizes (a terminal resized, a narrow layout
        taking over after the first one) until the view is moved. False: nothing to show."""
        points = self.scene.points(with_lines=with_lines)
        view = fit(points, self.size.width, self.size.height)
        if view is None:
            return False
        self.set_view(view)
        self._fit_points = points
        return True

    # --- drawing ---------------------------------------------------------------------------

    def _style_map(self) -> dict[str | None, Style]:
        if self._styles is None:
            base = self.rich_style
            styles: dict[str | None, Style] = {None: base}
            for name in self.COMPONENT_CLASSES:
                key = name.removeprefix("map-canvas--")
                styles[key] = base + self.get_component_rich_style(name, partial=True)
            self._styles = styles
        return self._styles

    def notify_style_update(self) -> None:
        self._styles = None
        self._strips = None
        super().notify_style_update()

    def _view_at(self, width: int, height: int) -> View | None:
        """The view at this size: fitted again while it follows a fit, else the same centre
        and scale with the new size."""
        if self._fit_points is not None:
            self.view = fit(self._fit_points, width, height) or self.view
        if self.view is not None:
            self.view = self.view.resized(width, height)
        return self.view

    def on_resize(self) -> None:
        self._view_at(self.size.width, self.size.height)
        self._strips = None
        self.refresh()  # a frame may have been drawn at the new size before this event

    def strips(self) -> list[Strip]:
        """The picture at the present view and size, made once per change (and drawn at the
        present size even when the resize event has not been handled yet)."""
        size: Size = self.size
        if self._strips is None or self._strips_size != size:
            styles = self._style_map()
            view = self._view_at(size.width, size.height) if size.width > 0 else None
            if view is None or size.width <= 0 or size.height <= 0:
                blank = Strip([Segment(" " * max(size.width, 0), styles[None])])
                self._strips = [blank] * max(size.height, 0)
            else:
                rows = render(self.scene, view, lang=self.lang, cache=self._background)
                self._strips = to_strips(rows, styles, size.width)
            self._strips_size = size
        return self._strips

    def render_line(self, y: int) -> Strip:
        strips = self.strips()
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self._style_map()[None])
