"""The customer's pages as kept between requests (fsm_web/page_cache.py): never once the
database or the clock has made them other than what reading them now would give.

Most tests run the application in this process (httpx's ASGI transport, the tests'
frozen clock reaching its worker threads) on its own :class:`Database` — another engine,
other connections than the test's ``world.db``, which changes things as another program
would. Two tests run ``fsm serve`` as a process and change the database from this one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.models import AppUser, Message, Position
from fsm_core.services import chat, customer_pages, orders, passports, status_links
from fsm_web import page_cache
from fsm_web.server import make_app
from tests.conftest import NOW
from tests.web.conftest import CSRF, finish, passport_token, setup_company, status_token

Script = Callable[[httpx.AsyncClient], Awaitable[None]]


@contextmanager
def served(db_url: str) -> Iterator[Starlette]:
    """The web application on a Database of its own (its own connections)."""
    database = Database(db_url)
    app = make_app(database, notify_interval=0, secret=b"k" * 32)
    try:
        yield app
    finally:
        app.state.site.changes.close()
        database.dispose()


def run(app: Starlette, script: Script) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://pages.test",
            headers={"accept-language": "ru-RU,ru;q=0.9"},
        ) as http:
            await script(http)

    asyncio.run(main())


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times each page was read from the database."""
    counts = {"passport": 0, "status": 0}
    for name, fn in (
        ("passport", customer_pages.passport_page),
        ("status", customer_pages.status_page),
    ):

        def counted(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            counts[_name] += 1
            return _fn(*args, **kwargs)

        monkeypatch.setattr(customer_pages, f"{name}_page", counted)
    return counts


def field(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def is_sqlite(world) -> bool:
    return world.db.is_sqlite


def test_a_kept_page_is_filled_per_visitor_and_read_once(world, reads) -> None:
    setup_company(world)
    token = passport_token(world)

    async def script(http: httpx.AsyncClient) -> None:
        first = await http.get(f"/p/{token}")
        again = await http.get(f"/p/{token}")
        assert first.status_code == again.status_code == 200
        assert first.text == again.text  # the same browser: the same cookie, the same field
        # another phone: its own CSRF field (made for its own cookie) and its own name
        who = base64.urlsafe_b64encode(
            json.dumps({"name": "<b>Ольга</b>", "phone": "+79213456701"}).encode()
        ).decode()
        other = await http.get(
            f"/p/{token}", headers={"cookie": f"fsm_csrf=other-phone; fsm_who={who}"}
        )
        fields = {field(first), field(other)}
        assert len(fields) == 2
        assert 'value="&lt;b&gt;Ольга&lt;/b&gt;"' in other.text  # escaped
        assert 'value="+79213456701"' in other.text
        assert "Ольга" not in first.text
        assert "fsm-slot" not in first.text + other.text
        # the field a page carries is the one its cookie's POST is taken with
        sent = await http.post(f"/p/{token}", data={"csrf": field(first), "description": ""})
        assert sent.status_code == 400  # past the CSRF check: the description is missing
        refused = await http.post(f"/p/{token}", data={"csrf": field(other), "description": "x"})
        assert refused.status_code == 403  # another phone's field with this one's cookie

    with served(world.db.url) as app:
        run(app, script)
    # kept on SQLite: one read for three pages (and one for the form sent back with its
    # error); PostgreSQL keeps nothing
    assert reads["passport"] == (2 if is_sqlite(world) else 4)


def test_a_label_revoked_by_another_connection_stops_working_at_once(world, reads) -> None:
    setup_company(world)
    token = passport_token(world)

    async def script(http: httpx.AsyncClient) -> None:
        assert (await http.get(f"/p/{token}")).status_code == 200
        assert (await http.get(f"/p/{token}")).status_code == 200
        with world.db.transaction() as s:  # `fsm labels revoke`, elsewhere
            passports.rotate_token(session=s, object_id=world.ac.id)
        gone = await http.get(f"/p/{token}")
        assert gone.status_code == 404
        assert "Страница не найдена" in gone.text

    with served(world.db.url) as app:
        run(app, script)


def test_a_replaced_or_expired_status_link_stops_working_at_once(world) -> None:
    setup_company(world, status_link_days="30")
    replaced = world.order(object_id=world.ac.id)
    closed = world.order(object_id=world.ac.id)
    replaced_token = status_token(world, replaced.id)
    closed_token = status_token(world, closed.id)
    finish(world, closed)
    with world.db.transaction() as s:
        orders.move_order(session=s, order_id=closed.id, stage="closed", actor="tester")
        closed_at = s.get(type(closed), closed.id).closed_at

    async def script(http: httpx.AsyncClient) -> None:
        for _ in range(2):
            assert (await http.get(f"/s/{replaced_token}")).status_code == 200
            assert (await http.get(f"/s/{closed_token}")).status_code == 200
        with world.db.transaction() as s:
            status_links.replace_link(session=s, order_id=replaced.id)
        assert (await http.get(f"/s/{replaced_token}")).status_code == 404
        # nothing written: only the clock says the link has expired
        with clock.frozen(closed_at + timedelta(days=30, seconds=-1)):
            assert (await http.get(f"/s/{closed_token}")).status_code == 200
        with clock.frozen(closed_at + timedelta(days=30, seconds=1)):
            assert (await http.get(f"/s/{closed_token}")).status_code == 404

    with served(world.db.url) as app:
        run(app, script)


def test_a_stage_a_message_and_a_position_show_on_the_next_request(world, reads) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    token = status_token(world, order.id)
    with world.db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=world.ivanov.id, actor="t")
    lat, lon = 59.931172, 30.360891

    def position(north_m: float, age: timedelta) -> None:
        with world.db.transaction() as s:
            s.add(
                Position(
                    employee_id=world.ivanov.id,
                    fix_at=clock.now() - age,
                    latitude=lat + north_m / 111_195.0,
                    longitude=lon,
                    source="osmand",
                )
            )

    def eta(page: httpx.Response) -> str:
        found = re.search(r'id="eta">[^<]*?(\d\d:\d\d)', page.text)
        assert found, page.text
        return found.group(1)

    async def script(http: httpx.AsyncClient) -> None:
        page = await http.get(f"/s/{token}")
        assert "Назначен исполнитель" in page.text
        assert (await http.get(f"/s/{token}")).text == page.text
        with world.db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
        position(30_000, timedelta(minutes=2))
        page = await http.get(f"/s/{token}")
        assert "Специалист в пути" in page.text
        far = eta(page)
        position(1_000, timedelta(minutes=1))  # a new fix, much nearer
        near = eta(await http.get(f"/s/{token}"))
        assert near < far
        with world.db.transaction() as s:
            dispatcher = s.exec(select(AppUser).where(AppUser.kind == "dispatcher")).first()
            chat.send_message(
                session=s, order_id=order.id, user=dispatcher, text="Едем к вам", channel="customer"
            )
        assert "Едем к вам" in (await http.get(f"/s/{token}")).text

    with served(world.db.url) as app:
        run(app, script)
    with world.db.reader() as s:
        assert len(s.exec(select(Message)).all()) == 1


def test_an_arrival_estimate_is_worked_out_again_as_its_minute_moves_on(world, reads) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id)
    token = status_token(world, order.id)
    with world.db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=world.ivanov.id, actor="t")
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
        s.add(
            Position(
                employee_id=world.ivanov.id,
                fix_at=NOW - timedelta(minutes=1),
                latitude=59.931172 + 3000 / 111_195.0,
                longitude=30.360891,
                source="osmand",
            )
        )
    with world.db.reader() as s:
        brand = customer_pages.brand(session=s, accept_language="ru")
        view = customer_pages.status_page(session=s, token=token, brand=brand, now=NOW)
    assert view.arrival is not None
    assert view.changes_at is not None
    assert NOW < view.changes_at <= NOW + timedelta(minutes=1)
    reads["status"] = 0

    async def script(http: httpx.AsyncClient) -> None:
        first = await http.get(f"/s/{token}")
        with clock.frozen(view.changes_at - timedelta(microseconds=1)):
            meanwhile = await http.get(f"/s/{token}")
        assert meanwhile.text == first.text  # the same minutes shown
        with clock.frozen(view.changes_at):
            moved = await http.get(f"/s/{token}")
        assert moved.status_code == 200
        assert moved.text != first.text  # a minute later
        with clock.frozen(NOW + timedelta(minutes=30)):  # the fix is stale: by the plan
            stale = await http.get(f"/s/{token}")
        assert 'id="eta"' not in stale.text

    with served(world.db.url) as app:
        run(app, script)
    assert reads["status"] == (3 if is_sqlite(world) else 4)


def test_a_page_without_an_estimate_does_not_expire_with_the_clock(world, reads) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id)
    token = status_token(world, order.id)

    async def script(http: httpx.AsyncClient) -> None:
        await http.get(f"/s/{token}")
        with clock.frozen(NOW + timedelta(hours=5)):
            await http.get(f"/s/{token}")

    with served(world.db.url) as app:
        run(app, script)
    assert reads["status"] == (1 if is_sqlite(world) else 2)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL keeps no pages
def test_the_database_version_sees_every_other_connection_s_commit(world) -> None:
    server = Database(world.db.url)  # the server's own engine
    changes = page_cache.Changes(server)
    try:
        before = changes.version()
        assert before is not None
        assert changes.version() == before  # nothing committed
        with server.reader() as s:
            s.execute(select(AppUser.id)).all()
        assert changes.version() == before  # a read is no change
        with server.transaction() as s:  # the server's own write (a message, a fix)
            s.add(
                Position(
                    employee_id=world.ivanov.id,
                    fix_at=NOW,
                    latitude=59.9,
                    longitude=30.3,
                    source="osmand",
                )
            )
        after_own = changes.version()
        assert after_own != before
        path = Path(server.engine.url.database or "")
        with sqlite3.connect(path) as other:  # another program
            other.execute("UPDATE service_object SET floor = '2' WHERE id = ?", (world.ac.id,))
        assert changes.version() != after_own
    finally:
        changes.close()
        server.dispose()


def test_no_database_text_can_be_taken_for_a_slot() -> None:
    html = f"<p>{page_cache.SLOTS['name']}</p><i>fsm-slot-0-csrf</i>{page_cache.SLOTS['csrf']}"
    page = page_cache.Page.of(html, version=1)
    assert page.fill(name="<Ольга>", csrf="ab") == ("<p>&lt;Ольга&gt;</p><i>fsm-slot-0-csrf</i>ab")
    assert page.fill() == "<p></p><i>fsm-slot-0-csrf</i>"
    kept = page_cache.PageCache(size=2)
    for n in range(3):
        kept.put(n, page)
    assert kept.get(0, 1) is None  # the oldest went
    assert kept.get(2, 1) is page
    assert kept.get(2, 2) is None  # another version: not served, and dropped
    assert kept.get(2, 1) is None
    assert kept.get(1, None) is None  # no version (PostgreSQL): nothing kept is served


# --- over HTTP: the server a process, the change made by this one ----------------------------


def test_a_revoked_label_and_link_over_http(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    order = world.order(object_id=world.ac.id)
    link = status_token(world, order.id)
    for _ in range(3):
        assert browser.http.get(f"/p/{token}").status_code == 200
        assert browser.http.get(f"/s/{link}").status_code == 200
    with world.db.transaction() as s:
        passports.rotate_token(session=s, object_id=world.ac.id)
        status_links.replace_link(session=s, order_id=order.id)
    assert browser.http.get(f"/p/{token}").status_code == 404
    assert browser.http.get(f"/s/{link}").status_code == 404


def test_the_server_s_own_writes_show_over_http(world, browser) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    link = status_token(world, order.id)
    page = browser.http.get(f"/s/{link}")
    assert "Сообщений пока нет" in page.text
    sent = browser.http.post(
        f"/s/{link}/message",
        data={"csrf": browser.csrf(page), "text": "Жду с 10 до 12"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "Жду с 10 до 12" in browser.http.get(f"/s/{link}").text
