"""The order lifecycle: numbering, SLA, assignment, stages, updates, history, conflicts."""

from datetime import timedelta

import pytest
from sqlmodel import select

from fsm_core import clock
from fsm_core.errors import (
    Conflict,
    Duplicate,
    InvalidInput,
    NotFound,
    TransitionNotAllowed,
)
from fsm_core.models import Criticality, Order, OrderHistory
from fsm_core.services import order_queries, orders, settings, sla, stages
from tests.conftest import NOW


def history_of(db, order_id):
    with db.reader() as s:
        return [
            (h.action, h.field, h.old_value, h.new_value)
            for h in order_queries.history(session=s, order_id=order_id)
        ]


def fetch(db, order_id) -> Order:
    with db.reader() as s:
        return s.get(Order, order_id)


# --- creation --------------------------------------------------------------------------


def test_orders_are_numbered_per_year_without_gaps(db, world):
    numbers = [world.order().number for _ in range(3)]
    assert numbers == ["26-0001", "26-0002", "26-0003"]
    # 31.12.2026 23:30 Moscow is already 2026 there, 01.01.2027 00:30 Moscow is 2027,
    # although both are 2026 in UTC: the year is the company's.
    with clock.frozen(NOW.replace(month=12, day=31, hour=20, minute=30)):
        assert world.order().number == "26-0004"
    with clock.frozen(NOW.replace(month=12, day=31, hour=21, minute=30)):
        assert world.order().number == "27-0001"


def test_a_failed_creation_gives_its_number_back(db, world):
    world.order()
    with pytest.raises(NotFound), db.transaction() as s:
        orders.create_order(
            session=s,
            data={"customer_id": world.customer.id, "description": "x", "object_id": 999},
            actor="t",
        )
    assert world.order().number == "26-0002"


def test_number_pattern_is_a_company_setting(db, world):
    with db.transaction() as s:
        settings.set_value(session=s, key="order_number_pattern", value="А{yyyy}{mm}-{seq:03d}")
    assert world.order().number == "А202611-001"
    with pytest.raises(InvalidInput, match="unknown field"), db.transaction() as s:
        settings.set_value(session=s, key="order_number_pattern", value="{year}-{seq}")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("{seq:0100000d}", "100000 characters wide"),
        ("{seq:0999999999d}", "999999999 characters wide"),  # a MemoryError on every order
        ("{seq:>41}", "41 characters wide"),
        ("ОЧЕНЬ-ДЛИННЫЙ-ПРЕФИКС-ЗАЯВКИ-{yyyy}{mm}-{seq:06d}", "longer than the 40 characters"),
    ],
)
def test_a_number_pattern_that_cannot_fit_the_column_is_refused(db, world, pattern, reason):
    with pytest.raises(InvalidInput, match=reason), db.transaction() as s:
        settings.set_value(session=s, key="order_number_pattern", value=pattern)
    assert world.order().number == "26-0001"  # the setting did not change


def test_an_explicit_number_is_kept_and_the_sequence_continues_after_it(db, world):
    """Orders brought over with their numbers (26-0417 from the old system) must not be
    followed by a new 26-0001: the counter moves past the highest one of its year."""
    assert world.order().number == "26-0001"
    world.order(number="26-0417")
    world.order(number="А191118")  # another system's number: the sequence ignores it
    world.order(number="25-0900")  # last year's: moves last year's counter only
    assert [world.order().number, world.order().number] == ["26-0418", "26-0419"]
    with pytest.raises(Duplicate, match="26-0417"):
        world.order(number="26-0417")


def test_sla_deadlines_come_from_the_policy_at_creation(db, world):
    order = world.order(criticality="high")  # default policy: 1 h reaction, 8 h resolution
    assert order.reaction_due == NOW + timedelta(hours=1)
    assert order.resolution_due == NOW + timedelta(hours=8)
    assert order.sla_at_risk_at == NOW + timedelta(hours=6)  # 25 % of the window left
    with db.transaction() as s:
        sla.set_policy(
            session=s,
            criticality=Criticality.HIGH,
            customer_id=world.customer.id,
            reaction_minutes=15,
            resolution_minutes=120,
        )
    own = world.order(criticality="Высокая")
    assert own.resolution_due == NOW + timedelta(hours=2)
    other = world.order(criticality="high", customer_id=world.other_customer.id)
    assert other.resolution_due == NOW + timedelta(hours=8)


def test_creation_checks_references(db, world):
    with pytest.raises(InvalidInput, match="belongs to АО «Петербургская"):
        world.order(object_id=world.foreign_object.id)
    with pytest.raises(NotFound, match="customer"):
        world.order(customer_id=12345)
    with pytest.raises(InvalidInput, match="description"):
        world.order(description="   ")
    with pytest.raises(InvalidInput, match="unknown criticality 'срочно'"):
        world.order(criticality="срочно")
    with db.reader() as s:
        assert s.exec(select(Order)).all() == []


def test_an_order_created_with_an_assignee_starts_assigned(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    assert order.stage_code == "assigned"
    assert order.reacted_at == NOW


def test_creation_is_recorded_in_the_history(db, world):
    order = world.order(criticality="high")
    assert history_of(db, order.id) == [
        ("create", None, None, "26-0001; stage=new; criticality=high")
    ]


# --- assignment and stages -------------------------------------------------------------


def test_assigning_a_new_order_moves_it_to_assigned(db, world):
    order = world.order()
    later = NOW + timedelta(minutes=30)
    with clock.frozen(later), db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=world.ivanov.id, actor="d")
    order = fetch(db, order.id)
    assert (order.stage_code, order.assignee_id, order.reacted_at) == (
        "assigned",
        world.ivanov.id,
        later,
    )
    assert order.version == 2  # one user action, one new version
    assert history_of(db, order.id)[1:] == [
        ("assign", "assignee", None, "Иванов К. П."),
        ("stage", "stage", "new", "assigned"),
    ]


def test_unassigning_returns_an_assigned_order_to_new(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    with db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=None, actor="d")
    assert fetch(db, order.id).stage_code == "new"


def test_an_order_in_work_cannot_lose_its_assignee(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
    with pytest.raises(TransitionNotAllowed, match="must keep an assignee"), db.transaction() as s:
        orders.assign_order(session=s, order_id=order.id, assignee_id=None, actor="d")
    assert fetch(db, order.id).assignee_id == world.ivanov.id


def test_a_crew_counts_as_an_assignee(db, world):
    order = world.order(crew_id=world.crew.id)
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="в работе", actor="t")
    assert fetch(db, order.id).stage_code == "in_progress"


def test_nothing_leaves_new_for_in_progress_without_an_assignee(db, world):
    order = world.order()
    with pytest.raises(TransitionNotAllowed, match="needs an assignee"), db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
    assert fetch(db, order.id).stage_code == "new"
    assert fetch(db, order.id).version == 1


def test_illegal_transitions_are_refused_and_name_the_allowed_ones(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    with pytest.raises(TransitionNotAllowed) as err, db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="closed", actor="t")
    assert "cannot move from Assigned (assigned) to Closed (closed)" in err.value.message
    assert "En route (en_route)" in err.value.message
    assert len(history_of(db, order.id)) == 1  # only the creation


def test_unknown_stage_is_a_clear_error(db, world):
    order = world.order()
    with pytest.raises(InvalidInput, match="unknown stage 'finished'"), db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="finished", actor="t")


def test_the_life_of_an_order_sets_its_timestamps(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    for hours, stage in [(1, "en_route"), (2, "in_progress"), (3, "done"), (30, "closed")]:
        with clock.frozen(NOW + timedelta(hours=hours)), db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage=stage, actor="Иванов К. П.")
    order = fetch(db, order.id)
    assert order.resolved_at == NOW + timedelta(hours=3)
    assert order.closed_at == NOW + timedelta(hours=30)
    assert sla.status_of(order, NOW + timedelta(days=10)) == "ok"


def test_reopening_a_done_order_clears_its_resolution(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    for stage in ("in_progress", "done", "in_progress"):
        with db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage=stage, actor="t")
    assert fetch(db, order.id).resolved_at is None


def test_cancelled_orders_have_no_sla(db, world):
    order = world.order(criticality="critical")
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="cancelled", actor="d")
    assert sla.status_of(fetch(db, order.id), NOW + timedelta(days=3)) == "none"


def test_stage_guards_can_refuse_a_move(db, world):
    def no_closing_on_fridays(session, order, src, dst):
        if dst.code == "done":
            raise TransitionNotAllowed("checklist incomplete")

    order = world.order(assignee_id=world.ivanov.id)
    stages.register_guard(no_closing_on_fridays)
    try:
        with db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
        with pytest.raises(TransitionNotAllowed, match="checklist"), db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage="done", actor="t")
    finally:
        stages._guards.remove(no_closing_on_fridays)
    assert fetch(db, order.id).stage_code == "in_progress"


def test_transitions_are_configurable(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    with db.transaction() as s:
        stages.create_stage(
            session=s,
            code="waiting_parts",
            name_en="Waiting for parts",
            name_ru="Ожидание запчастей",
            category="paused",
        )
        stages.allow_transition(session=s, src="assigned", dst="waiting_parts")
        stages.forbid_transition(session=s, src="assigned", dst="en_route")
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="Ожидание запчастей", actor="t")
    with pytest.raises(TransitionNotAllowed), db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")


# --- updates, history and conflicts ----------------------------------------------------


def test_updates_write_one_history_row_per_changed_field(db, world):
    order = world.order()
    with db.transaction() as s:
        orders.update_order(
            session=s,
            order_id=order.id,
            data={"description": "Не охлаждает", "object_id": world.ac.id},
            actor="Орлова В. П.",
        )
    assert history_of(db, order.id)[1:] == [
        ("update", "object", None, "Кондиционер Daikin FTXB35C"),
        ("update", "description", "Течёт вода из блока", "Не охлаждает"),
    ]
    assert fetch(db, order.id).version == 2


def test_an_update_that_changes_nothing_writes_nothing(db, world):
    order = world.order()
    with db.transaction() as s:
        orders.update_order(
            session=s, order_id=order.id, data={"description": "Течёт вода из блока"}, actor="d"
        )
    assert fetch(db, order.id).version == 1
    assert len(history_of(db, order.id)) == 1


def test_raising_criticality_recomputes_the_deadlines_from_creation(db, world):
    order = world.order()  # normal: 48 h
    with clock.frozen(NOW + timedelta(hours=2)), db.transaction() as s:
        orders.update_order(session=s, order_id=order.id, data={"criticality": "high"}, actor="d")
    order = fetch(db, order.id)
    assert order.resolution_due == NOW + timedelta(hours=8)
    rows = history_of(db, order.id)
    assert ("update", "criticality", "normal", "high") in rows
    assert any(r[1] == "resolution_due" for r in rows)


def test_a_typed_deadline_is_kept_when_criticality_changes(db, world):
    due = NOW + timedelta(days=5)
    order = world.order(resolution_due=due)
    with db.transaction() as s:
        orders.update_order(session=s, order_id=order.id, data={"criticality": "high"}, actor="d")
    assert fetch(db, order.id).resolution_due == due
    with db.transaction() as s:  # clearing it returns to the policy
        orders.update_order(
            session=s,
            order_id=order.id,
            data={"resolution_due": None, "reaction_due": None},
            actor="d",
        )
    assert fetch(db, order.id).resolution_due == NOW + timedelta(hours=8)


def test_changing_the_customer_needs_a_matching_object(db, world):
    order = world.order(object_id=world.ac.id)
    with pytest.raises(InvalidInput, match="belongs to ООО «СМ-Трейд»"), db.transaction() as s:
        orders.update_order(
            session=s, order_id=order.id, data={"customer_id": world.other_customer.id}, actor="d"
        )
    with db.transaction() as s:
        orders.update_order(
            session=s,
            order_id=order.id,
            data={"customer_id": world.other_customer.id, "object_id": world.foreign_object.id},
            actor="d",
        )
    assert fetch(db, order.id).customer_id == world.other_customer.id


def test_a_stale_edit_is_refused_and_reports_the_current_values(db, world):
    order = world.order()
    with db.transaction() as s:
        orders.update_order(session=s, order_id=order.id, data={"description": "Первое"}, actor="a")
    with pytest.raises(Conflict) as err, db.transaction() as s:
        orders.update_order(
            session=s,
            order_id=order.id,
            data={"description": "Второе"},
            actor="b",
            expected_version=1,
        )
    assert err.value.current_version == 2
    assert err.value.current["description"] == "Первое"
    assert "nothing was saved" in err.value.message
    assert fetch(db, order.id).description == "Первое"


def test_concurrent_sessions_on_one_order_one_wins(db, world):
    """Two dispatchers hold the same order; the second to save gets a conflict.

    (On SQLite writers queue on BEGIN IMMEDIATE, so the loser is the one whose
    expected version is behind; on PostgreSQL both transactions are open at once.)
    """
    order = world.order()
    with db.transaction() as s1:
        orders.move_order(session=s1, order_id=order.id, stage="cancelled", actor="a")
    with pytest.raises(Conflict), db.transaction() as s2:
        orders.update_order(
            session=s2,
            order_id=order.id,
            data={"criticality": "high"},
            actor="b",
            expected_version=1,
        )
    order = fetch(db, order.id)
    assert (order.stage_code, order.criticality, order.version) == ("cancelled", "normal", 2)


# --- lists -----------------------------------------------------------------------------


def test_list_filters_and_joins_names(db, world):
    a = world.order(object_id=world.ac.id, assignee_id=world.ivanov.id, criticality="high")
    b = world.order(description="Заклинило ЗАМОК входной двери")
    c = world.order(customer_id=world.other_customer.id, object_id=world.foreign_object.id)
    with db.reader() as s:

        def numbers(**kw):
            flt = order_queries.OrderFilter(**kw)
            return [r["number"] for r in order_queries.list_orders(session=s, filters=flt)]

        assert numbers() == [c.number, b.number, a.number]  # newest first (by id on ties)
        assert numbers(stages=["assigned"], assignee_ids=[world.ivanov.id]) == [a.number]
        assert numbers(unassigned=True) == [c.number, b.number]
        assert numbers(customer_ids=[world.other_customer.id]) == [c.number]
        assert numbers(object_ids=[world.site.id]) == [a.number]  # the site's equipment too
        assert numbers(criticalities=["high"]) == [a.number]
        assert numbers(text="замок") == [b.number]  # Cyrillic, any case
        assert numbers(text="даикин") == []
        assert numbers(text="daikin") == [a.number]  # the object's name
        row = order_queries.list_orders(
            session=s, filters=order_queries.OrderFilter(stages=["assigned"])
        )[0]
    assert (row["customer"], row["object"], row["assignee"]) == (
        "ООО «СМ-Трейд»",
        "Кондиционер Daikin FTXB35C",
        "Иванов К. П.",
    )


def test_search_folds_yo(db, world):
    order = world.order(description="Течёт вода")
    with db.reader() as s:
        rows = order_queries.list_orders(session=s, filters=order_queries.OrderFilter(text="ТЕЧЕТ"))
    assert [r["number"] for r in rows] == [order.number]


def test_search_reaches_customer_object_and_address_and_counts_agree(db, world):
    """Free text matches the order's own fields and its customer's and object's names and
    address; ASCII terms (numbers, serials) ignore case and take % and _ literally; the
    counts count what the list shows."""
    on_site = world.order(object_id=world.site.id, description="Не горит вывеска")
    foreign = world.order(
        customer_id=world.other_customer.id,
        object_id=world.foreign_object.id,
        description="ТРК 100%_готова",
        external_id="1C-ABC-7",
    )
    with db.reader() as s:

        def found(text):
            flt = order_queries.OrderFilter(text=text)
            rows = order_queries.list_orders(session=s, filters=flt)
            counted = order_queries.count_orders(session=s, filters=flt)
            by_stage = order_queries.stage_counts(session=s, filters=flt)
            assert counted == sum(by_stage.values()) == len(rows), text
            return [r["number"] for r in rows]

        assert found("невский пр") == [on_site.number]  # the object's address
        assert found("ТОПЛИВНАЯ") == [foreign.number]  # the customer's name
        assert found("азс №") == [foreign.number]  # the object's name
        assert found("1c-abc") == [foreign.number]  # an external id, any case
        assert found(foreign.number.lower()) == [foreign.number]
        assert found("100%_") == [foreign.number]
        assert found("0%x") == []
        assert found("_") == [foreign.number]  # literally an underscore, not "any letter"


def test_list_filters_by_date_range_in_the_company_zone(db, world):
    with clock.frozen(NOW - timedelta(days=2)):
        old = world.order()
    new = world.order()
    with db.reader() as s:
        flt = order_queries.filter_from_text(session=s, since="26.11.2026", until="26.11.2026")
        rows = order_queries.list_orders(session=s, filters=flt)
        assert [r["number"] for r in rows] == [new.number]
        flt = order_queries.filter_from_text(session=s, until="24.11.2026")
        assert [r["number"] for r in order_queries.list_orders(session=s, filters=flt)] == [
            old.number
        ]


def test_sla_status_filter_and_counts(db, world):
    with clock.frozen(NOW - timedelta(hours=10)):
        late = world.order(criticality="high")  # due 2 h ago
    with clock.frozen(NOW - timedelta(hours=7)):
        # taken at once (no reaction breach), due in 1 h: 12.5 % of its time left
        risky = world.order(criticality="high", assignee_id=world.ivanov.id)
    fine = world.order()
    with db.reader() as s:

        def numbers(status):
            flt = order_queries.OrderFilter(sla=[sla.parse_status(status)])
            return [r["number"] for r in order_queries.list_orders(session=s, filters=flt)]

        assert numbers("violated") == [late.number]
        assert numbers("at_risk") == [risky.number]
        assert numbers("ok") == [fine.number]
        assert order_queries.stage_counts(session=s) == {"new": 2, "assigned": 1}
        assert (
            order_queries.count_orders(
                session=s, filters=order_queries.OrderFilter(sla=[sla.parse_status("overdue")])
            )
            == 1
        )


def test_details_name_everything_and_list_allowed_stages(db, world):
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    with db.reader() as s:
        details = order_queries.order_details(session=s, order=s.get(Order, order.id))
    assert details["customer"] == "ООО «СМ-Трейд»"
    assert details["address"] == "Санкт-Петербург, Невский пр., 114"  # from the site
    assert details["contact_phone"] == "+79213456701"
    assert details["allowed_stages"] == [
        "assigned",
        "en_route",
        "in_progress",
        "on_hold",
        "cancelled",
    ]


def test_history_rows_are_in_the_same_transaction(db, world):
    """A failed action leaves neither the change nor its history."""
    order = world.order(assignee_id=world.ivanov.id)

    def move_then_fail() -> None:
        with db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        move_then_fail()
    with db.reader() as s:
        rows = s.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)).all()
        assert [h.action for h in rows] == ["create"]
    assert fetch(db, order.id).stage_code == "assigned"


def test_the_creation_is_recorded_with_its_stage_technician_and_crew(db, world):
    plain = world.order(criticality="low")
    assigned = world.order(assignee_id=world.ivanov.id, crew_id=world.crew.id, criticality="high")
    with db.reader() as s:
        lines = dict(
            s.execute(
                select(OrderHistory.order_id, OrderHistory.new_value).where(
                    OrderHistory.action == "create"
                )
            ).all()
        )
        actors = set(
            s.execute(select(OrderHistory.actor).where(OrderHistory.action == "create")).scalars()
        )
    assert lines[plain.id] == f"{plain.number}; stage=new; criticality=low"
    assert lines[assigned.id] == (
        f"{assigned.number}; stage=assigned; criticality=high; assignee=Иванов К. П.; "
        "crew=Бригада «Холод»"
    )
    assert actors == {"tester"}


# --- each deadline typed in or from the policy ------------------------------------------------


def test_a_resolution_deadline_typed_in_leaves_the_reaction_to_the_policy(db, world):
    due = NOW + timedelta(days=5)
    order = world.order(criticality="high", resolution_due=due)
    assert order.resolution_due == due
    assert order.reaction_due == NOW + timedelta(hours=1)  # high: 1 h reaction
    assert (order.reaction_manual, order.resolution_manual) == (False, True)
    # at risk when a quarter of its own window is left
    assert order.sla_at_risk_at == NOW + timedelta(days=5) - timedelta(days=5) / 4


def test_raising_criticality_recomputes_what_was_not_typed_in_and_says_so(db, world):
    due = NOW + timedelta(days=5)
    order = world.order(criticality="high", resolution_due=due)
    with clock.frozen(NOW + timedelta(minutes=20)), db.transaction() as s:
        orders.update_order(
            session=s, order_id=order.id, data={"criticality": "critical"}, actor="d"
        )
    order = fetch(db, order.id)
    assert order.reaction_due == NOW + timedelta(minutes=30)  # critical: 30 min, from creation
    assert order.resolution_due == due  # typed in: kept
    rows = history_of(db, order.id)
    assert ("update", "criticality", "high", "critical") in rows
    assert (
        "sla",
        "reaction_due",
        (NOW + timedelta(hours=1)).isoformat(timespec="minutes"),
        (NOW + timedelta(minutes=30)).isoformat(timespec="minutes"),
    ) in rows
    assert not [r for r in rows if r[1] == "resolution_due"]


def test_a_reaction_deadline_typed_in_is_kept_and_the_resolution_follows_the_policy(db, world):
    reaction = NOW + timedelta(hours=3)
    order = world.order(reaction_due=reaction)  # normal: 4 h / 48 h
    with db.transaction() as s:
        orders.update_order(session=s, order_id=order.id, data={"criticality": "high"}, actor="d")
    order = fetch(db, order.id)
    assert (order.reaction_due, order.resolution_due) == (reaction, NOW + timedelta(hours=8))
    assert [r[0] for r in history_of(db, order.id) if r[1] == "resolution_due"] == ["sla"]


def test_a_deadline_equal_to_the_policys_is_not_typed_in(db, world):
    """An exported order coming back carries the policy's own deadlines."""
    order = world.order(criticality="high", resolution_due=NOW + timedelta(hours=8))
    assert (order.reaction_manual, order.resolution_manual) == (False, False)
    with db.transaction() as s:
        orders.update_order(
            session=s, order_id=order.id, data={"criticality": "critical"}, actor="d"
        )
    assert fetch(db, order.id).resolution_due == NOW + timedelta(hours=4)
