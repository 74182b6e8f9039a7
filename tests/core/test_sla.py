"""The SLA status is derived the same way in Python and in SQL, for every kind of order;
deadlines count in the policy's service calendar (24/7, the company's hours, a contract's)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from fsm_core import clock
from fsm_core.errors import InvalidInput
from fsm_core.models import Criticality, Order
from fsm_core.services import orders, settings, sla, working_time
from fsm_core.timeparse import zone

T0 = datetime(2026, 11, 1, tzinfo=UTC)
moments = st.one_of(st.none(), st.integers(0, 200).map(lambda h: T0 + timedelta(hours=h)))


@st.composite
def order_states(draw):
    created = T0
    reaction = draw(moments)
    resolution = draw(moments)
    return {
        "reaction_due": reaction,
        "resolution_due": resolution,
        "sla_at_risk_at": draw(moments) if resolution else None,
        "reacted_at": draw(moments),
        "resolved_at": draw(moments),
        "closed_at": draw(moments),
        "created_at": created,
    }


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(states=st.lists(order_states(), min_size=1, max_size=8), hour=st.integers(0, 220))
def test_sql_and_python_agree(db, world, states, hour):
    now = T0 + timedelta(hours=hour)
    base = {
        "customer_id": world.customer.id,
        "description": "x",
        "criticality": "normal",
        "stage_code": "new",
        "updated_at": T0,
        "source": "manual",
        "created_by": "t",
        "version": 1,
        "reaction_manual": False,
        "resolution_manual": False,
    }
    with db.transaction() as s:
        s.execute(delete(Order))
        s.execute(
            insert(Order), [base | state | {"number": f"P{i}"} for i, state in enumerate(states)]
        )
    with db.reader() as s:
        in_sql = dict(s.execute(select(Order.number, sla.status_expression(now))).all())
        in_python = {o.number: sla.status_of(o, now).value for o in s.scalars(select(Order))}
    assert in_sql == in_python


# --- SLA in working time ------------------------------------------------------------------

MSK = zone("Europe/Moscow")
BERLIN = zone("Europe/Berlin")


def at(tz, month, day, hour=0, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=tz)


def policy(db, criticality, reaction, resolution, calendar=None, customer=None):
    with db.transaction() as s:
        sla.set_policy(
            session=s,
            criticality=Criticality(criticality),
            reaction_minutes=reaction,
            resolution_minutes=resolution,
            calendar=calendar,
            customer_id=customer,
        )


def created(world, moment, **fields):
    with clock.frozen(moment):
        return world.order(**fields)


def test_existing_policies_run_around_the_clock(db):
    with db.reader() as s:
        assert {p.calendar for p, _ in sla.list_policies(session=s)} == {"24/7"}


def test_a_sunday_order_starts_its_clock_on_monday_morning(db, world):
    policy(db, "high", 30, 6 * 60, calendar="company")  # company: Mon–Fri 09:00–18:00
    order = created(world, at(MSK, 11, 29, 15), criticality="high")  # Sunday 15:00
    assert order.reaction_due == at(MSK, 11, 30, 9, 30)
    assert order.resolution_due == at(MSK, 11, 30, 15)
    assert order.sla_at_risk_at == at(MSK, 11, 30, 13, 30)  # a quarter of 6 h left
    with db.reader() as s:
        # on Monday at 09:10 it is fine, not violated since Sunday 15:30
        assert sla.status_of(s.get(Order, order.id), at(MSK, 11, 30, 9, 10)) == "ok"


def test_a_holiday_on_a_working_day_and_a_deadline_over_several_days(db, world):
    with db.transaction() as s:
        working_time.add_holiday(session=s, day=datetime(2026, 12, 1).date(), name="Праздник")
    policy(db, "normal", 4 * 60, 20 * 60, calendar="company")
    order = created(world, at(MSK, 11, 30, 16))  # Monday 16:00; Tuesday is a holiday
    assert order.reaction_due == at(MSK, 12, 2, 11)  # Mon 2 h, Wed 2 h
    # Mon 2 h, Wed 9 h, Thu 9 h
    assert order.resolution_due == at(MSK, 12, 3, 18)


def test_the_company_hours_setting_and_a_dst_zone(db, world):
    with db.transaction() as s:
        settings.set_value(session=s, key="timezone", value="Europe/Berlin")
        settings.set_value(session=s, key="company_hours", value="пн-пт 8-17; сб 9-13")
    policy(db, "high", 60, 8 * 60, calendar="company")
    # Saturday 28.03.2026 12:30 (+01:00); the clocks go forward that night
    order = created(world, at(BERLIN, 3, 28, 12, 30), criticality="high")
    assert order.reaction_due == at(BERLIN, 3, 30, 8, 30)  # Sat 30 min, Mon 30 min
    assert order.reaction_due.astimezone(UTC).hour == 6  # +02:00 by then
    assert order.resolution_due == at(BERLIN, 3, 30, 15, 30)  # Sat 30 min, Mon 7.5 h
    with pytest.raises(InvalidInput, match="calendar 'пн-пт 8-25'"), db.transaction() as s:
        settings.set_value(session=s, key="company_hours", value="пн-пт 8-25")


def test_a_contracts_own_hours(db, world):
    policy(db, "critical", 15, 4 * 60, calendar="пн-сб 08:00-20:00", customer=world.customer.id)
    own = created(world, at(MSK, 11, 28, 19, 30), criticality="critical")  # Saturday 19:30
    assert own.reaction_due == at(MSK, 11, 28, 19, 45)
    assert own.resolution_due == at(MSK, 11, 30, 11, 30)  # Sat 30 min, Mon 3.5 h
    other = created(
        world, at(MSK, 11, 28, 19, 30), criticality="critical", customer_id=world.other_customer.id
    )
    assert other.resolution_due == at(MSK, 11, 28, 23, 30)  # the default: 24/7


def test_a_calendar_change_applies_to_new_orders_and_to_recomputation(db, world):
    sunday = at(MSK, 11, 29, 15)
    before = created(world, sunday, criticality="high")  # 24/7: 1 h / 8 h
    assert before.reaction_due == at(MSK, 11, 29, 16)
    policy(db, "high", 60, 8 * 60, calendar="company")
    with db.reader() as s:  # existing orders keep their stored deadlines
        assert s.get(Order, before.id).reaction_due == at(MSK, 11, 29, 16)
    after = created(world, sunday, criticality="high")
    assert after.reaction_due == at(MSK, 11, 30, 10)
    # a criticality change recomputes on the calendar as it is now
    policy(db, "critical", 30, 4 * 60, calendar="mon-fri 10:00-12:00")
    with clock.frozen(at(MSK, 11, 29, 16)), db.transaction() as s:
        orders.update_order(
            session=s, order_id=before.id, data={"criticality": "critical"}, actor="d"
        )
    with db.reader() as s:
        changed = s.get(Order, before.id)
    assert changed.reaction_due == at(MSK, 11, 30, 10, 30)
    assert changed.resolution_due == at(MSK, 12, 1, 12)  # Mon 2 h, Tue 2 h


def test_unknown_calendars_are_refused(db):
    for bad in (
        "2/2 08:00-20:00",
        "mon-fri 09:00-1800",
        "когда-нибудь",
        "mon-fri 9-18 from 01.12.2026",
    ):
        with pytest.raises(InvalidInput, match="calendar"), db.transaction() as s:
            sla.set_policy(
                session=s,
                criticality=Criticality.HIGH,
                reaction_minutes=30,
                resolution_minutes=60,
                calendar=bad,
            )
    with db.reader() as s:
        assert {p.calendar for p, _ in sla.list_policies(session=s)} == {"24/7"}


def test_the_at_risk_moment_is_one_arithmetic_for_one_order_and_for_a_batch(db, world):
    """An order made alone (sla.compute_deadlines) and one made by a bulk import (the
    order context's offsets) become at risk at the same moment."""
    from decimal import Decimal

    from tests.conftest import NOW

    assert sla.risk_offset(timedelta(hours=8), Decimal("0.25")) == timedelta(hours=6)
    with db.reader() as s:
        ctx = orders.OrderContext(s)
        batch = ctx.deadlines(world.customer.id, "high", NOW)
        policy = sla.policy_for(session=s, customer_id=world.customer.id, criticality="high")
        alone = sla.compute_deadlines(
            created_at=NOW, policy=policy, risk_share=ctx.settings.sla_risk_share
        )
    assert batch == alone
