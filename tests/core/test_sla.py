"""The SLA status is derived the same way in Python and in SQL, for every kind of order."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from fsm_core.models import Order
from fsm_core.services import sla

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


@settings(
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
        "sla_manual": False,
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
