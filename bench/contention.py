"""Twenty dispatchers at once on one SQLite file, with and without a large import running.

Builds an SQLite database with the demo company, then, in one invocation:

  reference:  P processes (default 20) each do A mixed actions (default 50) as fast as a
              dispatcher would (a random pause of up to --think seconds between actions):
              create an order, assign it, move it on, write in its chat — a quarter each,
              every process on its own orders, so any failure is a failure of concurrency;
  import:     the same processes work while `fsm import orders FILE` loads N rows
              (default 200,000) into the same file; each process keeps on (at least A
              actions) until the import has finished, so the import's whole run — its
              last, publishing moment included — is measured.

For each run it prints the actions done and failed (with the first errors), and p50 / p95 /
max of two latencies measured in the working processes:

  wait:   from the start of the action until its transaction holds the write lock
          (SQLite's BEGIN IMMEDIATE): how long another writer made it wait;
  total:  from the start of the action until its commit returned.

Goal (issue 15): 0 failures, and the import never delays another writer by more than 2 s:
of each action's wait for the write lock, the part during which the import held it (its
write turns, its publishing, its search-index transactions) is at most 2 s. The rest of a
wait is spent behind the other dispatchers, which the reference run (no import) shows.
Nothing is asserted: the figures are printed. The processes share the machine's cores
with the import, so "total" also shows plain CPU contention.

    python bench/contention.py                                  # 20 x 50, 200,000 rows
    python bench/contention.py --procs 10 --actions 20 --rows 20000 --think 0.2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from common import ROOT, compile_bytecode
from import_orders import fsm_env, make_csv, prepare

ACTIONS = ("create", "assign", "move", "chat")

# `fsm import` as the user runs it, noting when it publishes what it held back (from its
# write lock to its commit) and, where it indexes its orders for the search after the
# commit (in short transactions of their own), until when; an fsm without that phase
# holds the lock throughout
_IMPORT = """
import json, sys, time
window = sys.argv[1]
try:
    from fsm_core.bulk import Staging
except ImportError:
    Staging = None
try:
    from fsm_core import search_index
except ImportError:
    search_index = None
if Staging is not None:
    real_publish, real_close = Staging.publish, Staging.close
    began, committed = [], []

    def publish(self):
        began.append(time.time())
        return real_publish(self)

    def close(self):
        real_close(self)
        if began:
            now = time.time()
            with open(window, "w") as fh:
                json.dump([began[0], committed[0] if committed else now, now], fh)

    Staging.publish, Staging.close = publish, close
    turns = []
    real_turn = getattr(Staging, "write_turn", None)
    if real_turn is not None:  # an fsm whose import writes its orders ahead (SQLite)

        def write_turn(self, write):
            began_turn = time.time()
            try:
                return real_turn(self, write)
            finally:
                turns.append(
                    [time.time() - began_turn, self.held[-1] if self.held else 0.0, began_turn]
                )
                with open(window + ".turns", "w") as fh:
                    json.dump(turns, fh)

        Staging.write_turn = write_turn
if search_index is not None:
    real_catch_up = search_index.catch_up

    def catch_up(*args, **kwargs):
        committed.append(time.time())
        return real_catch_up(*args, **kwargs)

    search_index.catch_up = catch_up
    real_chunk = getattr(search_index, "index_chunk", None)
    if real_chunk is not None:  # when each of its indexing transactions held the lock
        chunks = []

        def index_chunk(raw, **kwargs):
            real_begin = raw.execute

            def execute(sql, *args):
                result = real_begin(sql, *args)
                if sql.startswith("BEGIN"):
                    chunks.append([time.time(), None])
                elif sql == "COMMIT" or sql == "ROLLBACK":
                    chunks[-1][1] = time.time()
                return result

            try:
                return real_chunk(_Watched(raw, execute), **kwargs)
            finally:
                with open(window + ".chunks", "w") as fh:
                    json.dump(chunks, fh)

        class _Watched:
            def __init__(self, raw, execute):
                self._raw, self.execute = raw, execute

            def __getattr__(self, name):
                return getattr(self._raw, name)

        search_index.index_chunk = index_chunk
from fsm_cli.launch import main
sys.argv = ["fsm", *sys.argv[2:]]
main()
"""


# --- one dispatcher (a worker process) --------------------------------------------------


def worker(args: argparse.Namespace) -> None:
    """Do ``args.actions`` actions (and more while ``args.until`` exists); write the
    timings to ``args.out`` as JSON lines."""
    sys.path.insert(0, str(ROOT))
    from sqlmodel import select

    from fsm_core.db import Database
    from fsm_core.identity import establish
    from fsm_core.models import AppUser, Employee, ServiceObject
    from fsm_core.services import chat, orders

    rng = random.Random(args.index)
    database = Database(args.worker, identify=establish)  # who runs it, as `fsm` would
    with database.reader() as session:
        objects = [(o.id, o.customer_id) for o in session.exec(select(ServiceObject)).all()]
        employees = [e.id for e in session.exec(select(Employee)).all() if e.active]
        user = session.get(AppUser, database.principal.user_id)
        session.expunge(user)
    actor = f"dispatcher-{args.index}"
    state: dict[str, int] = {}

    def act(kind: str, session) -> None:
        if kind == "create":
            object_id, customer_id = rng.choice(objects)
            order = orders.create_order(
                session=session,
                data={
                    "customer_id": customer_id,
                    "object_id": object_id,
                    "description": f"Не работает, звонок {args.index}-{rng.randint(0, 10**6)}",
                },
                actor=actor,
            )
            state["order"] = order.id
        elif kind == "assign":
            orders.assign_order(
                session=session,
                order_id=state["order"],
                actor=actor,
                assignee_id=rng.choice(employees),
            )
        elif kind == "move":
            orders.move_order(
                session=session, order_id=state["order"], stage="en_route", actor=actor
            )
        else:
            chat.send_message(
                session=session,
                order_id=state["order"],
                user=user,
                text=f"Выезжаю, буду через {rng.randint(10, 90)} минут",
            )

    while time.time() < args.start:
        time.sleep(0.005)
    done = 0
    with open(args.out, "w", encoding="utf-8") as out:
        while done < args.actions or (args.until and os.path.exists(args.until)):
            kind = ACTIONS[done % len(ACTIONS)]
            time.sleep(rng.uniform(0, args.think))
            started = time.perf_counter()
            locked = None
            error = None
            try:
                with database.transaction() as session:
                    session.connection()  # the write lock (BEGIN IMMEDIATE) is held from here
                    locked = time.perf_counter()
                    act(kind, session)
            except Exception as exc:
                error = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0]
            finished = time.perf_counter()
            record = {
                "kind": kind,
                "at": time.time() - (finished - started),  # when the action began
                "wait": (locked or finished) - started,
                "total": finished - started,
                "error": error,
            }
            out.write(json.dumps(record) + "\n")
            done += 1
            if error:  # the order's other actions cannot follow: on to the next order
                done += -done % len(ACTIONS)
    database.dispose()


# --- the runs ---------------------------------------------------------------------------


def run_workers(
    url: str, work: Path, label: str, args: argparse.Namespace, until: Path | None = None
) -> tuple[list[subprocess.Popen[bytes]], list[Path], float]:
    start = time.time() + 2.0  # every process imported and connected before anyone acts
    outs = [work / f"{label}-{i}.jsonl" for i in range(args.procs)]
    procs = []
    for i, out in enumerate(outs):
        command = [
            sys.executable,
            __file__,
            "--worker",
            url,
            "--index",
            str(i),
            "--actions",
            str(args.actions),
            "--think",
            str(args.think),
            "--start",
            str(start),
            "--out",
            str(out),
        ]
        if until is not None:
            command += ["--until", str(until)]
        procs.append(subprocess.Popen(command, stderr=subprocess.PIPE))
    return procs, outs, start


def collect(procs: list[subprocess.Popen[bytes]], outs: list[Path]) -> list[dict]:
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            print(f"  a worker died ({proc.returncode}): {err.decode(errors='replace')[-500:]}")
    records = []
    for out in outs:
        if out.exists():
            records += [json.loads(line) for line in out.read_text().splitlines() if line]
    return records


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(title: str, records: list[dict]) -> None:
    failed = [r for r in records if r["error"]]
    print(f"{title}: {len(records)} actions, {len(failed)} failed")
    for name in ("wait", "total"):
        values = [r[name] for r in records if not r["error"]]
        print(
            f"  {name:5}  p50 {pct(values, 50):6.3f} s   p95 {pct(values, 95):6.3f} s"
            f"   max {max(values, default=float('nan')):6.3f} s"
        )
    for kind in ACTIONS:
        values = [r["total"] for r in records if r["kind"] == kind and not r["error"]]
        lost = sum(1 for r in records if r["kind"] == kind and r["error"])
        print(
            f"    {kind:6} {len(values):5} ok {lost:4} failed   total p50 "
            f"{statistics.median(values) if values else float('nan'):.3f} s"
        )
    errors: dict[str, int] = {}
    for r in failed:
        errors[r["error"]] = errors.get(r["error"], 0) + 1
    for message, count in sorted(errors.items(), key=lambda e: -e[1])[:5]:
        print(f"    {count:4} x {message[:150]}")


def count_orders(url: str) -> int:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=20)
    parser.add_argument("--actions", type=int, default=50)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--think", type=float, default=0.5, help="most seconds between actions")
    parser.add_argument("--skip-reference", action="store_true")
    # a worker process
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--until", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    compile_bytecode("fsm_core", "fsm_cli")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'fsm.db'}"
        prepare(url)
        data = work / "orders.csv"
        make_csv(data, args.rows)
        print(
            f"{args.procs} processes x {args.actions} actions (create, assign, move, chat), "
            f"up to {args.think} s between actions; import of {args.rows:,} orders "
            f"({data.stat().st_size / 1e6:.0f} MB)"
        )
        if not args.skip_reference:
            procs, outs, _ = run_workers(url, work, "reference", args)
            report("reference (no import)", collect(procs, outs))

        before = count_orders(url)
        running = work / "importing"
        running.touch()
        procs, outs, start = run_workers(url, work, "import", args, until=running)
        while time.time() < start:
            time.sleep(0.01)
        began, began_at = time.perf_counter(), time.time()
        window = work / "publishing.json"
        importing = subprocess.run(
            [sys.executable, "-c", _IMPORT, str(window), "import", "orders", str(data), "-q"],
            env=fsm_env(url),
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - began
        running.unlink()
        records = collect(procs, outs)
        report("with the import running", records)
        added = count_orders(url) - before
        made = sum(1 for r in records if r["kind"] == "create" and not r["error"])
        outcome = "ok" if importing.returncode == 0 else f"exit {importing.returncode}"
        print(
            f"  import: {outcome} in {seconds:.1f} s; orders added {added:,} "
            f"(import {added - made:,} + dispatchers {made:,})"
        )
        if importing.returncode != 0:
            print("  " + importing.stderr.strip()[-500:])
        if window.exists():
            start, end, indexed = json.loads(window.read_text())
            during = [r["wait"] for r in records if r["at"] < end and r["at"] + r["wait"] > start]
            print(
                f"  publishing (write lock to commit): {end - start:.1f} s, from "
                f"{start - began_at:.1f} s; {len(during)} actions waited meanwhile, the "
                f"longest {max(during, default=0):.1f} s"
            )
            if indexed - end > 0.05:
                after = [r["wait"] for r in records if r["at"] < indexed and r["at"] > end]
                print(
                    f"  then indexing for the search (short transactions): "
                    f"{indexed - end:.1f} s; {len(after)} actions began meanwhile, the "
                    f"longest wait {max(after, default=0):.2f} s"
                )
        turns_file = Path(str(window) + ".turns")
        if turns_file.exists():
            turns = json.loads(turns_file.read_text())
            whole, held = [t[0] for t in turns], [t[1] for t in turns]
            print(
                f"  orders written ahead in {len(turns)} short transactions: the write lock "
                f"held p50 {pct(held, 50):.3f} s, max {max(held):.3f} s; with the pause owed "
                f"to the others before it and the wait for it, p50 {pct(whole, 50):.3f} s, "
                f"max {max(whole):.3f} s"
            )
            # when the import held the lock: the end of each turn's (its commit), the
            # publishing, and its indexing transactions
            locked = [(at + took - h, at + took) for took, h, at in turns]
            if window.exists():
                start, end, _ = json.loads(window.read_text())
                locked.append((start, end))
            chunks_file = Path(str(window) + ".chunks")
            if chunks_file.exists():
                locked += [(a, b) for a, b in json.loads(chunks_file.read_text()) if b]

            def overlaps(r: dict) -> bool:
                return any(r["at"] < b and r["at"] + r["wait"] > a for a, b in locked)

            behind = [r["wait"] for r in records if not r["error"] and overlaps(r)]
            other = [r["wait"] for r in records if not r["error"] and not overlaps(r)]
            first = turns[0][2] - began_at
            early = [r["wait"] for r in records if not r["error"] and r["at"] < turns[0][2]]
            print(
                f"  actions that waited while the import held the lock: {len(behind)}, wait "
                f"p50 {pct(behind, 50):.3f} s, p95 {pct(behind, 95):.3f} s, max "
                f"{max(behind, default=0):.3f} s; the others: p95 {pct(other, 95):.3f} s, "
                f"max {max(other, default=0):.3f} s"
            )
            print(
                f"  (its first write at {first:.1f} s; before it, only reading the file, the "
                f"longest wait {max(early, default=0):.2f} s: the machine's cores, not the lock)"
            )
            # what the import itself cost each action: the part of its wait during which
            # the import held the lock (the rest it waited behind the other dispatchers)
            share = [
                sum(max(0.0, min(b, r["at"] + r["wait"]) - max(a, r["at"])) for a, b in locked)
                for r in records
                if not r["error"]
            ]
            print(
                f"  of each action's wait, the time the import held the lock (goal: at most "
                f"2 s): p50 {pct(share, 50):.3f} s, p95 {pct(share, 95):.3f} s, max "
                f"{max(share, default=0):.3f} s"
            )
        longest = sorted(records, key=lambda r: -r["wait"])[:5]
        print(
            "  longest waits (s after the import started; it ended at "
            f"{seconds:.1f}): "
            + ", ".join(f"{r['wait']:.1f} s at {r['at'] - began_at:.1f}" for r in longest)
        )


if __name__ == "__main__":
    main()
