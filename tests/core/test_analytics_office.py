"""Who the ranks are among: the active employees who could have taken orders. An employee
whose login is an office one (dispatcher, admin, storekeeper, viewer; no technician role)
is not ranked and not counted in "N of M" — the demo's dispatcher Орлова stood 12th of 12
on every metric — yet is listed with figures if they did do field work in the period."""

from __future__ import annotations

from sqlalchemy import update

from fsm_core.access import Role
from fsm_core.models import Order
from fsm_core.services import parties, users
from tests.core.test_analytics import company, report  # noqa: F401  (the fixture)


def _employee(db, name: str, short: str, roles: list[Role] | None, login: str = "") -> int:
    with db.transaction() as s:
        person = parties.create_employee(session=s, data={"full_name": name, "short_name": short})
        if roles is not None:
            users.create_user(
                session=s,
                login=login,
                kind="technician" if Role.TECHNICIAN in roles else "dispatcher",
                employee_id=person.id,
                roles=roles,
            )
        assert person.id is not None
        return person.id


def test_office_logins_are_not_ranked(db, company):  # noqa: F811
    before = report(db).ranked_of
    orlova = _employee(
        db, "Орлова Вера Павловна", "Орлова В. П.", [Role.ADMIN, Role.DISPATCHER], "orlova"
    )
    kladov = _employee(db, "Кладов Степан Ильич", "Кладов С. И.", [Role.STOREKEEPER], "kladov")
    field = _employee(db, "Полевой Игорь Олегович", "Полевой И. О.", [Role.TECHNICIAN], "polevoy")
    both = _employee(
        db, "Старший Пётр Ильич", "Старший П. И.", [Role.DISPATCHER, Role.TECHNICIAN], "starshiy"
    )
    plain = _employee(db, "Безлогинов Ян Ян", "Безлогинов Я. Я.", None)
    r = report(db)
    assert r.ranked_of == before + 3  # the technician, the dispatcher-technician, no login
    assert r.row(orlova) is None  # nothing done: not listed
    assert r.row(kladov) is None
    for ranked in (field, both, plain):
        row = r.row(ranked)
        assert row is not None
        assert row.ranks["closed"] is not None
        assert row.as_json(r.ranked_of)["ranked_of"] == r.ranked_of


def test_an_office_login_that_closed_an_order_is_listed_without_a_rank(db, company):  # noqa: F811
    orlova = _employee(db, "Орлова Вера Павловна", "Орлова В. П.", [Role.DISPATCHER], "orlova")
    before = report(db).ranked_of
    with db.transaction() as s:  # the crew's O8, closed on 12.11, was nobody's: now hers
        s.execute(update(Order).where(Order.id == company.o8).values(assignee_id=orlova))
    r = report(db)
    row = r.row(orlova)
    assert row is not None
    assert row.closed == 1
    assert row.ranks.get("closed") is None
    assert row.as_json(r.ranked_of)["ranked_of"] is None
    assert r.ranked_of == before
    assert r.rows[-1] is row  # after the ranked ones
