"""How fast is the stock module on a large ledger?

Builds a database with 10,000 catalogue items, 20 warehouses (the demo's central, regional
and two vans, and 16 more regional ones) and 1,000,000 ledger rows (receipts and transfers)
with balances equal to the ledger's sums, then times, interleaved run by run and against a reference
measured in the same invocation:

  availability:  one item at every warehouse (on hand / reserved / available), in process
                 vs  a bare SQL select of that item's balance rows joined to warehouses
  low stock:     the low-stock report (available below the minimum level, all items)
                 vs  a bare SQL GROUP BY over the balances with the same condition
  write-off:     write-offs against an open order, one transaction each, through the core
                 (locks, balance check, reservation, ledger row, order history)
                 vs  the same two statements per write-off (balance update, ledger insert)
                 as bare SQL, one transaction each

and prints the median of each, and the ratio to its reference (write-offs also per
second). No time is asserted. Aims from the issue: availability under 5 ms, the report
under 0.5 s.

    python bench/stock.py                    # SQLite
    python bench/stock.py --pg postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import ROOT, median_seconds, scratch_database

sys.path.insert(0, str(ROOT))

ITEMS = 10_000
WAREHOUSES = 20
LEDGER = 1_000_000
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
UNITS = ("шт", "м", "л", "кг", "компл")


def build(url: str, ledger_rows: int) -> tuple[int, int, int]:
    """Fill the database; returns (an item held widely, the central warehouse, an order)."""
    from sqlalchemy import text

    from fsm_core import clock
    from fsm_core.bulk import insert_rows
    from fsm_core.db import Database
    from fsm_core.demo import load_demo
    from fsm_core.services import stock, stock_queries

    rng = random.Random(11)
    db = Database(url)
    with clock.frozen(NOW), db.transaction() as s:
        load_demo(session=s)  # customers, orders, employees (their vans)
        s.execute(text("DELETE FROM reservation"))
        s.execute(text("DELETE FROM stock_movement"))
        s.execute(text("DELETE FROM stock_balance"))
        s.execute(text("DELETE FROM stock_item"))
        warehouses = [w.id for w, _ in stock_queries.list_warehouses(session=s)]  # the demo's 4
        for i in range(len(warehouses), WAREHOUSES):
            data = {"name": f"Склад {i:02d}", "kind": "regional"}
            warehouses.append(stock.create_warehouse(session=s, data=data).id)
        central = warehouses[0]
        items = [
            (f"SKU-{i:05d}", f"Деталь {i:05d} для ремонта", rng.choice(UNITS), 10_000 + i,
             15_000 + i, rng.choice((0, 0, 5_000, 20_000)), True, NOW)
            for i in range(ITEMS)
        ]  # fmt: skip
        insert_rows(
            s,
            "stock_item",
            ("sku", "name", "unit", "purchase_price", "sale_price", "min_level", "active",
             "created_at"),
            items,
        )  # fmt: skip
        item_ids = s.execute(text("SELECT id FROM stock_item ORDER BY id")).scalars().all()
        balance: dict[tuple[int, int], int] = {}
        moves = []
        start = NOW - timedelta(days=3 * 365)
        for n in range(ledger_rows):
            item = rng.choice(item_ids)
            at = start + timedelta(seconds=n * 90)
            if n % 4 or not balance:  # three receipts for each transfer
                to = rng.choice(warehouses)
                qty = rng.randint(1, 50) * 1000
                balance[item, to] = balance.get((item, to), 0) + qty
                moves.append(("receipt", item, None, to, qty, 10_000, "bench", at))
                continue
            source = rng.choice(warehouses)
            held = balance.get((item, source), 0)
            if held < 1000:
                to, qty = source, rng.randint(1, 50) * 1000
                balance[item, to] = held + qty
                moves.append(("receipt", item, None, to, qty, 10_000, "bench", at))
                continue
            to = rng.choice([w for w in warehouses if w != source])
            qty = rng.randint(1, held // 1000) * 1000
            balance[item, source] = held - qty
            balance[item, to] = balance.get((item, to), 0) + qty
            moves.append(("transfer", item, source, to, qty, 10_000, "bench", at))
        insert_rows(
            s,
            "stock_movement",
            ("kind", "item_id", "from_warehouse_id", "to_warehouse_id", "quantity",
             "unit_price", "actor", "at"),
            moves,
        )  # fmt: skip
        insert_rows(
            s,
            "stock_balance",
            ("item_id", "warehouse_id", "on_hand", "reserved", "updated_at"),
            [(i, w, q, 0, NOW) for (i, w), q in balance.items()],
        )
        widest = max(
            (i for i in item_ids if (i, central) in balance),
            key=lambda i: sum(1 for w in warehouses if (i, w) in balance),
        )
        # plenty at the central warehouse for the write-offs
        s.execute(
            text(
                "UPDATE stock_balance SET on_hand = on_hand + 100000000 "
                "WHERE item_id = :i AND warehouse_id = :w"
            ),
            {"i": widest, "w": central},
        )
        s.execute(
            text(
                "INSERT INTO stock_movement (kind, item_id, to_warehouse_id, quantity, "
                "unit_price, actor, at) VALUES ('receipt', :i, :w, 100000000, 10000, 'bench', :at)"
            ),
            {"i": widest, "w": central, "at": NOW},
        )
        order = s.execute(
            text("SELECT id FROM orders WHERE stage_code = 'in_progress' ORDER BY id LIMIT 1")
        ).scalar_one()
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    db.dispose()
    return widest, central, order


def measure(url: str, ledger_rows: int, repeat: int, writeoffs: int) -> None:
    from sqlalchemy import text

    from fsm_core import clock
    from fsm_core.db import Database
    from fsm_core.services import stock, stock_queries

    started = time.perf_counter()
    item, central, order = build(url, ledger_rows)
    print(f"  built {ITEMS} items, {WAREHOUSES} warehouses, {ledger_rows} ledger rows "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    db = Database(url)

    def availability() -> object:
        with db.reader() as s:
            return stock_queries.availability(session=s, item_id=item)

    def availability_sql() -> object:
        with db.engine.connect() as c:
            return c.execute(
                text(
                    "SELECT w.id, w.name, w.kind, b.on_hand, b.reserved, b.on_hand - b.reserved "
                    "FROM stock_balance b JOIN warehouse w ON w.id = b.warehouse_id "
                    "WHERE b.item_id = :i ORDER BY w.kind, w.name"
                ),
                {"i": item},
            ).all()

    def low() -> object:
        with db.reader() as s:
            return stock_queries.low_stock(session=s)

    def low_sql() -> object:
        with db.engine.connect() as c:
            return c.execute(
                text(
                    "SELECT i.id, i.sku, i.name, i.min_level, "
                    "COALESCE(SUM(b.on_hand - b.reserved), 0) AS available "
                    "FROM stock_item i LEFT JOIN stock_balance b ON b.item_id = i.id "
                    "WHERE i.active AND i.min_level > 0 GROUP BY i.id, i.sku, i.name, "
                    "i.min_level HAVING COALESCE(SUM(b.on_hand - b.reserved), 0) < i.min_level "
                    "ORDER BY i.min_level - COALESCE(SUM(b.on_hand - b.reserved), 0) DESC"
                )
            ).all()

    def write_offs() -> object:
        with clock.frozen(NOW):
            for _ in range(writeoffs):
                with db.transaction() as s:
                    stock.write_off(
                        session=s,
                        order_id=order,
                        item_id=item,
                        warehouse_id=central,
                        quantity=1,
                        actor="bench",
                    )
        return None

    def write_offs_sql() -> object:
        for _ in range(writeoffs):
            with db.engine.begin() as c:
                c.execute(
                    text(
                        "UPDATE stock_balance SET on_hand = on_hand - 1000 "
                        "WHERE item_id = :i AND warehouse_id = :w AND on_hand - reserved >= 1000"
                    ),
                    {"i": item, "w": central},
                )
                c.execute(
                    text(
                        "INSERT INTO stock_movement (kind, item_id, from_warehouse_id, quantity, "
                        "unit_price, order_id, actor, at) VALUES ('write_off', :i, :w, 1000, "
                        "15000, :o, 'bench', :at)"
                    ),
                    {"i": item, "w": central, "o": order, "at": NOW},
                )
        return None

    rows = len(availability().lines)  # type: ignore[attr-defined]
    print(f"  the item is held at {rows} warehouses; {len(low())} items are low")  # type: ignore[arg-type]
    pairs = [
        ("availability of one item", availability, availability_sql, repeat),
        ("low-stock report", low, low_sql, max(3, repeat // 10)),
        (f"{writeoffs} write-offs", write_offs, write_offs_sql, 3),
    ]
    for name, ours, reference, n in pairs:
        ours(), reference()  # warm caches
        times_ours, times_ref = [], []
        for _ in range(n):  # interleaved: the machine's noise hits both alike
            times_ref.append(median_seconds(reference, 1))
            times_ours.append(median_seconds(ours, 1))
        a, b = statistics.median(times_ours), statistics.median(times_ref)
        extra = ""
        if "write-offs" in name:
            extra = f"   {writeoffs / a:,.0f}/s vs {writeoffs / b:,.0f}/s"
        print(
            f"  {name:26s} {a * 1000:9.2f} ms   bare SQL {b * 1000:9.2f} ms"
            f"   ratio {a / b:5.1f}x{extra}"
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=int, default=LEDGER, help="ledger rows to build")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--writeoffs", type=int, default=200)
    parser.add_argument("--pg", help="PostgreSQL server URL to also measure (scratch database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        measure(f"sqlite:///{tmp}/stock.db", args.ledger, args.repeat, args.writeoffs)
    if args.pg:
        with scratch_database(args.pg, "fsm_bench_stock") as url:
            print("PostgreSQL")
            measure(url, args.ledger, args.repeat, args.writeoffs)


if __name__ == "__main__":
    main()
