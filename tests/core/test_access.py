"""Roles in the core: identity from the connection, what each role may do, whose rows it
sees, and prices kept from technicians unless the company says otherwise."""

from __future__ import annotations

import pytest
from sqlmodel import select

from fsm_core.access import SYSTEM, Forbidden, Principal, Role
from fsm_core.db import Database
from fsm_core.identity import NotBound, establish
from fsm_core.models import AppUser, Order
from fsm_core.services import execution, order_queries, orders, settings, users


def as_user(db_url: str, login: str) -> Database:
    """The database as an admin acting on behalf of ``login`` sees it."""
    database = Database(db_url)
    database.act_as(establish(database, on_behalf_of=login))
    return database


def test_a_new_database_is_claimed_by_its_owner_as_its_first_admin(db):
    me = establish(db)
    assert (me.login, me.roles, me.by) == ("dispatcher", {Role.ADMIN, Role.DISPATCHER}, None)
    with db.reader() as s:
        bound = s.exec(select(AppUser).where(AppUser.login == "dispatcher")).one()
    assert (bound.os_login or bound.db_login) == me.account
    assert establish(db) == me  # the second time it is simply bound


def test_an_account_bound_to_nobody_is_refused_once_anyone_is_bound(db):
    with db.transaction() as s:
        user = users.find_user(session=s, name="dispatcher")
        users.bind_login(session=s, user_id=user.id, os_login="someone", db_login="someone")
    with pytest.raises(NotBound) as refused:
        establish(db)
    assert "is bound to no user of this database" in refused.value.one_line()
    assert "привязан" in refused.value.one_line("ru")


def test_the_last_admin_stays_an_admin(db):
    establish(db)
    with db.transaction() as s:
        user = users.find_user(session=s, name="dispatcher")
        with pytest.raises(Exception, match="last active admin"):
            users.set_roles(session=s, user_id=user.id, remove=["admin"])
        with pytest.raises(Exception, match="last active admin"):
            users.set_active(session=s, user_id=user.id, active=False)


@pytest.fixture
def company(with_demo, db_url):
    return db_url


def _ivanov_order(db_url: str) -> int:
    with Database(db_url).reader() as s:
        ivanov = users.find_user(session=s, name="ivanov")
        return s.exec(select(Order.id).where(Order.assignee_id == ivanov.employee_id)).first()


def test_a_technician_sees_and_moves_only_his_orders(company):
    database = as_user(company, "ivanov")
    mine = _ivanov_order(company)
    with database.reader() as s:
        listed = order_queries.list_orders(session=s, limit=None)
        everyone = order_queries.count_orders(session=s)
    with Database(company).reader() as s:
        total = order_queries.count_orders(session=s)
        other = s.exec(select(Order.id).where(Order.id.not_in([r["id"] for r in listed]))).first()
    assert mine in {r["id"] for r in listed}
    assert everyone == len(listed) < total
    with database.transaction() as s, pytest.raises(Forbidden) as refused:
        orders.move_order(session=s, order_id=other, stage="cancelled", actor="x")
    assert refused.value.one_line() == (
        "Иванов К. П. (technician) may not move orders other than their own"
    )
    with database.transaction() as s, pytest.raises(Forbidden):
        orders.update_order(session=s, order_id=mine, data={"description": "x"}, actor="x")


def test_prices_are_kept_from_technicians_unless_the_company_allows(company):
    mine = _ivanov_order(company)
    with Database(company).reader() as s:
        priced = execution.totals(session=s, order_id=mine)
    assert priced.priced
    with as_user(company, "ivanov").reader() as s:
        hidden = execution.totals(session=s, order_id=mine)
        with pytest.raises(Forbidden, match="may not see prices"):
            execution.act_document(session=s, order_id=mine)
    assert not hidden.priced
    assert hidden.total == 0
    assert [len(b.lines) for b in hidden.blocks] == [len(b.lines) for b in priced.blocks]
    with Database(company).transaction() as s:
        settings.set_value(session=s, key="technician_prices", value="yes")
    with as_user(company, "ivanov").reader() as s:
        shown = execution.totals(session=s, order_id=mine)
    assert shown.priced
    assert shown.total == priced.total


def test_a_customer_sees_and_creates_for_their_own_company_only(company):
    database = as_user(company, "smirnova")
    with database.reader() as s:
        customer_id = database.principal.customer_id
        listed = order_queries.list_orders(session=s, limit=None)
        other = s.exec(select(Order).where(Order.customer_id != customer_id)).first()
    assert listed
    assert {r["customer_id"] for r in listed} == {customer_id}
    with database.transaction() as s, pytest.raises(Forbidden):
        orders.create_order(
            session=s, data={"customer_id": other.customer_id, "description": "x"}, actor="x"
        )
    with database.transaction() as s:
        made = orders.create_order(
            session=s, data={"customer_id": customer_id, "description": "Течёт"}, actor="x"
        )
    assert made.customer_id == customer_id


def test_in_process_code_acts_as_the_system_and_a_principal_needs_a_role(db):
    assert db.principal is SYSTEM
    nobody = Principal(login="x", name="Никто", roles=frozenset())
    db.act_as(nobody)
    with db.reader() as s, pytest.raises(Forbidden) as refused:
        order_queries.count_orders(session=s)
    assert refused.value.one_line() == "Никто (no role) may not see orders"
