"""How soon does the dashboard's Analytics section show its first chart?

On bench/report.py's data set (25 employees, 100,000 orders, 300,000 work entries,
1,000,000 history rows; built and cached by that script), a fresh process drives the
dashboard headlessly at 120×40 with Textual's ``run_test``, its clock in November 2026 so
that the section opens on October, and alternately:

  analytics:  ``f8`` until the first frame showing the chart of orders per day (the
              employees' table may still be reading), then ``escape``;
  help:       ``f1`` until the first frame of the help screen (no data), then ``escape``.

A frame counts when the screen's compositor hands it to the terminal (rendered as the
terminal would receive it). The medians of each, their ratio, and the process's CPU time
are printed; the time until the employees' table is filled is printed too. Nothing is
asserted.

Goal (issue 20): the first chart ≤ 200 ms after the section is opened.

    python bench/analytics_open.py            # 10 opens of each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # the section opens on last month: October


def measure(url: str, opens: int) -> dict[str, Any]:
    from common import record_frames, settle
    from textual import events
    from textual.widgets import DataTable, Static

    from fsm_tui.app import make_app, prepare_process
    from fsm_tui.live_bridge import GROUP as LIVE_GROUP
    from fsm_tui.screens.analytics import AnalyticsScreen
    from fsm_tui.screens.help import HelpScreen

    prepare_process()
    app = make_app(url, lang="ru", now=NOW, cursor_blink=False, live=False)
    frames: list[tuple[float, float, str]] = []

    def what(screen: Any) -> str | None:
        if isinstance(screen, AnalyticsScreen):
            chart = screen.query_one("#analytics-chart", Static)
            if not str(chart.render()).strip():
                return None
            return "table" if screen.page is not None else "chart"
        if isinstance(screen, HelpScreen):
            return "help" if screen.query_one("#bindings", DataTable).row_count else None
        return None

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            record_frames(app, what, frames)

            async def open_with(key: str, first: tuple[str, ...], last: str) -> list[float]:
                frames.clear()
                sent, cpu = time.perf_counter(), time.process_time()
                app._driver.send_message(events.Key(key, None))  # type: ignore[union-attr]
                deadline = sent + 60
                while not any(f[2] == last for f in frames):
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"{key}: {last} not drawn")
                    await asyncio.sleep(0.0005)
                at, cpu_at, _ = next(f for f in frames if f[2] in first)
                done = next(f for f in frames if f[2] == last)[0]
                await settle(app, pilot, leave=LIVE_GROUP)
                await pilot.press("escape")
                await settle(app, pilot, leave=LIVE_GROUP)
                return [at - sent, cpu_at - cpu, done - sent]

            await settle(app, pilot, leave=LIVE_GROUP)
            result["analytics"] = []
            result["help"] = []
            for _ in range(opens):
                result["help"].append(await open_with("f1", ("help",), "help"))
                result["analytics"].append(await open_with("f8", ("chart", "table"), "table"))

    result: dict[str, Any] = {}
    asyncio.run(run())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=10)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.opens)))
        return
    sys.path.insert(0, str(ROOT / "bench"))
    import report as report_bench
    from common import compile_bytecode

    compile_bytecode("fsm_core", "fsm_cli", "fsm_tui")
    if not report_bench.SQLITE_FILE.exists():
        report_bench.build_sqlite(report_bench.SQLITE_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "analytics.db"
        shutil.copy(report_bench.SQLITE_FILE, path)  # the dashboard binds its user to it
        command = [sys.executable, __file__, "--measure", f"sqlite:///{path}"]
        command += ["--opens", str(args.opens)]
        env = dict(os.environ, PYTHONPATH=str(ROOT), FSM_DATA_DIR=tmp)
        out = subprocess.run(command, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"measuring failed:\n{out.stderr[-3000:]}")
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    ms = 1000
    chart = statistics.median(f[0] for f in figures["analytics"])
    table = statistics.median(f[2] for f in figures["analytics"])
    help_ = statistics.median(f[0] for f in figures["help"])
    cpu_c = statistics.median(f[1] for f in figures["analytics"])
    cpu_h = statistics.median(f[1] for f in figures["help"])
    print(
        f"Dashboard at {SIZE[0]}×{SIZE[1]}, 100,000 orders (SQLite), "
        f"{len(figures['analytics'])} opens of the Analytics section (October 2026)"
    )
    print(
        f"  f8 → first chart drawn     median {chart * ms:6.1f} ms   worst "
        f"{max(f[0] for f in figures['analytics']) * ms:6.1f}   goal ≤ 200 ms"
    )
    print(f"  f8 → employees' table      median {table * ms:6.1f} ms")
    print(f"  f1 → help screen drawn     median {help_ * ms:6.1f} ms")
    print(f"  ratio chart/help (median) {chart / help_:.2f}")
    print(f"  CPU time (median): chart {cpu_c * ms:.1f} ms, help {cpu_h * ms:.1f} ms")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
