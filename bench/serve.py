"""How fast does ``fsm serve`` answer the customer's pages on SQLite, against what the same
server answers on a route that does nothing, and how soon does a request sent from the
passport page reach another process's board?

Starts ``fsm serve`` (one uvicorn process, httptools) on a new SQLite database with 152
labelled objects and 152 orders with status links (half of them en route, with a fresh
position, so that their pages work out an arrival estimate); then, in this process, 50
concurrent clients (one keep-alive connection each, a minimal HTTP/1.1 client on asyncio
streams; each its own address, as 50 phones are, through X-Forwarded-For, which uvicorn
takes from 127.0.0.1) ask as fast as they are answered, for the same number of seconds
each:

  reference: GET /health       (no database, no template)
  passport:  GET /p/{token}    (each client its own three labels, in turn)
  status:    GET /s/{token}    (each client its own three orders, in turn)

and prints requests per second, p50/p95/p99 latency and the server's CPU time per request
of each (the one figure the other programs of a shared host hardly move), and the p95
ratios; then the same routes with one client at a time (what a page costs without
queueing). Then it
sends the request form 20 times and times each from the POST to the moment a live
subscription in this process (as the dashboard's board has one) reports the new order.

    python bench/serve.py               # 15 s a route (goals: p95 <= 30 ms; submit -> board <= 2 s)
    python bench/serve.py --seconds 5

The server and this generator share the machine's cores: on two cores that is the floor of
what is measured, and is printed. The pages' rate limits stay on (600 pages a minute from
an address, 1,200 opens of a token): a client takes a new address every 500 requests and
asks for three tokens in turn, and any refusal (429) is counted in the answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, compile_bytecode

CLIENTS = 50
SUBMISSIONS = 20
PER_ADDRESS = 500
"""Requests a client sends from one address before it takes the next."""
TOKENS = 3
"""Labels (and orders) each client asks for in turn: a page is opened at most 1,200 times a
minute (its token's limit), and a fast server would reach that within a run."""
ALONE = 8
"""Labels (and orders, half of them en route) the one client at a time asks for in turn."""


def build(url: str, clients: int) -> tuple[list[str], list[str]]:
    """The database: ``clients`` objects with labels and as many orders with status links
    (every other one en route, its technician 1.5 to 3 km away a minute ago: at one
    distance, every estimate would show its next minute at the same moment)."""
    from fsm_core.db import Database
    from fsm_core.models import Position
    from fsm_core.services import customer_pages, objects, orders, parties, settings

    database = Database(url)
    database.upgrade()
    passports, statuses = [], []
    with database.transaction() as s:
        for key, value in (
            ("company_name", "ООО «Холодок-Сервис»"),
            ("company_phone", "+7 812 555-12-34"),
            ("company_language", "ru"),
        ):
            settings.set_value(session=s, key=key, value=value)
        customer = parties.create_company(session=s, data={"name": "ООО «СМ-Трейд»"})
        contact = parties.create_contact(
            session=s,
            data={
                "company_id": customer.id,
                "full_name": "Смирнова Ольга",
                "phone": "+79213456701",
            },
        )
        for n in range(clients):
            site = objects.create_object(
                session=s,
                data={
                    "customer_id": customer.id,
                    "name": f"Магазин № {n}",
                    "kind": "site",
                    "address": f"Санкт-Петербург, Невский пр., {n + 1}",
                    "latitude": 59.93 + n / 1000,
                    "longitude": 30.36,
                },
            )
            unit = objects.create_object(
                session=s,
                data={
                    "customer_id": customer.id,
                    "parent_id": site.id,
                    "name": f"Кондиционер Daikin FTXB35C № {n}",
                    "kind": "air conditioner",
                    "serial_number": f"E{n:07d}",
                    "inventory_number": f"СМТ-{n:06d}",
                    "location_hint": "Торговый зал, над входом",
                },
            )
            passports.append(unit.passport_token)
            technician = parties.create_employee(
                session=s, data={"full_name": f"Техник{n} Бенч Бенчевич"}
            )
            order = orders.create_order(
                session=s,
                data={
                    "customer_id": customer.id,
                    "object_id": unit.id,
                    "contact_id": contact.id,
                    "description": "Капает вода из внутреннего блока",
                },
                actor="bench",
            )
            if n % 2 == 0:
                orders.assign_order(
                    session=s, order_id=order.id, assignee_id=technician.id, actor="bench"
                )
                orders.move_order(session=s, order_id=order.id, stage="en_route", actor="bench")
                s.add(
                    Position(
                        employee_id=technician.id,
                        fix_at=datetime.now(UTC) - timedelta(minutes=1),
                        latitude=59.93 + n / 1000 + (1500 + n * 97 % 1500) / 111_195.0,
                        longitude=30.36,
                        source="osmand",
                    )
                )
            statuses.append(customer_pages.status_token(session=s, order_id=order.id))
    database.dispose()
    return passports, statuses


def start_server(url: str, log: Path) -> tuple[subprocess.Popen[str], str, int]:
    args = [sys.executable, "-m", "fsm_cli", "--db", url, "serve", "--port", "0"]
    env = {**os.environ, "FSM_LANG": "en"}
    env.pop("FSM_DATABASE_URL", None)
    with log.open("w") as err:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"listening on http://([^:\s]+):(\d+)", line)
    if not found:
        process.kill()
        sys.exit(f"fsm serve did not start: {line!r} {log.read_text()}")
    return process, found.group(1), int(found.group(2))


class Client:
    """One phone: a keep-alive connection asking one page after another."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.latencies: list[float] = []
        self.answers: dict[int, int] = {}

    async def run(self, requests: Iterator[bytes], until: float) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            for request in requests:
                if time.perf_counter() >= until:
                    break
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"(?i)content-length: (\d+)", head)
                await reader.readexactly(int(found.group(1)) if found else 0)
                self.latencies.append(time.perf_counter() - started)
                status = int(head[9:12])
                self.answers[status] = self.answers.get(status, 0) + 1
        finally:
            writer.close()


def requests(host: str, paths: list[str], n: int) -> Iterator[bytes]:
    """Client ``n``'s requests, of ``paths`` in turn: its own cookie, and its own address
    for :data:`PER_ADDRESS` requests, then the next (as if phones took turns on one
    connection: one phone would soon meet the pages' limit of 600 a minute); client 1000
    and on a new address every request."""
    i = 0
    while True:
        address = n * 100_000 + i if n >= 1000 else n * 1000 + i // PER_ADDRESS
        path = paths[i % len(paths)]
        yield (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Language: ru-RU,ru;q=0.9\r\n"
            f"X-Forwarded-For: 10.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}\r\n"
            f"Cookie: fsm_csrf=bench-client-{n:04d}\r\n\r\n"
        ).encode()
        i += 1


async def load(
    host: str, port: int, seconds: float, paths: list[list[str]], *, first: int = 0
) -> list[Client]:
    """``paths[n]`` asked in turn by client ``first + n`` (its own addresses and cookie:
    each run its own ``first``, so that no address is counted in two runs' minute)."""
    clients = [Client(host, port) for _ in paths]
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(
            c.run(requests(host, p, first + n), until)
            for n, (c, p) in enumerate(zip(clients, paths, strict=True))
        )
    )
    return clients


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the process has used so far (Linux: /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(name: str, clients: list[Client], seconds: float, cpu: float) -> float:
    """Prints the run's figures (``cpu``: the server's CPU seconds meanwhile); its p95."""
    latencies = sorted(x for c in clients for x in c.latencies)
    answers: dict[int, int] = {}
    for c in clients:
        for status, n in c.answers.items():
            answers[status] = answers.get(status, 0) + n
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{name:10} {len(latencies) / seconds:8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  "
        f"p95 {q[94] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  "
        f"server CPU {cpu / len(latencies) * 1e6:5.0f} µs/request  answers {answers}"
    )
    return q[94]


def measure(
    name: str, pid: int, host: str, port: int, seconds: float, paths: list[list[str]], first: int
) -> float:
    """One run of :func:`load`, summed up; its p95."""
    before = cpu_seconds(pid)
    clients = asyncio.run(load(host, port, seconds, paths, first=first))
    return summary(name, clients, seconds, cpu_seconds(pid) - before)


def submissions(url: str, base: str, token: str, count: int) -> list[float]:
    """Seconds from sending the request form to this process's live subscription (another
    process than the server, as a dashboard is) reporting the new order."""
    import httpx

    from fsm_core import live
    from fsm_core.db import Database

    database = Database(url)
    subscription = live.subscribe(database, interval=0.01)
    subscription.poll(0)
    took = []
    try:
        for n in range(count):
            with httpx.Client(
                base_url=base, headers={"x-forwarded-for": f"10.9.{n // 200}.{n % 200 + 1}"}
            ) as http:
                page = http.get(f"/p/{token}")
                csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
                assert csrf, page.text
                started = time.perf_counter()
                sent = http.post(
                    f"/p/{token}",
                    data={
                        "csrf": csrf.group(1),
                        "description": f"Шумит вентилятор, заявка {n}",
                        "name": "Ольга",
                        "phone": "+7 921 345-67-01",
                    },
                )
                assert sent.status_code == 200, sent.text
                while True:
                    changes = subscription.poll(0.5)
                    if any(c.kind == "order" for c in changes):
                        break
                    if time.perf_counter() - started > 30:
                        raise SystemExit("the new order did not reach the board in 30 s")
                took.append(time.perf_counter() - started)
    finally:
        subscription.close()
        database.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds a route")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()

    compile_bytecode("fsm_core", "fsm_cli", "fsm_web")
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as folder:
        os.environ["FSM_DATA_DIR"] = folder
        url = f"sqlite:///{folder}/bench.db"
        count = args.clients * TOKENS + ALONE  # and some asked for one client at a time
        passports, statuses = build(url, count)
        spare = range(args.clients * TOKENS, count)
        alone_passports = [f"/p/{passports[i]}" for i in spare]
        alone_statuses = [f"/s/{statuses[i]}" for i in spare if i % 2 == 0]  # en route

        def turns(kind: str, tokens: list[str]) -> list[list[str]]:
            return [
                [f"/{kind}/{t}" for t in tokens[n * TOKENS : (n + 1) * TOKENS]]
                for n in range(args.clients)
            ]

        process, host, port = start_server(url, Path(folder) / "serve.log")
        try:
            time.sleep(0.5)
            print(
                f"fsm serve on {host}:{port}, SQLite, {args.clients} concurrent clients, "
                f"{os.cpu_count()} cores shared with this generator"
            )
            health = [["/health"]] * args.clients
            asyncio.run(load(host, port, 1.0, health))  # warm up
            asyncio.run(load(host, port, 1.0, turns("p", passports), first=300))
            asyncio.run(load(host, port, 1.0, turns("s", statuses), first=400))
            pid, seconds = process.pid, args.seconds
            reference = measure("reference", pid, host, port, seconds, health, 0)
            passport = measure("passport", pid, host, port, seconds, turns("p", passports), 100)
            status = measure("status", pid, host, port, seconds, turns("s", statuses), 200)
            print("one client at a time (no queueing: what a page itself costs):")
            alone = {}
            for name, paths in (
                ("reference", ["/health"]),
                ("passport", alone_passports),
                ("status", alone_statuses),
            ):
                # client 1000: a new address each request
                alone[name] = measure(f"  {name}", pid, host, port, 1.0, [paths], 1000)
            took = submissions(url, f"http://{host}:{port}", passports[0], SUBMISSIONS)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        print(f"ratio      passport p95 / reference p95 = {passport / reference:.2f}")
        print(f"ratio      status p95 / reference p95   = {status / reference:.2f}")
        print(
            f"alone      p95 passport {alone['passport'] * 1000:.1f} ms, status (en route) "
            f"{alone['status'] * 1000:.1f} ms, reference {alone['reference'] * 1000:.1f} ms"
        )
        print(
            f"submit     form sent -> order on another process's board: "
            f"median {statistics.median(took) * 1000:.0f} ms, max {max(took) * 1000:.0f} ms "
            f"({len(took)} requests)"
        )
        met = passport <= 0.030 and status <= 0.030
        print(
            f"goal       pages p95 <= 30 ms: {'met' if met else 'NOT met'} "
            f"(passport {passport * 1000:.1f} ms, status {status * 1000:.1f} ms); "
            f"submit -> board <= 2 s: {'met' if max(took) <= 2 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
