"""What the benchmark scripts share: the project's root, its bytecode compiled as an install
would have it, a scratch PostgreSQL database, and the median of repeated timings."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

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
