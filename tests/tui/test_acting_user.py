"""Who acts in the dashboard: the user the account is bound to, or, for an admin, the user
--as / FSM_USER names, established by the core before the first screen (a login, a name or
a short name).
An unknown one is a one-line error and exit 1 from ``fsm tui``. The user's display name is
on the status line and in the history of every change, and chats are read and written as
that user."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from fsm_core.errors import NotFound
from fsm_core.identity import NotBound
from fsm_core.models import AppUser, Message, OrderHistory
from fsm_core.services import users
from fsm_tui.app import make_app
from fsm_tui.widgets.status_line import StatusLine
from tests.tui.conftest import SIZE, build_app, settle

pytestmark = [pytest.mark.asyncio, pytest.mark.both_backends]  # what differs by back-end


@pytest.mark.parametrize("name", ["orlova", "Орлова В. П.", "Орлова В.П.", None])
async def test_a_login_a_name_or_the_default_user(demo_url, name):
    app = make_app(demo_url, lang="ru", user=name, live=False)
    assert app.backend.user == "Орлова В. П."  # the demo's default user is its dispatcher
    assert app.backend.actor.login == "orlova"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        line = app.screen.query_one(StatusLine)
        assert "пользователь Орлова В. П." in str(line.render())


async def test_an_unknown_user_is_refused_before_any_screen(demo_url):
    with pytest.raises(NotFound) as caught:
        make_app(demo_url, lang="ru", user="nobody")
    assert "nobody" in caught.value.one_line()


async def test_a_deactivated_user_is_refused(demo_url, demo_db):
    with demo_db.transaction() as s:
        user = s.exec(select(AppUser).where(AppUser.login == "petrov")).one()
        users.set_active(session=s, user_id=user.id, active=False)
    with pytest.raises(NotBound, match="deactivated"):
        make_app(demo_url, lang="ru", user="petrov")


async def test_fsm_tui_with_an_unknown_user_says_so_in_one_line(sqlite_demo_url):
    from fsm_cli.main import app as cli

    result = CliRunner().invoke(cli, ["--db", sqlite_demo_url, "--as", "nobody", "tui"])
    assert result.exit_code == 1, (result.stdout, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "nobody" in lines[0]


async def test_changes_and_messages_are_the_acting_users(demo_url, demo_db):
    app = build_app(demo_url, user="petrov")  # a technician, by login
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        order_id = screen.rows[0]["order_id"]  # his chats only: orders planned for him
        screen.conversations.focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"На месте", "ctrl+j")
        await settle(pilot)
        await pilot.press("escape", "o")  # from the composer back to the list; the order
        await settle(pilot)
        await pilot.press("m")  # the order's next stage, from the order screen
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    with demo_db.reader() as s:
        message = s.exec(select(Message).order_by(Message.id.desc())).first()
        author = s.get(AppUser, message.author_user_id)
        last = s.exec(
            select(OrderHistory)
            .where(OrderHistory.order_id == order_id)
            .order_by(OrderHistory.id.desc())
        ).first()
    assert (message.text, author.login) == ("На месте", "petrov")
    assert last.actor == "Орлова В. П. on behalf of Петров А. С."  # the test's account is hers
