"""How fast is the dashboard's map redrawn? One frame of 25 technicians, 500 objects of
open orders and one technician's day of 5-second fixes (~7,000), at 120×40 (the map's
part of it: the screen less the list beside it is narrower, the whole size is measured
to be safe), against references measured in the same run:

  empty:   the same canvas with nothing on it (the floor of our own drawing: a frame's
           cells walked and turned into Textual strips);
  static:  Textual's own way to draw a 120×40 block of text (a Rich Text rendered to
           lines and cut into Strips, as a Static does).

"live" is the frame new positions cause: the same view, the background's picture kept
(BackgroundCache), the track and the markers drawn again.

A frame is what a pan or a zoom costs: every line projected and drawn into braille, the
markers and labels placed, the rows turned into strips. Views measured: everything fitted
(the whole city), a district (zoomed in 4×, most of the track and objects outside the view
and culled) and, with ``--background``, a synthetic background of roads of that many
points under it all. Prints the median and the 95th percentile per frame in ms and the
ratio to each reference. The goal is ≤ 50 ms a frame. Figures only; nothing asserts.

    python bench/gps_map.py
    python bench/gps_map.py --frames 100 --background 100000
"""

from __future__ import annotations

import argparse
import io
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from fsm_core.services.gps import board
from fsm_tui.screens.map import build_scene
from fsm_tui.widgets.map_canvas import (
    LAYERS,
    BackgroundCache,
    Polyline,
    Scene,
    View,
    fit,
    render,
    to_strips,
)

CENTRE = (59.93, 30.33)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def styles() -> dict[str | None, Style]:
    keys = [*LAYERS, "label", "label-selected", "scale"]
    keys += [f"tech-{s}" for s in ("on_site", "en_route", "no_position", "selected")]
    keys += [f"sla-{s}" for s in ("ok", "at_risk", "violated", "none")]
    found: dict[str | None, Style] = {None: Style(color="white", bgcolor="black")}
    for index, key in enumerate(keys):
        found[key] = Style(color=f"color({index + 20})", bold=index % 2 == 0)
    return found


def city_point(rng: random.Random) -> tuple[float, float]:
    return CENTRE[0] + rng.uniform(-0.12, 0.12), CENTRE[1] + rng.uniform(-0.25, 0.25)


def make_view(rng: random.Random) -> board.MapView:
    orders = []
    for i in range(500):
        lat, lon = city_point(rng)
        orders.append(
            board.MapOrder(
                order_id=i + 1,
                number=f"26-{i + 1:04d}",
                object_id=i + 1,
                object_name=f"Объект {i + 1}",
                latitude=lat,
                longitude=lon,
                radius_m=150,
                sla_status=rng.choice(["ok", "at_risk", "violated", "none"]),
                assignee_id=None,
                stage_code="assigned",
            )
        )
    technicians = []
    for i in range(25):
        lat, lon = city_point(rng)
        order = orders[i * 7]
        technicians.append(
            board.MapTechnician(
                employee_id=i + 1,
                name=f"Техник{i + 1:02d} А. Б.",
                state=rng.choice([board.ON_SITE, board.EN_ROUTE, board.NO_POSITION]),
                latitude=lat,
                longitude=lon,
                fix_at=NOW - timedelta(minutes=rng.randint(0, 90)),
                order=order,
                order_why="next",
                distance_m=rng.uniform(10, 9000),
            )
        )
    # a working day of 5-second fixes (8 h 20 min = 6,000 + jitter), a drive from object
    # to object with stops
    track = []
    lat, lon = CENTRE
    heading = rng.uniform(0, 2 * math.pi)
    for i in range(7000):
        if i % 600 < 200:  # parked: jitter of a few metres
            track.append((lat + rng.gauss(0, 3e-5), lon + rng.gauss(0, 5e-5)))
            continue
        heading += rng.gauss(0, 0.15)
        lat += math.cos(heading) * 5e-4 * 0.2
        lon += math.sin(heading) * 1e-3 * 0.2
        lat = min(max(lat, CENTRE[0] - 0.12), CENTRE[0] + 0.12)
        lon = min(max(lon, CENTRE[1] - 0.25), CENTRE[1] + 0.25)
        track.append((lat, lon))
    return board.MapView(
        now=NOW,
        technicians=tuple(technicians),
        orders=tuple(orders),
        unknown_devices=(),
        track_of=1,
        track=tuple(track),
    )


def make_background(rng: random.Random, points: int) -> list[Polyline]:
    lines = []
    left = points
    while left > 0:
        n = min(rng.randint(5, 60), left)
        left -= n
        lat, lon = city_point(rng)
        coords: list[float] = []
        for _ in range(n):
            lat += rng.uniform(-2e-3, 2e-3)
            lon += rng.uniform(-4e-3, 4e-3)
            coords += [lon, lat]
        lines.append(Polyline.from_flat(rng.choice(["road", "major", "water", "rail"]), coords))
    return lines


def time_frames(draw: Callable[[], object], frames: int) -> list[float]:
    draw()  # warm
    took = []
    for _ in range(frames):
        start = time.perf_counter()
        draw()
        took.append((time.perf_counter() - start) * 1000)
    return took


def summary(took: list[float]) -> tuple[float, float]:
    took = sorted(took)
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=40)
    parser.add_argument("--background", type=int, default=0, help="points of synthetic roads")
    args = parser.parse_args()
    rng = random.Random(17)
    w, h = args.width, args.height
    view_data = make_view(rng)
    background = make_background(rng, args.background) if args.background else []
    scene = build_scene(view_data, background, selected=1, lang="ru")
    style_map = styles()
    fitted = fit(scene.points(with_lines=True), w, h)
    assert fitted is not None
    district = fitted.zoom(4).centred(*view_data.track[3000])
    empty = Scene()

    def frame(view: View, what: Scene) -> Callable[[], list[Strip]]:
        """A pan or a zoom: everything drawn anew."""
        return lambda: to_strips(render(what, view, lang="ru"), style_map, w)

    cache = BackgroundCache()

    def live(view: View, what: Scene) -> Callable[[], list[Strip]]:
        """New positions: the same view, the background's picture kept."""
        return lambda: to_strips(render(what, view, lang="ru", cache=cache), style_map, w)

    console = Console(width=w, height=h, color_system="truecolor", file=io.StringIO())
    block = Text("\n".join(("Карта " * 30)[:w] for _ in range(h)))

    def static() -> list[Strip]:
        lines = console.render_lines(block, console.options.update_dimensions(w, h))
        return [Strip(line, w) for line in lines]

    # interleaved rounds, so that the machine's noise falls on all alike
    draws = {
        "fitted": frame(fitted, scene),
        "district": frame(district, scene),
        "live": live(fitted, scene),
        "empty": frame(fitted, empty),
        "static": static,
    }
    results: dict[str, list[float]] = {name: [] for name in draws}
    rounds = 4
    for _ in range(rounds):
        for name, draw in draws.items():
            results[name] += time_frames(draw, max(args.frames // rounds, 1))
    points = len(view_data.track) + sum(len(x.lats) for x in background)
    print(
        f"map {w}×{h}: {len(view_data.technicians)} technicians, {len(view_data.orders)} objects,"
        f" track {len(view_data.track)} fixes, background {args.background} points"
        f" ({points} line points in all); {args.frames} frames each"
    )
    empty_ms = summary(results["empty"])[0]
    static_ms = summary(results["static"])[0]
    for name in ("empty", "static", "fitted", "district", "live"):
        median, p95 = summary(results[name])
        print(
            f"  {name:9} median {median:7.2f} ms  p95 {p95:7.2f} ms"
            f"  ×{median / empty_ms:6.1f} empty  ×{median / static_ms:6.1f} static"
        )
    worst = max(summary(results[n])[1] for n in ("fitted", "district", "live"))
    print(
        f"  goal ≤ 50 ms a frame: worst p95 {worst:.2f} ms -> {'met' if worst <= 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
