"""What ``fsm export`` writes: every entity as rows with the columns ``fsm import`` reads,
and the orders as a workbook for people to read (see :func:`write_export`).

References are written the way the importer resolves them, preferring the keys that stay
unique (external id, then INN, e-mail, inventory number, and the name last), so that the
export of a database imported into an empty one, entity by entity in the order of
:data:`EXPORT_ORDER`, reproduces the same export. Times are ISO 8601 in the company's time
zone (with their offset: nothing is lost), money is plain decimal text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from fsm_core.access import ENTITY_PERMISSIONS, authorize, demand, principal_of, requires
from fsm_core.models import (
    Company,
    Contact,
    Crew,
    CrewMember,
    Employee,
    Item,
    Order,
    ServiceObject,
    StockBalance,
    Warehouse,
    WorkType,
)

EXPORT_ORDER = (
    "companies",
    "contacts",
    "employees",
    "crews",
    "work-types",
    "objects",
    "items",
    "warehouses",
    "stock",
    "orders",
)


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Callable[[Session, Any], Iterator[dict[str, Any]]]


def _time(value: datetime | None, tz: tzinfo) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


class Refs:
    """How each referenced record is named in an export (loaded once per export)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[str, dict[int, str]] = {}

    def _load(self, kind: str) -> dict[int, str]:
        if kind not in self._cache:
            self._cache[kind] = getattr(self, f"_{kind}")()
        return self._cache[kind]

    def name(self, kind: str, record_id: int | None) -> str | None:
        return None if record_id is None else self._load(kind).get(record_id)

    def _company(self) -> dict[int, str]:
        rows = self.session.execute(
            select(Company.id, Company.external_id, Company.inn, Company.name)
        )
        return {i: ext or inn or name for i, ext, inn, name in rows}

    def _employee(self) -> dict[int, str]:
        rows = self.session.execute(
            select(
                Employee.id,
                Employee.external_id,
                Employee.email,
                Employee.phone,
                Employee.short_name,
            )
        )
        return {i: ext or email or phone or short for i, ext, email, phone, short in rows}

    def _object(self) -> dict[int, str]:
        rows = self.session.execute(
            select(
                ServiceObject.id,
                ServiceObject.external_id,
                ServiceObject.inventory_number,
                ServiceObject.serial_number,
                ServiceObject.name,
            )
        )
        return {i: ext or inv or serial or name for i, ext, inv, serial, name in rows}

    def _contact(self) -> dict[int, str]:
        rows = self.session.execute(
            select(Contact.id, Contact.external_id, Contact.email, Contact.phone, Contact.full_name)
        )
        return {i: ext or email or phone or name for i, ext, email, phone, name in rows}

    def _crew(self) -> dict[int, str]:
        rows = self.session.execute(select(Crew.id, Crew.external_id, Crew.name))
        return {i: ext or name for i, ext, name in rows}

    def _warehouse(self) -> dict[int, str]:
        rows = self.session.execute(select(Warehouse.id, Warehouse.external_id, Warehouse.name))
        return {i: ext or name for i, ext, name in rows}


def _companies(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    for c in session.execute(select(Company).order_by(Company.id)).scalars():
        yield {
            "external_id": c.external_id,
            "name": c.name,
            "inn": c.inn,
            "address": c.address,
            "phone": c.phone,
            "email": c.email,
            "notes": c.notes,
            "contract_number": c.contract_number,
            "contract_date": c.contract_date,
        }


def _contacts(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    for c in session.execute(select(Contact).order_by(Contact.id)).scalars():
        yield {
            "external_id": c.external_id,
            "customer": ctx.refs.name("company", c.company_id),
            "full_name": c.full_name,
            "position": c.position,
            "phone": c.phone,
            "email": c.email,
        }


def _employees(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    for e in session.execute(select(Employee).order_by(Employee.id)).scalars():
        yield {
            "external_id": e.external_id,
            "full_name": e.full_name,
            "short_name": e.short_name,
            "position": e.position,
            "area": e.area,
            "phone": e.phone,
            "email": e.email,
            "hourly_rate": e.hourly_rate,
            "skills": "; ".join(e.skills),
            "active": "yes" if e.active else "no",
        }


def _crews(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    members: dict[int, list[int]] = {}
    for crew_id, employee_id in session.execute(
        select(CrewMember.crew_id, CrewMember.employee_id).order_by(CrewMember.employee_id)
    ):
        members.setdefault(crew_id, []).append(employee_id)
    for c in session.execute(select(Crew).order_by(Crew.id)).scalars():
        yield {
            "external_id": c.external_id,
            "name": c.name,
            "leader": ctx.refs.name("employee", c.leader_id),
            "members": "; ".join(
                ctx.refs.name("employee", m) or "" for m in members.get(c.id or 0, [])
            ),
        }


def _work_types(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    for w in session.execute(select(WorkType).order_by(WorkType.id)).scalars():
        yield {
            "external_id": w.external_id,
            "name": w.name,
            "price": w.price,
            "unit": w.unit,
            "charge": w.charge,
            "description": w.description,
        }


def _objects(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    # parents before their children, at any depth, so the file imports in one pass
    objects = list(session.execute(select(ServiceObject).order_by(ServiceObject.id)).scalars())
    depth: dict[int | None, int] = {None: 0}
    parent_of = {o.id: o.parent_id for o in objects}

    def level(object_id: int | None) -> int:
        if object_id not in depth:
            depth[object_id] = level(parent_of.get(object_id)) + 1
        return depth[object_id]

    for o in sorted(objects, key=lambda o: (level(o.id), o.id)):
        yield {
            "external_id": o.external_id,
            "customer": ctx.refs.name("company", o.customer_id),
            "parent": ctx.refs.name("object", o.parent_id),
            "name": o.name,
            "kind": o.kind,
            "address": o.address,
            "latitude": o.latitude,
            "longitude": o.longitude,
            "location_hint": o.location_hint,
            "building": o.building,
            "floor": o.floor,
            "plan_x": o.plan_x,
            "plan_y": o.plan_y,
            "serial_number": o.serial_number,
            "inventory_number": o.inventory_number,
            "gps_radius_m": o.gps_radius_m,
        }


def _quantity(value: Decimal) -> Decimal:
    """A quantity as people write it: ``28``, ``2.5`` (not ``28.000``)."""
    return Decimal(format(value.normalize(), "f"))


def _items(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    for i in session.execute(select(Item).order_by(Item.id)).scalars():
        yield {
            "sku": i.sku,
            "name": i.name,
            "unit": i.unit,
            "purchase_price": i.purchase_price,
            "sale_price": i.sale_price,
            "min_level": _quantity(i.min_level),
            "barcode": i.barcode,
            "active": "yes" if i.active else "no",
            "external_id": i.external_id,
        }


def _warehouses(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    for w in session.execute(select(Warehouse).order_by(Warehouse.id)).scalars():
        yield {
            "external_id": w.external_id,
            "name": w.name,
            "kind": w.kind,
            "employee": ctx.refs.name("employee", w.employee_id),
            "address": w.address,
            "active": "yes" if w.active else "no",
        }


def _stock(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    """What each warehouse holds (reservations belong to orders and stay out)."""
    rows = session.execute(
        select(StockBalance.warehouse_id, Item.sku, Item.name, Item.unit, StockBalance.on_hand)
        .join(Item, Item.id == StockBalance.item_id)
        .where(StockBalance.on_hand > 0)
        .order_by(StockBalance.warehouse_id, Item.id)
    )
    for warehouse_id, sku, name, unit, on_hand in rows:
        yield {
            "warehouse": ctx.refs.name("warehouse", warehouse_id),
            "sku": sku,
            "item": name,
            "unit": unit,
            "quantity": _quantity(on_hand),
        }


def _orders(session: Session, ctx: Any) -> Iterator[dict[str, Any]]:
    from fsm_core import clock
    from fsm_core.services.order_queries import apply_filter, with_names

    tz = ctx.tz
    refs = ctx.refs
    query = select(Order).order_by(Order.id)
    if ctx.filters is not None:
        query = apply_filter(
            query=with_names(query), session=session, flt=ctx.filters, now=clock.now()
        )
    result = session.execute(query.execution_options(yield_per=2000)).scalars()
    for o in result:
        yield {
            "number": o.number,
            "external_id": o.external_id,
            "created_at": _time(o.created_at, tz),
            "customer": refs.name("company", o.customer_id),
            "object": refs.name("object", o.object_id),
            "contact": refs.name("contact", o.contact_id),
            "description": o.description,
            "criticality": o.criticality,
            "stage": o.stage_code,
            "assignee": refs.name("employee", o.assignee_id),
            "crew": refs.name("crew", o.crew_id),
            "planned_start": _time(o.planned_start, tz),
            "planned_end": _time(o.planned_end, tz),
            "reaction_due": _time(o.reaction_due, tz),
            "resolution_due": _time(o.resolution_due, tz),
            "reacted_at": _time(o.reacted_at, tz),
            "resolved_at": _time(o.resolved_at, tz),
            "closed_at": _time(o.closed_at, tz),
        }
        session.expunge(o)


TABLES: dict[str, Table] = {
    "companies": Table(
        ("external_id", "name", "inn", "address", "phone", "email", "notes"), _companies
    ),
    "contacts": Table(
        ("external_id", "customer", "full_name", "position", "phone", "email"), _contacts
    ),
    "employees": Table(
        (
            "external_id",
            "full_name",
            "short_name",
            "position",
            "area",
            "phone",
            "email",
            "hourly_rate",
            "skills",
            "active",
        ),
        _employees,
    ),
    "crews": Table(("external_id", "name", "leader", "members"), _crews),
    "work-types": Table(("external_id", "name", "price", "unit", "description"), _work_types),
    "objects": Table(
        (
            "external_id",
            "customer",
            "parent",
            "name",
            "kind",
            "address",
            "latitude",
            "longitude",
            "location_hint",
            "building",
            "floor",
            "plan_x",
            "plan_y",
            "serial_number",
            "inventory_number",
            "gps_radius_m",
        ),
        _objects,
    ),
    "items": Table(
        (
            "sku",
            "name",
            "unit",
            "purchase_price",
            "sale_price",
            "min_level",
            "barcode",
            "active",
            "external_id",
        ),
        _items,
    ),
    "warehouses": Table(
        ("external_id", "name", "kind", "employee", "address", "active"), _warehouses
    ),
    "stock": Table(("warehouse", "sku", "item", "unit", "quantity"), _stock),
    "orders": Table(
        (
            "number",
            "external_id",
            "created_at",
            "customer",
            "object",
            "contact",
            "description",
            "criticality",
            "stage",
            "assignee",
            "crew",
            "planned_start",
            "planned_end",
            "reaction_due",
            "resolution_due",
            "reacted_at",
            "resolved_at",
            "closed_at",
        ),
        _orders,
    ),
}


@dataclass
class ExportContext:
    refs: Refs
    tz: tzinfo
    filters: Any = None
    lang: str = "en"


@requires("reports.read", scoped=True)
def export_rows(
    session: Session, entity: str, *, filters: Any = None
) -> tuple[tuple[str, ...], Iterator[dict[str, Any]]]:
    """The headers and the (streamed) rows of ``entity``; ``filters`` is an OrderFilter
    for orders."""
    from fsm_core.errors import InvalidInput
    from fsm_core.services.settings import load

    table = TABLES.get(entity)
    if table is None:
        raise InvalidInput(f"cannot export {entity!r}", hint="one of: " + ", ".join(TABLES))
    read = ENTITY_PERMISSIONS[entity][0]
    if entity == "orders":
        authorize(session, read)  # the rows are the principal's own (apply_filter)
        from fsm_core.services.order_queries import OrderFilter

        filters = filters or OrderFilter()
    else:
        demand(principal_of(session), read)
    ctx = ExportContext(refs=Refs(session), tz=load(session=session).tz, filters=filters)
    return table.headers, table.rows(session, ctx)


# --- the orders workbook for people ------------------------------------------------------
#
# What a dispatcher or a manager opens in Excel: real dates in the company's time zone,
# names rather than codes and external ids, headers in the reader's language. (The Russian
# headers are ones `fsm import` also reads, but the lossless form to import again is the
# --for-import one above.)

PEOPLE_ORDER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # field, English header, Russian header
    ("number", "Number", "Номер"),
    ("created_at", "Created", "Дата создания"),
    ("customer", "Customer", "Заказчик"),
    ("object", "Object", "Объект"),
    ("address", "Address", "Адрес"),
    ("contact", "Contact", "Контакт"),
    ("description", "Description", "Описание"),
    ("criticality", "Criticality", "Критичность"),
    ("stage", "Stage", "Стадия"),
    ("assignee", "Assignee", "Исполнитель"),
    ("crew", "Crew", "Бригада"),
    ("planned_start", "Planned start", "Плановое начало"),
    ("planned_end", "Planned end", "Плановое окончание"),
    ("reaction_due", "Reaction due", "Срок реакции"),
    ("resolution_due", "Resolution due", "Срок решения"),
    ("reacted_at", "Reacted", "Дата реакции"),
    ("resolved_at", "Resolved", "Дата выполнения"),
    ("closed_at", "Closed", "Дата закрытия"),
    ("external_id", "External id", "Внешний код"),
)
PEOPLE_SHEET = {"en": "Orders", "ru": "Заявки"}
# Excel number formats for dates: day-first in Russian, ISO order (unambiguous) in English
DATETIME_FORMATS = {"en": "YYYY-MM-DD HH:MM", "ru": "DD.MM.YYYY HH:MM"}


def people_headers(lang: str) -> list[str]:
    return [ru if lang == "ru" else en for _, en, ru in PEOPLE_ORDER_COLUMNS]


def _orders_for_people(session: Session, ctx: ExportContext) -> Iterator[dict[str, Any]]:
    from fsm_core import clock
    from fsm_core.i18n import criticality_name
    from fsm_core.models import Stage
    from fsm_core.services.order_queries import apply_filter, with_names

    lang, tz = ctx.lang, ctx.tz
    headers = dict(zip((f for f, _, _ in PEOPLE_ORDER_COLUMNS), people_headers(lang), strict=True))
    stages = {s.code: s.name(lang) for s in session.execute(select(Stage)).scalars()}
    criticalities: dict[str, str] = {}
    names = _Names(session)

    def moment(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    query = select(Order).order_by(Order.id)
    if ctx.filters is not None:
        query = apply_filter(
            query=with_names(query), session=session, flt=ctx.filters, now=clock.now()
        )
    for o in session.execute(query.execution_options(yield_per=2000)).scalars():
        if o.criticality not in criticalities:
            criticalities[o.criticality] = criticality_name(o.criticality, lang)
        values = {
            "number": o.number,
            "created_at": moment(o.created_at),
            "customer": names.company.get(o.customer_id),
            "object": names.object_name(o.object_id),
            "address": names.object_address(o.object_id),
            "contact": names.contact.get(o.contact_id) if o.contact_id else None,
            "description": o.description,
            "criticality": criticalities[o.criticality],
            "stage": stages.get(o.stage_code, o.stage_code),
            "assignee": names.employee.get(o.assignee_id) if o.assignee_id else None,
            "crew": names.crew.get(o.crew_id) if o.crew_id else None,
            "planned_start": moment(o.planned_start),
            "planned_end": moment(o.planned_end),
            "reaction_due": moment(o.reaction_due),
            "resolution_due": moment(o.resolution_due),
            "reacted_at": moment(o.reacted_at),
            "resolved_at": moment(o.resolved_at),
            "closed_at": moment(o.closed_at),
            "external_id": o.external_id,
        }
        session.expunge(o)
        yield {headers[k]: v for k, v in values.items()}


class _Names:
    """What people call the records an order points at (read once per export)."""

    def __init__(self, session: Session) -> None:
        from fsm_core.services.object_tree import inherited_address

        self.company = dict(session.execute(select(Company.id, Company.name)).all())
        self.contact = dict(session.execute(select(Contact.id, Contact.full_name)).all())
        self.employee = dict(session.execute(select(Employee.id, Employee.short_name)).all())
        self.crew = dict(session.execute(select(Crew.id, Crew.name)).all())
        self._objects = {
            i: (name, parent, address)
            for i, name, parent, address in session.execute(
                select(
                    ServiceObject.id,
                    ServiceObject.name,
                    ServiceObject.parent_id,
                    ServiceObject.address,
                )
            )
        }
        self._parent = {i: v[1] for i, v in self._objects.items()}
        self._address = {i: v[2] for i, v in self._objects.items()}
        self._inherited = inherited_address

    def object_name(self, object_id: int | None) -> str | None:
        found = self._objects.get(object_id) if object_id is not None else None
        return found[0] if found else None

    def object_address(self, object_id: int | None) -> str | None:
        if object_id is None:
            return None
        return self._inherited(object_id, self._parent, self._address)


@requires("reports.read", scoped=True)
def write_export(
    session: Session,
    entity: str,
    *,
    out: Any,
    fmt: str,
    filters: Any = None,
    for_import: bool = False,
    lang: str = "en",
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
    raw: bool = False,
) -> int:
    """Export ``entity`` to ``out`` as ``fmt``; returns the number of rows written.

    Every format carries the columns ``fsm import`` reads, except an orders workbook
    (``xlsx``) made for people unless ``for_import``: real Excel dates in the company's
    time zone, names instead of external ids, stage and criticality by name, headers in
    ``lang`` (en or ru)."""
    from fsm_core.errors import InvalidInput
    from fsm_core.services.settings import load
    from fsm_core.tabular.writers import write_rows

    if lang not in ("en", "ru"):
        raise InvalidInput(f"unknown language {lang!r}", hint="use en or ru")
    if entity == "orders" and fmt == "xlsx" and not for_import:
        ctx = ExportContext(
            refs=Refs(session), tz=load(session=session).tz, filters=filters, lang=lang
        )
        return write_rows(
            _orders_for_people(session, ctx),
            headers=people_headers(lang),
            fmt=fmt,
            out=out,
            sheet=PEOPLE_SHEET[lang],
            for_people=True,
            datetime_format=DATETIME_FORMATS[lang],
        )
    headers, rows = export_rows(session, entity, filters=filters)
    return write_rows(
        rows,
        headers=list(headers),
        fmt=fmt,
        out=out,
        encoding=encoding,
        delimiter="\t" if fmt == "tsv" else delimiter,
        bom=bom,
        raw=raw,
    )
