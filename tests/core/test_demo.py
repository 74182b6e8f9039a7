"""The demo company loads whatever the day and hour (``make run`` loads it when a user first
tries the product), and its story holds together: nothing happens to an order before the
order exists, and nothing after "now"."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.demo import ANCHOR_ZONE, load_demo
from fsm_core.models import Order
from fsm_core.models.chat import Message
from fsm_core.models.planning import Visit

MSK = ANCHOR_ZONE

MOMENTS = [
    # a working evening, after the demo's own "now" of 18:00 (it failed: "start: ... 10:00
    # is in the past" -- the orders of the day were made after the day's first visits)
    datetime(2026, 12, 7, 18, 5, tzinfo=MSK),
    datetime(2026, 12, 9, 0, 5, tzinfo=MSK),  # just after midnight
    datetime(2026, 12, 11, 19, 0, tzinfo=MSK),  # Friday evening: the next visits on Monday
    datetime(2026, 12, 31, 20, 0, tzinfo=MSK),  # the eve of the New Year holidays
]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: f"{m:%a-%d.%m-%H%M}")
def test_the_demo_loads_at_any_hour_and_holds_together(db: Database, now: datetime) -> None:
    with clock.frozen(now), db.transaction() as session:
        load_demo(session=session)
    with db.reader() as session:
        created = dict(session.exec(select(Order.id, Order.created_at)).all())
        visits = session.exec(select(Visit)).all()
        messages = session.exec(select(Message)).all()
    assert visits
    assert messages
    assert max(created.values()) <= now
    for visit in visits:
        assert visit.created_at >= created[visit.order_id], visit
        assert visit.start_at > created[visit.order_id], visit
        assert visit.created_at <= now
    for message in messages:
        assert created[message.order_id] <= message.created_at <= now, message
