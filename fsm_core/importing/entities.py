"""What each importable entity's rows mean: columns, aliases, keys, and how a row is
written (always through the entity's own service, so imported data obeys every rule).

The column aliases are the headers a Russian back office's sheets carry (1C exports,
Excel registers); the table is documented in README.md. Reference entities (customers,
contacts, employees, crews, objects, work types) go row by row through their services
inside a savepoint each; orders, which come by the hundred thousand, go through the
order service's bulk path: the same rules, applied to a batch at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from fsm_core import bulk
from fsm_core.errors import Ambiguous, FsmError, InvalidInput
from fsm_core.importing import fields as f
from fsm_core.models import (
    Company,
    Contact,
    Crew,
    Employee,
    Order,
    ServiceObject,
    WorkType,
)
from fsm_core.models.catalog import CHARGE_WORDS
from fsm_core.models.types import UTCDateTime
from fsm_core.vocabulary import CRITICALITY_NAMES

if TYPE_CHECKING:
    from fsm_core.importing.engine import ImportRun
    from fsm_core.importing.parallel import Checked
from fsm_core.importing.base import (
    EXTERNAL_ID,
    CheckedInWorkers,
    Column,
    RecordEntity,
    Row,
    constant,
    day_column,
    long_text_column,
    moment_column,
    text_column,
)

# --- companies -------------------------------------------------------------------------


class Companies(RecordEntity):
    name = "companies"
    model = Company
    keys = ("external_id", "inn", "name")
    columns = (
        Column(
            "name",
            ("Наименование", "Название", "Компания", "Заказчик", "Организация", "Контрагент"),
            text_column(300),
            required=True,
        ),
        Column("inn", ("ИНН",), constant(f.inn)),
        Column(
            "address",
            ("Адрес", "Юридический адрес", "Фактический адрес", "Юр. адрес"),
            text_column(500),
        ),
        Column("phone", ("Телефон", "Тел.", "Тел"), constant(f.phone)),
        Column(
            "email",
            ("Email", "E-mail", "Эл. почта", "Электронная почта", "Почта"),
            constant(f.email),
        ),
        EXTERNAL_ID,
        Column("notes", ("Примечание", "Комментарий", "Заметки"), long_text_column(4000)),
        Column(
            "contract_number",
            ("Договор", "Номер договора", "№ договора"),
            text_column(100),
            help="the contract the act names as its basis",
        ),
        Column("contract_date", ("Дата договора",), day_column()),
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {"external_id": Company.external_id, "inn": Company.inn, "name": Company.name}

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import parties

        return parties.create_company(session=self.session, data=data).id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import parties

        parties.update_company(session=self.session, company_id=record_id, data=changes)

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        record = self.session.get(Company, record_id) if record_id > 0 else None
        if record is None:  # created by a dry run
            self.run.resolver.add_company(
                record_id,
                data.get("name") or "?",
                inn=data.get("inn"),
                external_id=data.get("external_id"),
            )
            return
        self.run.resolver.add_company(
            record_id, record.name, inn=record.inn, external_id=record.external_id
        )


# --- contacts --------------------------------------------------------------------------

CUSTOMER = Column(
    "customer",
    ("Заказчик", "Клиент", "Контрагент", "Компания", "Организация"),
    text_column(300),
    help="name, INN or external id of the customer",
)


class Contacts(RecordEntity):
    name = "contacts"
    model = Contact
    keys = ("external_id", "email", "phone")
    columns = (
        replace(CUSTOMER, required=True),
        Column(
            "full_name",
            ("ФИО", "Контактное лицо", "Имя", "Контакт"),
            text_column(200),
            required=True,
        ),
        Column("position", ("Должность",), text_column(200)),
        Column("phone", ("Телефон", "Мобильный", "Тел."), constant(f.phone)),
        Column("email", ("Email", "E-mail", "Эл. почта", "Электронная почта"), constant(f.email)),
        EXTERNAL_ID,
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {"external_id": Contact.external_id, "email": Contact.email, "phone": Contact.phone}

    def resolve(self, row: Row) -> None:
        ref = row.values.pop("customer", None)
        if ref is not None:
            row.values["company_id"] = self.run.customer_id(ref, row)

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import parties

        return parties.create_contact(session=self.session, data=data).id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import parties

        parties.update_contact(session=self.session, contact_id=record_id, data=changes)

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        record = self.session.get(Contact, record_id) if record_id > 0 else None
        if record is not None:
            data = {k: getattr(record, k) for k in Contact.model_fields}
        if "company_id" in data:
            self.run.resolver.add_contact(
                record_id,
                data["company_id"],
                data.get("full_name", ""),
                data.get("external_id"),
                data.get("phone"),
                data.get("email"),
            )


# --- employees -------------------------------------------------------------------------


class Employees(RecordEntity):
    name = "employees"
    model = Employee
    keys = ("external_id", "email", "phone", "short_name")
    columns = (
        Column(
            "full_name",
            ("ФИО", "Сотрудник", "Имя", "Фамилия Имя Отчество"),
            text_column(200),
            required=True,
        ),
        Column("short_name", ("Краткое имя", "ФИО кратко", "Фамилия И. О."), text_column(100)),
        Column("position", ("Должность",), text_column(200)),
        Column("area", ("Участок", "Район", "Зона", "Подразделение"), text_column(200)),
        Column("phone", ("Телефон", "Мобильный", "Тел."), constant(f.phone)),
        Column("email", ("Email", "E-mail", "Эл. почта", "Электронная почта"), constant(f.email)),
        Column(
            "hourly_rate",
            ("Ставка", "Ставка в час", "Часовая ставка", "Стоимость часа", "Ставка, руб./ч"),
            constant(f.money),
        ),
        Column(
            "skills",
            ("Навыки", "Квалификация", "Специализация", "Компетенции"),
            constant(f.word_list),
        ),
        Column("active", ("Активен", "Активный", "Работает", "Действующий"), constant(f.boolean)),
        Column(
            "external_id",
            ("Табельный номер", "Таб. №", "Табельный №", *EXTERNAL_ID.aliases),
            text_column(100),
        ),
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {
            "external_id": Employee.external_id,
            "email": Employee.email,
            "phone": Employee.phone,
            "short_name": Employee.short_name,
        }

    def data(self, row: Row) -> dict[str, Any]:
        data = dict(row.values)
        if data.get("skills") is None:
            data.pop("skills", None)
        if data.get("active") is None:
            data.pop("active", None)
        return data

    def real_changes(self, record: Any, changes: dict[str, Any]) -> dict[str, Any]:
        if "skills" in changes:
            normalized = [s.lower() for s in changes["skills"]]
            if normalized == list(record.skills):
                changes.pop("skills")
        return changes

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import parties

        return parties.create_employee(session=self.session, data=data).id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import parties

        parties.update_employee(session=self.session, employee_id=record_id, data=changes)

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        record = self.session.get(Employee, record_id)
        if record is not None:
            self.run.resolver.add_employee(
                record_id,
                record.full_name,
                record.short_name,
                record.external_id,
                record.email,
                record.phone,
            )


# --- crews -----------------------------------------------------------------------------


class Crews(RecordEntity):
    name = "crews"
    model = Crew
    keys = ("external_id", "name")
    columns = (
        Column("name", ("Бригада", "Название", "Наименование"), text_column(200), required=True),
        Column("leader", ("Бригадир", "Старший", "Руководитель"), text_column(200)),
        Column(
            "members",
            ("Состав", "Участники", "Сотрудники", "Члены бригады"),
            constant(f.word_list),
            help="employees separated by ; or new lines",
        ),
        EXTERNAL_ID,
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {"external_id": Crew.external_id, "name": Crew.name}

    def resolve(self, row: Row) -> None:
        values = row.values
        if values.get("leader") is not None:
            values["leader_id"] = self.run.employee_id(values.pop("leader"))
        else:
            values.pop("leader", None)
        if "members" in values:
            members = values.pop("members") or []
            values["member_ids"] = [self.run.employee_id(m) for m in members]

    def real_changes(self, record: Any, changes: dict[str, Any]) -> dict[str, Any]:
        if "member_ids" in changes:
            from fsm_core.services.parties import crew_members

            current = {m.id for m in crew_members(session=self.session, crew_id=record.id)}
            wanted = set(changes["member_ids"]) | (
                {record.leader_id} if record.leader_id else set()
            )
            if current == wanted:
                changes.pop("member_ids")
        return changes

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import parties

        return parties.create_crew(session=self.session, data=data).id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import parties

        parties.update_crew(session=self.session, crew_id=record_id, data=changes)

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        record = self.session.get(Crew, record_id) if record_id > 0 else None
        if record is not None:
            data = {"name": record.name, "external_id": record.external_id}
        self.run.resolver.add_crew(record_id, data.get("name", ""), data.get("external_id"))


# --- objects ---------------------------------------------------------------------------


class Objects(RecordEntity):
    name = "objects"
    model = ServiceObject
    keys = ("external_id", "inventory_number", "serial_number")
    columns = (
        replace(CUSTOMER, required=True),
        Column(
            "parent",
            ("Площадка", "Родитель", "Входит в", "Расположен на", "Родительский объект"),
            text_column(300),
            help="the site this equipment belongs to (external id, inventory no. or name)",
        ),
        Column(
            "name",
            ("Наименование", "Название", "Объект", "Оборудование", "Объект обслуживания"),
            text_column(300),
            required=True,
        ),
        Column(
            "kind", ("Тип", "Вид", "Вид объекта", "Тип оборудования", "Категория"), text_column(100)
        ),
        Column("address", ("Адрес",), text_column(500)),
        Column("latitude", ("Широта", "Lat", "Latitude"), constant(f.number)),
        Column("longitude", ("Долгота", "Lon", "Lng", "Longitude"), constant(f.number)),
        Column("gps_radius_m", ("Радиус", "Радиус, м", "Радиус GPS"), constant(f.number)),
        Column(
            "location_hint",
            ("Как найти", "Расположение", "Местоположение", "Подсказка", "Ориентир"),
            long_text_column(2000),
        ),
        Column("building", ("Здание", "Корпус", "Строение"), text_column(100)),
        Column("floor", ("Этаж",), text_column(50)),
        Column("plan_x", ("План X", "X на плане"), constant(f.number)),
        Column("plan_y", ("План Y", "Y на плане"), constant(f.number)),
        Column(
            "serial_number",
            ("Заводской номер", "Зав. №", "Зав. номер", "Серийный номер", "S/N", "SN"),
            text_column(100),
        ),
        Column(
            "inventory_number",
            ("Инвентарный номер", "Инв. №", "Инв. номер", "Инвентарный №"),
            text_column(100),
        ),
        EXTERNAL_ID,
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {
            "external_id": ServiceObject.external_id,
            "inventory_number": ServiceObject.inventory_number,
            "serial_number": ServiceObject.serial_number,
        }

    def resolve(self, row: Row) -> None:
        values = row.values
        customer_id = self.run.customer_id(values.pop("customer"), row)
        values["customer_id"] = customer_id
        if "parent" in values:
            parent = values.pop("parent")
            try:
                values["parent_id"] = (
                    self.run.resolver.object(parent, customer_id=customer_id) if parent else None
                )
            except Ambiguous as exc:
                hint = "name the site by its external id or inventory number"
                raise self.run.column_error("parent", exc, hint=hint) from None
            except FsmError as exc:
                raise self.run.column_error("parent", exc) from None
        if values.get("kind") is None:
            values.pop("kind", None)

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import objects

        return objects.create_object(session=self.session, data=data).id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import objects

        objects.update_object(session=self.session, object_id=record_id, data=changes)

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        record = self.session.get(ServiceObject, record_id) if record_id > 0 else None
        if record is not None:  # what it is known by now, columns the file lacks included
            data = {k: getattr(record, k) for k in ServiceObject.model_fields}
        self.run.resolver.add_object(
            record_id,
            data["customer_id"],
            data.get("name", ""),
            external_id=data.get("external_id"),
            inventory_number=data.get("inventory_number"),
            serial_number=data.get("serial_number"),
            passport_token=data.get("passport_token"),
            parent_id=data.get("parent_id"),
            address=data.get("address"),
        )
        self.run.orders_context().remember_object(
            record_id, data["customer_id"], data.get("name", "")
        )


# --- work types ------------------------------------------------------------------------


class WorkTypes(RecordEntity):
    name = "work-types"
    model = WorkType
    keys = ("external_id", "name")
    columns = (
        Column(
            "name",
            ("Наименование", "Название", "Вид работ", "Работа", "Услуга"),
            text_column(300),
            required=True,
        ),
        Column("price", ("Цена", "Стоимость", "Цена, руб.", "Цена руб"), constant(f.money)),
        Column("unit", ("Ед. изм.", "Единица", "Ед.", "Единица измерения"), text_column(20)),
        Column(
            "charge",
            ("Тарификация",),
            constant(f.choice({w: c.value for w, c in CHARGE_WORDS.items()}, "charge")),
            help="fixed (the price), hours (the executors' hours) or both; default both",
        ),
        Column("description", ("Описание", "Примечание"), long_text_column(4000)),
        EXTERNAL_ID,
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {"external_id": WorkType.external_id, "name": WorkType.name}

    def data(self, row: Row) -> dict[str, Any]:
        return {
            k: v
            for k, v in row.values.items()
            if not (k in ("price", "unit", "charge") and v is None)
        }

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import objects

        return objects.create_work_type(session=self.session, data=data).id

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import objects

        objects.update_work_type(session=self.session, work_type_id=record_id, data=changes)

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        record = self.session.get(WorkType, record_id) if record_id > 0 else None
        if record is not None:
            data = {"name": record.name, "external_id": record.external_id}
        self.run.resolver.add_work_type(record_id, data.get("name", ""), data.get("external_id"))


# --- orders ----------------------------------------------------------------------------

_CRITICALITY = {
    **{c.value: c.value for c in CRITICALITY_NAMES},
    **{names["ru"]: c.value for c, names in CRITICALITY_NAMES.items()},
    **{names["en"]: c.value for c, names in CRITICALITY_NAMES.items()},
    "срочная": "high",
    "аварийная": "critical",
    "плановая": "low",
}


class Orders(CheckedInWorkers):
    """Orders, in batches through the order service's bulk path."""

    name = "orders"
    keys = ("external_id", "number")
    bulk_tables = ("orders", "order_history")
    columns = (
        Column("number", ("Номер", "Номер заявки", "№ заявки", "№"), text_column(40)),
        EXTERNAL_ID,
        Column(
            "created_at",
            ("Дата создания", "Создана", "Дата", "Дата заявки", "Дата поступления"),
            moment_column(),
        ),
        CUSTOMER,
        Column(
            "object",
            ("Объект", "Объект обслуживания", "Оборудование"),
            text_column(300),
            help="external id, inventory or serial number, or the whole name within the customer",
        ),
        Column(
            "address",
            ("Адрес", "Адрес объекта"),
            text_column(500),
            help="the object's address: tells apart same-named objects of the customer, "
            "and is the address of an object `--create-missing` creates",
        ),
        Column("contact", ("Контакт", "Контактное лицо", "Заявитель"), text_column(200)),
        Column(
            "description",
            ("Описание", "Описание проблемы", "Суть заявки", "Неисправность", "Текст заявки"),
            long_text_column(4000),
            required=True,
        ),
        Column(
            "criticality",
            ("Критичность", "Приоритет", "Важность", "Срочность"),
            constant(f.choice(_CRITICALITY, "criticality")),
        ),
        Column("stage", ("Стадия", "Статус", "Состояние"), text_column(100)),
        Column(
            "assignee",
            ("Исполнитель", "Ответственный", "Инженер", "Техник", "Мастер"),
            text_column(200),
            help="short name (Иванов К. П.), full name, e-mail, phone or external id",
        ),
        Column("crew", ("Бригада",), text_column(200)),
        Column(
            "planned_start",
            ("Плановое начало", "Плановая дата", "Дата визита", "Время визита", "Начало"),
            moment_column(),
        ),
        Column("planned_end", ("Плановое окончание", "Окончание", "Конец визита"), moment_column()),
        Column("reaction_due", ("Срок реакции",), moment_column(end_of_day=True)),
        Column(
            "resolution_due",
            ("Срок", "Срок исполнения", "Срок решения", "Крайний срок", "Дедлайн", "Выполнить до"),
            moment_column(end_of_day=True),
        ),
        Column(
            "reacted_at", ("Дата реакции", "Принята в работу", "Взята в работу"), moment_column()
        ),
        Column("resolved_at", ("Дата выполнения", "Выполнена"), moment_column()),
        Column("closed_at", ("Дата закрытия", "Закрыта"), moment_column()),
    )

    _REF_FIELDS = ("customer_id", "object_id", "contact_id", "assignee_id", "crew_id")

    def __init__(self, run: ImportRun) -> None:
        super().__init__(run)
        self.ctx = run.orders_context()
        self.workflow = self.ctx.workflow
        self.has_column = set(run.fields)
        # On SQLite, whose writer has the database to itself, the new orders' "create"
        # history rows are written once at the end, for every id above today's highest
        # (one range scan instead of a lookup by number per batch).
        self._history_after: int | None = None
        if self.session.get_bind().dialect.name == "sqlite" and not run.dry_run:
            self._history_after = int(
                self.session.connection()
                .exec_driver_sql("SELECT coalesce(max(id), 0) FROM orders")
                .scalar_one()
            )

    def finish(self) -> None:
        from fsm_core.services import orders as service

        if self._history_after is not None and self.run.report.inserted:
            service.record_creations(
                self.ctx, after_id=self._history_after, actor=self.run.actor, now=self.run.now
            )

    def resolve(self, row: Row) -> None:
        run = self.run
        v = row.values
        customer_id = None
        if v.get("customer") is not None:
            customer_id = run.customer_id(v.pop("customer"), row)
        else:
            v.pop("customer", None)
        address = v.pop("address", None)  # the object's, not stored on the order
        if v.get("object") is not None:
            object_ref = v.pop("object")
            v["object_id"] = run.object_id(object_ref, customer_id, row, address=address)
            if customer_id is None:
                customer_id = run.resolver.object_customer[v["object_id"]]
        elif "object" in v:
            v.pop("object")
            v["object_id"] = None
        if customer_id is None:
            raise InvalidInput("a customer (or an object) is needed", field="customer")
        v["customer_id"] = customer_id
        if "contact" in v:
            ref = v.pop("contact")
            try:
                v["contact_id"] = run.resolver.contact(ref, company_id=customer_id) if ref else None
            except FsmError as exc:
                raise run.column_error("contact", exc) from None
        if "assignee" in v:
            ref = v.pop("assignee")
            v["assignee_id"] = run.employee_id(ref) if ref else None
        if "crew" in v:
            ref = v.pop("crew")
            try:
                v["crew_id"] = run.resolver.crew(ref) if ref else None
            except FsmError as exc:
                raise run.column_error("crew", exc) from None
        if v.get("stage") is not None:
            v["stage"] = self.workflow.stage(v["stage"]).code
        if v.get("criticality") is None:
            v.pop("criticality", None)

    def apply(self, rows: Sequence[Row]) -> None:
        """New rows and plain field changes go in bulk; a row that also reassigns or moves
        the order goes through the services one by one, in a savepoint of its own."""
        from fsm_core.services import orders as service

        run = self.run
        existing = self._existing(run.key, [r.key for r in rows if r.key is not None])
        new_rows: list[dict[str, Any]] = []
        changed: list[tuple[dict[str, Any], dict[str, tuple[Any, Any]]]] = []
        one_by_one: list[tuple[Row, int, dict[str, Any], dict[str, Any]]] = []
        taken = self._taken_numbers(rows, existing)
        for row in rows:
            current = existing.get(row.key) if row.key is not None else None
            try:
                _check_text(row.values)
                if current is None:
                    if row.values.get("number") in taken:
                        raise InvalidInput(
                            f"order number {row.values['number']!r} is already taken",
                            field="number",
                        )
                    row.values["source"] = "import"
                    new_rows.append(service.prepare_new_order(self.ctx, row.values, now=run.now))
                    continue
                requested, changes, moving = self._plan_existing(row, current)
                if moving:
                    one_by_one.append((row, current["id"], requested, moving))
                elif changes:
                    changed.append((current, changes))
                else:
                    run.count("unchanged")
            except FsmError as exc:
                run.reject(row, exc.one_line())
        if run.stop_writing:
            run.count("checked", len(new_rows) + len(changed) + len(one_by_one))
            return
        if new_rows and not run.dry_run:
            service.insert_new_orders(
                self.ctx,
                new_rows,
                actor=run.actor,
                now=run.now,
                return_ids=False,
                history=self._history_after is None,
            )
        run.count("inserted", len(new_rows))
        if changed and not run.dry_run:
            self._write_updates(changed)
        run.count("updated", len(changed))
        for row, order_id, requested, moving in one_by_one:
            try:
                if not run.dry_run:
                    with self.session.begin_nested():
                        self._change_one(order_id, requested, moving)
                run.count("updated")
            except FsmError as exc:
                run.reject(row, exc.one_line())

    # -- checked in worker processes --

    def prepare_for_workers(self) -> None:
        from fsm_core.services import orders as service

        kinds = {"customer": "customer", "object": "object", "contact": "contact"}
        kinds |= {"assignee": "employee", "crew": "crew"}
        for column, kind in kinds.items():
            if column in self.has_column or (kind == "customer" and "object" in self.has_column):
                self.run.resolver.index(kind)
        if self.session.get_bind().dialect.name == "sqlite":
            self._stored_time: Callable[[datetime], str] = bulk.sqlite_time
        else:
            self._stored_time = datetime.isoformat
        self._now_text = self._stored_time(self.run.now)
        columns = Order.__table__.columns  # type: ignore[attr-defined]
        self._time_slots = [
            i
            for i, name in enumerate(service.ORDER_COLUMNS)
            if isinstance(columns[name].type, UTCDateTime)
        ]

    def prepare(self, row: Row) -> tuple[str, Any]:
        """("new", (stored row, month to number it by)) when the row can be created;
        ("check", message) when it is wrong whatever it names, ("new-fail", message)
        when it could only be an update of an existing order."""
        from fsm_core.services import orders as service

        try:
            _check_text(row.values)
        except FsmError as exc:
            return "check", exc.one_line()
        row.values["source"] = "import"
        try:
            prepared = service.prepare_new_order(self.ctx, row.values, now=self.run.now)
        except FsmError as exc:
            return "new-fail", exc.one_line()
        # most rows' times repeat two moments (updated now; reacted at creation): each
        # is turned into its stored text once
        store, now, created = self._stored_time, self.run.now, prepared["created_at"]
        now_text, created_text = self._now_text, store(created)
        stored = list(map(prepared.get, service.ORDER_COLUMNS))
        for i in self._time_slots:
            value = stored[i]
            if value is not None:
                stored[i] = (
                    now_text if value is now else created_text if value is created else store(value)
                )
        month = None
        if not prepared["number"]:
            month = service.order_month(self.ctx, created)
        return "new", (stored, month)

    def apply_checked(self, items: Sequence[Checked], recheck: Callable[[Checked], Row]) -> None:
        from fsm_core.services import orders as service

        run = self.run
        keys = [i.key for i in items if i.key is not None]
        present: set[str] = set()
        if keys:
            found = bulk.select_in(self.session, "orders", (run.key,), run.key, keys)
            present = {k for (k,) in found}
        number = service.ORDER_COLUMNS.index("number")
        given = [
            i.payload[1][0][number]
            for i in items
            if i.payload[0] == "new" and i.key not in present and i.payload[1][0][number]
        ]
        taken = service._existing(self.session, Order.number, given) if given else set()
        new_rows: list[list[Any]] = []
        months: list[tuple[int, int] | None] = []
        again: list[Checked] = []
        for item in items:
            outcome, detail = item.payload
            if item.key is not None and item.key in present and outcome != "check":
                again.append(item)
                continue
            if outcome != "new":
                self._reject(item, detail)
                continue
            stored, month = detail
            if stored[number] in taken:
                problem = InvalidInput(
                    f"order number {stored[number]!r} is already taken", field="number"
                )
                self._reject(item, problem.one_line())
                continue
            new_rows.append(stored)
            months.append(month)
        if run.stop_writing:
            run.count("checked", len(new_rows))
        else:
            if new_rows and not run.dry_run:
                service.store_new_orders(
                    self.ctx,
                    new_rows,
                    months,
                    actor=run.actor,
                    now=run.now,
                    history=self._history_after is None,
                    # the new rows' keys were looked up above
                    external_ids_checked=run.key == "external_id",
                )
            run.count("inserted", len(new_rows))
        if again:
            self.apply([recheck(item) for item in again])

    def _reject(self, item: Checked, message: str) -> None:
        self.run.reject_line(item.line, item.raw(self.run.source.headers), message)

    # -- helpers --

    def _existing(self, key_field: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not keys:
            return {}
        from fsm_core.services.orders import _STATE, EDITABLE

        # which keys exist, through the driver (one array parameter on PostgreSQL): a load
        # of new orders stops here; the typed records are read for the ones found only
        keys = [k for (k,) in bulk.select_in(self.session, "orders", (key_field,), key_field, keys)]
        column = getattr(Order, key_field)
        names = ("id", *EDITABLE, *_STATE)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 5000):
            chunk = list(keys[start : start + 5000])
            query = select(*(getattr(Order, n) for n in names)).where(col(column).in_(chunk))
            for values in self.session.execute(query):
                record = dict(zip(names, values, strict=True))
                found[record[key_field]] = record
        return found

    def _taken_numbers(self, rows: Sequence[Row], existing: dict[str, Any]) -> set[str]:
        numbers = [
            r.values["number"] for r in rows if r.values.get("number") and r.key not in existing
        ]
        if not numbers:
            return set()
        from fsm_core.services.orders import _existing

        return _existing(self.session, Order.number, numbers)

    def _plan_existing(
        self, row: Row, current: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]], dict[str, Any]]:
        """(fields to set, their planned changes, assignee/crew/stage moves) for a row
        that names an existing order."""
        from fsm_core.services.orders import EDITABLE, MANUAL_FLAGS, plan_update

        v = row.values
        requested = {k: v[k] for k in EDITABLE if k in v and (v[k] is not None or k in _CLEARABLE)}
        if "reaction_due" in requested or "resolution_due" in requested:
            policy = self.ctx.deadlines(
                requested.get("customer_id", current["customer_id"]),
                requested.get("criticality", current["criticality"]),
                current["created_at"],
            )
            for deadline, flag in MANUAL_FLAGS.items():  # the policy's own is not typed in
                if requested.get(deadline) == getattr(policy, deadline) and not current[flag]:
                    requested.pop(deadline, None)
        changes = plan_update(self.ctx, current, requested)
        moving: dict[str, Any] = {}
        for name in ("assignee_id", "crew_id"):
            if name in v and v[name] != current[name]:
                moving[name] = v[name]
        if v.get("stage") and v["stage"] != current["stage_code"]:
            moving["stage"] = v["stage"]
        return requested, changes, moving

    def _write_updates(self, changed: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        from fsm_core.services.order_queries import display_value, history_field
        from fsm_core.services.orders import _QUIET, EDITABLE, MANUAL_FLAGS, history_action

        run = self.run
        columns = (*EDITABLE, *MANUAL_FLAGS.values(), "sla_at_risk_at")
        assignments = ", ".join(f"{c} = ?" for c in columns)
        statement = (
            f"UPDATE orders SET {assignments}, updated_at = ?, version = version + 1 "
            "WHERE id = ? AND version = ?"
        )
        params = []
        history = []
        for current, changes in changed:
            merged = {**current, **{k: new for k, (_, new) in changes.items()}}
            params.append(
                [merged[c] for c in columns] + [run.now, current["id"], current["version"]]
            )
            for name, (old, new) in changes.items():
                if name in _QUIET:
                    continue
                history.append(
                    (
                        current["id"],
                        run.now,
                        run.actor,
                        history_action(name, merged),
                        history_field(name),
                        display_value(session=self.session, name=name, value=old),
                        display_value(session=self.session, name=name, value=new),
                    )
                )
        touched = bulk.execute_many(self.session, statement, params)
        if touched != len(params):
            raise InvalidInput(
                "some orders were changed by someone else during the import; nothing was saved",
                hint="run the import again",
            )
        bulk.insert_rows(
            self.session,
            "order_history",
            ("order_id", "at", "actor", "action", "field", "old_value", "new_value"),
            history,
        )

    def _change_one(self, order_id: int, requested: dict[str, Any], moving: dict[str, Any]) -> None:
        from fsm_core.services import orders as service

        self.session.expire_all()
        if requested:
            service.update_order(
                session=self.session, order_id=order_id, data=requested, actor=self.run.actor
            )
        if "assignee_id" in moving or "crew_id" in moving:
            service.assign_order(
                session=self.session,
                order_id=order_id,
                actor=self.run.actor,
                **{k: moving[k] for k in ("assignee_id", "crew_id") if k in moving},
            )
        if "stage" in moving:
            order = self.session.get(Order, order_id)
            if order is not None and order.stage_code != moving["stage"]:
                service.move_order(
                    session=self.session,
                    order_id=order_id,
                    stage=moving["stage"],
                    actor=self.run.actor,
                )


_CLEARABLE = {"object_id", "contact_id", "planned_start", "planned_end"}


def _check_text(values: dict[str, Any]) -> None:
    description = values.get("description")
    if description is not None and not description.strip():
        raise InvalidInput("description is empty", field="description")
    start, end = values.get("planned_start"), values.get("planned_end")
    if start is not None and end is not None and end < start:
        raise InvalidInput("planned end is before planned start", field="planned_end")
