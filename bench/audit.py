"""What the audit trail costs a dispatcher's action.

Builds a database with the demo company (SQLite; with --pg also a scratch PostgreSQL
one), then times the same actions — create an order, assign it, move it on, change its
description, each in its own transaction as the front ends run them — with the trail
switched off (the reference: its session hooks removed and its writer a no-op) and on,
alternating the two several times in this one invocation, and prints the median seconds
per action and the ratio on / off.

    python bench/audit.py [--actions 200] [--rounds 3] [--pg postgresql+psycopg://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, scratch_database


@contextmanager
def trail_off() -> Iterator[None]:
    """The trail as if it were not there: no session hooks, no rows written."""
    from sqlalchemy import event

    from fsm_core import audit

    hooks = [
        ("after_flush", audit._watch),
        ("before_commit", audit._write),
        ("after_soft_rollback", audit._forget),
        ("after_transaction_end", audit._ended),
    ]
    for name, fn in hooks:
        event.remove(audit.AuditedSession, name, fn)
    real_record = audit.record
    audit.record = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        audit.record = real_record
        for name, fn in hooks:
            event.listen(audit.AuditedSession, name, fn)


def actions(url: str, count: int) -> float:
    """Seconds per action for ``count`` actions (a quarter each of create, assign, move
    and update), each its own transaction."""
    from sqlmodel import select

    from fsm_core.db import Database
    from fsm_core.models import Employee, ServiceObject
    from fsm_core.services import orders

    db = Database(url)
    with db.reader() as s:
        objects = [(o.id, o.customer_id) for o in s.exec(select(ServiceObject)).all()][:10]
        employees = [e.id for e in s.exec(select(Employee)).all() if e.active]
    started = time.perf_counter()
    order_id = 0
    for i in range(count):
        with db.transaction() as s:
            step = i % 4
            if step == 0:
                object_id, customer_id = objects[i % len(objects)]
                order_id = orders.create_order(
                    session=s,
                    data={
                        "customer_id": customer_id,
                        "object_id": object_id,
                        "description": f"Не работает, звонок {i}",
                    },
                    actor="bench",
                ).id
            elif step == 1:
                orders.assign_order(
                    session=s,
                    order_id=order_id,
                    actor="bench",
                    assignee_id=employees[i % len(employees)],
                )
            elif step == 2:
                orders.move_order(session=s, order_id=order_id, stage="en_route", actor="bench")
            else:
                orders.update_order(
                    session=s,
                    order_id=order_id,
                    data={"description": f"Течёт, звонок {i}"},
                    actor="bench",
                )
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds / count


def prepare(url: str) -> None:
    from fsm_core.db import Database
    from fsm_core.demo import load_demo

    db = Database(url)
    with db.transaction() as s:
        load_demo(session=s)
    db.dispose()


def compare(label: str, url: str, args: argparse.Namespace) -> None:
    prepare(url)
    actions(url, 20)  # warm: imports, caches, the first statements prepared
    off: list[float] = []
    on: list[float] = []
    for _ in range(args.rounds):
        with trail_off():
            off.append(actions(url, args.actions))
        on.append(actions(url, args.actions))
    ref, measured = statistics.median(off), statistics.median(on)
    print(
        f"  {label:10} trail off {ref * 1000:7.2f} ms/action   on {measured * 1000:7.2f} "
        f"ms/action   ratio on/off {measured / ref:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(
        f"{args.actions} actions (create, assign, move, update) x {args.rounds} rounds, "
        "the trail off and on in turn; medians"
    )
    with tempfile.TemporaryDirectory() as tmp:
        compare("SQLite", f"sqlite:///{Path(tmp) / 'fsm.db'}", args)
    if args.pg:
        with scratch_database(args.pg, "fsm_bench_audit") as url:
            compare("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
