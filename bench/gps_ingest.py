"""How many fixes a second does ``fsm serve`` store on SQLite, against what the same server
answers on an empty route?

Starts ``fsm serve`` (one uvicorn process, httptools) on a new SQLite database with 50
technicians, each with a bound phone, and positions kept at any hour; then, in this
process, 50 concurrent senders (one keep-alive connection each, a minimal HTTP/1.1 client
on asyncio streams, so that the load generator costs far less than the server) send as
fast as they are answered, first

  reference: GET /health                          (no parsing, no database)
  ingest:    POST /gps/osmand, a form body as Traccar Client 10 sends it, each fix new

for the same number of seconds each, and prints requests per second, the ratio of the two,
and p50/p95/p99 latency. Then it counts what was sent and answered "stored" against the
rows in the database: none may be missing.

    python bench/gps_ingest.py                   # 60 s of ingestion (goal: >= 1,000 fixes/s)
    python bench/gps_ingest.py --seconds 10      # shorter
    python bench/gps_ingest.py --batch-ms 50     # the writer gathers fixes for 50 ms

The server and this generator share the machine's cores: on two cores that is the floor of
what is measured, and is printed.
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
from pathlib import Path

from common import ROOT, compile_bytecode

SENDERS = 50


def build(url: str, senders: int) -> list[str]:
    """The database: ``senders`` employees, each with a bound device; returns the devices."""
    from fsm_core.db import Database
    from fsm_core.services import gps, parties, settings

    database = Database(url)
    database.upgrade()
    devices = []
    with database.transaction() as s:
        settings.set_value(session=s, key="gps_working_hours_only", value="no")
        for n in range(senders):
            person = parties.create_employee(
                session=s, data={"full_name": f"Техник{n} Бенч Бенчевич"}
            )
            device = f"bench-{n:02d}"
            gps.bind_device(session=s, identifier=device, employee=person.id or 0)
            devices.append(device)
    database.dispose()
    return devices


def count_positions(url: str) -> int:
    from fsm_core.db import Database
    from fsm_core.services import gps

    database = Database(url)
    try:
        with database.reader() as s:
            return gps.count_positions(session=s)
    finally:
        database.dispose()


def start_server(
    url: str, batch_ms: int | None, log: Path
) -> tuple[subprocess.Popen[str], str, int]:
    args = [sys.executable, "-m", "fsm_cli", "--db", url, "serve", "--port", "0"]
    if batch_ms is not None:
        args += ["--batch-ms", str(batch_ms)]
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


class Sender:
    """One phone: a keep-alive connection sending one request after another."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.latencies: list[float] = []
        self.answers: dict[int, int] = {}
        self.stored = 0

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
                body = await reader.readexactly(int(found.group(1)) if found else 0)
                self.latencies.append(time.perf_counter() - started)
                status = int(head[9:12])
                self.answers[status] = self.answers.get(status, 0) + 1
                if status == 200 and body == b"stored\n":
                    self.stored += 1
        finally:
            writer.close()


def health_requests(host: str) -> Iterator[bytes]:
    request = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    while True:
        yield request


def fix_requests(host: str, device: str, first: int) -> Iterator[bytes]:
    n = 0
    while True:
        body = (
            f"id={device}&lat={59.9 + (n % 1000) / 100000:.6f}&lon=30.36&timestamp={first + n}"
            f"&accuracy=4.0&altitude=12.0&speed=11.5&bearing=87.0&batt=76&charge=false"
        ).encode()
        yield (
            f"POST /gps/osmand HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        n += 1


async def load(
    host: str, port: int, seconds: float, streams: list[Iterator[bytes]]
) -> list[Sender]:
    senders = [Sender(host, port) for _ in streams]
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(s.run(stream, until) for s, stream in zip(senders, streams, strict=True))
    )
    return senders


def summary(name: str, senders: list[Sender], seconds: float) -> tuple[float, float]:
    latencies = sorted(x for s in senders for x in s.latencies)
    count = len(latencies)
    answers: dict[int, int] = {}
    for s in senders:
        for status, n in s.answers.items():
            answers[status] = answers.get(status, 0) + n
    q = statistics.quantiles(latencies, n=100)
    rate = count / seconds
    print(
        f"{name:10} {rate:8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  "
        f"p99 {q[98] * 1000:6.1f} ms  answers {answers}"
    )
    return rate, q[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of ingestion")
    parser.add_argument(
        "--reference-seconds",
        type=float,
        default=None,
        help="seconds of the reference (default: as --seconds, at most 20)",
    )
    parser.add_argument("--senders", type=int, default=SENDERS)
    parser.add_argument("--batch-ms", type=int, default=None, help="fsm serve --batch-ms")
    args = parser.parse_args()
    reference_seconds = args.reference_seconds or min(args.seconds, 20.0)

    compile_bytecode("fsm_core", "fsm_cli", "fsm_web")
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        devices = build(url, args.senders)
        process, host, port = start_server(url, args.batch_ms, Path(folder) / "serve.log")
        try:
            time.sleep(0.5)
            print(
                f"fsm serve on {host}:{port}, SQLite, {args.senders} senders, "
                f"{os.cpu_count()} cores shared with this generator"
            )
            warm = asyncio.run(load(host, port, 1.0, [health_requests(host) for _ in devices]))
            del warm
            reference = asyncio.run(
                load(host, port, reference_seconds, [health_requests(host) for _ in devices])
            )
            ref_rate, _ = summary("reference", reference, reference_seconds)
            # each phone's fixes a second apart, ending before now: all new, none in the future
            first = int(time.time()) - 3 * 3600
            ingest = asyncio.run(
                load(host, port, args.seconds, [fix_requests(host, d, first) for d in devices])
            )
            rate, p95 = summary("ingest", ingest, args.seconds)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        stored_answers = sum(s.stored for s in ingest)
        sent = sum(len(s.latencies) for s in ingest)
        rows = count_positions(url)
        print(f"ratio      ingest / reference = {rate / ref_rate:.2f}")
        print(
            f"fixes      sent and answered {sent}, answered stored {stored_answers}, "
            f"rows {rows}, lost {sent - rows}"
        )
        goal = rate >= 1000 and rows == sent == stored_answers
        print(
            f"goal       >= 1,000 fixes/s, none lost: {'met' if goal else 'NOT met'} "
            f"({rate:.0f} fixes/s, p95 {p95 * 1000:.1f} ms)"
        )


if __name__ == "__main__":
    main()
