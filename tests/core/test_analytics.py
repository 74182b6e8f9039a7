"""Analytics: every figure checked against a small world computed by hand, on SQLite and
PostgreSQL (reopened, reassigned, crew-only and cancelled orders, work with several
executors, closings across midnight and across the time zone's day boundary, orders with
and without a rating), and a property test that the employees' closed orders add up to
the company's.

The company's zone is Moscow (UTC+3): 01.11.2026 00:00 there is 31.10.2026 21:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update

from fsm_core import clock
from fsm_core.models import MaterialUse, Order
from fsm_core.services import analytics, execution, objects, orders, parties, ratings, stock
from fsm_core.services.analytics import Filters, Period
from fsm_core.services.execution import ExecutorInput
from fsm_core.timeparse import zone

MSK = zone("Europe/Moscow")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), MSK)


def msk(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


class Company:
    """The hand-computed world (see each order's comment)."""

    def __init__(self, db, world) -> None:
        self.db, self.w = db, world
        with db.transaction() as s:
            self.sidorov = parties.create_employee(
                session=s, data={"full_name": "Сидоров Олег Ильич", "area": "Юг"}
            )
            self.gone = parties.create_employee(
                session=s, data={"full_name": "Уволенный Пётр Петрович", "active": False}
            )
            self.work_type = objects.create_work_type(
                session=s, data={"name": "Чистка", "price": "1000", "charge": "both"}
            )
            item = stock.create_item(
                session=s, data={"sku": "F-1", "name": "Фреон R410A", "unit": "кг"}
            )
            warehouse = stock.create_warehouse(session=s, data={"name": "Склад 134"})
        self.item_id, self.warehouse_id = item.id, warehouse.id
        self.a, self.b = world.ivanov.id, world.petrov.id
        w = world

        # O1 (A): 02.11 10:00 received, assigned 10:30, in progress 11:00, done 14:00;
        # on the air conditioner; work 11:00-14:00 by A (3 h at 1 750); 2 kg of freon at
        # 350.50; rated 5/5/5 on 03.11; deadlines met
        self.o1 = self.make(msk(2, 10), object_id=w.ac.id)
        self.assign(self.o1, msk(2, 10, 30), assignee_id=self.a)
        self.move(self.o1, msk(2, 11), "in_progress")
        self.work(self.o1, msk(2, 11), msk(2, 14), [(self.a, "1750", None)])
        self.material(self.o1, "2", "350.50")
        self.move(self.o1, msk(2, 14), "done")
        self.rate(self.o1, msk(3, 9), 5, 5, 5)
        self.deadlines(self.o1, msk(2, 11), msk(2, 18))

        # O2 (A), reopened: 03.11 09:00 received and assigned, done 12:00, back in progress
        # 04.11 09:00, done again 05.11 10:00 (after its resolution deadline 04.11 09:00)
        self.o2 = self.make(msk(3, 9), assignee_id=self.a)
        self.move(self.o2, msk(3, 9), "in_progress")
        self.move(self.o2, msk(3, 12), "done")
        self.move(self.o2, msk(4, 9), "in_progress")
        self.move(self.o2, msk(5, 10), "done")
        self.deadlines(self.o2, msk(3, 10), msk(4, 9))

        # O3, reassigned: 06.11 10:00 to A, in progress 10:15, A works 10:15-11:15, given
        # to B at 12:00, B works 13:00-15:00 (rate 1 200), done 15:00; reacted at 10:00,
        # after its reaction deadline 09:59 (violated); rated 3/4/2 on 07.11
        self.o3 = self.make(msk(6, 9, 30), object_id=w.site.id)
        self.assign(self.o3, msk(6, 10), assignee_id=self.a)
        self.move(self.o3, msk(6, 10, 15), "in_progress")
        self.work(self.o3, msk(6, 10, 15), msk(6, 11, 15), [(self.a, "1750", None)])
        self.assign(self.o3, msk(6, 12), assignee_id=self.b)
        self.work(self.o3, msk(6, 13), msk(6, 15), [(self.b, "1200", None)])
        self.move(self.o3, msk(6, 15), "done")
        self.rate(self.o3, msk(7, 10), 3, 4, 2)
        self.deadlines(self.o3, msk(6, 9, 59), msk(7, 9))

        # O4 (B), across midnight and the zone's day boundary: received 31.10 20:00, done
        # 01.11 01:30 Moscow (31.10 22:30 UTC): November's; rated 4/4/5 on 02.11
        self.o4 = self.make(msk(31, 20, month=10), assignee_id=self.b)
        self.move(self.o4, msk(31, 21, month=10), "in_progress")
        self.move(self.o4, msk(1, 1, 30), "done")
        self.rate(self.o4, msk(2, 8), 4, 4, 5)
        # O5 (B): done 31.10 23:30 Moscow (20:30 UTC): October's
        self.o5 = self.make(msk(31, 20, month=10), assignee_id=self.b)
        self.move(self.o5, msk(31, 21, month=10), "in_progress")
        self.move(self.o5, msk(31, 23, 30, month=10), "done")

        # O6 (A), cancelled on the day it came
        self.o6 = self.make(msk(10, 9), assignee_id=self.a)
        self.move(self.o6, msk(10, 11), "cancelled")

        # O7 (B), two executors: 11.11 10:00-12:00 A and B 2 h each, then B alone 1.5 h
        # of 12:00-14:00; done 14:00; no rating, no deadlines
        self.o7 = self.make(msk(11, 9), assignee_id=self.b)
        self.move(self.o7, msk(11, 10), "in_progress")
        self.work(
            self.o7, msk(11, 10), msk(11, 12), [(self.a, "1750", None), (self.b, "1200", None)]
        )
        self.work(self.o7, msk(11, 12), msk(11, 14), [(self.b, "1200", "1.5")])
        self.move(self.o7, msk(11, 14), "done")

        # O8, a crew's, nobody assigned: the company's "unassigned"
        self.o8 = self.make(msk(12, 9), crew_id=w.crew.id)
        self.move(self.o8, msk(12, 10), "in_progress")
        self.move(self.o8, msk(12, 16), "done")

        # O9: a new order on O1's air conditioner on 20.11 (O1 was not fixed the first time)
        self.o9 = self.make(msk(20, 9), object_id=w.ac.id)

        with db.transaction() as s:  # no deadlines but the ones set above
            s.execute(
                update(Order)
                .where(Order.id.in_([self.o4, self.o5, self.o6, self.o7, self.o8, self.o9]))
                .values(reaction_due=None, resolution_due=None, sla_at_risk_at=None)
            )

    def make(self, at: datetime, **fields) -> int:
        with clock.frozen(at):
            return self.w.order(**fields).id

    def assign(self, order_id: int, at: datetime, **kw) -> None:
        with clock.frozen(at), self.db.transaction() as s:
            orders.assign_order(session=s, order_id=order_id, actor="t", **kw)

    def move(self, order_id: int, at: datetime, stage: str) -> None:
        with clock.frozen(at), self.db.transaction() as s:
            orders.move_order(session=s, order_id=order_id, stage=stage, actor="t")

    def work(self, order_id, start, end, executors) -> None:
        with clock.frozen(end), self.db.transaction() as s:
            execution.add_work(
                session=s,
                order_id=order_id,
                work_type_id=self.work_type.id,
                started_at=start,
                finished_at=end,
                executors=[
                    ExecutorInput(e, Decimal(rate), Decimal(hours) if hours else None)
                    for e, rate, hours in executors
                ],
                actor="t",
            )

    def material(self, order_id, quantity, price) -> None:
        with self.db.transaction() as s:
            s.add(
                MaterialUse(
                    order_id=order_id,
                    item_id=self.item_id,
                    warehouse_id=self.warehouse_id,
                    item_name="Фреон R410A",
                    unit="кг",
                    quantity=Decimal(quantity),
                    price=Decimal(price),
                    created_by="t",
                    created_at=msk(2, 13),
                )
            )

    def rate(self, order_id, at, *scores) -> None:
        with clock.frozen(at), self.db.transaction() as s:
            p, a, c = scores
            ratings.rate(
                session=s, order_id=order_id, promptness=p, accuracy=a, communication=c, actor="t"
            )

    def deadlines(self, order_id, reaction, resolution) -> None:
        with self.db.transaction() as s:
            s.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(reaction_due=reaction, resolution_due=resolution, sla_at_risk_at=None)
            )


@pytest.fixture
def company(db, world):
    with db.transaction() as s:
        from fsm_core.services import settings

        settings.set_value(session=s, key="timezone", value="Europe/Moscow")
    return Company(db, world)


def report(db, period=NOVEMBER, **kw):
    with db.reader() as s:
        return analytics.employee_report(session=s, period=period, **kw)


def test_each_employee_figure_as_computed_by_hand(db, company):
    r = report(db)
    a, b, c = r.row(company.a), r.row(company.b), r.row(company.sidorov.id)
    assert r.ranked_of == 3  # A, B, Сидоров; the inactive one is neither listed nor counted
    assert r.row(company.gone.id) is None
    # closed: A O1 and O2 (reopened: once); B O3 (reassigned), O4 (01.11 01:30 Moscow), O7;
    # O5 is October's, O6 cancelled, O8 nobody's
    assert (a.closed, b.closed, c.closed) == (2, 3, 0)
    assert (r.company_closed, r.unassigned_closed) == (6, 1)
    # SLA: A's O2 finished late, B's O3 reacted late
    assert (a.sla_violated, b.sla_violated) == (1, 1)
    assert a.sla_violated_share == Decimal("0.5000")
    assert b.sla_violated_share == Decimal("0.3333")
    assert c.sla_violated_share is None
    # hours: A 3 + 1 + 2; B 2 + 2 + 1.5
    assert (a.hours, b.hours, c.hours) == (Decimal("6.0"), Decimal("5.5"), Decimal("0.0"))
    # ratings: A took part in O1 (5) and O3 (3); B in O3 (3) and O4 (4.33)
    assert (a.rated, b.rated) == (2, 2)
    assert a.rating == Decimal("4.00")
    assert b.rating == Decimal("3.67")
    assert c.rating is None
    # the company's mean (15 + 9 + 13) / 9, and the shrunk means with C = 5
    assert r.company_rating == Decimal("4.11")
    assert a.rating_score == Decimal("4.08")  # (5·37/9 + 8) / 7 = 257/63
    assert b.rating_score == Decimal("3.98")  # (5·37/9 + 22/3) / 7 = 251/63
    # first-time fix: O1's object had O9 within 30 days; O2 has no object; O3 none after
    assert (a.with_object, a.first_time, a.first_time_fix) == (1, 0, Decimal("0.0000"))
    assert (b.with_object, b.first_time, b.first_time_fix) == (1, 1, Decimal("1.0000"))
    # times: A reacted in 30 min and 0 min, finished in 4 h and 49 h
    assert a.react == timedelta(minutes=15)
    assert a.resolve == timedelta(hours=26, minutes=30)
    # revenue: A O1 1000 + 3·1750 + 2·350.50; B O3 (1000 + 1750) + (1000 + 2·1200),
    # O7 (1000 + 2·1750 + 2·1200) + (1000 + 1.5·1200)
    assert a.revenue == Decimal("6951.00")
    assert b.revenue == Decimal("15850.00")


def test_ranks_among_the_active_employees(db, company):
    r = report(db)
    ranks = {row.employee: row.ranks for row in r.rows}
    a, b, c = "Иванов К. П.", "Петров А. С.", "Сидоров О. И."
    assert {n: ranks[n]["closed"] for n in (a, b, c)} == {a: 2, b: 1, c: 3}
    assert {n: ranks[n]["sla_violated"] for n in (a, b, c)} == {a: 2, b: 1, c: 3}
    assert {n: ranks[n]["hours"] for n in (a, b, c)} == {a: 1, b: 2, c: 3}
    assert {n: ranks[n]["rating"] for n in (a, b, c)} == {a: 1, b: 2, c: 3}
    assert {n: ranks[n]["revenue"] for n in (a, b, c)} == {a: 2, b: 1, c: 3}
    as_json = r.row(company.a).as_json(r.ranked_of)
    assert as_json["employee"] == a
    assert (as_json["closed"], as_json["closed_rank"], as_json["ranked_of"]) == (2, 2, 3)
    assert (as_json["sla_violated_share"], as_json["sla_violated_rank"]) == (0.5, 2)
    assert (as_json["hours"], as_json["hours_rank"]) == (6.0, 1)
    assert (as_json["rating"], as_json["rating_rank"]) == (4.0, 1)


def test_the_day_boundary_is_the_company_zones(db, company):
    last_of_october = Period(date(2026, 10, 31), date(2026, 10, 31), MSK)
    r = report(db, period=last_of_october)
    assert r.row(company.b).closed == 1  # O5 (23:30 Moscow), not O4 (01:30 on 01.11)
    with db.reader() as s:
        first = analytics.per_bucket(analytics.volume(session=s, period=NOVEMBER), NOVEMBER, "day")
    assert first[0].first == date(2026, 11, 1)
    assert first[0].closed == 1  # O4
    assert (first[1].received, first[1].closed) == (1, 1)  # O1 received and done on 02.11
    assert sum(d.closed for d in first) == 6
    assert sum(d.received for d in first) == 7  # O1, O2, O3, O6, O7, O8, O9


def test_the_daily_counts_are_the_volumes_per_bucket(db, company):
    """The dashboard's chart reads daily_counts: the same figures per_bucket makes of
    volume's rows, day by day and week by week, filtered or not."""
    with db.reader() as s:
        for unit in ("day", "week"):
            for filters in (analytics.NO_FILTERS, Filters(object_ids=(company.w.ac.id,))):
                rows = analytics.volume(session=s, period=NOVEMBER, filters=filters, unit=unit)
                expected = analytics.per_bucket(rows, NOVEMBER, unit)
                got = analytics.daily_counts(session=s, period=NOVEMBER, filters=filters, unit=unit)
                assert got == expected
                assert sum(d.closed for d in got) == (6 if filters is analytics.NO_FILTERS else 1)
        days = analytics.daily_counts(session=s, period=NOVEMBER)
    assert len(days) == 30
    assert (days[0].first, days[0].closed) == (date(2026, 11, 1), 1)  # O4, by Moscow's day
    assert (sum(d.received for d in days), sum(d.closed for d in days)) == (7, 6)


def test_filters_narrow_the_orders_and_the_employees(db, company):
    by_object = report(db, filters=Filters(object_ids=(company.w.ac.id,)))
    assert by_object.company_closed == 1
    assert by_object.row(company.a).closed == 1
    south = report(db, filters=Filters(area="Юг"))
    assert [r.employee for r in south.rows] == ["Сидоров О. И."]
    assert south.company_closed == 0
    by_work = report(db, filters=Filters(work_type_id=company.work_type.id))
    assert by_work.company_closed == 3  # O1, O3, O7 have work
    assert by_work.row(company.b).hours == Decimal("5.5")


def test_the_first_time_fix_window_is_a_setting(db, company):
    r = report(db, first_time_fix_days=10)  # O9 came 18 days after O1: a new fault
    assert r.row(company.a).first_time_fix == Decimal("1.0000")


def test_each_order_time_in_stage_cost_rating_and_sla(db, company):
    with db.reader() as s:
        found = {o.order_id: o for o in analytics.order_report(session=s, period=NOVEMBER)}
    o2 = found[company.o2]
    # in progress 09:00-12:00 on 03.11, then 04.11 09:00 - 05.11 10:00: 3 h + 25 h
    assert o2.stages["in_progress"] == timedelta(hours=28)
    # done 03.11 12:00 - 04.11 09:00, then from 05.11 10:00 until now (26.11 12:00)
    assert o2.stages["done"] == timedelta(hours=21) + timedelta(days=21, hours=2)
    assert o2.sla == "violated"
    o1 = found[company.o1]
    assert o1.stages["new"] == timedelta(minutes=30)
    assert o1.stages["assigned"] == timedelta(minutes=30)
    assert o1.stages["in_progress"] == timedelta(hours=3)
    assert (o1.work, o1.materials, o1.cost) == (
        Decimal("6250.00"),
        Decimal("701.00"),
        Decimal("6951.00"),
    )
    assert o1.rating == Decimal("5.00")
    assert o1.sla == "ok"
    assert found[company.o4].rating == Decimal("4.33")
    assert found[company.o7].rating is None
    assert found[company.o6].sla == "none"  # cancelled
    assert "cancelled" not in found[company.o6].stages
    assert company.o5 not in found  # October's


def test_the_company_figures(db, company):
    with db.reader() as s:
        by_customer = analytics.sla_compliance(session=s, period=NOVEMBER, by="customer")
        by_criticality = analytics.sla_compliance(session=s, period=NOVEMBER, by="criticality")
        top = analytics.top_objects(session=s, period=NOVEMBER)
        used = analytics.materials(session=s, period=NOVEMBER)
        spread = analytics.ratings_distribution(session=s, period=NOVEMBER)
        total = analytics.summary(session=s, period=NOVEMBER)
    [customer] = by_customer
    # closed 6; with a deadline: O1, O2, O3; violated O2, O3
    assert (customer.closed, customer.with_sla, customer.violated) == (6, 3, 2)
    assert customer.compliance == Decimal("0.3333")
    assert sum(r.closed for r in by_criticality) == 6
    assert (top[0].object, top[0].orders, top[0].closed) == ("Кондиционер Daikin FTXB35C", 2, 1)
    assert [(m.item, m.warehouse, m.quantity, m.cost) for m in used] == [
        ("Фреон R410A", "Склад 134", Decimal("2.000"), Decimal("701.00"))
    ]
    assert spread.rated == 3
    assert spread.counts["promptness"] == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert spread.counts["overall"] == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}  # 3, 4.33, 5
    assert spread.mean == Decimal("4.11")
    assert (total.received, total.closed, total.cancelled) == (7, 6, 1)
    assert total.revenue == Decimal("6951.00") + Decimal("15850.00")


def test_the_backlog_by_age(db, company):
    with db.reader() as s:
        rows = analytics.backlog(session=s, at=clock.now())
    # open now: O9 (received 20.11, six days ago)
    assert [(r.age, r.orders) for r in rows] == [("3_7d", 1)]
    with db.reader() as s:
        earlier = analytics.backlog(session=s, at=msk(4, 12).astimezone(UTC))
    # on 04.11 12:00: O2, reopened at 09:00 and finished again on 05.11 (its timestamps
    # now say so); O1 and O3 were finished before, O6 cancelled, O7 not yet received
    assert sum(r.orders for r in earlier) == 1


def test_the_backlog_on_sqlite_is_not_read_through_the_received_moment(db, company):
    """On SQLite the open orders are found through the finished moment's index (few are
    unfinished at a month's end), not the received one's (every order before it: on
    100,000 orders 250–370 ms instead of 27); PostgreSQL's planner chooses itself."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.reader() as s:
            analytics.backlog(session=s, at=clock.now())
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    [query] = [q for q in statements if "GROUP BY" in q]
    unindexed = "(+ orders.created_at) <" in query
    assert unindexed == (db.engine.dialect.name == "sqlite")


# --- ranking rules --------------------------------------------------------------------


def test_competition_ranking_shares_a_rank_and_skips():
    ranks = analytics.competition_ranks({"a": 5, "b": 5, "c": 3, "d": None})
    assert ranks == {"a": 1, "b": 1, "c": 3, "d": 4}
    low = analytics.competition_ranks({"a": 0.1, "b": 0.2, "c": 0.1}, best="low")
    assert low == {"a": 1, "b": 3, "c": 1}


def test_three_fives_do_not_top_twenty_good_ratings():
    prior, weight = Fraction(42, 10), Fraction(5)
    newcomer = analytics.shrunk(Fraction(15), 3, prior=prior, weight=weight)
    veteran = analytics.shrunk(Fraction(20 * 48, 10), 20, prior=prior, weight=weight)
    assert veteran > newcomer  # 4.68 against 4.5
    ranks = analytics.competition_ranks({"newcomer": newcomer, "veteran": veteran})
    assert ranks == {"veteran": 1, "newcomer": 2}


def test_a_period_ending_before_it_starts_is_refused():
    from fsm_core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="before it starts"):
        Period(date(2026, 11, 2), date(2026, 11, 1), MSK)


# --- the employees' closed orders add up to the company's -----------------------------

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["ivanov", "petrov", None]),
            st.sampled_from(["new", "in_progress", "done", "closed", "cancelled"]),
            st.integers(-48, 24 * 31),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_closed_per_employee_adds_up_to_the_company(db, world, rows):
    people = {"ivanov": world.ivanov.id, "petrov": world.petrov.id, None: None}
    base = {
        "customer_id": world.customer.id,
        "description": "x",
        "criticality": "normal",
        "created_at": T0 - timedelta(days=3),
        "updated_at": T0,
        "source": "manual",
        "created_by": "t",
        "version": 1,
        "reaction_manual": False,
        "resolution_manual": False,
    }
    records = []
    for i, (who, stage, hour) in enumerate(rows):
        moment = T0 + timedelta(hours=hour)
        finished = stage in ("done", "closed")
        records.append(
            base
            | {
                "number": f"P{i}",
                "assignee_id": people[who],
                "crew_id": world.crew.id if who is None else None,
                "stage_code": stage,
                "resolved_at": moment if finished else None,
                "closed_at": moment if stage in ("closed", "cancelled") else None,
            }
        )
    with db.transaction() as s:
        s.execute(delete(Order))
        s.execute(insert(Order), records)
    period = Period(date(2026, 11, 1), date(2026, 11, 30), zone("UTC"))
    r = report(db, period=period)
    expected = sum(
        1 for who, stage, hour in rows if stage in ("done", "closed") and 0 <= hour < 24 * 30
    )
    assert r.company_closed == expected
    assert sum(row.closed for row in r.rows) + r.unassigned_closed == r.company_closed
    with db.reader() as s:
        assert analytics.summary(session=s, period=period).closed == expected


def test_an_order_finished_without_a_recorded_reaction_reacted_when_finished(db, company):
    # as an import may bring it: O4 (B) finished 01.11 01:30, reaction due 31.10 23:00
    with db.transaction() as s:
        s.execute(
            update(Order)
            .where(Order.id == company.o4)
            .values(reacted_at=None, reaction_due=msk(31, 23, month=10))
        )
    assert report(db).row(company.b).sla_violated == 2  # O3 and now O4
