"""Fixtures for the dashboard: a fresh demo database per test, an app on it with the clock
pinned and cursors still, and a way to wait until every database worker has reported."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.demo import load_demo
from fsm_tui.app import FsmApp, make_app
from tests.conftest import NOW

USER = "Орлова В. П."
SIZE = (120, 40)


def _load_demo(url: str) -> None:
    database = Database(url)
    try:
        with clock.frozen(NOW), database.transaction() as session:
            load_demo(session=session)
        if database.is_sqlite:
            with database.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company loaded once into an SQLite file; tests get copies of it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    _load_demo(f"sqlite:///{path}")
    return path


@pytest.fixture
def demo_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with the demo company, on each back-end in turn."""
    if db_url.startswith("sqlite"):
        target = tmp_path / "fsm.db"
        shutil.copyfile(request.getfixturevalue("demo_template"), target)
        return f"sqlite:///{target}"
    _load_demo(db_url)
    return db_url


@pytest.fixture
def sqlite_demo_url(demo_template: Path, tmp_path: Path) -> str:
    """The demo company in SQLite only (screenshots name the database file)."""
    target = tmp_path / "fsm.db"
    shutil.copyfile(demo_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def demo_db(demo_url: str) -> Iterator[Database]:
    """The test's own connection to the demo database (to check what the app wrote)."""
    database = Database(demo_url)
    try:
        yield database
    finally:
        database.dispose()


def build_app(url: str, *, lang: str = "ru", **kwargs: Any) -> FsmApp:
    return make_app(url, lang=lang, user=USER, now=NOW, cursor_blink=False, **kwargs)


@pytest.fixture
def app(demo_url: str) -> FsmApp:
    return build_app(demo_url)


async def settle(pilot: Any, rounds: int = 4) -> None:
    """Wait until the workers are done and their messages handled (a worker's message can
    start another worker, so a few rounds)."""
    for _ in range(rounds):
        workers = list(pilot.app.workers)
        # a cancelled worker (a newer filter won) is fine here
        await asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)
        await pilot.pause()


def screen_text(app: Any) -> str:
    """What the terminal shows now, as plain text (for checks on rendered words)."""
    from rich.console import Console

    console = Console(
        width=app.size.width,
        record=True,
        file=io.StringIO(),
        color_system=None,
        legacy_windows=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()
