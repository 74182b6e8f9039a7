"""How fast are arrival detection and the day report, against reading the fixes alone?

Builds a SQLite database (bulk insert) with 25 technicians, each with a day of visits to
5 objects across St Petersburg and a fix every 5 seconds from 09:00 to 17:20 (about
150,000 fixes): drives at 40 km/h between the objects, 45–75 minutes on each site with a
jumping fix now and then and a few fixes of 2 km accuracy. Then times, in the same run:

  read:    read_fixes for that day, all technicians (the floor: what any report must read)
  report:  day_report for all technicians (reads the fixes, the visits and orders, detects
           every stay, sums kilometres and times); it reads the times as Unix seconds
           straight from the database (read_day_fixes, also timed), so it can beat
           read_fixes, which makes a datetime of each

Prints both (the best of --repeat interleaved rounds, and the medians), the fixes per
second, the ratio report / read and the goal (report ≤ 1 s). Figures only; nothing here
asserts a time.

    python bench/gps_detect.py               # 25 technicians
    python bench/gps_detect.py --repeat 3
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import compile_bytecode, median_seconds  # noqa: E402

TECHNICIANS = 25
VISITS = 5
EVERY = 5  # seconds between fixes
DAY = date(2026, 11, 26)
START = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 09:00 Moscow
END = START + timedelta(hours=8, minutes=20)
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
M_PER_DEG = 111_195.0


def build(url: str) -> int:
    """Fill the database; returns how many fixes were stored."""
    from sqlalchemy import insert

    from fsm_core import clock
    from fsm_core.db import Database
    from fsm_core.models import Position
    from fsm_core.services import objects, orders, parties, planning

    rng = random.Random(17)
    db = Database(url)
    rows: list[dict[str, object]] = []
    with clock.frozen(START - timedelta(days=1)), db.transaction() as s:
        customer = parties.create_company(session=s, data={"name": "ООО «Бенч»"})
        for t in range(TECHNICIANS):
            employee = parties.create_employee(
                session=s, data={"full_name": f"Техник{t:02d} Иван Петрович"}
            )
            points = [
                (59.85 + rng.random() * 0.2, 30.2 + rng.random() * 0.3) for _ in range(VISITS)
            ]
            at = START
            lat, lon = 59.95 + rng.random() * 0.02, 30.30 + rng.random() * 0.02
            for i, (olat, olon) in enumerate(points):
                obj = objects.create_object(
                    session=s,
                    data={
                        "customer_id": customer.id,
                        "name": f"Объект {t}-{i}",
                        "latitude": olat,
                        "longitude": olon,
                    },
                )
                order = orders.create_order(
                    session=s,
                    data={
                        "customer_id": customer.id,
                        "object_id": obj.id,
                        "description": "Бенч",
                        "assignee_id": employee.id,
                    },
                    actor="bench",
                )
                # the drive there, at 40 km/h
                kx = M_PER_DEG * math.cos(math.radians(olat))
                metres = math.hypot((olat - lat) * M_PER_DEG, (olon - lon) * kx)
                steps = max(1, int(metres / (40 / 3.6) / EVERY))
                for k in range(steps):
                    f = k / steps
                    rows.append(
                        _row(employee.id, at, lat + (olat - lat) * f, lon + (olon - lon) * f, 10)
                    )
                    at += timedelta(seconds=EVERY)
                stay = timedelta(minutes=rng.randint(45, 75))
                planning.add_visit(
                    session=s,
                    order_id=order.id,
                    start=at - timedelta(minutes=10),
                    end=at + stay,
                    employee_id=employee.id,
                    actor="bench",
                    allow_past=True,
                )
                until = at + stay
                while at < until:
                    jitter = 300 if rng.random() < 0.005 else 15
                    accuracy = 2000 if rng.random() < 0.01 else 12
                    rows.append(
                        _row(
                            employee.id,
                            at,
                            olat + rng.uniform(-jitter, jitter) / M_PER_DEG,
                            olon + rng.uniform(-jitter, jitter) / kx,
                            accuracy,
                        )
                    )
                    at += timedelta(seconds=EVERY)
                lat, lon = olat, olon
            while at < END:  # the rest of the day: parked where the last visit was
                rows.append(_row(employee.id, at, lat, lon, 10))
                at += timedelta(seconds=EVERY)
    with db.transaction() as s:
        for i in range(0, len(rows), 20_000):
            s.execute(insert(Position), rows[i : i + 20_000])
    db.dispose()
    return len(rows)


def _row(
    employee_id: int | None, at: datetime, lat: float, lon: float, acc: float
) -> dict[str, object]:
    return {
        "employee_id": employee_id,
        "fix_at": at,
        "latitude": lat,
        "longitude": lon,
        "accuracy_m": acc,
        "speed_kmh": None,
        "source": "osmand",
        "received_at": at,
    }


def measure(url: str, repeat: int) -> None:
    from fsm_core import clock
    from fsm_core.db import Database
    from fsm_core.services import gps
    from fsm_core.services.gps.visits import read_day_fixes
    from fsm_core.timeparse import local_day_bounds, zone

    count = build(url)
    db = Database(url)
    start, end = local_day_bounds(DAY, zone("Europe/Moscow"))

    def read() -> object:
        with db.reader() as s:
            return gps.read_fixes(session=s, start=start, end=end)

    def read_epochs() -> object:
        with db.reader() as s:
            return read_day_fixes(
                session=s, start=start, end=end, employee_ids=None, max_accuracy_m=100
            )

    def report() -> object:
        with clock.frozen(NOW), db.reader() as s:
            return gps.day_report(session=s, day=DAY, now=NOW)

    reports = report()
    assert isinstance(reports, list)
    stays = sum(len([x for x in r.stays if x.object_id is not None]) for r in reports)
    # interleaved rounds, so that the machine's noise falls on both alike; the best of each
    reads, reps, epochs = [], [], []
    for _ in range(repeat):
        reads.append(median_seconds(read, 1))
        epochs.append(median_seconds(read_epochs, 1))
        reps.append(median_seconds(report, 1))
    t_read, t_report, t_epochs = min(reads), min(reps), min(epochs)
    print(
        f"(best of {repeat} interleaved rounds; medians: "
        f"read {statistics.median(reads) * 1000:.0f} ms, "
        f"report {statistics.median(reps) * 1000:.0f} ms)"
    )
    print(
        f"{count:,} fixes of {TECHNICIANS} technicians; {stays} stays at objects found "
        f"({TECHNICIANS * VISITS} visits planned)"
    )
    print(f"read_fixes alone:            {t_read * 1000:8.0f} ms  ({count / t_read:,.0f} fixes/s)")
    print(
        f"  the report's own read:     {t_epochs * 1000:8.0f} ms  "
        "(times as Unix seconds, no datetimes)"
    )
    print(
        f"detection + day report:      {t_report * 1000:8.0f} ms  ({count / t_report:,.0f} fixes/s)"
    )
    print(f"ratio report / read:         {t_report / t_read:8.2f}")
    print(f"goal: report ≤ 1000 ms       {'met' if t_report <= 1.0 else 'NOT met'}")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    compile_bytecode("fsm_core")
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'gps.db'}", args.repeat)


if __name__ == "__main__":
    main()
