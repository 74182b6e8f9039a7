"""Notifications in the dashboard: the order screen lists the order's notifications with
their state, and the status line counts the ones that failed."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from fsm_core.models import Order
from fsm_core.models.customer import Notification, NotificationEvent
from fsm_core.services import settings
from fsm_core.services.notify import outbox
from fsm_tui.screens.board import BoardScreen
from fsm_tui.screens.order import OrderScreen
from fsm_tui.widgets.status_line import StatusLine
from tests.tui.conftest import SIZE, screen_text, settle

pytestmark = pytest.mark.asyncio


def _queue_for(db, order_id: int, *, fail: bool) -> None:
    with db.transaction() as s:
        settings.set_value(session=s, key="smtp_url", value="smtp://127.0.0.1:1")
        order = s.get(Order, order_id)
        if order.contact_id is None:
            order.contact_id = 1
        outbox.queue(session=s, order=order, event=NotificationEvent.RECEIVED)
        outbox.queue(session=s, order=order, event=NotificationEvent.DONE)
        if fail:
            s.execute(
                update(Notification)
                .where(Notification.event == "done")
                .values(state="failed", attempts=6, last_error="550 no such mailbox")
            )


async def test_the_order_screen_lists_its_notifications_and_the_board_counts_failures(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        assert "не доставлено" not in screen_text(app)  # none failed: nothing said
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderScreen)
        assert "Уведомления" not in screen_text(app)
        _queue_for(demo_db, screen.order_id, fail=True)
        screen._load()
        await settle(pilot)
        text = screen_text(app)
        assert "Уведомления" in text
        assert "принята · email" in text
        assert "в очереди" in text
        assert "выполнена · email" in text
        failed = screen._notice(screen.details["notifications"][-1]).plain
        assert failed == "выполнена · email · не доставлено (550 no such mailbox)"
        await pilot.press("escape")
        await settle(pilot)
        board._count_failed_notifications()
        await settle(pilot)
        line = board.query_one(StatusLine)
        assert line.failed_notifications == 1
        assert "не доставлено уведомлений: 1" in screen_text(app)
