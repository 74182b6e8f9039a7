"""Stays read against visits and orders, visits' actuals, the day report, the manual
check-in verdicts and the CLI's JSON — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from fsm_core import clock
from fsm_core.models import ChecklistAnswer, Position, ServiceObject
from fsm_core.services import execution, gps, objects, orders, planning
from fsm_core.services.gps.positions import Point
from tests.cli_runner import invoke
from tests.conftest import NOW
from tests.gps.tracks import Track

DAY = date(2026, 11, 26)  # NOW is 12:00 Moscow that day
T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 10:00 Moscow


def store(db, employee_id: int, points: list[Point]) -> None:
    with db.transaction() as s:
        s.add_all(
            Position(
                employee_id=employee_id,
                fix_at=p.at,
                latitude=p.latitude,
                longitude=p.longitude,
                accuracy_m=p.accuracy_m,
                source="osmand",
            )
            for p in points
        )


@pytest.fixture
def sent(db, world):
    """Иванов sent to the shop on Невский at 10:00–11:30 (a visit), Петров with an open order
    there and no visit; the order's object is the shop itself (it has coordinates)."""
    order = world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    other = world.order(object_id=world.site.id, assignee_id=world.petrov.id)
    with db.transaction() as s:
        visit = planning.add_visit(
            session=s,
            order_id=order.id,
            start=T0,
            end=T0 + timedelta(minutes=90),
            employee_id=world.ivanov.id,
            actor="t",
            allow_past=True,
        )
    return {"order": order, "other": other, "visit": visit}


def test_a_visit_gets_its_actual_arrival_departure_and_minutes(db, world, sent):
    t = Track(T0 + timedelta(minutes=12)).drive((-3000, 0), (0, 0)).stay(0, 0, 65)
    t.drive((0, 0), (3000, 0))
    store(db, world.ivanov.id, t.points)
    with db.reader() as s:
        read = gps.day_stays(session=s, day=DAY, employee_ids=[world.ivanov.id])
        actuals = gps.visit_actuals(session=s, visit_ids=[sent["visit"].id])
        arrival = gps.order_arrival(session=s, order_id=sent["order"].id)
    (stay,) = read.stays[world.ivanov.id]
    assert (stay.object_id, stay.order, stay.visit_id, stay.how) == (
        world.site.id,
        sent["order"].number,
        sent["visit"].id,
        "detected",
    )
    actual = actuals[sent["visit"].id]
    assert actual.arrived_at == stay.arrived_at > T0 + timedelta(minutes=12)
    assert actual.left_at == stay.left_at
    assert 64 <= actual.minutes <= 67
    assert arrival == actual


def test_a_visit_nobody_came_to_has_no_actual_and_an_object_without_coordinates_says_so(db, world):
    order = world.order(
        customer_id=world.other_customer.id,
        object_id=world.foreign_object.id,
        assignee_id=world.ivanov.id,
    )
    with db.transaction() as s:
        visit = planning.add_visit(
            session=s,
            order_id=order.id,
            start=T0,
            end=T0 + timedelta(hours=1),
            employee_id=world.ivanov.id,
            actor="t",
            allow_past=True,
        )
    store(db, world.ivanov.id, Track(T0).stay(0, 0, 30).points)
    with db.reader() as s:
        actual = gps.visit_actuals(session=s, visit_ids=[visit.id])[visit.id]
        read = gps.day_stays(session=s, day=DAY, employee_ids=[world.ivanov.id])
    assert actual.arrived_at is None
    assert actual.reason == "object «АЗС № 12» has no coordinates"
    assert read.unverifiable[world.ivanov.id] == {world.foreign_object.id: "АЗС № 12"}


def test_an_order_without_a_visit_is_matched_through_its_assignee(db, world, sent):
    store(db, world.petrov.id, Track(T0).stay(0, 0, 40).points)
    with db.reader() as s:
        arrival = gps.order_arrival(session=s, order_id=sent["other"].id)
        read = gps.day_stays(session=s, day=DAY, employee_ids=[world.petrov.id])
    assert arrival is not None
    assert arrival.arrived_at == T0
    assert [st.order for st in read.stays[world.petrov.id]] == [sent["other"].number]


def test_a_technician_who_came_before_the_planned_visit_has_arrived_on_the_order(db, world):
    """Found trying it: the visit was planned for 12:30, the technician came at 11:00; the
    order screen said "never came" while `fsm gps visits` showed the stay."""
    order = world.order(object_id=world.site.id, assignee_id=world.ivanov.id)
    with db.transaction() as s:
        planning.add_visit(
            session=s,
            order_id=order.id,
            start=NOW + timedelta(minutes=30),
            end=NOW + timedelta(minutes=150),
            employee_id=world.ivanov.id,
            actor="t",
        )
    early = NOW - timedelta(hours=1)
    store(db, world.ivanov.id, Track(early).stay(0, 0, 40).points)
    with db.reader() as s:
        arrival = gps.order_arrival(session=s, order_id=order.id)
    assert arrival is not None
    assert arrival.arrived_at == early


def test_a_crew_visit_takes_its_members_stays(db, world):
    order = world.order(object_id=world.site.id)
    with db.transaction() as s:
        visit = planning.add_visit(
            session=s,
            order_id=order.id,
            start=T0,
            end=T0 + timedelta(hours=1),
            crew_id=world.crew.id,
            actor="t",
            allow_past=True,
        )
    store(db, world.ivanov.id, Track(T0 + timedelta(minutes=5)).stay(0, 0, 30).points)
    with db.reader() as s:
        actual = gps.visit_actuals(session=s, visit_ids=[visit.id])[visit.id]
    assert actual.arrived_at == T0 + timedelta(minutes=5)


def test_a_per_object_radius_wins_over_the_company_one(db, world, sent):
    store(db, world.ivanov.id, Track(T0).stay(120, 0, 30).points)  # 120 m from the shop
    with db.reader() as s:
        assert (
            len(
                gps.day_stays(session=s, day=DAY, employee_ids=[world.ivanov.id]).stays[
                    world.ivanov.id
                ]
            )
            == 1
        )
    invoke(db.url, "objects", "update", f"#{world.site.id}", "--gps-radius", "50")
    with db.reader() as s:
        stays = gps.day_stays(session=s, day=DAY, employee_ids=[world.ivanov.id]).stays
    assert [st.object_id for st in stays[world.ivanov.id]] == [None]  # a stop, not the shop
    shown = invoke(db.url, "objects", "show", f"#{world.site.id}").stdout
    assert "on site within 50 m" in shown
    refused = invoke(db.url, "objects", "update", f"#{world.site.id}", "--gps-radius", "5", code=1)
    assert "gps_radius_m" in refused.stderr
    invoke(db.url, "objects", "update", f"#{world.site.id}", "--gps-radius", "default")
    with db.reader() as s:
        assert s.get(ServiceObject, world.site.id).gps_radius_m is None


def test_an_objects_radius_goes_out_and_comes_back_through_files(db, world, tmp_path):
    invoke(
        db.url,
        "objects",
        "create",
        f"#{world.customer.id}",
        "Склад на Обводном",
        "--external-id",
        "O-77",
        "--lat",
        "59.91",
        "--lon",
        "30.33",
        "--gps-radius",
        "250",
    )
    out = tmp_path / "objects.csv"
    invoke(db.url, "export", "objects", "-o", str(out))
    header, *rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert "gps_radius_m" in header.split(",")
    (row,) = [r for r in rows if r.startswith("O-77,")]
    assert row.endswith(",250")
    out.write_text(f"{header}\n{row.removesuffix(',250')},300\n", encoding="utf-8")
    invoke(db.url, "import", "objects", str(out))
    with db.reader() as s:
        (stored,) = s.exec(select(ServiceObject).where(ServiceObject.external_id == "O-77"))
        assert stored.gps_radius_m == 300


def test_the_day_report(db, world, sent):
    t = Track(T0).drive((-3000, 0), (0, 0)).stay(0, 0, 60)
    t.fix(300, 0).wait(0.5).stay(0, 0, 10)  # one jump while parked
    t.drive((0, 0), (2000, 0)).wait(30).stay(2000, 0, 5)  # silent 30 min, then seen there
    store(db, world.ivanov.id, t.points)
    with db.transaction() as s:
        orders.move_order(session=s, order_id=sent["order"].id, stage="in_progress", actor="t")
        orders.move_order(session=s, order_id=sent["order"].id, stage="done", actor="t")
    with db.reader() as s:
        (report,) = gps.day_report(session=s, day=DAY, employee_ids=[world.ivanov.id])
    assert 4.9 <= report.km <= 5.1  # 3 + 2 km; the 300 m jump is not driven
    assert 69 <= report.on_site_minutes <= 72
    assert 6 <= report.travel_minutes <= 9  # 3 km and 2 km at 40 km/h, not the gap
    assert [st.object_id for st in report.stays] == [world.site.id, None]  # a stop after
    assert report.orders_done == [sent["order"].number]
    assert report.first_at == t.points[0].at
    assert report.last_at == t.points[-1].at
    assert report.largest_gap_minutes == 30


# --- the manual check-in -----------------------------------------------------------------


@pytest.fixture
def check_in(db, world, sent):
    with db.transaction() as s:
        template = execution.create_template(session=s, name="Приезд")
        item = execution.add_item(
            session=s, template_id=template.id, kind="check_in", text="Отметиться о приезде"
        )
        execution.bind_template(session=s, template_id=template.id, order_id=sent["order"].id)
        execution.bind_template(session=s, template_id=template.id, order_id=sent["other"].id)

    def answer(order_id: int | None = None) -> ChecklistAnswer:
        with db.transaction() as s:
            outcome = execution.answer_item(
                session=s,
                order_id=order_id or sent["order"].id,
                item_id=item.id,
                value=None,
                actor="tester",
            )
            s.expunge(outcome.answer)
            return outcome.answer

    return answer


def shown(answer: ChecklistAnswer, lang: str = "ru") -> str:
    from fsm_core.models import ChecklistItem

    item = ChecklistItem(template_id=0, position=0, kind="check_in", text="x")
    return execution.answer_text(item, answer, tz=clock.now().tzinfo or UTC, lang=lang)


def test_check_in_near_the_object(db, world, check_in):
    store(db, world.ivanov.id, Track(NOW - timedelta(minutes=3)).stay(40, 0, 2).points)
    answer = check_in()
    assert answer.check_in_verdict == "near"
    assert 35 <= answer.check_in_distance_m <= 45
    assert shown(answer).endswith("отметка у объекта (40 м)")


def test_check_in_far_from_the_object(db, world, check_in):
    store(db, world.ivanov.id, Track(NOW - timedelta(minutes=2)).stay(2900, 0, 1).points)
    answer = check_in()
    assert answer.check_in_verdict == "far"
    assert shown(answer).endswith("отметка в 2,9 км от объекта")
    assert shown(answer, "en").endswith("checked in 2.9 km from the object")
    with db.reader() as s:
        (stay,) = gps.day_stays(session=s, day=DAY, employee_ids=[world.ivanov.id]).stays[
            world.ivanov.id
        ]
    assert (stay.how, stay.order, stay.left_at, stay.minutes) == (
        "manual far",
        answer_order(db, answer),
        None,
        None,
    )


def answer_order(db, answer: ChecklistAnswer) -> str:
    from fsm_core.models import Order

    with db.reader() as s:
        return s.get(Order, answer.order_id).number


def test_check_in_without_a_position(db, world, check_in):
    with db.transaction() as s:
        gps.bind_device(session=s, identifier="phone-1", employee=world.ivanov.id)
    answer = check_in()
    assert (answer.check_in_verdict, answer.check_in_distance_m) == ("no_fix", None)
    assert shown(answer).endswith("нет позиции")


def test_check_in_of_a_technician_nobody_tracks_records_only_the_time(db, world, check_in):
    answer = check_in()
    assert (answer.check_in_verdict, answer.check_in_distance_m) == (None, None)
    assert shown(answer) == clock.now().astimezone(UTC).strftime("%d.%m.%Y %H:%M")
    with db.reader() as s:  # and it is no stay: there is no position to read it against
        assert gps.day_stays(session=s, day=DAY).stays == {}


def test_check_in_with_a_stale_position(db, world, check_in):
    store(db, world.ivanov.id, Track(NOW - timedelta(minutes=41)).stay(0, 0, 1).points)
    answer = check_in()
    assert answer.check_in_verdict == "stale"
    assert shown(answer, "en").endswith("no position for 40 min")


def test_check_in_on_an_object_without_coordinates(db, world, check_in, sent):
    with db.transaction() as s:
        objects.update_object(
            session=s, object_id=world.site.id, data={"latitude": None, "longitude": None}
        )
    store(db, world.ivanov.id, Track(NOW - timedelta(minutes=2)).stay(0, 0, 1).points)
    answer = check_in()
    assert answer.check_in_verdict == "no_coordinates"
    assert shown(answer, "en").endswith("not verified: the object has no coordinates")


def test_check_in_is_read_against_the_answering_technician(db, world, check_in, sent):
    from fsm_core.services import users

    # Петров checks in on Иванов's order, standing at the object; Иванов is far away
    store(db, world.ivanov.id, Track(NOW - timedelta(minutes=2)).stay(5000, 0, 1).points)
    store(db, world.petrov.id, Track(NOW - timedelta(minutes=2)).stay(0, 0, 1).points)
    assert check_in().check_in_verdict == "far"  # "tester" is nobody: the assignee
    with db.transaction() as s:
        users.create_user(
            session=s,
            login="petrov",
            display_name="tester",
            kind="technician",
            employee_id=world.petrov.id,
        )
    assert check_in().check_in_verdict == "near"


def test_a_detected_stay_wins_over_a_near_check_in(db, world, check_in):
    store(db, world.ivanov.id, Track(NOW - timedelta(minutes=20)).stay(0, 0, 19).points)
    check_in()
    with db.reader() as s:
        stays = gps.day_stays(session=s, day=DAY, employee_ids=[world.ivanov.id]).stays
    assert [st.how for st in stays[world.ivanov.id]] == ["detected"]


# --- the command line ---------------------------------------------------------------------


def test_visits_and_day_json(db_url, db, world, sent, check_in):
    t = Track(T0 + timedelta(minutes=12)).drive((-3000, 0), (0, 0)).stay(0, 0, 65)
    t.drive((0, 0), (3000, 0)).stay(3000, 0, 20)
    store(db, world.ivanov.id, t.points)
    check_in(sent["other"].id)  # Петров's order, Петров not tracked: not a stay
    with db.transaction() as s:
        gps.bind_device(session=s, identifier="phone-2", employee=world.petrov.id)
    check_in(sent["other"].id)  # now with a phone, but no position yet
    stays = json.loads(
        invoke(
            db_url,
            "gps",
            "visits",
            "--employee",
            world.ivanov.short_name,
            "--date",
            "26.11.2026",
            "--json",
        ).stdout
    )
    assert [set(s) for s in stays] == [
        {"employee", "object_id", "object", "order", "arrived_at", "left_at", "minutes", "how"}
    ] * 2
    first, stop = stays
    assert (first["object_id"], first["order"], first["how"]) == (
        world.site.id,
        sent["order"].number,
        "detected",
    )
    assert first["arrived_at"].startswith("2026-11-26T10:")
    assert first["arrived_at"].endswith("+03:00")
    assert stop["object_id"] is None
    assert stop["order"] is None
    everyone = json.loads(invoke(db_url, "gps", "visits", "--date", "26.11.2026", "--json").stdout)
    assert [s["how"] for s in everyone if s["employee"] != stays[0]["employee"]] == ["no fix"]
    days = json.loads(invoke(db_url, "gps", "day", "--date", "26.11.2026", "--json").stdout)
    assert [d["employee"] for d in days] == [world.ivanov.short_name, world.petrov.short_name]
    assert [set(d) for d in days] == 2 * [
        {
            "employee",
            "date",
            "km",
            "on_site_minutes",
            "travel_minutes",
            "orders_done",
            "orders",
            "first_at",
            "last_at",
            "largest_gap_minutes",
        }
    ]
    assert days[0]["km"] > 5
    table = invoke(
        db_url, "gps", "day", "--employee", world.ivanov.short_name, "--date", "26.11.2026"
    ).stdout
    assert "Иванов" in table
    bad = invoke(db_url, "gps", "visits", "--date", "31.02.2026", code=1)
    assert bad.stderr.count("\n") == 1


# --- analytics: what the phones say of a period ---------------------------------------


def test_the_employee_report_sums_gps_days_and_ranks_the_tracked(db, world, sent):
    from fsm_core.services.analytics import Period, employee_report
    from fsm_core.services.settings import load

    # the same day as the day report's, and a day before with one more arrival
    day_before = Track(T0 - timedelta(days=1)).drive((-1000, 0), (0, 0)).stay(0, 0, 30)
    t = Track(T0).drive((-3000, 0), (0, 0)).stay(0, 0, 60)
    t.drive((0, 0), (2000, 0)).stay(2000, 0, 5)
    store(db, world.ivanov.id, day_before.points + t.points)
    with db.transaction() as s:
        planning.add_visit(
            session=s,
            order_id=sent["order"].id,
            start=T0 - timedelta(days=1),
            end=T0 - timedelta(days=1) + timedelta(minutes=60),
            employee_id=world.ivanov.id,
            actor="t",
            allow_past=True,
        )
    with db.reader() as s:
        period = Period(DAY - timedelta(days=1), DAY + timedelta(days=3), load(session=s).tz)
        plain = employee_report(session=s, period=period)
        report = employee_report(session=s, period=period, gps=True)
        by_day = [
            gps.day_report(session=s, day=d, employee_ids=[world.ivanov.id])[0]
            for d in (DAY - timedelta(days=1), DAY)
        ]
    assert plain.row(world.ivanov.id).gps is None  # not read unless asked for
    ivanov, petrov = report.row(world.ivanov.id), report.row(world.petrov.id)
    assert ivanov.gps is not None
    assert petrov.gps is None  # no phone: not ranked on what it did not say
    assert ivanov.gps.days_tracked == 2  # days still to come are not read
    assert ivanov.gps.arrivals == 2
    assert ivanov.gps.on_site_minutes == sum(r.on_site_minutes for r in by_day)
    assert ivanov.gps.km == pytest.approx(sum(r.km for r in by_day))
    assert 5.9 <= ivanov.gps.km <= 6.1  # 1 km the day before, 3 + 2 km that day
    record = ivanov.as_json(report.ranked_of)
    assert (record["arrivals"], record["arrivals_rank"], record["km_rank"]) == (2, 1, 1)
    assert "arrivals" not in petrov.as_json(report.ranked_of)
    from fsm_core.services.analytics.tables import employee_card

    card = dict(employee_card(report, ivanov, "ru"))
    assert card["Прибытий по GPS"] == f"2  (1 из {report.ranked_of})"
    assert card["Километров (GPS)"].startswith(("5,9", "6,0", "6,1"))
    assert "Прибытий по GPS" not in dict(employee_card(report, petrov, "ru"))
