"""How fast does the notification sender deliver, against what the gateway itself takes?

Queues N notifications (default 10,000) for the SMS channel (Apprise ``json://``) and has
the sender (:func:`fsm_core.services.notify.deliver`) deliver them to the HTTP stand-in
gateway of the tests (tests/notify_standin.py), run in a process of its own, which fails
30 % of the calls on purpose (500s; ``--hang-share`` adds time-outs). The sender's retries
fall due 1, 5, 30… minutes later: the benchmark's clock jumps to the next retry instead of
waiting for it, so the wall time is the sender's work only.

In the same run, the reference: the stand-in's own throughput for plain requests (GET,
no work, over connections kept alive as the sender keeps them) from as many client threads
as the sender uses — the floor — and, for comparison, with a new connection each (as
Apprise's json:// plugin makes them). Prints the rates and their ratio, and checks that
every message arrived exactly once (none lost, none doubled) and every row is marked sent.
Figures only; nothing here asserts a time.

    python bench/notify.py                    # 10,000 on SQLite in a temporary folder
    python bench/notify.py --count 2000       # quicker
    python bench/notify.py --db postgresql+psycopg://postgres@127.0.0.1/fsm_bench
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # noon in Moscow: not quiet hours


def _gateway(fail: float, hang: float, hang_for: float, pipe: Any) -> None:
    from tests.notify_standin import Gateway

    with Gateway(fail_share=fail, hang_share=hang, hang=hang_for) as gateway:
        pipe.send(gateway.port)
        while True:
            command = pipe.recv()
            if command == "stats":
                with gateway._lock:
                    pipe.send(
                        {
                            "keys": [a.key for a in gateway.accepted],
                            "calls": gateway.calls,
                            "failures": gateway.failures,
                            "hangs": gateway.hangs,
                            "plain": gateway.plain,
                            "failed": dict(gateway._failed),
                            "cpu": time.process_time(),
                        }
                    )
            elif command == "stop":
                return


def plain_rate(port: int, count: int, workers: int, *, keep_alive: bool) -> float:
    """Requests per second the stand-in answers: GET, no work, from ``workers`` threads —
    each with a connection kept alive (urllib3, as the sender's json:// gateway client), or
    a new connection each (requests.get, as Apprise's plugin makes them)."""
    import requests
    import urllib3

    url = f"http://127.0.0.1:{port}/"
    left = iter(range(count))
    lock = threading.Lock()

    def client() -> None:
        pool = urllib3.PoolManager(maxsize=1)
        while True:
            with lock:
                if next(left, None) is None:
                    return
            if keep_alive:
                pool.request("GET", url, timeout=10)
            else:
                requests.get(url, timeout=10)

    threads = [threading.Thread(target=client) for _ in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count / (time.perf_counter() - start)


def queue_rows(db: Any, count: int, port: int) -> None:
    """A customer, a contact, a few orders and ``count`` queued notifications for them."""
    from sqlalchemy import insert

    from fsm_core import clock
    from fsm_core.models.customer import Notification
    from fsm_core.services import orders, parties, settings
    from fsm_core.services.notify.outbox import make_key

    with clock.frozen(NOW), db.transaction() as s:
        settings.set_values(
            session=s,
            values={
                "notify_apprise_url": f"json://127.0.0.1:{port}/sms/{{phone}}?rto=5&cto=5",
                "notify_quiet_hours": "",
            },
        )
        company = parties.create_company(session=s, data={"name": "ООО «Бенч»"})
        contact = parties.create_contact(
            session=s,
            data={"company_id": company.id, "full_name": "Смирнова О. В."},
        )
        order_ids = [
            orders.create_order(
                session=s,
                data={"customer_id": company.id, "description": f"заявка {n}"},
                actor="bench",
            ).id
            for n in range(100)
        ]
        rows = []
        for n in range(count):
            order_id = order_ids[n % len(order_ids)]
            phone = f"+7921{n:07d}"
            rows.append(
                {
                    "order_id": order_id,
                    "contact_id": contact.id,
                    "event": "received",
                    "channel": "apprise",
                    "recipient": phone,
                    "key": make_key(order_id, "received", f"b{n}", "apprise", phone),
                    "locale": "ru",
                    "payload": json.dumps(
                        {
                            "number": f"26-{n % 10000:04d}",
                            "name": "Ольга",
                            "status_url": "https://svc.example.ru/s/token",
                        }
                    ),
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": NOW,
                    "created_at": NOW,
                }
            )
        s.execute(insert(Notification), rows)


def drain(url: str, batch: int, workers: int) -> int:
    """Passes of one sender until nothing is pending, its clock jumping to the next retry;
    returns the number of passes."""
    from sqlalchemy import func, select

    from fsm_core.db import Database
    from fsm_core.models.customer import Notification
    from fsm_core.services.notify import sender

    db = Database(url)
    at, passes = NOW, 0
    while True:
        # a long claim: the senders' clocks jump apart, and none may take another's rows
        report = sender.deliver_all(
            db, now=at, limit=batch, workers=workers, lease=timedelta(days=30)
        )
        passes += 1
        with db.reader() as s:
            due = s.execute(
                select(func.min(Notification.next_attempt_at)).where(
                    Notification.state == "pending"
                )
            ).scalar_one()
        if due is None:
            db.dispose()
            return passes
        at = max(at, due)
        if not report.claimed:
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--workers", type=int, default=8, help="the sender's threads")
    parser.add_argument("--batch", type=int, default=1000, help="rows claimed per pass")
    parser.add_argument(
        "--processes", type=int, default=1, help="senders side by side, each a process"
    )
    parser.add_argument("--fail-share", type=float, default=0.30)
    parser.add_argument("--hang-share", type=float, default=0.0)
    parser.add_argument("--plain", type=int, default=5000, help="plain requests measured")
    args = parser.parse_args()

    os.environ.setdefault("FSM_DATA_DIR", tempfile.mkdtemp(prefix="fsm-bench-"))
    from fsm_core.db import Database
    from fsm_core.models.customer import Notification

    here, there = mp.Pipe()
    child = mp.get_context("spawn").Process(
        target=_gateway, args=(args.fail_share, args.hang_share, 2.0, there), daemon=True
    )
    child.start()
    port = here.recv()
    folder = tempfile.mkdtemp(prefix="fsm-bench-notify-")
    url = args.db or f"sqlite:///{folder}/bench.db"
    db = Database(url)
    db.ensure_schema()
    queue_rows(db, args.count, port)

    here.send("stats")
    cpu_gateway = here.recv()["cpu"]
    cpu = time.process_time()
    plain = plain_rate(port, args.plain, args.workers, keep_alive=True)
    cpu_plain_client = (time.process_time() - cpu) / args.plain
    here.send("stats")
    cpu_plain_gateway = (here.recv()["cpu"] - cpu_gateway) / args.plain
    plain_new = plain_rate(port, args.plain // 2, args.workers, keep_alive=False)
    here.send("stats")
    cpu_gateway = here.recv()["cpu"]

    from sqlalchemy import func, select

    cpu = time.process_time()
    start = time.perf_counter()
    if args.processes == 1:
        passes = drain(url, args.batch, args.workers)
    else:  # several senders side by side, as several `fsm notify run` would
        with mp.get_context("spawn").Pool(args.processes) as pool:
            passes = sum(pool.starmap(drain, [(url, args.batch, args.workers)] * args.processes))
    elapsed = time.perf_counter() - start
    cpu_sender = time.process_time() - cpu  # this process's only (--processes 1)

    here.send("stats")
    stats = here.recv()
    here.send("stop")
    child.join(5)
    with db.reader() as s:
        states = dict(
            s.execute(select(Notification.state, func.count()).group_by(Notification.state)).all()
        )
        lost = s.execute(
            select(Notification.key, Notification.attempts, Notification.last_error).where(
                Notification.state != "sent"
            )
        ).all()
    db.dispose()
    for key, attempts, error in lost[:10]:
        print(
            f"not sent: {key} after {attempts} attempts ({error}); the gateway refused it "
            f"{stats['failed'].get(key, 0)} times"
        )
    keys = Counter(stats["keys"])
    doubled = sum(1 for n in keys.values() if n > 1)
    delivered = len(keys)
    rate = delivered / elapsed
    print(
        f"database: {db.engine.dialect.name}; {args.count} notifications, "
        f"{args.processes} sender process(es) of {args.workers} threads, gateway failing "
        f"{args.fail_share:.0%} "
        f"(+{args.hang_share:.0%} time-outs)"
    )
    print(
        f"gateway calls: {stats['calls']} ({stats['failures']} failed on purpose, "
        f"{stats['hangs']} hung); sender passes: {passes}"
    )
    print(
        f"rows: {states}; delivered: {delivered}; lost: {args.count - delivered}; "
        f"doubled: {doubled}"
    )
    print(f"stand-in, plain requests:      {plain:8.0f} /s  (the floor: kept-alive connections)")
    print(f"  with a new connection each:  {plain_new:8.0f} /s  (as Apprise's json:// plugin)")
    print(f"sender, messages delivered:    {rate:8.0f} /s  ({elapsed:.1f} s wall)")
    print(f"sender, calls made:            {stats['calls'] / elapsed:8.0f} /s")
    print(f"ratio delivered / plain:       {rate / plain:8.2f}")
    calls = stats["calls"]
    if args.processes == 1:  # the senders' own CPU is in their processes otherwise
        print(
            f"CPU per call: sender {cpu_sender / calls * 1000:.2f} ms (a plain request's client "
            f"{cpu_plain_client * 1000:.2f} ms); "
            f"stand-in {(stats['cpu'] - cpu_gateway) / calls * 1000:.2f}"
            f" ms (a plain request {cpu_plain_gateway * 1000:.2f} ms)"
        )


if __name__ == "__main__":
    main()
