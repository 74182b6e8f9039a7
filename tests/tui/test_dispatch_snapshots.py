"""Screenshots of the planner, the chats and the order screen's Messages tab at 120×40 on
the demo company, the clock pinned (Thursday 26.11.2026 12:00 in Moscow) and cursors still.
Review a changed one with ``pytest tests/tui --snapshot-report``."""

from __future__ import annotations

from sqlmodel import select

from fsm_core.models import Order
from tests.tui.conftest import snap


def _select_visit(number: str):
    def step(pilot):
        timeline = pilot.app.screen.timeline
        for row, person in enumerate(timeline.people):
            for index, visit in enumerate(person.days[0].visits):
                if visit.number == number:
                    timeline.cursor_row = row
                    timeline.cursor_visit = index
                    return
        raise AssertionError(number)

    return step


def _queue_order(pilot):
    screen = pilot.app.screen
    screen.queue_list.focus()
    index = next(i for i, r in enumerate(screen.queue) if r["number"] == "26-0067")
    screen.queue_list.highlighted = index


def test_planner(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f3")


def test_planner_a_visit_with_conflicts(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f3", _select_visit("26-0068"))


def test_planner_nearest_for_a_queue_order_in_english(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f3", _queue_order, lang="en")


def test_planner_next_day(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f3", "right_square_bracket")


def test_plan_a_visit(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f3", _queue_order, "p")


def test_chats(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, "f4", "down", "down")


def test_chat_forward(snap_compare, sqlite_demo_url):
    def first_message(pilot):
        thread = pilot.app.screen.thread
        thread.message_list.focus()
        thread.message_list.highlighted = 0

    assert snap(snap_compare, sqlite_demo_url, "f4", "down", "down", first_message, "f")


def test_order_messages_tab(snap_compare, sqlite_demo_url):
    from fsm_core.db import Database

    database = Database(sqlite_demo_url)
    with database.reader() as s:
        order_id = s.exec(select(Order.id).where(Order.number == "26-0082")).one()
    database.dispose()

    def open_order(pilot):
        pilot.app.open_order(order_id)

    def messages(pilot):
        pilot.app.screen.query_one("#order-tabs").active = "tab-messages"

    def write(pilot):
        pilot.app.screen.query_one("#order-messages").composer.focus()

    assert snap(snap_compare, sqlite_demo_url, open_order, messages, write, *"Спасибо!")
