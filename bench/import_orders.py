"""How fast is a validated `fsm import orders` next to a raw `sqlite-utils insert`?

Generates a CSV of 100,000 orders as a Russian back office would send it (Cyrillic text,
day-first dates, customers by name or INN, objects by inventory number, technicians by
short name; 10 columns), then, in one run:

  reference:  sqlite-utils insert DB orders FILE --csv      (raw insert, no validation)
  measured:   fsm import orders FILE                        (SQLite: validated, all or nothing;
                                                             and with --workers 1, in one process)
              fsm import orders FILE.xlsx                   (the same rows as a workbook: the
                                                             ratio to the CSV, goal <= 1.3)
  and, with --pg URL, the same import on PostgreSQL, against psql's \\copy of the rows it
  wrote into a fresh database's orders table (the same checked rows, loaded raw).

With --repeat N, sqlite-utils and fsm run N times in turns and the median ratio of each
turn's pair is the headline: this machine's speed drifts by a quarter within a minute.

It prints wall times, the ratio (issue 16: no more than the 0.82-0.85 it was before issue
15's write-ahead import and the search index; 0.7 aimed at) and each command's peak
memory: the largest process's (from /usr/bin/time when present, else the child's
ru_maxrss) and, where /proc
tells, the peak summed over the command's processes (an import checks a large file in
worker processes, which share most of their pages with it: proportional set sizes).

    python bench/import_orders.py [--rows 100000] [--repeat 3] [--pg postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from common import ROOT, compile_bytecode, scratch_database

BIN = Path(sys.executable).parent
DESCRIPTIONS = [
    "Прекращается ток воздуха из устройства",
    "Течёт вода из внутреннего блока, капает на витрину",
    "ДГУ не запустился при пропадании сети",
    "Турникет не пропускает по картам сотрудников",
    "ТРК не отпускает топливо, ошибка E-12",
    "Нет изображения с камеры над островком № 2",
    "Температура в холодильной камере +9 °C вместо +2 °C",
    "Заклинило замок входной двери, магазин не открыть",
]
HEADERS = [
    "Внешний код",
    "Дата создания",
    "Заказчик",
    "Объект",
    "Описание",
    "Критичность",
    "Стадия",
    "Исполнитель",
    "Плановая дата",
    "Срок",
]


def make_csv(path: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    demo = ROOT / "data" / "demo"
    with (demo / "objects.csv").open(encoding="utf-8") as fh:
        objects = [o for o in csv.DictReader(fh) if o["inventory_number"]]
    with (demo / "companies.csv").open(encoding="utf-8") as fh:
        companies = {c["external_id"]: c for c in csv.DictReader(fh)}
    with (demo / "employees.csv").open(encoding="utf-8") as fh:
        employees = [
            e["full_name"].split()[0]
            + " "
            + "".join(p[0] + ". " for p in e["full_name"].split()[1:]).strip()
            for e in csv.DictReader(fh)
        ]
    rng = random.Random(11)
    start = datetime(2024, 1, 1, 8, 0)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            obj = rng.choice(objects)
            company = companies[obj["customer"]]
            created = start + timedelta(minutes=7 * i + rng.randint(0, 6))
            stage = rng.choice(["Новая", "Назначена", "В работе", "new", "assigned"])
            assignee = "" if stage in ("Новая", "new") else rng.choice(employees)
            planned = created + timedelta(hours=rng.randint(2, 48))
            writer.writerow(
                [
                    f"1C-{i:07d}",
                    created.strftime("%d.%m.%Y %H:%M"),
                    company["name"] if i % 3 else company["inn"],
                    obj["inventory_number"],
                    rng.choice(DESCRIPTIONS),
                    rng.choice(["обычная", "высокая", "normal", "low", "Высокая"]),
                    stage,
                    assignee,
                    planned.strftime("%d.%m.%Y %H:%M") if assignee else "",
                    (created + timedelta(days=3)).strftime("%d.%m.%Y") if i % 4 == 0 else "",
                ]
            )


def make_xlsx(csv_path: Path, path: Path) -> None:
    """The same orders as a workbook, as Excel saves what a back office typed: the creation
    date a date cell, the other dates text (as 1C exports them), empty cells empty."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Заявки")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh)):
            cells: list[object] = [value if value != "" else None for value in row]
            if i:
                cells[1] = datetime.strptime(row[1], "%d.%m.%Y %H:%M")
            sheet.append(cells)
    workbook.save(path)


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int | None]:
    """Wall seconds, peak resident memory (KiB) of the largest process, and the peak of
    the whole process tree's proportional set size (KiB; None where /proc cannot tell):
    an import with workers is several processes sharing most of their pages."""
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    full = [timer, "-f", "%M", *cmd] if timer else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    process = subprocess.Popen(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeMemory(process.pid)
    sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    sampler.stop()
    text = stderr.decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({process.returncode}):\n{text[-2000:]}")
    if timer:
        peak = int(text.strip().splitlines()[-1])
    else:
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return elapsed, peak, sampler.peak


class TreeMemory(threading.Thread):
    """Samples the summed PSS of a process and its descendants every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak: int | None = 0 if Path(f"/proc/{pid}/smaps_rollup").exists() else None
        self._done = threading.Event()

    def run(self) -> None:
        while self.peak is not None and not self._done.wait(0.05):
            self.peak = max(self.peak, sum(_pss(p) for p in _tree(self.pid)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                for child in fh.read().split():
                    found += _tree(int(child))
    except OSError:
        pass
    return found


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(peak: int, tree: int | None) -> str:
    text = f"peak {peak / 1024:5.0f} MB"
    return text if tree is None else f"{text} (all processes {tree / 1024:.0f} MB)"


def fsm_env(url: str) -> dict[str, str]:
    return dict(os.environ, FSM_DATABASE_URL=url, FSM_USER="bench")


def prepare(url: str) -> None:
    """A database with the demo company's customers, objects and technicians."""
    # as the account that creates the database (its first admin): FSM_USER=bench acts on
    # bench's behalf, and bench exists only once it is created below
    env = {k: v for k, v in fsm_env(url).items() if k != "FSM_USER"}
    subprocess.run([str(BIN / "fsm"), "init"], env=env, check=True, capture_output=True)
    subprocess.run([str(BIN / "fsm"), "demo"], env=env, check=True, capture_output=True)
    # FSM_USER=bench must name a user (an unknown one is refused)
    subprocess.run(
        [str(BIN / "fsm"), "users", "create", "bench", "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="sqlite-utils and fsm this many times in turns"
    )
    args = parser.parse_args()
    compile_bytecode("fsm_core", "fsm_cli")  # as an install has it (see common.py)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "orders.csv"
        make_csv(data, args.rows)
        size = data.stat().st_size / 1e6
        print(f"{args.rows} rows, {len(HEADERS)} columns, {size:.1f} MB: {data.name}")

        # sqlite-utils and fsm in turns: this machine's speed drifts by a quarter within a
        # minute, so each ratio is of two runs side by side, and the median is the headline
        pairs: list[tuple[float, float]] = []
        raw = work / "raw.db"
        command = [str(BIN / "fsm"), "import", "orders", str(data), "-q"]
        for turn in range(args.repeat):
            ref_seconds, ref_peak, ref_tree = run(
                [str(BIN / "sqlite-utils"), "insert", str(raw), "orders", str(data), "--csv"]
            )
            raw.unlink()
            url = f"sqlite:///{work / f'fsm{turn}.db'}"
            prepare(url)
            seconds, peak, tree = run(command, fsm_env(url))
            pairs.append((ref_seconds, seconds))
            if args.repeat > 1:
                print(
                    f"  turn {turn + 1}: sqlite-utils {ref_seconds:6.2f} s, fsm {seconds:6.2f} s,"
                    f" ratio {seconds / ref_seconds:.2f}"
                )
        ref_seconds = statistics.median(r for r, _ in pairs)
        seconds = statistics.median(f for _, f in pairs)
        ratio = statistics.median(f / r for r, f in pairs)
        reference = memory(ref_peak, ref_tree)
        print(f"  sqlite-utils insert --csv (raw)   {ref_seconds:6.2f} s   {reference}")
        print(
            f"  fsm import orders (SQLite)        {seconds:6.2f} s   {memory(peak, tree)}"
            f"   {args.rows / seconds:,.0f} rows/s"
        )
        print(
            f"  ratio fsm / sqlite-utils          {ratio:6.2f}"
            + (f"   (median of {args.repeat} turns)" if args.repeat > 1 else "")
            + "   (goal: at most 0.82-0.85 as before, 0.7 aimed at)"
        )
        book = work / "orders.xlsx"
        make_xlsx(data, book)
        prepare(url := f"sqlite:///{work / 'xlsx.db'}")
        xlsx, peak, tree = run([*command[:3], str(book), "-q"], fsm_env(url))
        print(
            f"  the same rows as .xlsx            {xlsx:6.2f} s   {memory(peak, tree)}"
            f"   ({book.stat().st_size / 1e6:.1f} MB)"
        )
        print(f"  ratio .xlsx / CSV                 {xlsx / seconds:6.2f}   (goal <= 1.3)")
        prepare(url := f"sqlite:///{work / 'serial.db'}")
        serial, peak, tree = run([*command, "--workers", "1"], fsm_env(url))
        print(
            f"  the same in one process           {serial:6.2f} s   {memory(peak, tree)}"
            f"   (--workers 1; ratio {serial / ref_seconds:.2f})"
        )

        if args.pg:
            with scratch_database(args.pg, "fsm_bench_import") as pg_url:
                prepare(pg_url)
                seconds, peak, tree = run(command, fsm_env(pg_url))
                print(
                    f"  fsm import orders (PostgreSQL)    {seconds:6.2f} s   {memory(peak, tree)}"
                    f"   {args.rows / seconds:,.0f} rows/s"
                )
                checked = work / "checked.csv"
                # the imported rows (the file's external ids), not the demo company's
                rows = f"SELECT {_columns()} FROM orders WHERE external_id LIKE '1C-%'"
                _psql(pg_url, f"\\copy ({rows}) TO '{checked}' CSV")
            with scratch_database(args.pg, "fsm_bench_copy") as pg_url:
                prepare(pg_url)
                # the same demo company: the rows' customer, object and user ids hold here
                copy = f"\\copy orders ({_columns()}) FROM '{checked}' CSV"
                copied, peak, tree = run(*_psql_command(pg_url, copy))
                print(
                    f"  psql \\copy of the same checked rows {copied:5.2f} s   {memory(peak, tree)}"
                    "   (into orders, its indexes and triggers)"
                )
                print(
                    f"  ratio fsm / \\copy (PostgreSQL)    {seconds / copied:6.2f}"
                    "   (goal: no more than the ~2 it was)"
                )


def _psql_command(url: str, command: str) -> tuple[list[str], dict[str, str]]:
    """psql running ``command`` on ``url``, and its environment: the URL handed over as
    fsm's backup hands it to pg_dump (the password in the environment)."""
    from sqlalchemy.engine import make_url

    from fsm_core.backup import libpq_connection

    dsn, env = libpq_connection(make_url(url))
    return ["psql", "-X", "-q", "-d", dsn, "-c", command], env


def _psql(url: str, command: str) -> None:
    argv, env = _psql_command(url, command)
    subprocess.run(argv, check=True, env=env)


def _columns() -> str:
    """The orders' columns an import fills, as psql's copy takes them (ids are the
    database's own)."""
    from fsm_core.services.orders import ORDER_COLUMNS

    return ", ".join(ORDER_COLUMNS)


if __name__ == "__main__":
    main()
