"""The audit trail: every change of every kind of record is on it, with the before and
after of each field, in the change's own transaction; the hash chain shows a row changed
or removed afterwards; concurrent writers keep one chain."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from fsm_core import audit
from fsm_core.access import SYSTEM, Forbidden, Principal, Role
from fsm_core.db import Database
from fsm_core.models import (
    AuditEntry,
    Criticality,
    Employee,
    Item,
    ServiceObject,
    Warehouse,
    metadata,
)
from fsm_core.services import audit_log
from tests.conftest import NOW

ANY = object()


def rows_after(db: Database, last: int) -> list[dict[str, Any]]:
    with db.reader() as s:
        found = s.execute(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id)
        ).scalars()
        return [
            {
                "entity": r.entity,
                "key": r.entity_key,
                "action": r.action,
                "changes": json.loads(r.changes),
                "actor": r.actor,
                "command": r.command,
            }
            for r in found
        ]


def last_id(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()


@dataclass
class Expect:
    entity: str
    action: str
    key: Any = ANY
    changes: dict[str, Any] = field(default_factory=dict)
    """fields that must be among the row's changes, with their [before, after]"""

    def matches(self, row: dict[str, Any]) -> bool:
        if (row["entity"], row["action"]) != (self.entity, self.action):
            return False
        if self.key is not ANY and row["key"] != str(self.key):
            return False
        for name, pair in self.changes.items():
            if name not in row["changes"]:
                return False
            got = row["changes"][name]
            if (
                pair is not ANY
                and [p if p is not ANY else g for p, g in zip(pair, got, strict=False)] != got
            ):
                return False
        return True


class Demo:
    """What the cases work on, read from the demo company (or made for them)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.reader() as s:
            obj = s.execute(select(ServiceObject).order_by(ServiceObject.id)).scalars().first()
            self.object_id, self.customer_id = obj.id, obj.customer_id
            self.employees = [
                e.id
                for e in s.execute(select(Employee).order_by(Employee.id)).scalars()
                if e.active
            ]
            self.item_id = s.execute(select(Item.id).order_by(Item.id)).scalars().first()
            self.central = (
                s.execute(
                    select(Warehouse.id).where(Warehouse.kind == "central").order_by(Warehouse.id)
                )
                .scalars()
                .first()
            )
            self.van = (
                s.execute(
                    select(Warehouse.id).where(Warehouse.kind == "van").order_by(Warehouse.id)
                )
                .scalars()
                .first()
            )

    def change(self, action: Callable[[Any], Any]) -> tuple[Any, list[dict[str, Any]]]:
        """Run ``action`` in one transaction; what it returned and the rows it wrote."""
        before = last_id(self.db)
        with self.db.transaction() as s:
            result = action(s)
        return result, rows_after(self.db, before)

    def new_order(self, description: str = "Не работает кондиционер") -> tuple[int, str]:
        from fsm_core.services import orders

        def create(s: Any) -> tuple[int, str]:
            order = orders.create_order(
                session=s,
                data={
                    "customer_id": self.customer_id,
                    "object_id": self.object_id,
                    "description": description,
                },
                actor="test",
            )
            return order.id, order.number

        return self.change(create)[0]


def _cases(demo: Demo) -> list[tuple[str, Callable[[Any], Any], Callable[[Any], list[Expect]]]]:
    """(name, the change, the rows it must write given what the change returned)."""
    from fsm_core.services import (
        execution,
        objects,
        orders,
        parties,
        passports,
        settings,
        sla,
        stages,
        stock,
        users,
        working_time,
    )
    from fsm_core.services.gps import devices
    from fsm_core.services.planning import commands as plan

    e1, e2 = demo.employees[:2]
    company_id = demo.change(
        lambda s: parties.create_company(session=s, data={"name": "ООО «Ревизия»"}).id
    )[0]
    order_id, number = demo.new_order()
    tomorrow = NOW + timedelta(days=1)
    stock_order_id, stock_number = demo.new_order("Нужна помпа")
    demo.change(
        lambda s: orders.assign_order(session=s, order_id=stock_order_id, actor="t", assignee_id=e1)
    )
    return [
        (
            "a customer created",
            lambda s: parties.create_company(session=s, data={"name": "ООО «Новый»"}).id,
            lambda cid: [Expect("customer", "create", cid, {"name": [None, "ООО «Новый»"]})],
        ),
        (
            "a customer changed",
            lambda s: parties.update_company(
                session=s, company_id=company_id, data={"phone": "+7 812 555-00-00"}
            ),
            lambda _: [Expect("customer", "update", company_id, {"phone": [None, "+78125550000"]})],
        ),
        (
            "a contact",
            lambda s: (
                parties.create_contact(
                    session=s, data={"company_id": company_id, "full_name": "Сидоров П. П."}
                ).id
            ),
            lambda cid: [
                Expect(
                    "customer.contact",
                    "create",
                    f"{company_id}/{cid}",
                    {"full_name": [None, "Сидоров П. П."]},
                )
            ],
        ),
        (
            "an object renamed",
            lambda s: objects.update_object(
                session=s, object_id=demo.object_id, data={"location_hint": "За дверью"}
            ),
            lambda _: [
                Expect("object", "update", demo.object_id, {"location_hint": [ANY, "За дверью"]})
            ],
        ),
        (
            "a passport's token rotated, its value not written",
            lambda s: passports.rotate_token(session=s, object_id=demo.object_id).passport_token,
            lambda token: [
                Expect(
                    "object", "update", demo.object_id, {"passport_token": [ANY, "…" + token[-4:]]}
                )
            ],
        ),
        (
            "an employee",
            lambda s: parties.update_employee(session=s, employee_id=e1, data={"area": "Север"}),
            lambda _: [Expect("employee", "update", e1, {"area": [ANY, "Север"]})],
        ),
        (
            "a crew and its members",
            lambda s: (
                parties.create_crew(
                    session=s, data={"name": "Бригада «Ревизия»", "member_ids": [e1, e2]}
                ).id
            ),
            lambda crew: [
                Expect("crew", "create", crew, {"name": [None, "Бригада «Ревизия»"]}),
                Expect("crew.member", "add", f"{crew}/{e1}"),
                Expect("crew.member", "add", f"{crew}/{e2}"),
            ],
        ),
        (
            "a work type",
            lambda s: (
                objects.create_work_type(
                    session=s, data={"name": "Аудит", "price": Decimal("100.00")}
                ).id
            ),
            lambda wt: [Expect("work_type", "create", wt, {"price": [None, "100.00"]})],
        ),
        (
            "a setting",
            lambda s: settings.set_value(session=s, key="company_phone", value="+7 812 000-11-22"),
            lambda _: [
                Expect("setting", "set", "company_phone", {"value": [ANY, "+7 812 000-11-22"]})
            ],
        ),
        (
            "a stage and a transition",
            lambda s: (
                stages.create_stage(
                    session=s, code="audit", name_en="Audit", name_ru="Аудит", category="active"
                ),
                stages.allow_transition(session=s, src="new", dst="audit"),
            ),
            lambda _: [
                Expect("stage", "create", "audit", {"category": [None, "active"]}),
                Expect("stage.transition", "allow", "new/audit"),
            ],
        ),
        (
            "an SLA policy and its calendar",
            lambda s: (
                sla.set_policy(
                    session=s,
                    criticality=Criticality.HIGH,
                    reaction_minutes=30,
                    resolution_minutes=240,
                    customer_id=company_id,
                    calendar="mon-fri 09:00-18:00",
                ).id
            ),
            lambda pid: [
                Expect(
                    "sla", "create", pid, {"calendar": [None, ANY], "reaction_minutes": [None, 30]}
                )
            ],
        ),
        (
            "a holiday",
            lambda s: working_time.add_holiday(
                session=s, day=date(2027, 3, 10), name="День ревизии"
            ),
            lambda _: [Expect("holiday", "add", "2027-03-10", {"name": [None, "День ревизии"]})],
        ),
        (
            "a work pattern",
            lambda s: (
                working_time.set_patterns(
                    session=s,
                    employee_id=e2,
                    patterns=["пн-пт 09:00-18:00"],
                    valid_from=date(2027, 1, 1),
                )[0].id
            ),
            lambda pid: [Expect("employee.pattern", "create", f"{e2}/{pid}")],
        ),
        (
            "time off",
            lambda s: (
                working_time.add_time_off(
                    session=s,
                    employee_id=e2,
                    kind="leave",
                    start=NOW + timedelta(days=30),
                    end=NOW + timedelta(days=44),
                    actor="t",
                ).id
            ),
            lambda tid: [
                Expect("employee.time_off", "create", f"{e2}/{tid}", {"kind": [None, "leave"]})
            ],
        ),
        (
            "an order changed",
            lambda s: orders.update_order(
                session=s, order_id=order_id, data={"description": "Течёт вода"}, actor="t"
            ),
            lambda _: [
                Expect(
                    "order",
                    "update",
                    number,
                    {"description": ["Не работает кондиционер", "Течёт вода"]},
                )
            ],
        ),
        (
            "an order assigned",
            lambda s: orders.assign_order(session=s, order_id=order_id, actor="t", assignee_id=e1),
            lambda _: [
                Expect(
                    "order",
                    "assign",
                    number,
                    {"assignee_id": [None, e1], "stage_code": ["new", "assigned"]},
                )
            ],
        ),
        (
            "a visit planned",
            lambda s: (
                plan.add_visit(
                    session=s, order_id=order_id, start=tomorrow, employee_id=e1, actor="t"
                ).id
            ),
            lambda vid: [
                Expect("order.visit", "create", f"{number}/{vid}", {"employee_id": [None, e1]})
            ],
        ),
        (
            "an order moved",
            lambda s: orders.move_order(session=s, order_id=order_id, stage="en_route", actor="t"),
            lambda _: [Expect("order", "move", number, {"stage_code": ["assigned", "en_route"]})],
        ),
        (
            "an item and a warehouse",
            lambda s: (
                stock.create_item(session=s, data={"sku": "AUD-1", "name": "Фильтр"}).id,
                stock.create_warehouse(session=s, data={"name": "Склад ревизии"}).id,
            ),
            lambda ids: [
                Expect("item", "create", ids[0], {"sku": [None, "AUD-1"]}),
                Expect("warehouse", "create", ids[1], {"name": [None, "Склад ревизии"]}),
            ],
        ),
        (
            "a receipt",
            lambda s: (
                stock.receive(
                    session=s,
                    item_id=demo.item_id,
                    warehouse_id=demo.central,
                    quantity=Decimal(5),
                    actor="t",
                ).id
            ),
            lambda mid: [Expect("stock", "receipt", mid, {"quantity": [None, "5.000"]})],
        ),
        (
            "a transfer",
            lambda s: (
                stock.transfer(
                    session=s,
                    item_id=demo.item_id,
                    from_warehouse_id=demo.central,
                    to_warehouse_id=demo.van,
                    quantity=Decimal(1),
                    actor="t",
                ).id
            ),
            lambda mid: [Expect("stock", "transfer", mid, {"to_warehouse_id": [None, demo.van]})],
        ),
        (
            "an adjustment",
            lambda s: (
                stock.adjust(
                    session=s,
                    item_id=demo.item_id,
                    warehouse_id=demo.central,
                    actor="t",
                    reason="пересчёт",
                    delta=Decimal(-1),
                ).id
            ),
            lambda mid: [Expect("stock", "adjustment", mid, {"reason": [None, "пересчёт"]})],
        ),
        (
            "a reservation",
            lambda s: stock.reserve(
                session=s,
                order_id=stock_order_id,
                item_id=demo.item_id,
                warehouse_id=demo.central,
                quantity=Decimal(2),
                actor="t",
            ),
            lambda _: [
                Expect(
                    "order.reservation",
                    "reserve",
                    f"{stock_number}/{demo.item_id}/{demo.central}",
                    {"quantity": [None, ANY]},
                )
            ],
        ),
        (
            "a write-off",
            lambda s: (
                stock.write_off(
                    session=s,
                    order_id=stock_order_id,
                    item_id=demo.item_id,
                    warehouse_id=demo.central,
                    quantity=Decimal(1),
                    actor="t",
                ).id
            ),
            lambda mid: [Expect("stock", "write_off", mid, {"order_id": [None, stock_order_id]})],
        ),
        (
            "a checklist, its item and binding",
            lambda s: _checklist(s, execution, stock_order_id),
            lambda ids: [
                Expect("checklist", "create", ids[0], {"name": [None, "Осмотр"]}),
                Expect(
                    "checklist.item",
                    "create",
                    f"{ids[0]}/{ids[1]}",
                    {"text": [None, "Уровень масла?"]},
                ),
                Expect(
                    "checklist.binding",
                    "create",
                    f"{ids[0]}/{ids[2]}",
                    {"order_id": [None, stock_order_id]},
                ),
            ],
        ),
        (
            "a comment on the work",
            lambda s: execution.set_comment(
                session=s, order_id=stock_order_id, comment="Заменили помпу", actor="t"
            ),
            lambda _: [
                Expect(
                    "order.execution", "create", stock_number, {"comment": [None, "Заменили помпу"]}
                )
            ],
        ),
        (
            "a user's roles",
            lambda s: users.set_roles(
                session=s,
                user_id=users.find_user(session=s, name="Орлова В. П.").id,
                add=["viewer"],
            ),
            lambda _: [Expect("user", "roles", ANY, {"roles": [ANY, ANY]})],
        ),
        (
            "a GPS device bound",
            lambda s: devices.bind_device(session=s, identifier="audit-phone", employee=e2),
            lambda _: [Expect("gps_device", "create", "audit-phone", {"employee_id": [None, e2]})],
        ),
        (
            "an order cancelled",
            lambda s: orders.move_order(session=s, order_id=order_id, stage="cancelled", actor="t"),
            lambda _: [
                Expect("order", "cancel", number, {"stage_code": ["en_route", "cancelled"]})
            ],
        ),
        (
            "a holiday removed",
            lambda s: working_time.remove_holiday(session=s, day=date(2027, 3, 10)),
            lambda _: [Expect("holiday", "remove", "2027-03-10", {"name": ["День ревизии", None]})],
        ),
    ]


def _checklist(s: Any, execution: Any, order_id: int) -> tuple[int, int, int]:
    template = execution.create_template(session=s, name="Осмотр")
    item = execution.add_item(
        session=s, template_id=template.id, kind="yes_no", text="Уровень масла?"
    )
    binding = execution.bind_template(session=s, template_id=template.id, order_id=order_id)
    return template.id, item.id, binding.id


def test_every_kind_of_change_is_recorded_with_its_before_and_after(with_demo, db):
    demo = Demo(db)
    failed = []
    for name, change, expected in _cases(demo):
        result, rows = demo.change(change)
        for want in expected(result):
            if not any(want.matches(row) for row in rows):
                failed.append(f"{name}: no {want} among {rows}")
    assert not failed, "\n".join(failed)


def test_a_new_order_is_recorded_once_with_its_fields(with_demo, db):
    demo = Demo(db)
    before = last_id(db)
    _order_id, number = demo.new_order("Шумит вентилятор")
    rows = rows_after(db, before)
    assert [(r["entity"], r["key"], r["action"]) for r in rows] == [("order", number, "create")]
    changes = rows[0]["changes"]
    assert changes["description"] == [None, "Шумит вентилятор"]
    assert changes["stage_code"] == [None, "new"]
    assert "updated_at" not in changes
    assert "version" not in changes


def test_who_on_whose_behalf_and_which_command_are_recorded(with_demo, db):
    from fsm_core.services import parties

    admin = Principal(login="boss", name="Начальник", roles=frozenset({Role.ADMIN}), account="boss")
    dispatcher = Principal(
        login="orlova", name="Орлова В. П.", roles=frozenset({Role.DISPATCHER}), by=admin
    )
    before = last_id(db)
    with db.transaction(principal=dispatcher) as s:
        s.info[audit.COMMAND] = "fsm companies create"
        parties.create_company(session=s, data={"name": "ООО «Кто»"})
    with db.reader() as s:
        row = s.execute(select(AuditEntry).where(AuditEntry.id > before)).scalar_one()
    assert (row.actor, row.on_behalf_of, row.command) == (
        "Начальник",
        "Орлова В. П.",
        "fsm companies create",
    )


def test_a_rolled_back_transaction_leaves_no_row(with_demo, db):
    from fsm_core.services import parties

    before = last_id(db)

    def change_then_fail(name: str, session: Any) -> None:
        parties.create_company(session=session, data={"name": name})
        session.flush()
        raise RuntimeError("the action fails after the change")

    def action() -> None:
        with db.transaction() as s:
            change_then_fail("ООО «Передумали»", s)

    with pytest.raises(RuntimeError):
        action()
    assert rows_after(db, before) == []
    # a savepoint rolled back takes its rows with it; the rest of the transaction stays
    with db.transaction() as s:
        parties.create_company(session=s, data={"name": "ООО «Остаётся»"})

        def in_savepoint() -> None:
            with s.begin_nested():
                change_then_fail("ООО «Откат»", s)

        with pytest.raises(RuntimeError):
            in_savepoint()
    names = [r["changes"]["name"][1] for r in rows_after(db, before)]
    assert names == ["ООО «Остаётся»"]
    with db.reader() as s:
        assert audit.verify(s)[1] is None


def test_an_import_is_one_row_with_its_counts(with_demo, db_url, tmp_path):
    from tests.cli_runner import invoke

    db = Database(db_url)
    before = last_id(db)
    path = tmp_path / "companies.csv"
    path.write_text(
        "name,phone\nООО «Альфа»,+7 812 100-00-01\nООО «Бета»,+7 812 100-00-02\n"
        "ООО «Гамма»,+7 812 100-00-03\n",
        encoding="utf-8",
    )
    invoke(db_url, "import", "companies", str(path))
    rows = rows_after(db, before)
    imported = [r for r in rows if r["entity"] == "import"]
    assert len(imported) == 1, rows
    row = imported[0]
    assert (row["key"], row["action"], row["command"]) == (
        "companies",
        "import",
        "fsm import companies",
    )
    assert row["changes"]["file"] == str(path)
    assert row["changes"]["inserted"] == 3
    assert not [r for r in rows if r["entity"] == "customer"]  # not one row per imported row
    db.dispose()


# --- the chain ---------------------------------------------------------------------------


def _tamper(db: Database, sql: str) -> None:
    """As the database's owner (or the file's): raw SQL past the product."""
    with db.engine.begin() as conn:
        conn.execute(text(sql))


def test_verify_passes_on_a_whole_chain_and_names_a_changed_row(with_demo, db):
    with db.reader(principal=SYSTEM) as s:
        checked, broken = audit.verify(s)
    assert broken is None
    assert checked == last_id(db) > 100
    victim = 40
    _tamper(db, f"UPDATE audit_log SET changes = '[]' WHERE id = {victim}")
    with db.reader() as s:
        result = audit_log.verify_trail(session=s)
    assert result.broken is not None
    assert result.broken.id == victim
    assert result.broken.reason.startswith("its content does not match its hash")
    assert result.checked == victim - 1


def test_verify_names_the_row_after_a_removed_one(with_demo, db):
    _tamper(db, "DELETE FROM audit_log WHERE id = 25")
    with db.reader() as s:
        checked, broken = audit.verify(s)
    assert broken is not None
    assert broken.id == 26
    assert checked == 24
    assert broken.reason.startswith("it does not follow the row before it")


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next(with_demo, db):
    """Whoever recomputes the changed row's hash still breaks the link to the next row."""
    with db.reader() as s:
        row = s.get(AuditEntry, 30)
        data = {name: getattr(row, name) for name in audit._CONTENT}
        data["changes"] = '{"name":[null,"подделка"]}'
        forged = audit.row_digest(row.prev_hash, data)
    _tamper(
        db, f"UPDATE audit_log SET changes = '{data['changes']}', hash = '{forged}' WHERE id = 30"
    )
    with db.reader() as s:
        assert audit.verify(s)[1].id == 31


def test_the_cli_verifies_and_lists(with_demo, db_url):
    from tests.cli_runner import invoke

    whole = invoke(db_url, "audit", "verify")
    assert "the chain is whole" in whole.stdout
    found = json.loads(invoke(db_url, "audit", "verify", "--json").stdout)
    assert found["whole"]
    assert found["broken"] is None
    assert found["checked"] > 100

    invoke(db_url, "orders", "move", "26-0087", "cancelled")
    rows = json.loads(
        invoke(db_url, "audit", "list", "--entity", "order", "--id", "26-0087", "--json").stdout
    )
    assert rows[0]["action"] == "cancel"
    assert rows[0]["command"] == "fsm orders move"
    assert rows[0]["changes"]["stage_code"] == ["new", "cancelled"]
    assert rows[-1]["action"] == "create"
    ru = invoke(db_url, "audit", "list", "--id", "26-0087", "-n", "1", lang="ru").stdout
    assert "отмена" in ru
    assert "заявка" in ru
    assert (
        json.loads(invoke(db_url, "audit", "list", "--since", "01.01.2099", "--json").stdout) == []
    )
    refused = invoke(db_url, "audit", "list", "--entity", "nonsense", code=1)
    assert refused.stderr.startswith("Error: entity: no such entity 'nonsense'")

    _tamper(Database(db_url), "UPDATE audit_log SET actor = 'никто' WHERE id = 7")
    broken = invoke(db_url, "audit", "verify", code=1)
    assert "broken at row 7" in broken.stdout
    assert (
        json.loads(invoke(db_url, "audit", "verify", "--json", code=1).stdout)["broken"]["id"] == 7
    )


def test_only_admins_read_the_trail(with_demo, db_url):
    from tests.cli_runner import invoke

    invoke(db_url, "users", "create", "disp2", "--name", "Диспетчер Два", "--role", "dispatcher")
    refused = invoke(db_url, "audit", "list", user="disp2", code=1)
    assert refused.stderr.strip() == (
        "Error: Диспетчер Два (dispatcher) may not read the audit trail"
    )
    invoke(db_url, "audit", "verify", user="disp2", code=1)
    dispatcher = Principal(login="o", name="Орлова В. П.", roles=frozenset({Role.DISPATCHER}))
    with Database(db_url).reader(principal=dispatcher) as s, pytest.raises(Forbidden):
        audit_log.list_entries(session=s)


def test_list_filters_by_user_entity_and_time(with_demo, db):
    from fsm_core.services import parties

    someone = Principal(login="k", name="Кузнецова", roles=frozenset({Role.ADMIN}))
    with db.transaction(principal=someone) as s:
        cid = parties.create_company(session=s, data={"name": "ООО «Фильтр»"}).id
        parties.create_contact(session=s, data={"company_id": cid, "full_name": "Иванова"})
    with db.reader() as s:
        mine = audit_log.list_entries(session=s, user="кузнец")
        assert [r.entity for r in mine] == ["customer.contact", "customer"]
        assert [
            r.entity for r in audit_log.list_entries(session=s, entity="customer", key=str(cid))
        ] == [
            "customer.contact",
            "customer",
        ]
        assert audit_log.list_entries(session=s, entity="customer.contact", user="кузнец")[
            0
        ].key.startswith(f"{cid}/")
        assert (
            audit_log.list_entries(session=s, until=datetime(2000, 1, 1, tzinfo=NOW.tzinfo)) == []
        )
        assert len(audit_log.list_entries(session=s, limit=3)) == 3


def test_a_restored_backup_keeps_a_whole_chain(with_demo, db, db_url, tmp_path, request):
    import uuid

    from fsm_core import backup

    with db.transaction() as s:  # one row more than the demo's
        s.info[audit.COMMAND] = "before the backup"
        audit.record(s, entity="setting", key="x", action="set", changes={"value": [None, 1]})
    backup.backup(database=db, out=tmp_path / "fsm.tar", actor="test")
    if db_url.startswith("sqlite"):
        target, server, name = f"sqlite:///{tmp_path / 'restored.db'}", None, None
    else:
        server = request.getfixturevalue("pg_server")
        name = f"{server.prefix}_r{uuid.uuid4().hex[:6]}"
        target = server.url_of(name)
    try:
        backup.restore(archive=tmp_path / "fsm.tar", into_url=target)
        restored = Database(target)
        with restored.reader() as s:
            checked, broken = audit.verify(s)
            triggers = (
                None
                if restored.is_sqlite
                else s.execute(
                    text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass")
                ).scalar_one()
            )
        restored.dispose()
        assert broken is None
        assert checked == last_id(db)
        assert triggers in (None, 2)  # on PostgreSQL the rows are protected again
    finally:
        if server is not None and name is not None:
            server.drop(name)


# --- several writers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_concurrent_writers_keep_one_chain(with_demo, db_url):
    from fsm_core.services import parties

    db = Database(db_url)
    before = last_id(db)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with db.transaction() as s:
                    parties.create_company(session=s, data={"name": f"ООО «Поток {n}-{i}»"})
                    s.flush()
                    # a little more work between the change and the commit, so the two
                    # transactions overlap
                    s.execute(text("SELECT pg_sleep(0.002)"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.reader() as s:
        checked, broken = audit.verify(s)
        assert broken is None
        assert (
            s.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.id > before)
            ).scalar_one()
            == 50
        )
        assert checked == s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    db.dispose()


# --- PostgreSQL keeps the rows itself ----------------------------------------------------


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_no_one_but_the_owner_changes_or_removes_rows_on_postgresql(with_demo, db_url):
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    role = f"fsm_audit_t_{uuid.uuid4().hex[:8]}"
    owner = Database(db_url)
    with owner.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        # the most a product's role could be granted: still no UPDATE, DELETE or TRUNCATE
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'GRANT ALL ON audit_log TO "{role}"')
    try:
        dsn = f"host={url.host} port={url.port or 5432} dbname={url.database} user={role}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sql in (
                "UPDATE audit_log SET actor = 'x' WHERE id = 1",
                "DELETE FROM audit_log WHERE id = 1",
                "TRUNCATE audit_log",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    conn.execute(sql)
            assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 100
        # the owner can, and the chain shows it
        _tamper(owner, "UPDATE audit_log SET actor = 'x' WHERE id = 1")
        with owner.reader() as s:
            assert audit.verify(s)[1].id == 1
    finally:
        with owner.engine.begin() as conn:
            conn.exec_driver_sql(f'REVOKE ALL ON audit_log FROM "{role}"')
            conn.exec_driver_sql(f'REVOKE USAGE ON SCHEMA public FROM "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        owner.dispose()


# --- what is watched ---------------------------------------------------------------------

NOT_AUDITED = {
    "app_user": "users.py records users and their roles itself",
    "user_role": "users.py records users and their roles itself",
    "audit_log": "the trail itself",
    "order_history": "the orders' own history, derived from the same changes",
    "order_counter": "a counter",
    "import_batch": "an import's bookkeeping; the import is recorded when it publishes",
    "stock_balance": "follows the movements, which are recorded",
    "reservation": "recorded by stock.py, which writes it with SQL",
    "message": "a chat message is itself a record of who wrote what, and never changes",
    "message_attachment": "part of a message",
    "chat_read": "read marks",
    "position": "GPS positions",
    "notification": "the outbox is itself the log of what was sent to whom, and when",
    "attachment": "file contents, recorded where they are attached",
    "alembic_version": "the schema",
}


def test_every_table_is_audited_or_says_why_not():
    from fsm_core.models import load_all

    load_all()
    tables = set(metadata.tables)
    undecided = tables - set(audit.WATCHED) - set(NOT_AUDITED)
    assert not undecided, f"tables neither audited nor explained: {sorted(undecided)}"
    assert set(audit.WATCHED) <= tables
    named = set(audit_log.ENTITY_NAMES)
    assert {w.entity for w in audit.WATCHED.values()} <= named
