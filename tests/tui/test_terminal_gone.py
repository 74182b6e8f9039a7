"""The dashboard stops when its terminal goes away (the window closed, the SSH session
dropped): it hung instead, one core busy, for as long as the machine ran."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_dashboard_stops_when_its_terminal_is_closed(sqlite_demo_url, tmp_path):
    master, slave = pty.openpty()
    env = {
        **os.environ,
        "FSM_DATA_DIR": str(tmp_path / "data"),
        "FSM_LANG": "en",
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "fsm_cli", "--db", sqlite_demo_url, "tui"],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    try:
        shown = b""
        deadline = time.monotonic() + 60
        while b"Open orders" not in shown:  # the board is drawn
            assert time.monotonic() < deadline, shown[-500:]
            if select.select([master], [], [], 1)[0]:
                shown += os.read(master, 65536)
        time.sleep(1)  # at work: the clock, the live updates
        os.close(master)  # the terminal goes
        master = -1
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("still running 30 s after its terminal was closed") from None
    finally:
        if master >= 0:
            os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
