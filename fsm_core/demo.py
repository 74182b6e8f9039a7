"""The demo data set: a St. Petersburg service company, its customers, objects and orders.

The CSV files in ``data/demo`` are dated around 27.11.2026; loading shifts every date by
whole days so that the newest order is from today, and replays each order's life through
the order service with the clock set to each step, so the history, SLA deadlines and
timestamps are exactly what real use would have produced.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.errors import InvalidInput
from fsm_core.models import Company, Contact, Employee, Order, ServiceObject, WorkType
from fsm_core.services import execution, objects, orders, parties
from fsm_core.services import settings as company_settings
from fsm_core.timeparse import parse_datetime, zone
from fsm_core.values import parse_decimal

ANCHOR_ZONE = zone("Europe/Moscow")
ANCHOR = datetime(2026, 11, 27, 18, 0, tzinfo=ANCHOR_ZONE)
DISPATCHER = "Орлова В. П."
STOREKEEPER = "Лебедев С. В."  # кладовщик: receives and issues stock

# the stages an order passes through to reach each stage, in order
PATHS = {
    "new": [],
    "assigned": ["assigned"],
    "en_route": ["assigned", "en_route"],
    "in_progress": ["assigned", "en_route", "in_progress"],
    "on_hold": ["assigned", "en_route", "in_progress", "on_hold"],
    "done": ["assigned", "en_route", "in_progress", "done"],
    "closed": ["assigned", "en_route", "in_progress", "done", "closed"],
    "cancelled": ["cancelled"],
}

# the requests the customers' contacts sent themselves, from the QR passport on the object
QR_ORDERS = frozenset({"DEMO-020", "DEMO-059", "DEMO-069", "DEMO-074"})

# the customers' ratings of finished orders: promptness, accuracy, communication, the
# comment, and how many hours after the work was done they rated it. Mostly good, a few
# unhappy ones with their reasons (the analytics rank the technicians by them).
RATINGS: dict[str, tuple[int, int, int, str | None, float]] = {
    "DEMO-066": (5, 5, 5, "Всё быстро и аккуратно, спасибо!", 3),
    "DEMO-087": (5, 4, 5, None, 20),
    "DEMO-049": (4, 5, 4, None, 6),
    "DEMO-060": (2, 3, 2, "Ждали техника два дня, течь так и капала", 2),
    "DEMO-073": (5, 5, 4, "Мастер всё объяснил и показал, что почистил", 26),
    "DEMO-023": (4, 4, 5, None, 4),
    "DEMO-022": (5, 5, 5, "Камера снова держит +2 °C", 1.5),
    "DEMO-063": (3, 4, 2, "Никто не перезвонил, о приезде узнали от охраны", 8),
    "DEMO-052": (5, 4, 4, None, 30),
    "DEMO-057": (5, 5, 5, None, 5),
    "DEMO-035": (4, 5, 5, "Хорошая работа", 12),
    "DEMO-036": (4, 4, 4, None, 7),
    "DEMO-082": (1, 2, 2, "Приехали без запчастей, пришлось вызывать второй раз", 3),
    "DEMO-081": (5, 5, 4, None, 18),
    "DEMO-053": (4, 3, 4, "Шумит меньше, но не совсем перестал", 9),
    "DEMO-074": (5, 5, 5, "Отправили заявку с телефона по QR-коду — очень удобно", 2),
}


def default_directory() -> Path:
    """``data/demo`` of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent / "data" / "demo"


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    shift_days: int = 0


def _rows(directory: Path, name: str) -> Iterator[dict[str, str]]:
    path = directory / name
    if not path.exists():
        raise InvalidInput(f"demo data file {path} is missing")
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {k: (v.strip() if v else "") for k, v in row.items()}


def _none(value: str) -> str | None:
    return value or None


# The demo service company as its acts name it (реквизиты): made-up but well-formed
# numbers (the INN's and OGRN's control digits are right).
DEMO_COMPANY = {
    "company_name": "ООО «Сервис-Север»",
    "company_phone": "+7 812 600-10-10",
    "company_legal_name": "Общество с ограниченной ответственностью «Сервис-Север»",
    "company_inn": "7812045671",
    "company_kpp": "781201001",
    "company_ogrn": "1027801234560",
    "company_legal_address": "190005, Санкт-Петербург, Измайловский пр., 22, лит. А, пом. 4-Н",
    "company_bank_details": "р/с 40702810900000012345 в ПАО «Банк», БИК 044030653, "
    "к/с 30101810500000000653",
    "vat_rate": "20",
    "act_signer_name": "Кузьмин С. А.",
    "act_signer_position": "Генеральный директор",
}


def load_demo(*, session: Session, directory: Path | None = None) -> DemoSummary:
    """Load the demo set into an empty database, in the caller's transaction."""
    directory = directory or default_directory()
    if (
        session.exec(select(Company.id)).first() is not None
        or session.exec(select(Order.id)).first() is not None
    ):
        raise InvalidInput(
            "the database already holds data; demo data goes into an empty database",
            hint="use --db to name a new database file",
        )
    now = clock.now()
    tz = ANCHOR_ZONE
    # the demo's story ends on the evening before today (its "now", ANCHOR, moved by whole
    # days): the visits it plans for today then start after their orders were made, even
    # late in the evening, when the day's orders would otherwise be made after them
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    shift = yesterday - ANCHOR.date()
    summary = DemoSummary(shift_days=shift.days)

    company_settings.set_values(session=session, values=DEMO_COMPANY)

    companies: dict[str, int] = {}
    for row in _rows(directory, "companies.csv"):
        companies[row["external_id"]] = parties.create_company(
            session=session, data={k: _none(v) for k, v in row.items()}
        ).id
    contacts: dict[str, int] = {}
    contact_names: dict[str, str] = {}
    for row in _rows(directory, "contacts.csv"):
        data: dict[str, Any] = {k: _none(v) for k, v in row.items() if k != "customer"}
        data["company_id"] = companies[row["customer"]]
        contacts[row["external_id"]] = parties.create_contact(session=session, data=data).id
        contact_names[row["external_id"]] = row["full_name"]
    employees: dict[str, Any] = {}
    for row in _rows(directory, "employees.csv"):
        data = {k: _none(v) for k, v in row.items()}
        data["skills"] = row["skills"].split(";") if row["skills"] else []
        employees[row["external_id"]] = parties.create_employee(session=session, data=data)
    crews: dict[str, int] = {}
    for row in _rows(directory, "crews.csv"):
        crews[row["external_id"]] = parties.create_crew(
            session=session,
            data={
                "name": row["name"],
                "external_id": row["external_id"],
                "leader_id": employees[row["leader"]].id if row["leader"] else None,
                "member_ids": [employees[m].id for m in row["members"].split(";") if m],
            },
        ).id
    for row in _rows(directory, "work_types.csv"):
        objects.create_work_type(session=session, data={k: _none(v) for k, v in row.items()})
    checklists = load_checklists(session)
    object_ids: dict[str, int] = {}
    for row in _rows(directory, "objects.csv"):
        data = {k: _none(v) for k, v in row.items() if k not in ("customer", "parent")}
        data["customer_id"] = companies[row["customer"]]
        data["parent_id"] = object_ids[row["parent"]] if row["parent"] else None
        object_ids[row["external_id"]] = objects.create_object(session=session, data=data).id

    count = 0
    finished: dict[str, tuple[int, datetime, str]] = {}  # rated ones: id, done at, who
    for row in _rows(directory, "orders.csv"):
        created = _when(row["created_at"], tz, "created_at") + shift
        planned = (
            _when(row["planned_start"], tz, "planned_start") + shift
            if row["planned_start"]
            else None
        )
        assignee = employees[row["assignee"]] if row["assignee"] else None
        who = contact_names.get(row["contact"], DISPATCHER)
        replayed = _replay_order(
            session,
            qr_by=who if row["external_id"] in QR_ORDERS else None,
            row=row,
            created=min(created, now),
            planned=planned,
            now=now,
            customer_id=companies[row["customer"]],
            object_id=object_ids[row["object"]] if row["object"] else None,
            contact_id=contacts[row["contact"]] if row["contact"] else None,
            assignee_id=assignee.id if assignee else None,
            technician=assignee.short_name if assignee else DISPATCHER,
            crew_id=crews[row["crew"]] if row["crew"] else None,
        )
        count += 1
        if row["external_id"] in RATINGS and replayed[1] is not None:
            finished[row["external_id"]] = (replayed[0], replayed[1], who)
    rated = _rate_orders(session, finished, now=now)
    stock_counts = _load_stock(session, directory, employees=employees, shift=shift, now=now, tz=tz)
    plan_counts = load_planning_and_chat_demo(
        session, employees=employees, contacts=contacts, crews=crews, now=now
    )
    summary.counts = {
        "customers": len(companies),
        "contacts": len(contacts),
        "employees": len(employees),
        "crews": len(crews),
        "objects": len(object_ids),
        "orders": count,
        "checklists": checklists,
        "ratings": rated,
        **stock_counts,
        **plan_counts,
    }
    return summary


def _when(text: str, tz: tzinfo, field: str) -> datetime:
    moment = parse_datetime(text, tz=tz, field=field)
    if moment is None:
        raise InvalidInput(f"{field}: a date is required")
    return moment


def _number(text: str, field: str) -> Decimal:
    """A number of the demo files (``6 900``, ``0.5``)."""
    value = parse_decimal(text, field=field)
    if value is None:
        raise InvalidInput(f"{field}: a number is required")
    return value


def _needed(order_id: int | None, action: str) -> int:
    if order_id is None:
        raise InvalidInput(f"materials.csv: {action} needs an order")
    return order_id


def _load_stock(
    session: Session,
    directory: Path,
    *,
    employees: dict[str, Any],
    shift: timedelta,
    now: datetime,
    tz: Any,
) -> dict[str, int]:
    """Warehouses (two technicians' vans among them), the item catalogue, the receipts
    that stocked them, and the materials of a few orders: vans loaded, parts written off
    and returned, others reserved for orders still to be done."""
    from fsm_core.services import stock

    def moment(text: str) -> datetime:
        return min(_when(text, tz, "at") + shift, now)

    warehouses: dict[str, int] = {}
    for row in _rows(directory, "warehouses.csv"):
        data: dict[str, Any] = {k: _none(v) for k, v in row.items() if k != "employee"}
        data["employee_id"] = employees[row["employee"]].id if row["employee"] else None
        warehouses[row["external_id"]] = stock.create_warehouse(session=session, data=data).id
    items: dict[str, int] = {}
    for row in _rows(directory, "items.csv"):
        item = stock.create_item(session=session, data={k: _none(v) for k, v in row.items()})
        items[item.sku] = item.id
    for row in _rows(directory, "stock.csv"):
        with clock.frozen(moment(row["at"])):
            stock.receive(
                session=session,
                item_id=items[row["item"]],
                warehouse_id=warehouses[row["warehouse"]],
                quantity=_number(row["quantity"], "quantity"),
                unit_price=_number(row["price"], "price"),
                document=row["document"],
                actor=STOREKEEPER,
            )
    orders_by_ref = dict(session.execute(select(Order.external_id, Order.id)).all())
    for row in _rows(directory, "materials.csv"):
        order_id = orders_by_ref[row["order"]] if row["order"] else None
        common: dict[str, Any] = {
            "session": session,
            "item_id": items[row["item"]],
            "quantity": _number(row["quantity"], "quantity"),
        }
        with clock.frozen(moment(row["at"])):
            if row["action"] == "transfer":
                stock.transfer(
                    **common,
                    from_warehouse_id=warehouses[row["warehouse"]],
                    to_warehouse_id=warehouses[row["to"]],
                    order_id=order_id,
                    reason=_none(row["note"]),
                    actor=STOREKEEPER,
                )
            elif row["action"] == "reserve":
                stock.reserve(
                    **common,
                    order_id=_needed(order_id, row["action"]),
                    warehouse_id=warehouses[row["warehouse"]],
                    actor=DISPATCHER,
                )
            else:
                operation = (
                    stock.write_off if row["action"] == "write_off" else (stock.return_from_order)
                )
                order = session.get(Order, order_id)
                assignee = session.get(Employee, order.assignee_id) if order else None
                operation(
                    **common,
                    order_id=_needed(order_id, row["action"]),
                    warehouse_id=warehouses[row["warehouse"]],
                    reason=_none(row["note"]),
                    actor=assignee.short_name if assignee else DISPATCHER,
                )
    return {"warehouses": len(warehouses), "items": len(items)}


def _replay_order(
    session: Session,
    *,
    row: dict[str, str],
    created: datetime,
    planned: datetime | None,
    now: datetime,
    customer_id: int,
    object_id: int | None,
    contact_id: int | None,
    assignee_id: int | None,
    technician: str,
    crew_id: int | None,
    qr_by: str | None = None,
) -> tuple[int, datetime | None]:
    """Replay one order's life; its id and when its work was done (None: not done)."""
    with clock.frozen(created):
        order = orders.create_order(
            session=session,
            data={
                "customer_id": customer_id,
                "object_id": object_id,
                "contact_id": contact_id,
                "description": row["description"],
                "criticality": row["criticality"],
                "external_id": row["external_id"],
                "planned_start": planned,
                "planned_end": planned + timedelta(hours=2) if planned else None,
                "source": "qr" if qr_by else "import",
            },
            actor=qr_by or DISPATCHER,
        )
    assert order.id is not None
    path = PATHS[row["stage"]]
    if not path:
        return order.id, None
    span = timedelta(hours=float(row["work_hours"])) if row["work_hours"] else (now - created) * 0.8
    steps = {
        "assigned": min(timedelta(minutes=20), span * 0.1),
        "en_route": span * 0.3,
        "in_progress": span * 0.5,
        "on_hold": span * 0.8,
        "done": span,
        "closed": span + min(timedelta(hours=20), (now - created - span) * 0.5),
        "cancelled": min(timedelta(hours=3), span * 0.2),
    }
    started = created + steps["in_progress"]
    for stage in path:
        at = min(created + steps[stage], now)
        with clock.frozen(at):
            if stage in ("done", "closed"):
                _execution_before(session, order.id, stage, started, at, technician)
            if stage == "assigned" or (stage == "cancelled" and (assignee_id or crew_id)):
                orders.assign_order(
                    session=session,
                    order_id=order.id,
                    assignee_id=assignee_id,
                    crew_id=crew_id,
                    actor=DISPATCHER,
                )
                if stage == "assigned":
                    continue
            actor = DISPATCHER if stage in ("closed", "cancelled", "on_hold") else technician
            orders.move_order(session=session, order_id=order.id, stage=stage, actor=actor)
            if stage == "in_progress":
                _answer_checklists(session, order.id, technician)
    done = min(created + steps["done"], now) if "done" in path else None
    return order.id, done


def _rate_orders(
    session: Session, finished: dict[str, tuple[int, datetime, str]], *, now: datetime
) -> int:
    """The customers' ratings (:data:`RATINGS`) of the orders done, each some hours after
    the work, as their contact gave it."""
    from fsm_core.services import ratings

    for external_id, (order_id, done_at, who) in finished.items():
        promptness, accuracy, communication, comment, hours = RATINGS[external_id]
        with clock.frozen(min(done_at + timedelta(hours=hours), now)):
            ratings.rate(
                session=session,
                order_id=order_id,
                promptness=promptness,
                accuracy=accuracy,
                communication=communication,
                comment=comment,
                actor=who,
            )
    return len(finished)


# --- execution: checklists, work, signatures ---------------------------------------------

# the work each kind of object gets when its order is done
_WORK_BY_KIND = {
    "air conditioner": "Чистка радиатора испарителя",
    "refrigerator": "Диагностика оборудования",
    "chiller": "Диагностика оборудования",
    "pump": "Замена дренажной помпы",
    "generator": "Плановое ТО ДГУ до 200 кВА",
    "fuel dispenser": "Ремонт ТРК (гидравлика)",
    "tank": "Диагностика оборудования",
    "camera": "Настройка IP-камеры",
    "video recorder": "Настройка IP-камеры",
    "access control": "Замена считывателя СКУД",
    "lock": "Ремонт электромагнитного замка",
    "ventilation": "Диагностика оборудования",
    "site": "Устранение течи",
}
# answers a careful technician gives on a normal visit
_ANSWERS = {"yes_no": "да", "number": "12,8", "text": "Без замечаний"}


def load_checklists(session: Session) -> int:
    """The company's checklists: a pre-work inspection of generators (the reference
    product's own example) and a quick one for air conditioners."""
    generator = execution.create_template(
        session=session,
        name="Осмотр ДГУ перед работой",
        description="Предварительный осмотр дизель-генератора перед началом работ",
    )
    items: list[dict[str, Any]] = [
        {"kind": "check_in", "text": "Отметиться о приезде"},
        {
            "kind": "yes_no",
            "text": "Уровень охлаждающей жидкости в норме?",
            "hint": "Проверьте уровень, сняв кожух двигателя.",
            "trigger": "нет",
            "follow_up": "Долить охлаждающую жидкость в ДГУ (по заявке {order})",
            "raise_to": "high",
        },
        {
            "kind": "yes_no",
            "text": "Осмотреть оборудование: нет течей масла и топлива?",
            "trigger": "нет",
            "raise_to": "high",
        },
        {
            "kind": "number",
            "text": "Напряжение стартерной АКБ",
            "unit": "В",
            "min_value": Decimal("12.2"),
            "max_value": Decimal("14.5"),
            "trigger": "out_of_range",
            "follow_up": "Заменить стартерную АКБ ДГУ (по заявке {order})",
        },
    ]
    for item in items:
        execution.add_item(session=session, template_id=generator.id, **item)
    execution.bind_template(session=session, template_id=generator.id, object_kind="generator")
    conditioner = execution.create_template(session=session, name="Осмотр кондиционера")
    execution.add_item(
        session=session,
        template_id=conditioner.id,
        kind="yes_no",
        text="Дренаж чистый, вода уходит?",
        hint="Налейте стакан воды в поддон внутреннего блока.",
    )
    execution.add_item(
        session=session,
        template_id=conditioner.id,
        kind="file",
        text="Фото наружного блока",
        required=False,
    )
    execution.bind_template(
        session=session, template_id=conditioner.id, object_kind="air conditioner"
    )
    return 2


def _answer_checklists(session: Session, order_id: int, technician: str) -> None:
    for state in execution.checklist_state(session=session, order_id=order_id):
        value = _ANSWERS.get(state.item.kind)
        if state.item.kind in ("check_in",) or value is not None:
            execution.answer_item(
                session=session,
                order_id=order_id,
                item_id=state.item.id,
                value=value,
                actor=technician,
            )


def _execution_before(
    session: Session,
    order_id: int,
    stage: str,
    started: datetime,
    at: datetime,
    technician: str,
) -> None:
    """What a technician records before an order is done (the work) or closed (the
    customer's signature)."""
    order = session.get(Order, order_id)
    if order is None:
        return
    if stage == "closed":
        contact = session.get(Contact, order.contact_id) if order.contact_id else None
        if contact is not None:
            execution.sign(
                session=session,
                order_id=order_id,
                signer_name=contact.full_name,
                actor=technician,
            )
        return
    obj = session.get(ServiceObject, order.object_id) if order.object_id else None
    name = _WORK_BY_KIND.get(obj.kind if obj else "site", "Диагностика оборудования")
    work_type = session.execute(select(WorkType).where(WorkType.name == name)).scalar_one()
    executors = [
        execution.ExecutorInput(i)
        for i in execution.default_executors(session=session, order=order)
    ]
    finished = at - timedelta(minutes=10)
    # a visit's work takes an hour or three, whatever the order waited before
    started = max(started, finished - timedelta(minutes=60 + (order_id * 37) % 120))
    if not executors or finished <= started:
        return
    execution.add_work(
        session=session,
        order_id=order_id,
        work_type_id=work_type.id,
        started_at=started,
        finished_at=finished,
        executors=executors,
        actor=technician,
    )


# --- planner and chats (issue 7) ------------------------------------------------------------

_LATIN = "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN.split(" "), strict=True))

# Russian public holidays (the fixed dates of the Labour Code, art. 112)
_HOLIDAYS = [
    *((1, d, "Новогодние каникулы") for d in range(1, 9) if d != 7),
    (1, 7, "Рождество Христово"),
    (2, 23, "День защитника Отечества"),
    (3, 8, "Международный женский день"),
    (5, 1, "Праздник Весны и Труда"),
    (5, 9, "День Победы"),
    (6, 12, "День России"),
    (11, 4, "День народного единства"),
]
_HOMES = {
    "E-01": (59.9386, 30.3141),
    "E-02": (59.8519, 30.3225),
    "E-03": (60.0501, 30.3327),
    "E-05": (59.9601, 30.2990),
    "E-07": (60.0344, 30.4002),
    "E-10": (59.8302, 30.3493),
    "E-11": (59.9270, 30.3476),
}
# (order, employee or crew, day 1 or 2, start, end): some clash on purpose, so that
# `fsm plan conflicts` has something to show (an overlap, travel, leave, late hours)
_VISITS = [
    ("DEMO-006", "E-02", 1, "10:00", "12:00"),
    ("DEMO-047", "E-02", 1, "11:30", "13:00"),
    ("DEMO-086", "E-02", 1, "13:15", "15:00"),
    ("DEMO-024", "E-05", 1, "10:00", "12:00"),
    ("DEMO-048", "E-05", 1, "12:15", "14:00"),
    ("DEMO-079", "E-07", 1, "09:00", "11:00"),
    ("DEMO-055", "E-07", 1, "11:00", "13:00"),
    ("DEMO-083", "E-09", 1, "14:00", "16:00"),
    ("DEMO-075", "E-08", 1, "17:00", "19:30"),
    ("DEMO-038", "E-11", 1, "15:00", "17:00"),
    ("DEMO-001", "E-06", 2, "10:00", "12:00"),
    ("DEMO-034", "E-10", 2, "09:30", "11:30"),
    ("DEMO-011", "E-03", 2, "12:00", "14:00"),
    ("DEMO-005", "B-DGU", 2, "14:00", "17:00"),
    ("DEMO-069", "E-08", 2, "10:00", "12:00"),
]
# (order, channel, author: employee / contact / "dispatcher", minutes ago, text)
_MESSAGES = [
    (
        "DEMO-006",
        "team",
        "dispatcher",
        180,
        "Алексей, на Невском снова течёт помпа над кассой. Посмотри сегодня, пожалуйста.",
    ),
    ("DEMO-006", "team", "E-02", 170, "Принял. Буду к 10:00, возьму запасной шланг."),
    (
        "DEMO-006",
        "customer",
        "K-001",
        120,
        "Добрый день! Когда приедет мастер? Вода капает прямо на кассу.",
    ),
    (
        "DEMO-006",
        "customer",
        "dispatcher",
        110,
        "Здравствуйте, Ольга Викторовна! Инженер Петров А. С. будет у вас сегодня к 10:00.",
    ),
    ("DEMO-006", "team", "E-02", 40, "Помпа была забита, промыл дренаж. Течи больше нет."),
    ("DEMO-006", "customer", "K-001", 10, "Спасибо! Сейчас сухо."),
    (
        "DEMO-024",
        "team",
        "E-05",
        90,
        "Камера на островке 2 не видна в регистраторе, похоже, перебит кабель. "
        "Нужна бухта витой пары.",
    ),
    ("DEMO-024", "team", "dispatcher", 80, "Возьми бухту на складе, кладовщика я предупредила."),
    (
        "DEMO-083",
        "customer",
        "K-002",
        25,
        "Кассетный кондиционер на Лиговском так и не починили, в зале +28.",
    ),
]


def _hand_over(session: Session, dispatcher: Any) -> None:
    """Whoever loads the demo works as its dispatcher: the login or account bound to the
    empty database's first admin moves to her (on a database no one is bound to yet, the
    first account to connect claims her, as the ``default_user``)."""
    from fsm_core.access import principal_of
    from fsm_core.models import AppUser
    from fsm_core.services import users

    principal = principal_of(session)
    if principal.user_id is None or principal.user_id == dispatcher.id:
        return
    me = session.get(AppUser, principal.user_id)
    if me is None:
        return
    db_login, os_login = me.db_login, me.os_login
    if not (db_login or os_login):
        return
    users.bind_login(session=session, user_id=me.id, clear=True)
    users.bind_login(session=session, user_id=dispatcher.id, db_login=db_login, os_login=os_login)


def _login(full_name: str) -> str:
    surname = full_name.split()[0].lower()
    return "".join(_TRANSLIT.get(ch, ch) for ch in surname).replace("-", "")


def _working_days(start: date, count: int, holidays: set[date]) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += timedelta(days=1)
    return days


def load_planning_and_chat_demo(
    session: Session,
    *,
    employees: dict[str, Any],
    contacts: dict[str, int],
    crews: dict[str, int],
    now: datetime,
) -> dict[str, int]:
    """Users for the dispatcher, the technicians and two customers' contacts; working hours
    (Mon–Fri 09–18, one technician on a 2/2 shift), public holidays, leave and a sick day,
    home bases; visits for open orders today and on the next working day (some clashing);
    and chat messages in both channels."""
    from fsm_core.services import chat, planning, users, working_time

    tz = company_settings.load(session=session).tz
    today = now.astimezone(tz).date()

    people: dict[str, Any] = {}
    for key, employee in employees.items():
        dispatcher = (employee.position or "").lower().startswith("диспетчер")
        head = employee.short_name == DISPATCHER
        people[key] = users.create_user(
            session=session,
            login=_login(employee.full_name),
            roles=["admin", "dispatcher"] if head else ["dispatcher"] if dispatcher else None,
            kind=None if dispatcher else "technician",
            employee_id=employee.id,
        )
    dispatcher = next(u for u in people.values() if u.display_name == DISPATCHER)
    company_settings.set_value(session=session, key="default_user", value=dispatcher.login)
    _hand_over(session, dispatcher)
    from fsm_core.models import Contact

    for key in ("K-001", "K-002"):
        contact_id = contacts[key]
        contact = session.get(Contact, contact_id)
        assert contact is not None
        people[key] = users.create_user(
            session=session,
            login=_login(contact.full_name),
            kind="customer",
            contact_id=contact_id,
        )
    people["dispatcher"] = dispatcher

    holidays: set[date] = set()
    for year in (today.year, today.year + 1):
        for month, day, name in _HOLIDAYS:
            holidays.add(date(year, month, day))
            working_time.add_holiday(session=session, day=date(year, month, day), name=name)
    day1, day2 = _working_days(today, 2, holidays)
    since = today - timedelta(days=60)
    for key, employee in employees.items():
        if people[key].kind != "technician":
            continue
        pattern = "2/2 08:00-20:00" if key == "E-07" else "Mon-Fri 09:00-18:00"
        working_time.set_patterns(
            session=session,
            employee_id=employee.id,
            patterns=[f"2/2 08:00-20:00 from {day1:%d.%m.%Y}" if key == "E-07" else pattern],
            valid_from=since,
        )
        if key in _HOMES:
            lat, lon = _HOMES[key]
            planning.set_home_base(
                session=session, employee_id=employee.id, latitude=lat, longitude=lon
            )
    from fsm_core.timeparse import local_day_bounds

    leave_from = local_day_bounds(day1 - timedelta(days=3), tz)[0]
    working_time.add_time_off(
        session=session,
        employee_id=employees["E-09"].id,
        kind="leave",
        start=leave_from,
        end=local_day_bounds(day1 + timedelta(days=10), tz)[1],
        note="ежегодный отпуск",
        actor=DISPATCHER,
    )
    working_time.add_time_off(
        session=session,
        employee_id=employees["E-04"].id,
        kind="sick",
        start=local_day_bounds(day1, tz)[0],
        end=local_day_bounds(day2, tz)[1],
        actor=DISPATCHER,
    )

    by_external = {
        o.external_id: o
        for o in session.exec(select(Order).where(col(Order.external_id).like("DEMO-%")))
    }
    visits = 0
    for external_id, who, which, start, end in _VISITS:
        order = by_external.get(external_id)
        if order is None:
            continue
        visit_day = day1 if which == 1 else day2
        begin = planning.read_moment(start, tz, day=visit_day)
        finish = planning.read_moment(end, tz, day=visit_day)
        at = min(now, max(order.created_at, begin - timedelta(days=1)))
        with clock.frozen(at):
            planning.add_visit(
                session=session,
                order_id=order.id,
                employee_id=employees[who].id if who in employees else None,
                crew_id=crews.get(who),
                start=begin,
                end=finish,
                actor=DISPATCHER,
            )
        visits += 1

    messages = 0
    for external_id, channel, author, minutes_ago, text in _MESSAGES:
        order = by_external.get(external_id)
        if order is None:
            continue
        at = max(order.created_at, now - timedelta(minutes=minutes_ago))
        with clock.frozen(at):
            chat.send_message(
                session=session, order_id=order.id, user=people[author], text=text, channel=channel
            )
        messages += 1
    return {"users": len({u.id for u in people.values()}), "visits": visits, "messages": messages}
