"""How long does a month's employee report with ranks take on a large company's database?

Builds (once; kept in the temporary folder between runs, and on PostgreSQL as a database
that later runs reuse) a database of 25 employees, 100,000 orders over a year, 300,000
work entries with their executors, 1,000,000 history rows, ratings and materials, with
bulk inserts (executemany on SQLite, COPY on PostgreSQL: the fixture, not the thing
measured). Then times, interleaved run by run so that the machine's noise hits both alike:

  report:  fsm_core.services.analytics.employee_report for one month (every metric, ranks)
  floor:   SELECT assignee_id, count(*) FROM orders WHERE resolved_at in the month
           GROUP BY assignee_id   (the bare SQL aggregation of closed orders per employee)

and prints the median of each and their ratio, with the report's CPU time in this process
(on SQLite that is the query's work; on PostgreSQL the server's is not in it) and the
machine's load, which on a shared machine says how far to trust the wall times. Goal: the
report <= 300 ms.

    python bench/report.py                       # SQLite
    python bench/report.py --pg postgresql+psycopg://postgres@127.0.0.1/postgres
    python bench/report.py --fresh               # build the data again
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fsm_core.migrations import HEAD as _HEAD

VERSION = "2"  # change when the generated data changes (the schema's revision is below)
EMPLOYEES = 25
ORDERS = 100_000
WORK_PER_ORDER = 3
HISTORY_PER_ORDER = 10
START = datetime(2025, 12, 1, tzinfo=UTC)
DAYS = 365
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
# the schema's revision is part of the name: a cache made at an older one is refused
# by a newer fsm, and helpers on other branches may share the directory
SQLITE_FILE = Path(tempfile.gettempdir()) / f"fsm-bench-report-v{VERSION}-s{_HEAD}.db"
PG_NAME = f"fsm_bench_report_v{VERSION}_s{_HEAD}"

STAGE_PATH = ["new", "assigned", "en_route", "in_progress", "on_hold", "in_progress", "done"]


def generate() -> dict[str, list[tuple]]:
    """The rows, the same every time (a seeded generator)."""
    rng = random.Random(20)
    now = START + timedelta(days=DAYS)
    rows: dict[str, list[tuple]] = {k: [] for k in ("orders", "history", "work", "exec", "rating")}
    entry_id = history_id = 0
    for order_id in range(1, ORDERS + 1):
        created = START + timedelta(seconds=rng.randrange(DAYS * 86400 - 7 * 86400))
        assignee = rng.randrange(1, EMPLOYEES + 1) if rng.random() < 0.97 else None
        crew = 1 if assignee is None else None
        criticality = rng.choice(("low", "normal", "normal", "normal", "high", "critical"))
        reacted = created + timedelta(minutes=rng.randrange(5, 240))
        resolved = reacted + timedelta(minutes=rng.randrange(30, 5 * 24 * 60))
        finished = resolved < now and rng.random() < 0.9
        cancelled = not finished and rng.random() < 0.1
        stage = (
            ("closed" if rng.random() < 0.8 else "done")
            if finished
            else ("cancelled" if cancelled else rng.choice(("new", "assigned", "in_progress")))
        )
        reaction_due = created + timedelta(hours=rng.choice((1, 2, 4)))
        resolution_due = created + timedelta(hours=rng.choice((24, 48, 72)))
        rows["orders"].append(
            (
                order_id,
                f"B-{order_id:06d}",
                1 + order_id % 20,
                1 + order_id % 500,
                "Не работает",
                criticality,
                stage,
                assignee,
                crew,
                reaction_due,
                resolution_due,
                reacted if stage not in ("new", "cancelled") else None,
                resolved if finished else None,
                resolved + timedelta(hours=4)
                if stage == "closed"
                else (created + timedelta(hours=2) if cancelled else None),
                created,
                created,
            )
        )
        # history: the creation, then stage changes along the path (ten rows an order)
        history_id += 1
        rows["history"].append((history_id, order_id, created, "create", None, None, None))
        at = created
        previous = "new"
        for step in range(1, HISTORY_PER_ORDER):
            at += timedelta(minutes=rng.randrange(5, 600))
            target = STAGE_PATH[step % len(STAGE_PATH)]
            history_id += 1
            rows["history"].append((history_id, order_id, at, "stage", "stage", previous, target))
            previous = target
        # work: three entries an order, most by the assignee, some with a second executor
        for _ in range(WORK_PER_ORDER):
            entry_id += 1
            started = reacted + timedelta(minutes=rng.randrange(0, 3000))
            minutes = rng.randrange(30, 300)
            finished_at = started + timedelta(minutes=minutes)
            rows["work"].append(
                (entry_id, order_id, 1, "Диагностика", "усл.", 1000, 150000, "both", started,
                 finished_at, finished_at)
            )  # fmt: skip
            first = assignee or rng.randrange(1, EMPLOYEES + 1)
            rows["exec"].append((entry_id, first, minutes * 1000 // 60, 175000))
            if rng.random() < 0.2:
                second = 1 + first % EMPLOYEES
                rows["exec"].append((entry_id, second, minutes * 1000 // 60, 150000))
        if finished and rng.random() < 0.3:
            scores = [rng.choice((3, 4, 4, 5, 5, 5)) for _ in range(3)]
            rows["rating"].append((order_id, *scores, resolved + timedelta(days=1)))
    return rows


def _fixed(db_url: str) -> None:
    """The small tables, through the product's own schema and types."""
    from sqlalchemy import insert

    from fsm_core.db import Database
    from fsm_core.models import Company, Crew, Employee, ServiceObject, WorkType

    db = Database(db_url)
    db.upgrade()
    t0 = START - timedelta(days=30)
    with db.transaction() as s:
        s.execute(
            insert(Company),
            [{"id": i, "name": f"Заказчик {i}", "created_at": t0} for i in range(1, 21)],
        )
        s.execute(
            insert(ServiceObject),
            [
                {
                    "id": i,
                    "customer_id": 1 + i % 20,
                    "name": f"Объект {i}",
                    "kind": "equipment",
                    "passport_token": f"bench-{i}",
                    "active": True,
                    "created_at": t0,
                }
                for i in range(1, 501)
            ],
        )
        s.execute(
            insert(Employee),
            [
                {
                    "id": i,
                    "full_name": f"Техник{i} Иван Петрович",
                    "short_name": f"Техник{i} И. П.",
                    "skills": [],
                    "active": True,
                    "created_at": t0,
                }
                for i in range(1, EMPLOYEES + 1)
            ],
        )
        s.execute(insert(Crew), [{"id": 1, "name": "Бригада", "active": True, "created_at": t0}])
        s.execute(
            insert(WorkType),
            [{"id": 1, "name": "Диагностика", "price": 1500, "unit": "усл.", "charge": "both",
              "active": True, "created_at": t0}],
        )  # fmt: skip
    db.dispose()


ORDER_COLUMNS = (
    "id, number, customer_id, object_id, description, criticality, stage_code, assignee_id, "
    "crew_id, reaction_due, resolution_due, reacted_at, resolved_at, closed_at, created_at, "
    "updated_at"
)
CONSTANT_ORDER = {"source": "manual", "created_by": "bench", "version": 1,
                  "reaction_manual": False, "resolution_manual": False}  # fmt: skip
TABLES = {
    # key: (table, columns, constants added to every row)
    "orders": ("orders", ORDER_COLUMNS, CONSTANT_ORDER),
    "history": ("order_history", "id, order_id, at, action, field, old_value, new_value",
                {"actor": "bench"}),
    "work": ("work_entry", "id, order_id, work_type_id, work_type_name, unit, quantity, price, "
             "charge, started_at, finished_at, created_at", {"created_by": "bench"}),
    "exec": ("work_executor", "work_entry_id, employee_id, hours, hourly_rate",
             {"employee_name": "Техник"}),
    "rating": ("order_rating", "order_id, promptness, accuracy, communication, rated_at", {}),
}  # fmt: skip


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


def build_sqlite(path: Path) -> None:
    partial = path.with_suffix(".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    _fixed(f"sqlite:///{partial}")
    data = generate()
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA foreign_keys = OFF")
    with conn:
        for key, (table, columns, constants) in TABLES.items():
            names = [c.strip() for c in columns.split(",")] + list(constants)
            marks = ", ".join("?" for _ in names)
            extra = tuple(constants.values())
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                (tuple(_sqlite_value(v) for v in row) + extra for row in data[key]),
            )
        conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.replace(partial, path)


def build_pg(server: str, fresh: bool) -> str:
    """The benchmark's database on the server (made once, reused while it is whole)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(server).set(drivername="postgresql+psycopg")
    url = base.set(database=PG_NAME).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %s", (PG_NAME,)
        ).scalar()
        if exists and not fresh:
            target = create_engine(url)
            with target.connect() as c:
                done = c.exec_driver_sql(
                    "SELECT value FROM setting WHERE key = 'bench_report'"
                ).scalar()
            target.dispose()
            if done == VERSION:
                admin.dispose()
                return url
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{PG_NAME}"')
    admin.dispose()
    _fixed(url)
    data = generate()
    import psycopg

    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False)) as conn:  # fmt: skip
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # no FK checks while copying
            for key, (table, columns, constants) in TABLES.items():
                names = [c.strip() for c in columns.split(",")] + list(constants)
                extra = tuple(constants.values())
                with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in data[key]:
                        copy.write_row(row + extra)
            for table, column in (("orders", "id"), ("order_history", "id"), ("work_entry", "id")):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT max({column}) FROM {table}))"
                )
            cur.execute("INSERT INTO setting (key, value) VALUES ('bench_report', %s)", (VERSION,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return url


def measure(url: str, repeat: int) -> tuple[float, float, float, int]:
    from sqlalchemy import text

    from fsm_core.db import Database
    from fsm_core.services import analytics
    from fsm_core.timeparse import zone

    db = Database(url)
    from fsm_core.migrations import HEAD

    if db.current_revision() != HEAD:
        db.upgrade()  # a database built by an older fsm gets the newer indexes
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    period = analytics.Period(*MONTH, zone("Europe/Moscow"))
    floor_sql = text(
        "SELECT assignee_id, count(*) FROM orders WHERE resolved_at >= :a AND resolved_at < :b "
        "GROUP BY assignee_id"
    )
    sqlite = url.startswith("sqlite")

    def moment(value: datetime) -> object:
        return _sqlite_value(value) if sqlite else value

    reports, floors, cpu = [], [], []
    with db.reader() as s:
        report = analytics.employee_report(session=s, period=period)  # warm the caches
        for _ in range(repeat):
            started, used = time.perf_counter(), time.process_time()
            report = analytics.employee_report(session=s, period=period)
            reports.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            started = time.perf_counter()
            s.execute(floor_sql, {"a": moment(period.start), "b": moment(period.end)}).all()
            floors.append(time.perf_counter() - started)
    db.dispose()
    assert report.ranked_of == EMPLOYEES
    return (
        statistics.median(reports),
        statistics.median(floors),
        statistics.median(cpu),
        report.company_closed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server's URL: measure there too")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--fresh", action="store_true", help="build the data again")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("FSM_DATA_DIR", tempfile.mkdtemp(prefix="fsm-bench-"))
    targets = []
    if not args.no_sqlite:
        if args.fresh or not SQLITE_FILE.exists():
            started = time.perf_counter()
            build_sqlite(SQLITE_FILE)
            print(f"built {SQLITE_FILE} in {time.perf_counter() - started:.1f} s")
        targets.append(("SQLite", f"sqlite:///{SQLITE_FILE}"))
    if args.pg:
        started = time.perf_counter()
        url = build_pg(args.pg, args.fresh)
        print(f"PostgreSQL database {PG_NAME} ready in {time.perf_counter() - started:.1f} s")
        targets.append(("PostgreSQL", url))
    print(
        f"{EMPLOYEES} employees, {ORDERS:,} orders, {ORDERS * WORK_PER_ORDER:,} work entries, "
        f"{ORDERS * HISTORY_PER_ORDER:,} history rows; month {MONTH[0]:%d.%m.%Y}–"
        f"{MONTH[1]:%d.%m.%Y}, median of {args.repeat}"
    )
    for name, url in targets:
        report, floor, cpu, closed = measure(url, args.repeat)
        verdict = "ok" if report <= 0.3 else "over the 300 ms goal"
        print(
            f"{name:<11} report {report * 1000:7.1f} ms (this process's CPU {cpu * 1000:6.1f} "
            f"ms)   bare SQL {floor * 1000:6.1f} ms   ratio {report / floor:5.1f}   "
            f"({closed:,} closed in the month; {verdict})"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
