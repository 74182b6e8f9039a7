"""Live updates: two dashboards on one database see each other's changes within 2 seconds
(a message sent, an order moved, a visit planned), the status line says the state, and the
bridge turns the core's changes into the app's messages."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import select

from fsm_core.live import Change
from fsm_core.models import Message, Order
from fsm_core.services import orders
from fsm_tui.live_bridge import LiveBridge, messages_for
from fsm_tui.messages import LiveStateChanged, MessagesArrived, OrdersChanged, PositionsArrived
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.chat import ChatScreen
from fsm_tui.screens.planner import PlannerScreen
from fsm_tui.widgets.status_line import StatusLine
from tests.tui.conftest import SIZE, build_app, settle

pytestmark = [pytest.mark.asyncio, pytest.mark.both_backends]  # what differs by back-end

WITHIN = 2.0  # seconds: what the issue asks of two dashboards


async def test_changes_become_the_apps_messages():
    found = list(
        messages_for(
            [
                Change("order", (1, 2)),
                Change("visit", (2, 3)),
                Change("message", (5,), (40, 41)),
            ]
        )
    )
    assert found == [OrdersChanged((1, 2, 3)), MessagesArrived((5,), (40, 41))]
    # "too many to list" stays "everything" on both sides
    found = list(messages_for([Change("order", (1,)), Change("order", None)]))
    assert found == [OrdersChanged(None)]
    assert OrdersChanged(None).concerns(12345)
    assert not OrdersChanged((1,)).concerns(2)
    assert list(messages_for([Change("message", None, None)])) == [MessagesArrived(None, None)]
    assert list(messages_for([])) == []
    # positions are their own news: no order is reloaded for them
    found = list(messages_for([Change("position", (), (3,)), Change("position", (), (4, 3))]))
    assert found == [PositionsArrived((3, 4))]


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = WITHIN) -> float:
    """Seconds until ``condition()`` holds (fails after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with pilot.app._context():  # the app may run in a task of its own
            if condition():
                return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


class _InItsContext:
    """A pilot whose every awaited call runs in its app's context. The app runs in a task
    of its own, and a pilot's ``pause`` may render its screen in the test's task, where no
    app is active (Textual then fails with ``LookupError: active_app``, now and then)."""

    def __init__(self, pilot: Any) -> None:
        self._pilot = pilot
        self.app = pilot.app

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._pilot, name)
        if not asyncio.iscoroutinefunction(found):
            return found

        async def call(*args: Any, **kwargs: Any) -> Any:
            with self.app._context():
                return await found(*args, **kwargs)

        return call


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """Run ``app`` in a task of its own (each app its own context), yield its pilot."""
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            ready.set_result(pilot)
            await done.wait()

    task = asyncio.create_task(run())
    try:
        pilot = await asyncio.wait_for(asyncio.shield(ready), 30)
        await wait_for(pilot, lambda: app.live_state == "on", timeout=10)
        yield _InItsContext(pilot)
    finally:
        done.set()
        await asyncio.wait_for(task, 30)


async def test_a_message_sent_in_one_dashboard_appears_in_another(demo_url, demo_db):
    sender, reader = build_app(demo_url, live=True), build_app(demo_url, live=True)
    async with running(reader) as reader_pilot, running(sender) as sender_pilot:
        for pilot in (reader_pilot, sender_pilot):
            await pilot.press("f4")
            await settle(pilot)
        watching = reader.screen
        assert isinstance(watching, ChatScreen)
        await wait_for(reader_pilot, lambda: watching.thread.header is not None)
        order_id = watching.thread.order_id
        before = len(watching.thread.messages)
        # the sender writes in the same chat
        screen = sender.screen
        assert isinstance(screen, ChatScreen)
        await wait_for(sender_pilot, lambda: screen.thread.header is not None)
        assert screen.thread.order_id == order_id
        screen.thread.reading = True
        await sender_pilot.press("c", *"Еду, буду через 20 минут")
        await sender_pilot.press("ctrl+j")
        await wait_for(
            sender_pilot,
            lambda: (
                bool(screen.thread.messages)
                and screen.thread.messages[-1].text == "Еду, буду через 20 минут"
            ),
        )
        sent = time.monotonic()
        await wait_for(reader_pilot, lambda: len(watching.thread.messages) == before + 1)
        assert time.monotonic() - sent < WITHIN
        assert watching.thread.messages[-1].text == "Еду, буду через 20 минут"
        assert watching.rows[0]["order_id"] == order_id
    with demo_db.reader() as s:
        assert s.exec(select(Message).where(Message.text == "Еду, буду через 20 минут")).one()


async def test_an_order_moved_in_one_dashboard_shows_in_another(demo_url, demo_db):
    mover, watcher = build_app(demo_url, live=True), build_app(demo_url, live=True)
    async with running(watcher) as watcher_pilot, running(mover) as mover_pilot:
        board = watcher.screen
        assert isinstance(board, BoardScreen)
        row = board.table.row_at(0)
        await mover_pilot.press("m")  # the first order, on to the first stage offered
        await settle(mover_pilot)
        await mover_pilot.press("enter")
        await settle(mover_pilot)
        with demo_db.reader() as s:
            stage = s.get(Order, row["id"]).stage_code
        assert stage != row["stage_code"]
        moved = time.monotonic()
        await wait_for(
            watcher_pilot,
            lambda: (
                board.table.row_at(0) is not None and board.table.row_at(0)["stage_code"] == stage
            ),
        )
        assert time.monotonic() - moved < WITHIN


async def test_a_visit_planned_elsewhere_shows_in_the_planner(demo_url, demo_db):
    app = build_app(demo_url, live=True)
    async with running(app) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        planner = app.screen
        assert isinstance(planner, PlannerScreen)
        visits = sum(len(p.days[0].visits) for p in planner.timeline.people)
        queued = planner.queue[0]
        # another process (here: the core, as `fsm plan add` would) plans it
        from fsm_core.services import planning
        from tests.conftest import NOW

        with demo_db.transaction() as s:
            employee = planner.timeline.people[0].employee_id
            planning.add_visit(
                session=s,
                order_id=queued["id"],
                employee_id=employee,
                start=NOW,
                actor="Смирнов П. А.",
            )
        await wait_for(
            pilot, lambda: sum(len(p.days[0].visits) for p in planner.timeline.people) > visits
        )
        assert queued["id"] not in [r["id"] for r in planner.queue]


async def test_the_status_line_says_live_updates_are_on(demo_url):
    app = build_app(demo_url, lang="en", live=True)
    async with running(app):
        line = app.screen.query_one(StatusLine)
        assert line.live == "on"
        assert line.has_class("live-on")
        with app._context():  # the app runs in a task of its own
            assert "live: on" in str(line.render())


async def test_the_board_stops_its_minute_refresh_while_live(demo_url, demo_db):
    app = build_app(demo_url, live=True)
    async with running(app) as pilot:
        board = app.screen
        generation = board.table.generation
        board._minute_refresh()  # what the minute's timer calls
        await settle(pilot)
        assert board.table.generation == generation
        # a change by someone else reloads it instead
        with demo_db.transaction() as s:
            order = s.exec(select(Order).where(Order.stage_code == "new")).first()
            orders.update_order(
                session=s, order_id=order.id, data={"description": "Другое"}, actor="x"
            )
        await wait_for(pilot, lambda: board.table.generation > generation)


async def test_without_live_updates_the_board_rereads_itself_every_minute(app):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = app.screen
        assert app.live_state == "off"
        generation = board.table.generation
        board._minute_refresh()
        await settle(pilot)
        assert board.table.generation == generation + 1


class _Flaky:
    """A subscription that breaks on its second poll, then a healthy one."""

    def __init__(self, log: list[str], broken: bool) -> None:
        self.log = log
        self.broken = broken
        self.polls = 0

    def poll(self, timeout: float = 1.0) -> list[Change]:
        self.polls += 1
        time.sleep(0.05)
        if self.broken and self.polls == 2:
            raise OSError("server closed the connection")
        if not self.broken and self.polls == 1:
            return [Change("order", (7,))]
        return []

    def close(self) -> None:
        self.log.append("closed")


async def test_a_lost_connection_is_shown_and_retried(demo_url, monkeypatch):
    from fsm_core import live

    log: list[str] = []
    made: list[_Flaky] = []

    def subscribe(database: Any, **kwargs: Any) -> _Flaky:
        made.append(_Flaky(log, broken=not made))
        return made[-1]

    monkeypatch.setattr(live, "subscribe", subscribe)
    monkeypatch.setattr(LiveBridge, "RETRY", 0.1)
    states: list[str] = []
    changed: list[Any] = []

    def hook(message: Any) -> None:
        if isinstance(message, LiveStateChanged) and message._sender is None:
            states.append(message.state)
        if isinstance(message, OrdersChanged):
            changed.append(message.order_ids)

    app = build_app(demo_url, live=True)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await wait_for(pilot, lambda: len(made) == 2 and app.live_state == "on", timeout=5)
        await wait_for(pilot, lambda: (7,) in changed, timeout=5)
    assert "lost" in states
    assert states.index("lost") < len(states) - 1
    assert states[-1] == "on"
    assert None in changed  # after the reconnect: everything is re-read
    assert log[0] == "closed"


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)  # connections to a server
async def test_after_the_servers_connections_are_dropped_the_board_is_read_again(
    demo_url, demo_db, monkeypatch
):
    """PostgreSQL drops every connection (a restart, pg_terminate_backend); an order is
    created while the dashboard is away. When live updates are back, the board shows it:
    its rows and its count are read again, on fresh connections."""
    import psycopg

    from fsm_core.db import Database

    monkeypatch.setattr(LiveBridge, "RETRY", 0.2)
    app = build_app(demo_url, live=True)
    async with running(app) as pilot:
        board = app.screen
        assert isinstance(board, BoardScreen)
        await wait_for(pilot, lambda: board.table.total is not None, timeout=10)
        total = board.table.total
        assert app.live_state == "on"
        # every connection to the database but this one goes: the app's, the tests'
        args, params = demo_db.engine.dialect.create_connect_args(demo_db.engine.url)
        with psycopg.connect(*args, **params, autocommit=True) as admin:
            dropped = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            assert dropped >= 2  # the board's pooled connection and the live one
            # someone creates an order while the dashboard is away
            other = Database(demo_url)
            try:
                with other.transaction() as s:
                    customer = s.exec(select(Order.customer_id)).first()
                    created = orders.create_order(
                        session=s,
                        data={"customer_id": customer, "description": "Пока связи не было"},
                        actor="Смирнов П. А.",
                    )
            finally:
                other.dispose()
        await wait_for(
            pilot,
            lambda: (
                app.live_state == "on"
                and board.table.total == total + 1
                and board.table.row_at(0) is not None
                and board.table.row_at(0)["number"] == created.number
            ),
            timeout=20,
        )
        await settle(pilot)
        shown = min(board.table.total, board.table.size.height - 1)
        assert all(board.table.row_at(i) is not None for i in range(shown))  # no "…" left
    with demo_db.reader() as s:  # the test's own pooled connections were dropped too
        assert s.get(Order, created.id).description == "Пока связи не было"
