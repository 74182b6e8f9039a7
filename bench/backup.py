"""How fast are `fsm db backup` and `fsm db restore`, against copying the same files with cp?

Builds (once; reused from the cache folder afterwards) an SQLite database of the demo
company plus --orders orders (100,000) with their history (create, assign, stage moves,
work, signature: ~6 rows an order), the work recorded on the finished ones (a work entry,
its executor, a material written off a van with its stock movement, the execution record)
and a receipt for every write-off, and --attachments-mb of photos (1,024 MB: random bytes,
as incompressible as JPEGs, 0.2-1 MB each) stored through the product's attachment store
and attached to orders. Then, in one run:

  reference:  cp -r fsm.db attachments/ DIR; sync            (the same files, copied, on disk)
  measured:   fsm db backup ARCHIVE                          (snapshot, checksums, manifest)
              fsm db restore ARCHIVE --into sqlite:///NEW    (checksums, integrity, counts)
  and, with --pg URL, the same database copied into PostgreSQL (`fsm db copy`, not the
  thing measured) and backed up and restored there (pg_dump / pg_restore), against the
  same cp of the company's files.

It prints each wall time, the bytes, and the ratios to cp (goals from issue 18: backup
<= 60 s and restore <= 120 s for 100,000 orders and >= 1 GB on this 2-core machine).
Nothing is asserted.

    python bench/backup.py                                   # 100,000 orders, 1 GB
    python bench/backup.py --orders 10000 --attachments-mb 100   # a quick check
    python bench/backup.py --pg postgresql+psycopg://postgres@127.0.0.1/postgres

The cache lives in --cache (default: <temp>/fsm-bench-backup/<orders>-<MB>); --rebuild
makes it again. The archive, the copies and the restored database go in a scratch folder
beside it (the same disk) and are removed afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from common import ROOT, compile_bytecode, scratch_database
from orders_list import build as build_orders

sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from fsm_core.db import Database

BIN = Path(sys.executable).parent
FORMAT = 1  # of the cache: a change in what build() makes bumps it
PHOTO_SIZES = (200 * 1024, 1024 * 1024)


def build(folder: Path, orders: int, attachments_mb: int) -> None:
    """The demo company, ``orders`` orders with their history, work and stock, and
    ``attachments_mb`` MB of photos, in ``folder/fsm.db`` (and ``folder/attachments``)."""
    from sqlalchemy import text

    from fsm_core.bulk import insert_rows
    from fsm_core.db import Database

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'fsm.db'}"
    started = time.perf_counter()
    build_orders(url, orders)  # the demo set and the orders themselves (one bulk insert)
    print(f"  {orders:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
    rng = random.Random(18)
    db = Database(url)
    with db.transaction() as s:
        rows = s.execute(
            text(
                "SELECT o.id, o.number, o.stage_code, o.created_at, o.assignee_id, e.short_name "
                "FROM orders o LEFT JOIN employee e ON e.id = o.assignee_id "
                "WHERE o.number LIKE 'B%' ORDER BY o.id"
            )
        ).all()
        work_types = s.execute(text("SELECT id, name, unit, price FROM work_type")).all()
        items = s.execute(text("SELECT id, name, unit, sale_price FROM stock_item")).all()
        van = s.execute(text("SELECT id FROM warehouse ORDER BY id")).scalars().all()[-1]
        history, entries, executors, moves, records = [], [], [], [], []
        materials: list[tuple[object, ...]] = []
        stages = ["new", "assigned", "en_route", "in_progress", "done", "closed"]
        entry_id = int(s.execute(text("SELECT coalesce(max(id), 0) FROM work_entry")).scalar())
        move_id = int(s.execute(text("SELECT coalesce(max(id), 0) FROM stock_movement")).scalar())
        for order_id, number, stage, created, assignee, who in rows:
            created = _moment(created)
            actor = who or "Орлова В. П."
            history.append((order_id, created, "Орлова В. П.", "create", None, None, number))
            if assignee is None:
                continue
            at = created + timedelta(minutes=20)
            history.append((order_id, at, "Орлова В. П.", "assign", "assignee", None, who))
            reached = stages.index(stage) if stage in stages else 3
            for before, after in itertools.pairwise(stages[: reached + 1]):
                at += timedelta(minutes=rng.randint(10, 300))
                history.append((order_id, at, actor, "stage", "stage", before, after))
            if stage not in ("done", "closed"):
                continue
            entry_id += 1
            move_id += 2
            work = rng.choice(work_types)
            item = rng.choice(items)
            begun = created + timedelta(hours=2)
            ended = begun + timedelta(minutes=rng.randint(30, 240))
            entries.append(
                (entry_id, order_id, work[0], work[1], work[2], 1000, work[3], "both",
                 begun, ended, who, ended)
            )  # fmt: skip
            executors.append((entry_id, assignee, who, 1500, 175000))
            moves.append(
                (move_id, "write_off", item[0], van, None, 1000, item[3], order_id, who, ended)
            )
            moves.append(
                (move_id - 1, "receipt", item[0], None, van, 1000, item[3], None, "bench", begun)
            )
            materials.append(
                (order_id, entry_id, item[0], van, item[1], item[2], 1000, item[3], move_id,
                 who, ended)
            )  # fmt: skip
            records.append((order_id, "Работы выполнены", "Смирнова О. В.", ended, who))
            history.append((order_id, ended, actor, "work", None, None, f"{work[1]}: {who}"))
        insert_rows(
            s, "order_history",
            ("order_id", "at", "actor", "action", "field", "old_value", "new_value"), history,
        )  # fmt: skip
        insert_rows(
            s, "work_entry",
            ("id", "order_id", "work_type_id", "work_type_name", "unit", "quantity", "price",
             "charge", "started_at", "finished_at", "created_by", "created_at"), entries,
        )  # fmt: skip
        insert_rows(
            s, "work_executor",
            ("work_entry_id", "employee_id", "employee_name", "hours", "hourly_rate"), executors,
        )  # fmt: skip
        insert_rows(
            s, "stock_movement",
            ("id", "kind", "item_id", "from_warehouse_id", "to_warehouse_id", "quantity",
             "unit_price", "order_id", "actor", "at"), moves,
        )  # fmt: skip
        insert_rows(
            s, "material_use",
            ("order_id", "work_entry_id", "item_id", "warehouse_id", "item_name", "unit",
             "quantity", "price", "movement_id", "created_by", "created_at"), materials,
        )  # fmt: skip
        insert_rows(
            s, "execution_record",
            ("order_id", "comment", "signer_name", "signed_at", "updated_by"), records,
        )  # fmt: skip
    print(
        f"  {len(history):,} history rows, {len(entries):,} work entries, {len(moves):,} "
        f"stock movements in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    finished = [order_id for order_id, _, stage, *_ in rows if stage in ("done", "closed")]
    add_photos(db, folder, attachments_mb, finished, rng)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def _moment(value: object) -> object:
    from datetime import UTC, datetime

    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def add_photos(
    db: Database, folder: Path, megabytes: int, orders: list[int], rng: random.Random
) -> None:
    """Photos through the product's store (``fsm_core.attachments.store``), 100 per
    transaction, each attached to a finished order."""
    from fsm_core.attachments import store
    from fsm_core.models.execution import OrderAttachment

    budget = megabytes * 1024 * 1024
    spool = folder / "spool"
    spool.mkdir(exist_ok=True)
    n = 0
    while budget > 0:
        with db.transaction() as s:
            for _ in range(100):
                if budget <= 0:
                    break
                size = max(4096, min(budget, rng.randint(*PHOTO_SIZES)))
                photo = spool / f"IMG_{n:06d}.jpg"
                photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
                row = store(s, photo)
                s.add(OrderAttachment(order_id=rng.choice(orders), attachment_id=row.id,
                                      added_by="bench"))  # fmt: skip
                photo.unlink()
                budget -= size
                n += 1
    spool.rmdir()
    print(f"  {n:,} photos, {megabytes:,} MB", flush=True)


def cached(args: argparse.Namespace) -> Path:
    """The built database's folder, made if it is not there yet (or --rebuild)."""
    from fsm_core.migrations import HEAD

    folder = Path(args.cache or Path(tempfile.gettempdir()) / "fsm-bench-backup")
    folder = folder / f"{args.orders}-{args.attachments_mb}"
    stamp = {"format": FORMAT, "schema": HEAD, "orders": args.orders, "mb": args.attachments_mb}
    marker = folder / "built.json"
    if not args.rebuild and marker.exists() and json.loads(marker.read_text()) == stamp:
        print(f"reusing {folder}")
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    print(f"building {folder} (once)", flush=True)
    build(folder, args.orders, args.attachments_mb)
    marker.write_text(json.dumps(stamp))
    return folder


def size_of(*paths: Path) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.exists():
            total += path.stat().st_size
    return total


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def copy_with_cp(files: list[Path], into: Path) -> float:
    """``cp -r`` of ``files`` into the new folder ``into``, then ``sync`` of what it
    wrote (a backup is on the disk when it ends: it syncs its archive)."""
    into.mkdir()
    started = time.perf_counter()
    timed(["cp", "-r", *map(str, files), str(into)])
    written = [str(p) for p in into.rglob("*") if p.is_file()]
    timed(["sync", *written])
    return time.perf_counter() - started


def fsm(url: str, *args: str) -> list[str]:
    return [str(BIN / "fsm"), "--db", url, *args]


def report(label: str, seconds: float, reference: float, size: int, goal: str = "") -> None:
    rate = size / seconds / 1e6
    print(
        f"  {label:<38}{seconds:7.1f} s  {rate:6.0f} MB/s  x{seconds / reference:5.2f} cp"
        + (f"   (goal {goal})" if goal else "")
    )


def measure_sqlite(folder: Path, scratch: Path) -> float:
    """Backup and restore on SQLite against cp; returns cp's time (the reference)."""
    db, store = folder / "fsm.db", folder / "attachments"
    total = size_of(db, store)
    print(
        f"SQLite: database {size_of(db) / 1e6:,.0f} MB + attachments "
        f"{size_of(store) / 1e6:,.0f} MB = {total / 1e9:.2f} GB"
    )
    cp = copy_with_cp([db, store], scratch / "cp")
    archive = scratch / "fsm.tar"
    backup = timed(fsm(f"sqlite:///{db}", "db", "backup", str(archive)))
    into = f"sqlite:///{scratch / 'restored' / 'fsm.db'}"
    restore = timed(fsm(into, "db", "restore", str(archive), "--into", into))
    cp_archive = copy_with_cp([archive], scratch / "cp-archive")
    print(
        f"  {'cp -r + sync of the files (reference)':<38}{cp:7.1f} s  {total / cp / 1e6:6.0f} MB/s"
    )
    report("fsm db backup", backup, cp, total, "<= 60 s")
    report("fsm db restore --into sqlite", restore, cp, total, "<= 120 s")
    print(
        f"  {'(cp + sync of the archive itself)':<38}{cp_archive:7.1f} s"
        f"  archive {archive.stat().st_size / 1e9:.2f} GB"
    )
    for path in (archive, scratch / "cp", scratch / "cp-archive", scratch / "restored"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return cp


def measure_pg(folder: Path, scratch: Path, server: str, cp: float) -> None:
    """The same company copied into PostgreSQL (`fsm db copy`, not measured), backed up
    (pg_dump) and restored (pg_restore); the reference is cp of its SQLite files."""
    db = folder / "fsm.db"
    env = dict(os.environ, FSM_DATA_DIR=str(scratch / "pgdata"))
    with scratch_database(server, "fsm_bench_backup") as source:
        started = time.perf_counter()
        timed(fsm(f"sqlite:///{db}", "db", "copy", "--to", source), env)
        copied = time.perf_counter() - started
        print(f"PostgreSQL: the same company, copied in with fsm db copy in {copied:.0f} s")
        archive = scratch / "pg.tar"
        backup = timed(fsm(source, "db", "backup", str(archive)), env)
        with scratch_database(server, "fsm_bench_restored") as into:
            restore = timed(fsm(into, "db", "restore", str(archive), "--into", into), env)
    size = archive.stat().st_size
    print(f"  archive {size / 1e9:.2f} GB (pg_dump -Fc and the attachments)")
    report("fsm db backup (pg_dump)", backup, cp, size, "<= 60 s")
    report("fsm db restore (pg_restore)", restore, cp, size, "<= 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--attachments-mb", type=int, default=1024)
    parser.add_argument("--cache", help="folder for the built databases (default: temp)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--pg", help="PostgreSQL server URL (scratch databases are made)")
    args = parser.parse_args()
    compile_bytecode("fsm_core", "fsm_cli")  # as an install has it (see common.py)
    folder = cached(args)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=folder.parent))
    try:
        cp = measure_sqlite(folder, scratch)
        if args.pg:
            measure_pg(folder, scratch, args.pg, cp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
