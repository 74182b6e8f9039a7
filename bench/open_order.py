"""How long does opening an order take in the dashboard?

Builds an SQLite database with the demo company, then, in a fresh process, drives the
dashboard headlessly at 120×40 with Textual's ``run_test`` and, on the board, alternately:

  order:  ``enter`` on the board's current row until the first frame that shows the
          order's fields (the order screen has read the order and filled its form), then
          ``escape`` back and ``down`` to the next order; N orders (default 20);
  help:   ``f1`` until the first frame of the help screen (the list of keys: a screen
          with no data to read), then ``escape``; as often, interleaved with the orders.

A key is sent as the terminal driver sends it (a Key event into the app's queue); a frame
counts when the screen's compositor hands its update to the app for the terminal (Textual
renders it headlessly too; the bench then also encodes it as the terminal would receive
it). The median of each, and their ratio, are printed, and the same in the process's CPU
time (threads included), which a busy host disturbs less than the wall clock; the first
order is cold (its modules imported then) and counted like the others; it is also the only
one whose screen is made: each later one is shown in the screen closed before it (see
``FsmApp.on_order_read``), so "first" is what a new order screen costs. Nothing is
asserted.

Goal (issue 16): an order's fields on screen ≤ 150 ms from ``enter``.

    python bench/open_order.py
    python bench/open_order.py --orders 10 --profile /tmp/open.prof   # cProfile the orders' opens
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)


def build(url: str) -> None:
    """The demo company, as ``fsm demo`` loads it."""
    from fsm_core.db import Database
    from fsm_core.demo import load_demo

    database = Database(url)
    try:
        database.upgrade()
        with database.transaction() as session:
            load_demo(session=session)
    finally:
        database.dispose()


def measure(url: str, orders: int, profile: str | None) -> dict[str, Any]:
    """Run in the measuring process: drive the app, time it, return the figures."""
    from common import record_frames, settle
    from textual import events
    from textual.widgets import DataTable

    from fsm_tui.app import make_app, prepare_process
    from fsm_tui.live_bridge import GROUP as LIVE_GROUP
    from fsm_tui.screens.help import HelpScreen
    from fsm_tui.screens.order import OrderScreen

    prepare_process()  # what `fsm tui` does before its first screen
    app = make_app(url, lang="ru", cursor_blink=False)
    frames: list[tuple[float, float, Any]] = []  # (time, CPU time, screen) for each frame

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()

    def shown(screen: Any) -> bool:
        """Is ``screen`` (on top) what a user waits for: the order's fields, or the keys?"""
        if isinstance(screen, OrderScreen):
            return screen.details is not None
        if isinstance(screen, HelpScreen):
            return screen.query_one("#bindings", DataTable).row_count > 0
        return False

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            record_frames(app, lambda screen: screen if shown(screen) else None, frames)

            async def open_with(key: str, kind: type) -> tuple[float, float]:
                """Send ``key``; seconds until the first frame of a ``kind`` screen showing
                what it is for, in wall time and in the process's CPU time."""
                frames.clear()
                sent = time.perf_counter()
                cpu = time.process_time()
                if profiler is not None and kind is OrderScreen:
                    profiler.enable()
                app._driver.send_message(events.Key(key, None))  # type: ignore[union-attr]
                deadline = sent + 30
                while not any(isinstance(s, kind) for _, _, s in frames):
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"{key}: no {kind.__name__} drawn")
                    await asyncio.sleep(0.0005)
                if profiler is not None:
                    profiler.disable()
                at, cpu_at, _ = next(f for f in frames if isinstance(f[2], kind))
                await settle(app, pilot, leave=LIVE_GROUP)
                await pilot.press("escape")
                await settle(app, pilot, leave=LIVE_GROUP)
                return at - sent, cpu_at - cpu

            await settle(app, pilot, leave=LIVE_GROUP)
            while app.catalog is None or not app.catalog.complete:
                await asyncio.sleep(0.01)
            await settle(app, pilot, leave=LIVE_GROUP)
            order_s: list[tuple[float, float]] = []
            help_s: list[tuple[float, float]] = []
            opened: list[int] = []
            for n in range(orders):
                help_s.append(await open_with("f1", HelpScreen))
                if n:
                    await pilot.press("down")
                    await settle(app, pilot, leave=LIVE_GROUP)
                order_s.append(await open_with("enter", OrderScreen))
                opened.append(next(f[2] for f in frames if isinstance(f[2], OrderScreen)).order_id)
            result["order_s"] = order_s
            result["help_s"] = help_s
            result["distinct_orders"] = len(set(opened))

    result: dict[str, Any] = {}
    asyncio.run(run())
    if profiler is not None and profile:
        profiler.dump_stats(profile)
    return result


def report(figures: dict[str, Any]) -> None:
    order = [wall for wall, _cpu in figures["order_s"]]
    help_ = [wall for wall, _cpu in figures["help_s"]]
    cpu_o = statistics.median(cpu for _wall, cpu in figures["order_s"])
    cpu_h = statistics.median(cpu for _wall, cpu in figures["help_s"])
    ms = 1000
    med_o, med_h = statistics.median(order), statistics.median(help_)
    print(
        f"Dashboard at {SIZE[0]}×{SIZE[1]}, demo company (SQLite), {len(order)} opens of "
        f"{figures['distinct_orders']} different orders"
    )
    print(
        f"  enter → order's fields drawn   median {med_o * ms:6.1f} ms   best "
        f"{min(order) * ms:6.1f}   worst {max(order) * ms:6.1f}   first {order[0] * ms:6.1f}"
        "   goal ≤ 150 ms"
    )
    print(
        f"  f1 → help screen drawn         median {med_h * ms:6.1f} ms   best "
        f"{min(help_) * ms:6.1f}   worst {max(help_) * ms:6.1f}   first {help_[0] * ms:6.1f}"
    )
    print(f"  ratio order/help (median) {med_o / med_h:.2f}")
    print(
        f"  CPU time of the process (median; steadier on a busy host): order "
        f"{cpu_o * ms:.1f} ms, help {cpu_h * ms:.1f} ms, ratio {cpu_o / cpu_h:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20, help="orders to open")
    parser.add_argument("--profile", help="write a cProfile of the orders' opens to this file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: URL to measure
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.orders, args.profile)))
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from common import compile_bytecode

    compile_bytecode("fsm_core", "fsm_cli", "fsm_tui")  # as installed (see common.py)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        build(url)
        command = [sys.executable, __file__, "--measure", url, "--orders", str(args.orders)]
        if args.profile:
            command += ["--profile", args.profile]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        out = subprocess.run(command, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"measuring failed:\n{out.stderr}")
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    report(figures)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
