"""Screenshots of the planner and the order screen with positions (issue 17): actual stays
under the planned blocks (late, never came, still there) and the assignee's distance and
verified arrival. Without positions both look as they always did (the other snapshots)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from fsm_core.db import Database
from fsm_core.models import Order, Position
from tests.gps.tracks import Track
from tests.tui.conftest import snap

SHOP = (59.931172, 30.360891)  # 26-0082, 26-0068: Невский, 114
PLANT = (60.0912, 30.3016)  # 26-0058, 26-0050


def _moscow(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 26, hour - 3, minute, tzinfo=UTC)


def _positions(url: str) -> None:
    """The demo's day with positions: Петров (2) comes to the shop at 10:15, a quarter of
    an hour late, and leaves at 11:41; employee 5 is at the plant since 09:52; employee 7
    never reaches the plant (he stands elsewhere all morning)."""
    late = Track(_moscow(10, 10), SHOP).drive((-4000, 0), (0, 0)).stay(0, 0, 85, every=60)
    late.drive((0, 0), (2500, 1000)).stay(2500, 1000, 4, every=60)
    there = Track(_moscow(9, 45), PLANT).drive((0, -5000), (0, 0)).stay(0, 0, 120, every=60)
    elsewhere = Track(_moscow(9, 0), (59.95, 30.32)).stay(0, 0, 90, every=120)
    db = Database(url)
    try:
        with db.transaction() as s:
            for employee_id, track in ((2, late), (5, there), (7, elsewhere)):
                s.add_all(
                    Position(
                        employee_id=employee_id,
                        fix_at=p.at,
                        latitude=p.latitude,
                        longitude=p.longitude,
                        accuracy_m=p.accuracy_m,
                        source="osmand",
                    )
                    for p in track.points
                    if p.at <= _moscow(12)
                )
    finally:
        db.dispose()


def _order_id(url: str, number: str) -> int:
    db = Database(url)
    try:
        with db.reader() as s:
            return s.exec(select(Order.id).where(Order.number == number)).one()
    finally:
        db.dispose()


def test_planner_with_positions(snap_compare, sqlite_demo_url):
    _positions(sqlite_demo_url)
    assert snap(snap_compare, sqlite_demo_url, "f3")


def test_order_with_a_verified_arrival(snap_compare, sqlite_demo_url):
    _positions(sqlite_demo_url)
    order_id = _order_id(sqlite_demo_url, "26-0082")
    assert snap(snap_compare, sqlite_demo_url, lambda pilot: pilot.app.open_order(order_id))


def test_order_whose_assignee_stands_elsewhere_in_english(snap_compare, sqlite_demo_url):
    _positions(sqlite_demo_url)
    order_id = _order_id(sqlite_demo_url, "26-0050")
    assert snap(
        snap_compare, sqlite_demo_url, lambda pilot: pilot.app.open_order(order_id), lang="en"
    )


def test_new_positions_refresh_the_order_screen(sqlite_demo_url):
    import asyncio

    from fsm_tui.messages import PositionsArrived
    from tests.tui.conftest import build_app, screen_text, settle, wait_until

    order_id = _order_id(sqlite_demo_url, "26-0082")
    _positions(sqlite_demo_url)

    async def run() -> None:
        app = build_app(sqlite_demo_url)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.open_order(order_id)
            await settle(pilot)
            assert "уехал 11:41" in screen_text(app)
            db = Database(sqlite_demo_url)
            with db.transaction() as s:  # back at the shop a minute ago
                s.add_all(
                    Position(
                        employee_id=2,
                        fix_at=_moscow(11, 56) + timedelta(minutes=i),
                        latitude=SHOP[0],
                        longitude=SHOP[1],
                        accuracy_m=10,
                        source="osmand",
                    )
                    for i in range(4)
                )
            db.dispose()
            app.post_message(PositionsArrived((2,)))
            await wait_until(
                pilot, lambda: "0 м · 1 мин назад" in screen_text(app), what="the new position"
            )

    asyncio.run(run())
