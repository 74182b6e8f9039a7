"""What the benchmark scripts share: the project's root, its bytecode compiled as an install
would have it, a scratch PostgreSQL database, the median of repeated timings, and, for the
dashboard's benches, frames noted as they are drawn and a wait for the app's workers."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def compile_bytecode(*packages: str) -> None:
    """Write the .pyc files of the project's ``packages``, as installing a package does: the
    libraries a benchmark compares against come with theirs from pip, and where
    PYTHONDONTWRITEBYTECODE is set (as on this project's CI machines) an editable checkout
    would otherwise recompile fsm's sources on every timed run (~30 ms each time)."""
    import compileall

    for package in packages:
        compileall.compile_dir(ROOT / package, quiet=1)


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL ``server`` (any database URL there), dropped
    afterwards; yields its URL for fsm."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(server).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` calls of ``fn``."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def record_frames(app: Any, label: Callable[[Any], object], frames: list[Any]) -> None:
    """Have the running ``app`` note each frame it draws whose screen ``label`` names:
    (wall time, CPU time, the label). Each frame is also rendered to segments, as a
    terminal would be sent it, so that the times include that work."""
    display = app._display
    console = app.console

    def recording(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and hasattr(renderable, "render_segments"):
            renderable.render_segments(console)
        shown = label(screen)
        if shown:
            frames.append((time.perf_counter(), time.process_time(), shown))

    app._display = recording


async def settle(app: Any, pilot: Any, *, leave: str) -> None:
    """Wait for the app's workers (all but the ``leave`` group, which runs till the end)
    and the messages they post, a few rounds."""
    import asyncio

    for _ in range(4):
        workers = [w for w in app.workers if w.group != leave]
        await asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)
        await pilot.pause()
