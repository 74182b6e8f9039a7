"""How fast does the dashboard's board open and filter on 100,000 orders?

Builds an SQLite database with the demo company plus N orders (bench/orders_list.py's bulk
builder), then, in a fresh process (so its peak memory is the dashboard's alone), drives the
app headlessly with Textual's ``run_test`` and measures:

  first page:  app start until the board's first page of orders is drawn (the table says so
               from its render, not when the rows arrive);
  filter:      a keystroke in the search box until the table is repainted with the result,
               median over ~20 keystrokes (words typed letter by letter, then cleared);
  reference:   the same page's query alone (``list_orders``, 200 rows) for each keystroke's
               filter, called directly, so the ratio shows what the dashboard adds;
  memory:      peak resident set size of the measuring process.

Goals (from the issue): first page under 0.5 s, filter repaint under 100 ms, memory under
150 MB. Nothing is asserted: the figures are printed.

    python bench/tui.py                  # 100,000 orders
    python bench/tui.py --orders 20000 --keys 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROCESS_START = time.perf_counter()
LAUNCHED = float(os.environ.get("FSM_BENCH_LAUNCHED", "0"))
ROOT = Path(__file__).resolve().parent.parent
WORDS = ["течёт", "ДГУ", "B00012", "кондиционер"]
"""Typed letter by letter into the search box; then the box is cleared (one more repaint)."""


def measure(url: str, keys: int) -> dict[str, object]:
    """Run in the measuring process: drive the app, time it, return the figures."""
    from fsm_core.services import order_queries
    from fsm_tui.app import make_app, prepare_process
    from fsm_tui.live_bridge import GROUP as LIVE_GROUP
    from fsm_tui.widgets.order_table import OrderTable

    imported = time.perf_counter()
    prepare_process()  # what `fsm tui` does before its first screen
    start = time.perf_counter()
    app = make_app(url, lang="ru")  # as the demo's default user, live updates on as in use
    painted: list[tuple[float, int, int]] = []  # (time, generation, rows)

    def hook(message: object) -> None:
        if isinstance(message, OrderTable.Painted):
            painted.append((time.perf_counter(), message.generation, message.rows))

    result: dict[str, object] = {}

    async def wait_painted(generation: int, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for at, gen, _rows in painted:
                if gen >= generation:
                    return at
            await asyncio.sleep(0.001)
        raise TimeoutError(f"generation {generation} was never painted")

    async def run() -> None:
        async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
            first = await wait_painted(1)
            await pilot.pause()
            result["first_page_s"] = first - start
            result["since_launch_s"] = time.time() - (time.perf_counter() - first) - LAUNCHED
            result["imports_s"] = imported - PROCESS_START
            table = app.screen.query_one(OrderTable)
            result["rows_total"] = None
            await pilot.press("slash")
            typed: list[str] = []
            latencies: list[float] = []
            filters = []
            for word in WORDS:
                for letter in word:
                    if len(latencies) >= keys:
                        break
                    generation = table.generation
                    sent = time.perf_counter()
                    await pilot.press(letter)
                    typed.append(letter)
                    # the debounce runs on the app's loop; wait for the next generation's paint
                    while table.generation == generation:
                        await asyncio.sleep(0.001)
                    done = await wait_painted(table.generation)
                    await pilot.pause()
                    latencies.append(done - sent)
                    filters.append(table.filters)
                # clear the box for the next word
                for _ in typed:
                    await pilot.press("backspace")
                typed.clear()
                await asyncio.sleep(0.3)
            result["filter_s"] = latencies
            # every worker but the live updates' (it runs as long as the app does)
            await asyncio.gather(
                *(w.wait() for w in app.workers if w.group != LIVE_GROUP), return_exceptions=True
            )
            result["rows_total"] = table.total
            result["rows_loaded"] = table.loaded_rows
            # the same page's query alone, for each keystroke's filter
            reference = []
            backend = app.backend
            for flt in filters:
                t0 = time.perf_counter()
                with backend.reader() as session:
                    order_queries.list_orders(
                        session=session, filters=flt, limit=OrderTable.PAGE_SIZE, now=backend.now()
                    )
                reference.append(time.perf_counter() - t0)
            result["query_s"] = reference
            t0 = time.perf_counter()
            with backend.reader() as session:
                order_queries.list_orders(
                    session=session,
                    filters=order_queries.OrderFilter(open_only=True),
                    limit=OrderTable.PAGE_SIZE,
                    now=backend.now(),
                )
            result["first_query_s"] = time.perf_counter() - t0

    asyncio.run(run())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def report(figures: dict[str, object], n_orders: int, build_s: float) -> None:
    filt = list(figures["filter_s"])  # type: ignore[arg-type]
    query = list(figures["query_s"])  # type: ignore[arg-type]
    first = float(figures["first_page_s"])  # type: ignore[arg-type]
    first_q = float(figures["first_query_s"])  # type: ignore[arg-type]
    med_f, med_q = statistics.median(filt), statistics.median(query)
    ms = 1000
    print(f"SQLite, {n_orders:,} orders (+ the demo company), built in {build_s:.1f} s")
    print(
        f"  matching open orders {figures['rows_total']:,}; rows held by the table "
        f"{figures['rows_loaded']:,}"
    )
    print(
        f"  first page painted      {first * ms:7.1f} ms from the app's start   (its query "
        f"alone {first_q * ms:6.1f} ms)   goal < 500 ms"
    )
    print(
        f"                          {float(figures['since_launch_s']) * ms:7.1f} ms from "  # type: ignore[arg-type]
        f"launching python (imports {float(figures['imports_s']) * ms:.0f} ms)"  # type: ignore[arg-type]
    )
    print(
        f"  filter keystroke→paint  median {med_f * ms:6.1f} ms   best {min(filt) * ms:6.1f} ms   "
        f"worst {max(filt) * ms:6.1f} ms   over {len(filt)} keys   goal < 100 ms"
    )
    print(
        f"  the same page's query   median {med_q * ms:6.1f} ms   best {min(query) * ms:6.1f} ms   "
        f"worst {max(query) * ms:6.1f} ms"
    )
    print(
        f"  ratio filter/query (median) {med_f / med_q:.2f}   "
        f"dashboard's own share (median) {(med_f - med_q) * ms:.1f} ms"
    )
    print(f"  peak memory (RSS)       {figures['peak_rss_mb']:.0f} MB   goal < 150 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=20, help="filter keystrokes to time")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: URL to measure
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.keys)))
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from common import compile_bytecode
    from orders_list import build

    compile_bytecode("fsm_core", "fsm_cli", "fsm_tui")  # as installed (see common.py)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        start = time.perf_counter()
        build(url, args.orders)
        build_s = time.perf_counter() - start
        env = dict(os.environ, PYTHONPATH=str(ROOT), FSM_BENCH_LAUNCHED=repr(time.time()))
        out = subprocess.run(
            [sys.executable, __file__, "--measure", url, "--keys", str(args.keys)],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"measuring failed:\n{out.stderr}")
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    report(figures, args.orders, build_s)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
