"""``fsm serve`` as a real process, for the tests that speak HTTP to it.

``fsm_server`` starts it on the test's database (``db_url``, so on SQLite and PostgreSQL
in turn) on a free port, waits until it answers, hands over its base URL, and stops it
with Ctrl-C (SIGINT) afterwards, checking that it stopped cleanly. ``start_fsm_server``
does the same as a context manager, for a test that needs other settings (environment
variables) or a second server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

START_TIMEOUT = 30.0


@dataclass
class FsmServer:
    url: str  # http://127.0.0.1:PORT, no slash at the end
    process: subprocess.Popen[str]
    log: Path  # its stderr

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def start_fsm_server(
    db_url: str, log: Path, *, env: dict[str, str] | None = None
) -> Iterator[FsmServer]:
    """``fsm serve --port 0`` on ``db_url``: its URL once it answers; stopped at the end."""
    environment = {**os.environ, "FSM_LANG": "en", **(env or {})}
    environment.pop("FSM_DATABASE_URL", None)
    with log.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "fsm_cli", "--db", db_url, "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=environment,
        )
    assert process.stdout is not None
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT)
    found = re.search(r"listening on (http://\S+?) ", first[0]) if first else None
    if found is None:
        process.kill()
        process.wait()
        pytest.fail(f"fsm serve did not start: {first} {log.read_text()}")
    server = FsmServer(found.group(1), process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:  # the socket listens at once; the app answers once its writer runs
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"fsm serve does not answer: {server.stderr()}")
        time.sleep(0.05)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail("fsm serve did not stop on Ctrl-C")
        rest = process.stdout.read()
        process.stdout.close()
        assert process.returncode == 0, (
            f"fsm serve ended with {process.returncode}: {server.stderr()}"
        )
        assert "stopped" in rest
        assert "Traceback" not in server.stderr(), server.stderr()


@pytest.fixture
def fsm_server(db_url: str, tmp_path: Path) -> Iterator[FsmServer]:
    with start_fsm_server(db_url, tmp_path / "serve.log") as server:
        yield server
