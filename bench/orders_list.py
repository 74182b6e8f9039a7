"""How much does `fsm orders list --json` cost beyond importing its own libraries?

Builds a database of 100,000 orders (on SQLite, and on PostgreSQL when --pg URL is given),
then times, interleaved run by run so that the machine's noise hits both alike:

  command:  fsm orders list --json --stage in_progress --assignee "<one technician>" -n 50
  floor:    python -c "import sqlmodel, typer, rich"

and prints the median and best wall time of each and their ratio (goal: <= 1.3). On
PostgreSQL it also times the floor plus the driver and its SQLAlchemy dialect
(``import psycopg, sqlalchemy.dialects.postgresql.psycopg``), which any command on that
back-end must import and the plain floor leaves out, and prints the ratio to that too.

    python bench/orders_list.py                    # SQLite only
    python bench/orders_list.py --pg postgresql+psycopg://postgres@127.0.0.1/test

The 100,000 orders are written with one bulk insert per table (the fixture, not the thing
measured); the demo data set provides customers, objects and employees.

The project's own modules are compiled to bytecode first, as an install has them
(``common.compile_bytecode``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

from common import ROOT, compile_bytecode, scratch_database

PYTHON = sys.executable
FSM = [PYTHON, "-m", "fsm_cli"]
FLOOR = [PYTHON, "-c", "import sqlmodel, typer, rich"]
PG_FLOOR = [
    PYTHON,
    "-c",
    "import sqlmodel, typer, rich, psycopg, sqlalchemy.dialects.postgresql.psycopg",
]


def build(url: str, n_orders: int) -> str:
    """Fill the database at ``url`` with the demo set plus ``n_orders`` orders; returns
    the short name of the technician the benchmark filters on."""
    from sqlalchemy import insert, text
    from sqlmodel import select

    from fsm_core import clock
    from fsm_core.db import Database
    from fsm_core.demo import load_demo
    from fsm_core.models import Employee, Order
    from fsm_core.services import sla
    from fsm_core.services.settings import load as load_settings

    db = Database(url)
    with db.transaction() as session:
        load_demo(session=session)
    rng = random.Random(7)
    with db.transaction() as session:
        objects = session.exec(text("SELECT id, customer_id FROM service_object")).all()
        employees = list(session.exec(select(Employee.id)).all())
        risk = load_settings(session=session).sla_risk_share
        policies = {
            c: sla.policy_for(session=session, customer_id=0, criticality=c)
            for c in ("low", "normal", "high", "critical")
        }
        now = clock.now()
        stages = ["new", "assigned", "en_route", "in_progress", "on_hold", "done", "closed"]
        weights = [5, 5, 3, 8, 3, 10, 66]
        batch = []
        for i in range(n_orders):
            object_id, customer_id = rng.choice(objects)
            created = now - timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))
            crit = rng.choices(list(policies), [10, 60, 25, 5])[0]
            stage = rng.choices(stages, weights)[0]
            deadlines = sla.compute_deadlines(
                created_at=created, policy=policies[crit], risk_share=risk
            )
            done = stage in ("done", "closed")
            batch.append(
                {
                    "number": f"B{i:07d}",
                    "customer_id": customer_id,
                    "object_id": object_id,
                    "description": f"Заявка {i}: не работает кондиционер, течёт вода",
                    "criticality": crit,
                    "stage_code": stage,
                    "assignee_id": None if stage == "new" else rng.choice(employees),
                    "reaction_due": deadlines.reaction_due,
                    "resolution_due": deadlines.resolution_due,
                    "sla_at_risk_at": deadlines.at_risk_at,
                    "reaction_manual": False,
                    "resolution_manual": False,
                    "reacted_at": None if stage == "new" else created + timedelta(minutes=30),
                    "resolved_at": created + timedelta(hours=20) if done else None,
                    "closed_at": created + timedelta(hours=30) if stage == "closed" else None,
                    "created_at": created,
                    "updated_at": created,
                    "source": "import",
                    "created_by": "bench",
                    "version": 1,
                }
            )
            if len(batch) == 5000:
                session.execute(insert(Order), batch)
                batch = []
        if batch:
            session.execute(insert(Order), batch)
        if db.is_sqlite:
            session.execute(text("ANALYZE"))
        technician = session.get(Employee, employees[0]).short_name
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE orders"
            )
    db.dispose()
    return technician


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr.decode()}")
    return elapsed


def measure(label: str, url: str, technician: str, runs: int, *, pg: bool = False) -> None:
    env = dict(os.environ, FSM_DATABASE_URL=url)
    command = [
        *FSM,
        "orders",
        "list",
        "--json",
        "--stage",
        "in_progress",
        "--assignee",
        technician,
        "-n",
        "50",
    ]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    rows = out.count('"number"')
    references = {"import sqlmodel, typer, rich": FLOOR}
    if pg:
        references["... + psycopg and its dialect"] = PG_FLOOR
    for _ in range(2):  # warm the OS caches
        timed(command, env)
        for reference in references.values():
            timed(reference, env)
    cmd_times: list[float] = []
    ref_times: dict[str, list[float]] = {name: [] for name in references}
    for _ in range(runs):  # interleaved: the machine's noise hits all alike
        for name, reference in references.items():
            ref_times[name].append(timed(reference, env))
        cmd_times.append(timed(command, env))
    c_med, c_min = statistics.median(cmd_times), min(cmd_times)

    def line(name: str, med: float, best: float) -> None:
        print(f"  {name:32s} median {med * 1000:7.1f} ms   best {best * 1000:7.1f} ms")

    print(f"{label}: {rows} rows returned")
    line("fsm orders list --json ...", c_med, c_min)
    for name, times in ref_times.items():
        f_med, f_min = statistics.median(times), min(times)
        line(name, f_med, f_min)
        print(
            f"    ratio to it: median {c_med / f_med:.2f}   best {c_min / f_min:.2f}   goal <= 1.3"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--pg",
        help="PostgreSQL server URL to also measure (a scratch "
        "database is created there and dropped afterwards)",
    )
    args = parser.parse_args()
    compile_bytecode("fsm_core", "fsm_cli")

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        start = time.perf_counter()
        technician = build(url, args.orders)
        print(f"SQLite: built {args.orders} orders in {time.perf_counter() - start:.1f} s")
        measure("SQLite", url, technician, args.runs)

    if args.pg:
        with scratch_database(args.pg, "fsm_bench") as url:
            start = time.perf_counter()
            technician = build(url, args.orders)
            print(f"PostgreSQL: built {args.orders} orders in {time.perf_counter() - start:.1f} s")
            measure("PostgreSQL", url, technician, args.runs, pg=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
