"""Finding records by what people call them: an id, an external id, an INN, a name.

Every front end resolves references here, so ``--customer "СМ-Трейд"`` on the command
line, a name in an imported sheet and a pick in the dashboard mean the same record.
A reference that matches nothing raises :class:`NotFound`; one that matches several raises
:class:`Ambiguous` naming them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, SQLModel, col, select

from fsm_core.access import authorize, requires
from fsm_core.db import folded, search_fold, text_filter
from fsm_core.errors import Ambiguous, InvalidInput, NotFound
from fsm_core.models import (
    Company,
    Contact,
    Crew,
    Employee,
    Order,
    ServiceObject,
    WorkType,
)
from fsm_core.services.object_tree import TreeRow
from fsm_core.values import MAX_ID, normalize_phone, only_digits, record_id

if TYPE_CHECKING:
    from fsm_core.models.stock import Item, Warehouse

T = TypeVar("T", bound=SQLModel)

_ID_REF = re.compile(r"^#([0-9]+)$")
_INITIALS_SPACES = re.compile(r"\.\s*")
_LIMIT = 6
_WORD_LIMIT = 200  # rows read to tell a whole word from part of one


def _by_id(session: Session, model: type[T], ref: str | int) -> T | None:
    """The record ``#17`` (or 17) names; None for an id no record can have."""
    if isinstance(ref, int):
        found = ref if 0 < ref <= MAX_ID else None
    else:
        match = _ID_REF.match(ref.strip())
        found = record_id(match.group(1)) if match else None
    return session.get(model, found) if found is not None else None


def _one(
    kind: str,
    ref: object,
    rows: Sequence[T],
    describe: Callable[[T], str],
) -> T | None:
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise Ambiguous(
            kind,
            ref,
            [describe(r) for r in rows],
            ids=[r.id for r in rows],  # type: ignore[attr-defined]
        )
    return None


def _resolve(
    session: Session,
    model: type[T],
    kind: str,
    ref: str | int,
    *,
    exact: Sequence[ColumnElement[Any]],
    names: Sequence[Any],
    describe: Callable[[T], str],
    scope: Sequence[ColumnElement[bool]] = (),
) -> T:
    found = _by_id(session, model, ref)
    if found is not None:
        return found
    text = str(ref).strip()
    if not text:
        raise NotFound(kind, ref)
    for condition in exact:
        rows = session.exec(select(model).where(condition, *scope).limit(_LIMIT)).all()
        hit = _one(kind, ref, rows, describe)
        if hit is not None:
            return hit
    key = search_fold(text) or ""
    rows = session.exec(
        select(model).where(or_(*(folded(c) == key for c in names)), *scope).limit(_LIMIT)
    ).all()
    hit = _one(kind, ref, rows, describe)
    if hit is not None:
        return hit
    rows = session.exec(
        select(model).where(*text_filter(text, *names), *scope).limit(_WORD_LIMIT)
    ).all()
    if len(rows) > 1:
        # a whole word wins over part of one: "Петров" is Петров А. С., not also Иванов
        # Кирилл Петрович; "сервис" is ООО «Сервис Плюс», not also ООО «Автосервис»
        word = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)")
        whole = [
            row
            for row in rows
            if any(word.search(search_fold(getattr(row, c.key)) or "") for c in names)
        ]
        if len(whole) == 1 and len(rows) < _WORD_LIMIT:
            return whole[0]
        rows = (whole or rows)[:_LIMIT]
    hit = _one(kind, ref, rows, describe)
    if hit is not None:
        return hit
    raise NotFound(kind, ref)


def describe_company(c: Company) -> str:
    return f"{c.name} (INN {c.inn})" if c.inn else f"{c.name} (#{c.id})"


@requires("parties.read")
def resolve_company(*, session: Session, ref: str | int) -> Company:
    text = str(ref).strip()
    exact: list[ColumnElement[bool]] = [Company.external_id == text]
    if only_digits(text) and len(text) in (10, 12):
        exact.insert(0, Company.inn == text)
    return _resolve(
        session,
        Company,
        "customer",
        ref,
        exact=exact,
        names=[Company.name],
        describe=describe_company,
    )


@requires("parties.read")
def resolve_contact(*, session: Session, ref: str | int, company_id: int | None = None) -> Contact:
    text = str(ref).strip()
    exact: list[ColumnElement[bool]] = [Contact.external_id == text]
    phone = _maybe_phone(text)
    if phone:
        exact.append(Contact.phone == phone)
    if "@" in text:
        exact.append(folded(Contact.email) == search_fold(text))
    scope = [Contact.company_id == company_id] if company_id is not None else []
    return _resolve(
        session,
        Contact,
        "contact",
        ref,
        exact=exact,
        names=[Contact.full_name],
        describe=lambda c: f"{c.full_name} (#{c.id})",
        scope=scope,
    )


def describe_employee(e: Employee) -> str:
    return f"{e.short_name} ({e.position})" if e.position else f"{e.short_name} (#{e.id})"


def _short_name_key(text: str) -> str:
    """``Иванов К.П.`` and ``Иванов К. П.`` are the same short name."""
    return _INITIALS_SPACES.sub(". ", text.strip()).strip()


@requires("parties.read")
def resolve_employee(*, session: Session, ref: str | int) -> Employee:
    text = str(ref).strip()
    exact: list[ColumnElement[bool]] = [Employee.external_id == text]
    phone = _maybe_phone(text)
    if phone:
        exact.append(Employee.phone == phone)
    if "@" in text:
        exact.append(folded(Employee.email) == search_fold(text))
    exact.append(folded(Employee.short_name) == search_fold(_short_name_key(text)))
    return _resolve(
        session,
        Employee,
        "employee",
        ref,
        exact=exact,
        names=[Employee.full_name, Employee.short_name],
        describe=describe_employee,
    )


@requires("parties.read")
def resolve_crew(*, session: Session, ref: str | int) -> Crew:
    return _resolve(
        session,
        Crew,
        "crew",
        ref,
        exact=[Crew.external_id == str(ref).strip()],
        names=[Crew.name],
        describe=lambda c: f"{c.name} (#{c.id})",
    )


@requires("parties.read")
def resolve_assignee(*, session: Session, ref: str) -> tuple[int | None, int | None]:
    """Whom an order or a visit goes to: an employee, else a crew, by what people call
    them; (employee id, None) or (None, crew id)."""
    try:
        return resolve_employee(session=session, ref=ref).id, None
    except NotFound:
        try:
            return None, resolve_crew(session=session, ref=ref).id
        except NotFound:
            raise NotFound("employee or crew", ref) from None


def describe_object(o: ServiceObject) -> str:
    where = f", {o.address}" if o.address else ""
    return f"{o.name}{where} (#{o.id})"


@requires("parties.read")
def resolve_object(
    *, session: Session, ref: str | int, customer_id: int | None = None
) -> ServiceObject:
    text = str(ref).strip()
    scope = [ServiceObject.customer_id == customer_id] if customer_id is not None else []
    return _resolve(
        session,
        ServiceObject,
        "object",
        ref,
        exact=[
            ServiceObject.external_id == text,
            ServiceObject.passport_token == text,
            ServiceObject.inventory_number == text,
            ServiceObject.serial_number == text,
        ],
        names=[ServiceObject.name],
        describe=describe_object,
        scope=scope,
    )


@requires("settings.read")
def resolve_work_type(*, session: Session, ref: str | int) -> WorkType:
    return _resolve(
        session,
        WorkType,
        "work type",
        ref,
        exact=[WorkType.external_id == str(ref).strip()],
        names=[WorkType.name],
        describe=lambda w: f"{w.name} (#{w.id})",
    )


def describe_item(i: Item) -> str:
    return f"{i.name} ({i.sku})"


@requires("stock.read")
def resolve_item(*, session: Session, ref: str | int) -> Item:
    """A catalogue item by SKU (артикул), barcode, external id or name."""
    from fsm_core.models.stock import Item

    text = str(ref).strip()
    return _resolve(
        session,
        Item,
        "item",
        ref,
        exact=[
            Item.sku == text,
            Item.barcode == text,
            Item.external_id == text,
            folded(Item.sku) == search_fold(text),
        ],
        names=[Item.name],
        describe=describe_item,
    )


_VAN_PREFIXES = ("van of ", "van ", "машина ", "автомобиль ", "склад техника ")


@requires("stock.read")
def resolve_warehouse(*, session: Session, ref: str | int) -> Warehouse:
    """A warehouse by name or external id, or a technician's van by the technician:
    ``van of Иванов К. П.``, ``машина Иванов``, or just ``Иванов К. П.``."""
    from fsm_core.models.stock import Warehouse
    from fsm_core.vocabulary import WarehouseKind

    text = str(ref).strip()
    try:
        return _resolve(
            session,
            Warehouse,
            "warehouse",
            ref,
            exact=[Warehouse.external_id == text, folded(Warehouse.name) == search_fold(text)],
            names=[Warehouse.name],
            describe=lambda w: f"{w.name} (#{w.id})",
        )
    except NotFound:
        pass
    lowered = text.lower()
    person = next((text[len(p) :].strip() for p in _VAN_PREFIXES if lowered.startswith(p)), text)
    try:
        employee = resolve_employee(session=session, ref=person)
    except NotFound:
        raise NotFound("warehouse", ref, hint="fsm stock warehouses list shows them") from None
    van = session.exec(
        select(Warehouse).where(
            Warehouse.employee_id == employee.id, Warehouse.kind == WarehouseKind.VAN
        )
    ).first()
    if van is None:
        raise NotFound(
            "warehouse",
            ref,
            hint=f"{employee.short_name} has no van: fsm stock warehouses create --employee",
        )
    return van


@requires("orders.read", scoped=True)
def resolve_order(*, session: Session, ref: str | int) -> Order:
    """An order by its number (``26-0012``), external id or ``#id``; never by a guess.
    An order the session's principal may not see is refused, in one line."""
    found = _by_id(session, Order, ref)
    if found is None:
        text = str(ref).strip()
        for condition in (Order.number == text, Order.external_id == text):
            found = session.exec(select(Order).where(condition)).first()
            if found is not None:
                break
    if found is None:
        raise NotFound("order", ref, hint="give the order number, e.g. 26-0012")
    assert found.id is not None
    authorize(session, "orders.read", order_id=found.id)
    return found


def _maybe_phone(text: str) -> str | None:
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or any(ch.isalpha() for ch in text.replace("доб", "").replace("ext", "")):
        return None
    try:
        return normalize_phone(text)
    except InvalidInput:
        return None


# --- what a dispatcher types while the customer is on the phone ----------------------------


@dataclass(frozen=True)
class Pick:
    """One line to pick from: a customer (``object`` None) or one of its objects, in the
    customer's tree of sites and equipment."""

    customer_id: int
    customer: str
    inn: str | None = None
    object: TreeRow | None = None
    matched: bool = True
    """Found by what was typed (False: shown to place a match, e.g. its site)."""


PICK_LIMIT = 60


@requires("parties.read")
def search_for_order(*, session: Session, text: str, limit: int = PICK_LIMIT) -> list[Pick]:
    """Whatever the caller reads out, as lines to pick from, grouped by customer and by
    site (each site followed by its equipment, the site shown above a unit found):

    - an object's inventory or serial number, external id or passport token: that object
      (under its site);
    - a customer's INN, external id or (part of its) name: the customer and its objects;
    - (part of) an object's name or address: the objects, the sites found with what is
      on them.

    Partial names are a convenience for a person who then picks; an import never decides
    on them (see ``fsm_core.importing``). Nothing found raises :class:`NotFound`."""
    from fsm_core.services.object_tree import arrange, with_context

    key = text.strip()
    if not key:
        raise NotFound("object or customer", text)
    active = col(ServiceObject.active).is_(True)
    exact = session.exec(
        select(ServiceObject.id)
        .where(
            or_(
                ServiceObject.inventory_number == key,
                ServiceObject.serial_number == key,
                ServiceObject.external_id == key,
                ServiceObject.passport_token == key,
            ),
            active,
        )
        .limit(limit)
    ).all()
    whole_customers: list[int] = []
    if exact:
        found = list(exact)
    else:
        named = [Company.external_id == key, *text_filter(key, Company.name)]
        if only_digits(key) and len(key) in (10, 12):
            named.append(Company.inn == key)
        whole_customers = list(
            session.exec(select(Company.id).where(or_(*named)).limit(limit)).all()
        )
        found = list(
            session.exec(
                select(ServiceObject.id)
                .where(
                    *text_filter(
                        key,
                        ServiceObject.name,
                        ServiceObject.address,
                        ServiceObject.inventory_number,
                        ServiceObject.serial_number,
                    ),
                    active,
                )
                .order_by(ServiceObject.name, ServiceObject.id)
                .limit(limit)
            ).all()
        )
    objects = with_context(session=session, object_ids=found)
    matched = set(found)
    if whole_customers:
        theirs = session.exec(
            select(ServiceObject)
            .where(col(ServiceObject.customer_id).in_(whole_customers), active)
            .limit(limit * 4)
        ).all()
        known = {o.id for o in objects}
        objects.extend(o for o in theirs if o.id not in known)
        matched.update(o.id for o in theirs if o.id is not None)
    customer_ids = set(whole_customers) | {o.customer_id for o in objects}
    if not customer_ids:
        raise NotFound(
            "object or customer",
            text,
            hint="an inventory or serial number, an INN, or a part of a name or address",
        )
    customers = session.exec(
        select(Company).where(col(Company.id).in_(customer_ids)).order_by(Company.name)
    ).all()
    rows = arrange(objects, matched=matched)
    picks: list[Pick] = []
    for company in customers:
        assert company.id is not None
        picks.append(
            Pick(company.id, company.name, company.inn, matched=company.id in whole_customers)
        )
        picks.extend(
            Pick(company.id, company.name, company.inn, row, matched=row.matched)
            for row in rows
            if row.customer_id == company.id
        )
    return picks


def single_pick(picks: Sequence[Pick]) -> Pick | None:
    """The one line a search named outright — one object (not a site with equipment to
    choose from), or one customer without objects — else None (let the person pick)."""
    matched = [p for p in picks if p.matched]
    if len(matched) != 1:
        return None
    (only,) = matched
    if only.object is None:
        return only if len(picks) == 1 else None
    below = any(p.object is not None and p.object.parent_id == only.object.id for p in picks)
    return None if below else only
