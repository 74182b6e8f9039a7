"""How fast is the planner on a month of a busy company?

Builds a database with 25 technicians (Mon–Fri 09–18, five on 2/2 shifts, a holiday, some
leave), 300 objects around Saint Petersburg (a few without coordinates) and 2,000 visits in
December 2026, then times, interleaved run by run and against a reference measured in the
same invocation:

  week:       one technician's week (fsm plan week --employee ...: hours, visits, conflicts)
              vs  a bare SQL select of that technician's visits of the week with their orders
  conflicts:  every conflict of the month for everyone (five kinds, travel included)
              vs  a naive SQL self-join that finds only the overlapping pairs of the month
  free:       free 1-hour slots of everyone on one day
              vs  a bare SQL select of that day's visits

and prints the median of each, and the ratio to its reference. No time is asserted.

    python bench/plan.py                    # SQLite
    python bench/plan.py --pg postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import ROOT, median_seconds, scratch_database

sys.path.insert(0, str(ROOT))

TECHNICIANS = 25
VISITS = 2_000
OBJECTS = 300
MONTH = (date(2026, 12, 1), date(2026, 12, 31))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def build(url: str) -> tuple[int, date]:
    """Fill the database; returns the id of the technician whose week is timed."""
    from fsm_core import clock
    from fsm_core.bulk import insert_rows
    from fsm_core.db import Database
    from fsm_core.services import objects, orders, parties, working_time
    from fsm_core.services.orders import OrderContext
    from fsm_core.services.settings import load as load_settings

    rng = random.Random(7)
    db = Database(url)
    with clock.frozen(NOW), db.transaction() as s:
        customer = parties.create_company(session=s, data={"name": "ООО «Бенч»"})
        places = []
        for i in range(OBJECTS):
            coords = (
                {}
                if i % 50 == 0
                else {
                    "latitude": 59.85 + rng.random() * 0.2,
                    "longitude": 30.2 + rng.random() * 0.3,
                }
            )
            places.append(
                objects.create_object(
                    session=s, data={"customer_id": customer.id, "name": f"Объект {i}", **coords}
                ).id
            )
        people = []
        for i in range(TECHNICIANS):
            employee = parties.create_employee(
                session=s, data={"full_name": f"Техник{i:02d} Иван Петрович"}
            )
            pattern = "2/2 08:00-20:00 from 01.12.2026" if i % 5 == 0 else "Mon-Fri 09:00-18:00"
            working_time.set_patterns(
                session=s, employee_id=employee.id, patterns=[pattern], valid_from=date(2026, 11, 1)
            )
            people.append(employee.id)
        working_time.add_holiday(session=s, day=date(2026, 12, 31), name="Предновогодний день")
        working_time.add_time_off(
            session=s,
            employee_id=people[3],
            kind="leave",
            start=datetime(2026, 12, 14, tzinfo=UTC),
            end=datetime(2026, 12, 25, tzinfo=UTC),
            actor="bench",
        )
        ctx = OrderContext(s).preload()
        rows = [
            orders.prepare_new_order(
                ctx,
                {
                    "customer_id": customer.id,
                    "object_id": rng.choice(places),
                    "description": f"Заявка {i}",
                    "criticality": rng.choice(["low", "normal", "high"]),
                    "assignee_id": rng.choice(people),
                },
                now=NOW,
            )
            for i in range(VISITS)
        ]
        ids = orders.insert_new_orders(ctx, rows, actor="bench", now=NOW)
        tz = load_settings(session=s).tz
        visits = []
        for order_id, row in zip(ids, rows, strict=True):
            day = MONTH[0] + timedelta(days=rng.randrange(31))
            start = datetime.combine(day, datetime.min.time()).replace(tzinfo=tz) + timedelta(
                hours=rng.randint(8, 18), minutes=rng.choice([0, 15, 30, 45])
            )
            end = start + timedelta(minutes=rng.choice([60, 90, 120, 180]))
            visits.append(
                (
                    order_id,
                    row["assignee_id"],
                    start.astimezone(UTC),
                    end.astimezone(UTC),
                    "bench",
                    NOW,
                    1,
                )
            )
        insert_rows(
            s,
            "visit",
            (
                "order_id",
                "employee_id",
                "start_at",
                "end_at",
                "created_by",
                "created_at",
                "version",
            ),
            visits,
        )
    db.dispose()
    return people[1], date(2026, 12, 14)


def measure(url: str, repeat: int) -> None:
    from sqlalchemy import text

    from fsm_core import clock
    from fsm_core.db import Database
    from fsm_core.services import planning
    from fsm_core.services.settings import load as load_settings
    from fsm_core.timeparse import local_day_bounds

    person, monday = build(url)
    db = Database(url)
    with db.reader() as s:
        tz = load_settings(session=s).tz
    week = (monday, monday + timedelta(days=6))
    week_start, week_end = local_day_bounds(week[0], tz)[0], local_day_bounds(week[1], tz)[1]
    month_start, month_end = local_day_bounds(MONTH[0], tz)[0], local_day_bounds(MONTH[1], tz)[1]
    day = date(2026, 12, 15)
    day_start, day_end = local_day_bounds(day, tz)

    def week_view() -> object:
        with db.reader() as s:
            return planning.schedule(
                session=s, first_day=week[0], last_day=week[1], employee_ids=[person]
            )

    def week_sql() -> object:
        with db.engine.connect() as c:
            return c.execute(
                text(
                    "SELECT v.id, v.start_at, v.end_at, o.number, o.object_id FROM visit v "
                    "JOIN orders o ON o.id = v.order_id WHERE v.employee_id = :e "
                    "AND v.start_at < :b AND v.end_at > :a ORDER BY v.start_at"
                ),
                {"e": person, "a": _param(db, week_start), "b": _param(db, week_end)},
            ).all()

    def month_conflicts() -> object:
        with db.reader() as s:
            return planning.conflicts(session=s, start=month_start, end=month_end)

    def month_sql() -> object:
        with db.engine.connect() as c:
            return c.execute(
                text(
                    "SELECT a.id, b.id FROM visit a JOIN visit b ON a.employee_id = b.employee_id "
                    "AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at "
                    "WHERE a.start_at < :b AND a.end_at > :a"
                ),
                {"a": _param(db, month_start), "b": _param(db, month_end)},
            ).all()

    def free() -> object:
        with db.reader() as s:
            return planning.free_slots(session=s, day=day, minutes=60)

    def free_sql() -> object:
        with db.engine.connect() as c:
            return c.execute(
                text(
                    "SELECT id, employee_id, start_at, end_at FROM visit "
                    "WHERE start_at < :b AND end_at > :a"
                ),
                {"a": _param(db, day_start), "b": _param(db, day_end)},
            ).all()

    with clock.frozen(NOW):
        found = month_conflicts()
        kinds: dict[str, int] = {}
        for conflict in found:  # type: ignore[attr-defined]
            kinds[conflict.kind] = kinds.get(conflict.kind, 0) + 1
        backend = db.engine.dialect.name
        print(f"{backend}: {TECHNICIANS} technicians, {VISITS} visits in December 2026")
        print("  conflicts found: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        for label, fn, ref, ref_label in (
            ("one person's week", week_view, week_sql, "bare SQL select of the week's visits"),
            ("conflicts, whole month", month_conflicts, month_sql, "naive SQL overlap self-join"),
            ("free 1 h slots, one day", free, free_sql, "bare SQL select of the day's visits"),
        ):
            fn()
            ref()  # warm both
            ours, theirs = [], []
            for _ in range(repeat):  # interleaved: the machine's noise hits both alike
                ours.append(median_seconds(fn, 1))
                theirs.append(median_seconds(ref, 1))
            a, b = statistics.median(ours), statistics.median(theirs)
            print(
                f"  {label:<24} {a * 1000:8.1f} ms   reference {b * 1000:7.2f} ms "
                f"({ref_label})   ratio {a / b:6.1f}x"
            )
    db.dispose()


def _param(db: object, moment: datetime) -> object:
    """A moment as the column stores it (naive UTC text on SQLite)."""
    from fsm_core.bulk import sqlite_time

    return sqlite_time(moment) if db.is_sqlite else moment  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'plan.db'}", args.repeat)
    if args.pg:
        with scratch_database(args.pg, "fsm_bench_plan") as url:
            measure(url, args.repeat)


if __name__ == "__main__":
    main()
