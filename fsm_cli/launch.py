"""The ``fsm`` command's entry point (the console script and ``python -m fsm_cli``).

Start-up defines ~10^6 long-lived objects (SQLAlchemy, pydantic, Typer, our tables), and
Python's cyclic garbage collector, triggered by allocation counts, scans them over and over
while they are being created: ~40 ms of a 0.45 s ``fsm orders list``, and nearly all of it
finds nothing to free (reference counting frees almost everything a command drops). So the
collector is paused while the command starts and resumes after :data:`STARTUP_SECONDS`:
a short command never pays for it, and a long one (an import of a million rows) runs with
it on, after at most that long of uncollected cycles.
"""

import gc
import threading

STARTUP_SECONDS = 1.0


def pause_collector(seconds: float = STARTUP_SECONDS) -> threading.Timer:
    """Turn the cyclic collector off now and back on after ``seconds`` (from a daemon
    timer thread, which only sets the flag: the collections themselves run, as always, in
    the thread that allocates)."""
    gc.disable()
    timer = threading.Timer(seconds, gc.enable)
    timer.daemon = True  # never keeps the process alive
    timer.start()
    return timer


def main() -> None:
    pause_collector()
    from fsm_cli.main import main as run

    run()
