"""Chats, driven with Textual's Pilot: conversations with unread badges, a thread per order
with its two channels, sending with the keys, "also to the customer", forwarding, and the
order screen's Messages tab."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import Checkbox, Input, Select

from fsm_core.models import AppUser, Channel, Message, Order
from fsm_core.services import chat
from fsm_tui.screens.chat import ChatScreen
from fsm_tui.screens.forward import ForwardScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.widgets.chat_thread import ChatThread, Composer
from tests.tui.conftest import SIZE, USER, screen_text, settle

pytestmark = pytest.mark.asyncio


def me(db) -> AppUser:
    with db.reader() as s:
        user = s.exec(select(AppUser).where(AppUser.display_name == USER)).one()
        s.expunge(user)
    return user


def unread(db, order_id: int | None = None) -> dict[str, int] | int:
    with db.reader() as s:
        counts = chat.unread(session=s, user=me(db))
    return counts.total if order_id is None else counts.by_order.get(order_id, {})


def order_id_of(db, number: str) -> int:
    with db.reader() as s:
        return s.exec(select(Order.id).where(Order.number == number)).one()


def messages_of(db, order_id: int) -> list[Message]:
    with db.reader() as s:
        return list(
            s.exec(select(Message).where(Message.order_id == order_id).order_by(Message.id))
        )


async def open_chats(app, pilot) -> ChatScreen:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    assert isinstance(app.screen, ChatScreen), app.screen
    return app.screen


async def go_to(pilot, screen: ChatScreen, number: str) -> ChatThread:
    """Move the cursor to a conversation, as the user does (which opens it)."""
    numbers = [r["number"] for r in screen.rows]
    target = numbers.index(number)
    current = screen.conversations.highlighted or 0
    screen.conversations.focus()
    step = "down" if target > current else "up"
    for _ in range(abs(target - current)):
        await pilot.press(step)
    if target == current:  # already there: enter opens it
        await pilot.press("enter")
    await settle(pilot)
    thread = screen.thread
    assert thread.header is not None
    assert thread.header.number == number
    return thread


async def test_conversations_with_unread_badges_and_a_preview_reads_nothing(app, demo_db):
    before = unread(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        assert [r["order_id"] for r in screen.rows] == [r["order_id"] for r in chat_list(demo_db)]
        assert screen.total_unread == before
        assert f"непрочитанных {before}" in screen_text(app)
        # the first conversation is shown, not read: entering the section reads nothing
        assert screen.thread.header is not None
        assert unread(demo_db) == before


def chat_list(db) -> list[dict]:
    with db.reader() as s:
        return chat.chat_list(session=s, user=me(db))


async def test_opening_a_thread_reads_the_channel_shown_and_badges_drop(app, demo_db):
    order_id = order_id_of(demo_db, "26-0082")
    assert unread(demo_db, order_id) == {"team": 2, "customer": 1}
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        thread = await go_to(pilot, screen, "26-0082")
        assert thread.channel == "team"
        assert [m.text for m in thread.messages][-1].startswith("Помпа была забита")
        assert unread(demo_db, order_id) == {"customer": 1}
        row = next(r for r in screen.rows if r["order_id"] == order_id)
        assert row["unread"] == 1  # the list was re-read: the team's 2 are gone
        assert thread.unread == {"team": 0, "customer": 1}
        # the other channel: ctrl+t, read too
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert thread.channel == "customer"
        assert [m.text for m in thread.messages][-1] == "Спасибо! Сейчас сухо."
        assert unread(demo_db, order_id) == {}
        assert next(r for r in screen.rows if r["order_id"] == order_id)["unread"] == 0


async def test_a_thread_with_news_only_for_the_customer_opens_on_that_channel(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        thread = await go_to(pilot, screen, "26-0048")
        assert thread.channel == "customer"
        assert unread(demo_db, order_id_of(demo_db, "26-0048")) == {}


@pytest.mark.parametrize("key", ["ctrl+enter", "ctrl+j", "ctrl+s"])
async def test_send_with_the_keys(app, demo_db, key):
    order_id = order_id_of(demo_db, "26-0058")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        thread = await go_to(pilot, screen, "26-0058")
        await pilot.press("c")  # to the composer
        assert isinstance(app.focused, Composer)
        await pilot.press(*"Кабель заменили?", "enter", *"Жду фото.")  # enter: a new line
        await pilot.press(key)
        await settle(pilot)
        last = messages_of(demo_db, order_id)[-1]
        assert last.text == "Кабель заменили?\nЖду фото."
        assert last.channel == "team"
        assert thread.composer.text == ""
        assert thread.messages[-1].author == USER
        assert "Жду фото." in screen_text(app)
        assert screen.rows[0]["order_id"] == order_id  # the latest conversation on top


async def test_an_empty_message_is_not_sent(app, demo_db):
    order_id = order_id_of(demo_db, "26-0058")
    count = len(messages_of(demo_db, order_id))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        await go_to(pilot, screen, "26-0058")
        await pilot.press("c", "ctrl+j")
        await settle(pilot)
        assert len(messages_of(demo_db, order_id)) == count
        assert any("напишите" in n.message for n in app._notifications)


async def test_also_send_to_the_customer(app, demo_db):
    order_id = order_id_of(demo_db, "26-0058")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        thread = await go_to(pilot, screen, "26-0058")
        await pilot.press("c", *"Мастер будет в 14:00")
        await pilot.press("ctrl+o")  # the checkbox, without leaving the composer
        assert thread.query_one("#also-customer", Checkbox).value
        await pilot.press("ctrl+enter")
        await settle(pilot)
        written = messages_of(demo_db, order_id)[-2:]
        assert [(m.channel, m.text) for m in written] == [
            ("team", "Мастер будет в 14:00"),
            ("customer", "Мастер будет в 14:00"),
        ]
        assert not thread.query_one("#also-customer", Checkbox).value
        # the customer channel has no such box
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert not thread.query_one("#also-customer", Checkbox).display


@pytest.mark.both_backends
async def test_forward_a_message_to_another_order(app, demo_db):
    source_order = order_id_of(demo_db, "26-0082")
    target_order = order_id_of(demo_db, "26-0058")
    in_source = len(messages_of(demo_db, source_order))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        thread = await go_to(pilot, screen, "26-0082")
        thread.message_list.focus()
        thread.message_list.highlighted = 0
        source = thread.messages[0]
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ForwardScreen)
        assert dialog.query_one("#order", Input).value == "26-0082"
        assert dialog.query_one("#channel", Select).value == "customer"  # the other one
        order_input = dialog.query_one("#order", Input)
        order_input.value = "26-9999"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog  # an unknown order is said next to the field
        assert "26-9999" in str(dialog.query_one("#error-order").render())
        order_input.value = "26-0058"
        dialog.query_one("#channel", Select).value = "team"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        last = messages_of(demo_db, target_order)[-1]
        assert last.forwarded_from_id == source.id
        assert last.text == source.text
        assert last.channel == "team"
        assert len(messages_of(demo_db, source_order)) == in_source  # nothing added there
        assert any("26-0058" in n.message for n in app._notifications)
        assert screen.rows[0]["order_id"] == target_order


async def test_unread_only_and_the_99_plus_badge(app, demo_db):
    order_id = order_id_of(demo_db, "26-0058")
    with demo_db.transaction() as s:
        petrov = s.exec(select(AppUser).where(AppUser.login == "petrov")).one()
        for i in range(120):
            s.add(
                Message(
                    order_id=order_id,
                    channel=Channel.TEAM.value,
                    author_user_id=petrov.id,
                    text=f"фото {i}",
                    created_at=s.get(Order, order_id).created_at,
                )
            )
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        assert "99+" in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert screen.unread_only
        assert all(r["unread"] for r in screen.rows)
        assert order_id in [r["order_id"] for r in screen.rows]


async def test_o_opens_the_order(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chats(app, pilot)
        await go_to(pilot, screen, "26-0058")
        screen.conversations.focus()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.order_id == order_id_of(demo_db, "26-0058")


async def test_the_order_screens_messages_tab(app, demo_db):
    order_id = order_id_of(demo_db, "26-0082")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_order(order_id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderScreen)
        tabs = [pane.id for pane in screen.query("TabPane")]
        assert tabs.index("tab-messages") == tabs.index("tab-act") + 1
        assert tabs.index("tab-messages") == tabs.index("tab-materials") - 1
        assert not screen.query(ChatThread)  # made, and read, when first shown
        assert unread(demo_db, order_id) == {"team": 2, "customer": 1}
        await pilot.press(*["ctrl+pagedown"] * 4)  # order, checklists, execution, act, messages
        await settle(pilot)
        assert screen.query_one("#order-tabs").active == "tab-messages"
        thread = screen.query_one(ChatThread)
        assert thread.header is not None
        assert unread(demo_db, order_id) == {"customer": 1}
        assert app.focused is thread.message_list  # the key brought the focus in
        await pilot.press("c", *"Спасибо, закрываем.")
        await pilot.press("ctrl+s")  # sends: the order's own ctrl+s does not take it here
        await settle(pilot)
        assert messages_of(demo_db, order_id)[-1].text == "Спасибо, закрываем."
        assert not any("Нечего сохранять" in n.message for n in app._notifications)
        assert "Спасибо, закрываем." in screen_text(app)
