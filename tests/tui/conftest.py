"""Fixtures for the dashboard: a fresh demo database per test, an app on it with the clock
pinned and cursors still, and a way to wait until every database worker has reported.

The demo company comes from the shared ``with_demo`` templates (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsm_core.db import Database
from fsm_tui.app import FsmApp, make_app
from tests.conftest import NOW

USER = "Орлова В. П."
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def unexpected_errors_fail_the_test(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The dashboard turns an unexpected error into a toast and goes on (a user's session
    must survive a bug); in a test that toast must not pass for success. A test that means
    to provoke one takes the list this yields and empties it."""
    from fsm_core.errors import FsmError

    caught: list[BaseException] = []
    report = FsmApp.report_error

    def recording(self: FsmApp, error: BaseException | None) -> None:
        if error is not None and not isinstance(error, FsmError):
            caught.append(error)
        report(self, error)

    monkeypatch.setattr(FsmApp, "report_error", recording)
    yield caught
    if caught:
        raise AssertionError(f"the dashboard reported unexpected errors: {caught!r}")


@pytest.fixture(autouse=True)
def act_folder_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The act tab shows the folder acts go to, the current one by default: screenshots
    must not name the checkout they were taken in."""
    monkeypatch.setenv("FSM_ACT_DIR", "/srv/fsm/acts")


@pytest.fixture(autouse=True)
def status_links_numbered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening an order makes its status link (the dispatcher's first look): numbered
    tokens instead of random ones, so screenshots show the same link every run."""
    from itertools import count

    numbers = count(1)
    monkeypatch.setattr(
        "fsm_core.services.status_links.new_link_token",
        lambda: f"TestLink{next(numbers):014d}",
    )


@pytest.fixture
def demo_url(with_demo: None, db_url: str) -> str:
    """A fresh database with the demo company, on each back-end in turn."""
    return db_url


@pytest.fixture
def sqlite_demo_url(demo_template: Path, tmp_path: Path) -> str:
    """The demo company in SQLite only (screenshots name the database file)."""
    target = tmp_path / "fsm.db"
    shutil.copyfile(demo_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def demo_db(with_demo: None, db: Database) -> Database:
    """The test's own connection to the demo database (to check what the app wrote)."""
    return db


def build_app(url: str, *, lang: str = "ru", live: bool = False, **kwargs: Any) -> FsmApp:
    """The dashboard as the demo's dispatcher, the clock pinned; live updates only when a
    test is about them (``live=True``), so screenshots say "off" whatever the timing."""
    kwargs.setdefault("user", USER)
    return make_app(url, lang=lang, now=NOW, cursor_blink=False, live=live, **kwargs)


@pytest.fixture
def app(demo_url: str) -> FsmApp:
    return build_app(demo_url)


async def settle(pilot: Any, rounds: int = 4) -> None:
    """Wait until the workers are done and their messages handled (a worker's message can
    start another worker, so a few rounds)."""
    from fsm_tui.live_bridge import GROUP

    for _ in range(rounds):
        workers = [w for w in pilot.app.workers if w.group != GROUP]  # it runs till the end
        # a cancelled worker (a newer filter won) is fine here
        await asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)
        await pilot.pause()


async def wait_until(
    pilot: Any, predicate: Callable[[], object], *, timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until ``predicate()`` holds (checked every 20 ms), or fail the test
    after ``timeout`` seconds saying ``what`` was awaited. Instead of a fixed pause, which
    is too short under load and too long otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or predicate!r}")
        await pilot.pause(0.02)


async def palette_searched(pilot: Any, *, at_least: int = 1) -> None:
    """Wait until the open command palette has searched for everything typed so far and
    found ``at_least`` commands."""
    from textual.command import CommandList, CommandPalette

    screen = pilot.app.screen
    assert isinstance(screen, CommandPalette), screen

    def searched() -> bool:
        gathering = any(
            w.group == CommandPalette._GATHER_COMMANDS_GROUP and not w.is_finished
            for w in pilot.app.workers
        )
        return not gathering and screen.query_one(CommandList).option_count >= at_least

    await wait_until(pilot, searched, what="the command palette's search")


async def palette(pilot: Any, text: str) -> None:
    """Open the command palette, type ``text``, and run the first command it finds."""
    from textual.command import CommandPalette

    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="palette")
    await pilot.press(*text)
    await palette_searched(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def dialog(pilot: Any, *keys: str) -> Any:
    """Press ``keys`` and return the screen they bring up (a form, a picker), settled."""
    await pilot.press(*keys)
    await settle(pilot)
    return pilot.app.screen


def snap(
    snap_compare: Any,
    url: str,
    *steps: Any,
    lang: str = "ru",
    size: tuple[int, int] = SIZE,
) -> bool:
    """Compare the app at ``url`` with its stored screenshot after ``steps``: keys to
    press, or callables of the pilot (awaited when they return a coroutine), each followed
    by :func:`settle`; at ``size`` (default 120×40)."""

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for step in steps:
            if callable(step):
                result = step(pilot)
                if result is not None:
                    await result
            else:
                await pilot.press(step)
            await settle(pilot)

    return snap_compare(build_app(url, lang=lang), terminal_size=size, run_before=run_before)


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


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The dashboard's flows run on SQLite; those marked ``both_backends`` on PostgreSQL
    too.

    The dashboard adds no rules: what it calls is the core, whose every rule is tested on
    both back-ends (tests/core, tests/cli). What differs by back-end in the dashboard
    itself — live updates (LISTEN/NOTIFY against SQLite's data version), its workers'
    connections, paging and searching the board, the acting user — is marked to run on
    both. This halves the suite's longest part without leaving PostgreSQL untested.
    """
    test = metafunc.definition
    if "db_url" in metafunc.fixturenames and not test.get_closest_marker("both_backends"):
        # a mark, not metafunc.parametrize: pytest then leaves out the fixture's own params
        test.add_marker(pytest.mark.parametrize("db_url", ["sqlite"], indirect=True))
