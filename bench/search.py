"""How fast does the board find orders by a term, next to the bare text-index query?

Builds 100,000 orders (as bench/orders_list.py does: the demo company's customers and
objects, descriptions "Заявка N: не работает кондиционер, течёт вода") on SQLite and, with
--pg URL, on PostgreSQL; then, for terms from the rarest (one order) to the commonest
(every order), times in one run, interleaved, the median of --runs repetitions of:

  page:    the board's first page for the term (list_orders, 50 rows, newest first)
  counts:  the board's counts per stage for it (board_counts: the first COUNT_CAP
           matching orders, "1000+" beyond)
  exact:   the exact counts per stage (stage_counts: what the board counted before the
           cap, and still counts without a term)
  bare:    the bare indexed query: how many orders the indexes find, and nothing else
           (the text index for the orders' own texts -- SQLite: SELECT rowid FROM
           order_search WHERE MATCH; PostgreSQL: the three folded columns LIKE the term
           through the pg_trgm indexes -- and the customer and object indexes)
  scan:    page + exact counts without the index (the search before migration 0008)

and prints milliseconds and the ratios page/bare and counts/bare (goal: page and counts
<= 20 ms each). A term under three characters is looked for without the index (as before).
"found" is the exact number of matching orders; "shown" what the board's header says.

    python bench/search.py [--orders 100000] [--runs 9] [--pg postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import scratch_database
from orders_list import build

TERMS = [
    ("a number (1 order)", "B0012345"),
    ("a description piece (11)", "заявка 4242"),
    ("a description piece (1,111)", "заявка 42"),
    ("a description piece (11,111)", "заявка 9"),
    ("a customer's name", "балтийская пекарня"),
    ("an object's address", "лиговский"),
    ("no order", "xyzzy"),
    ("ё folded (all)", "течёт"),
    ("a common word (all)", "кондиционер"),
    ("two letters (no index)", "ко"),
]


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(label: str, url: str, runs: int) -> None:
    from sqlalchemy import func, select

    from fsm_core import clock
    from fsm_core.db import Database, search_fold
    from fsm_core.models import Order
    from fsm_core.services import order_queries
    from fsm_core.services.order_queries import OrderFilter

    db = Database(url)
    now = clock.now()

    def page(term: str) -> Any:
        with db.reader() as s:
            return order_queries.list_orders(
                session=s, filters=OrderFilter(text=term), limit=50, now=now
            )

    def counts(term: str) -> Any:
        with db.reader() as s:
            return order_queries.board_counts(session=s, filters=OrderFilter(text=term), now=now)

    def exact(term: str) -> Any:
        with db.reader() as s:
            return order_queries.stage_counts(session=s, filters=OrderFilter(text=term), now=now)

    def bare(term: str) -> Any:
        """How many orders the indexes alone find: the text index for the orders' own
        texts, the customer and object indexes for theirs (no joins, no sorting)."""
        key = search_fold(term.strip()) or ""
        with db.reader() as s:
            if len(key) < order_queries.MIN_INDEXED_TERM:
                query = select(func.count()).where(*order_queries.text_condition(key, s))
                return s.execute(query.select_from(Order)).scalar()
            if order_queries.text_index(s) == "fts5":
                own = order_queries._fts5_ids(key, s)
            else:
                own = [order_queries._trigram_ids(key)]
            found = order_queries._matching_union(key, *own)
            return s.execute(select(func.count()).select_from(found.subquery())).scalar()

    def scan(term: str) -> Any:
        original = order_queries.text_index
        order_queries.text_index = lambda session: None  # type: ignore[assignment]
        try:
            page(term)
            exact(term)
        finally:
            order_queries.text_index = original

    print(f"\n{label}: {url.split('@')[-1]}")
    print(
        f"  {'term':34} {'found':>7} {'shown':>7} {'page':>8} {'counts':>8} {'exact':>8} "
        f"{'bare':>8} {'page/bare':>10} {'counts/bare':>12} {'scan':>8}"
    )
    for name, term in TERMS:
        page(term), counts(term), exact(term), bare(term)  # warm the caches once
        found = sum(exact(term).values())
        board = counts(term)
        shown = f"{board.total}{'+' if board.capped else ''}"
        p = median_ms(lambda t=term: page(t), runs)
        c = median_ms(lambda t=term: counts(t), runs)
        e = median_ms(lambda t=term: exact(t), runs)
        b = median_ms(lambda t=term: bare(t), runs)
        before = median_ms(lambda t=term: scan(t), max(3, runs // 3))
        short = len(search_fold(term) or "") < order_queries.MIN_INDEXED_TERM
        floor = max(b, 0.001)
        ratios = f"{'-':>10} {'-':>12}" if short else f"{p / floor:10.1f} {c / floor:12.1f}"
        print(
            f"  {name + ' ' + repr(term):34.34} {found:7d} {shown:>7} {p:6.1f}ms {c:6.1f}ms "
            f"{e:6.1f}ms {b:6.1f}ms "
            f"{ratios} {before:6.1f}ms"
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'search.db'}"
        build(url, args.orders)
        measure(f"SQLite, {args.orders:,} orders", url, args.runs)
    if args.pg:
        from sqlalchemy.engine import make_url

        # named after the URL's database (search_bench: search_bench_scratch_<pid>)
        prefix = f"{make_url(args.pg).database or 'fsm_bench'}_scratch"
        with scratch_database(args.pg, prefix) as pg_url:
            build(pg_url, args.orders)
            measure(f"PostgreSQL, {args.orders:,} orders", pg_url, args.runs)


if __name__ == "__main__":
    main()
