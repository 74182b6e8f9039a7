"""The customer's side in the dashboard: the board marks the requests customers sent from
the QR passport; the order screen shows the customer's rating (its mean, three scores and
comment) and the order's status page, made on the dispatcher's first look."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from fsm_core.db import Database
from fsm_core.models import Order
from fsm_core.models.customer import StatusLink
from fsm_core.services import users
from fsm_tui.cells import QR_MARK
from fsm_tui.screens.order import OrderScreen
from tests.tui.conftest import SIZE, build_app, screen_text, settle, snap

NUMBER = re.compile(r"^(\d\d-\d{4})( ▦)?", re.MULTILINE)


def _db_orders(url: str) -> dict[str, Order]:
    db = Database(url)
    try:
        with db.reader() as s:
            return {o.number: o for o in s.exec(select(Order)).all()}
    finally:
        db.dispose()


def _link(url: str, order_id: int) -> str | None:
    db = Database(url)
    try:
        with db.reader() as s:
            link = s.get(StatusLink, order_id)
            return link.token if link else None
    finally:
        db.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_board_marks_the_requests_sent_by_qr(sqlite_demo_url, lang):
    orders = _db_orders(sqlite_demo_url)
    app = build_app(sqlite_demo_url, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = NUMBER.findall(screen_text(app))
        assert len(shown) >= 25
        marked = {number for number, mark in shown if mark}
        assert marked == {n for n, _ in shown if orders[n].source == "qr"}
        assert len(marked) >= 3  # the demo's requests sent from the QR passports
        await pilot.press("v")  # the stage columns mark them too
        await settle(pilot)
        cards = screen_text(app)
        for number in marked:
            assert f"{number} {QR_MARK}" in cards
        assert not any(f"{n} {QR_MARK}" in cards for n, _ in shown if n not in marked)


def details_text(app) -> str:
    """The order screen's Details panel as one line: its rows' cells, wrapped lines
    joined, runs of spaces made one."""
    inside = [
        line[line.index("│") + 1 : line.rindex("│")]
        for line in screen_text(app).splitlines()
        if line.count("│") >= 2
    ]
    return " ".join(" ".join(inside).split())


async def _open(app, pilot, order_id: int) -> OrderScreen:
    await settle(pilot)
    app.open_order(order_id)
    await settle(pilot)
    assert isinstance(app.screen, OrderScreen)
    return app.screen


@pytest.mark.asyncio
async def test_the_order_screen_shows_the_rating_and_the_status_link(sqlite_demo_url):
    orders = _db_orders(sqlite_demo_url)
    order = orders["26-0017"]  # the demo's unhappy customer: 1, 2, 2
    assert _link(sqlite_demo_url, order.id) is None
    app = build_app(sqlite_demo_url, lang="ru")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, order.id)
        text = screen_text(app)
        assert "Заявка 26-0017 · Закрыта · ★ 1,67" in text
        assert "★ 1,67" in text
        for score in ("оперативность 1", "точность 2", "общение 2"):
            assert f"  {score}  " in text
        details = details_text(app)
        assert "Оценка ★ 1,67 оперативность 1 точность 2 общение 2" in details
        assert "Комментарий «Приехали без запчастей, пришлось вызывать второй раз»" in details
        # made on this first look, and shown from the first frame
        token = _link(sqlite_demo_url, order.id)
        assert token == "TestLink00000000000001"
        assert screen.details["feedback"].status_url == f"https://fsm.example/s/{token}"
        # the address folds at the panel's edge
        assert f"Страницастатусаhttps://fsm.example/s/{token}Версия" in details.replace(" ", "")


@pytest.mark.asyncio
async def test_in_english_and_without_a_rating(sqlite_demo_url):
    orders = _db_orders(sqlite_demo_url)
    app = build_app(sqlite_demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, orders["26-0064"].id)  # rated 5, 5, 5, sent by QR
        text = screen_text(app)
        assert "Order 26-0064 ▦ · Done · ★ 5.00" in text
        for score in ("promptness 5", "accuracy 5", "communication 5"):
            assert f"  {score}  " in text
        details = details_text(app)
        assert f"Source {QR_MARK} the customer, by QR code" in details
        assert "Comment “Отправили заявку с телефона по QR-коду — очень удобно”" in details
        assert "Status page" in text
        await pilot.press("escape")
        await _open(app, pilot, orders["26-0090"].id)  # neither rated nor from QR
        text = screen_text(app)
        assert "★" not in text
        assert "Rating" not in text
        assert "Source" not in text
        assert "Order 26-0090 ·" in text
        assert _link(sqlite_demo_url, orders["26-0090"].id) == "TestLink00000000000002"


@pytest.mark.asyncio
async def test_a_viewer_sees_the_rating_and_makes_no_link(sqlite_demo_url):
    db = Database(sqlite_demo_url)
    try:
        with db.transaction() as s:
            users.create_user(
                session=s, login="zritel", display_name="Наблюдатель", roles=["viewer"]
            )
    finally:
        db.dispose()
    order = _db_orders(sqlite_demo_url)["26-0017"]
    app = build_app(sqlite_demo_url, lang="ru", user="zritel")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, order.id)
        text = screen_text(app)
        assert "★ 1,67" in text
        assert "Страница статуса" not in text
        assert screen.details["feedback"].status_url is None
    assert _link(sqlite_demo_url, order.id) is None


def _order_id(url: str, number: str) -> int:
    order_id = _db_orders(url)[number].id
    assert order_id is not None
    return order_id


def test_order_rated_and_sent_by_qr(snap_compare, sqlite_demo_url):
    order_id = _order_id(sqlite_demo_url, "26-0064")
    assert snap(snap_compare, sqlite_demo_url, lambda pilot: pilot.app.open_order(order_id))


def test_order_rated_unhappy_in_english(snap_compare, sqlite_demo_url):
    order_id = _order_id(sqlite_demo_url, "26-0017")
    assert snap(
        snap_compare, sqlite_demo_url, lambda pilot: pilot.app.open_order(order_id), lang="en"
    )


def test_order_rated_narrow(snap_compare, sqlite_demo_url):
    order_id = _order_id(sqlite_demo_url, "26-0064")
    assert snap(
        snap_compare,
        sqlite_demo_url,
        lambda pilot: pilot.app.open_order(order_id),
        size=(80, 24),
    )
