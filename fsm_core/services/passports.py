"""Object e-passports (электронный паспорт объекта): the QR link on each label, labels
and passport pages built from the database, employees' business cards, and the request a
customer leaves by scanning a label.

Each object carries a random 128-bit token; its label's QR code encodes
``{passport_base_url}/{token}``. Rotating the token (a label was stolen, copied, or the
object changed hands) makes old labels lead nowhere: a request from one is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Company, Contact, Employee, Order, OrderSource, ServiceObject
from fsm_core.models.objects import new_passport_token
from fsm_core.services import settings as company_settings
from fsm_core.services.object_tree import descendant_ids, effective_address
from fsm_core.values import format_phone, normalize_phone


def passport_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{token}"


def token_from_scan(scanned: str) -> str:
    """The token in what a phone scanned: the full link, or the bare token."""
    text = scanned.strip()
    if not text:
        raise InvalidInput("the passport link is empty")
    if "://" in text:
        path = urlsplit(text).path.rstrip("/")
        text = path.rsplit("/", 1)[-1]
    if not text or any(ch in text for ch in "/?# "):
        raise InvalidInput(f"{scanned!r} is not a passport link or token")
    return text


@requires("parties.read")
def object_by_token(*, session: Session, scanned: str) -> ServiceObject:
    token = token_from_scan(scanned)
    obj: ServiceObject | None = session.execute(
        select(ServiceObject).where(ServiceObject.passport_token == token)
    ).scalar_one_or_none()
    if obj is None:
        raise NotFound(
            "object passport",
            token,
            hint="the label may have been replaced (its token rotated): scan the new label",
        )
    if not obj.active:
        raise InvalidInput(f"object {obj.name!r} is no longer serviced")
    return obj


@requires("labels.print")
def rotate_token(*, session: Session, object_id: int) -> ServiceObject:
    """Give the object a new token: labels printed before stop working."""
    obj = session.get(ServiceObject, object_id)
    if obj is None:
        raise NotFound("object", f"#{object_id}")
    obj.passport_token = new_passport_token()
    session.flush()
    return obj


@requires("orders.create", scoped=True)
def create_order_from_scan(
    *,
    session: Session,
    scanned: str,
    description: str,
    actor: str,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    criticality: str | None = None,
    source: OrderSource | str = OrderSource.PASSPORT,
) -> Order:
    """A request left by scanning an object's passport: the customer and object come from
    the token, the SLA from the policy; a contact is found by phone or created."""
    from fsm_core.services import orders, parties

    obj = object_by_token(session=session, scanned=scanned)
    contact_id = None
    phone = normalize_phone(contact_phone, field="contact phone") if contact_phone else None
    if phone or contact_name:
        contact = None
        if phone:
            contact = session.execute(
                select(Contact).where(Contact.company_id == obj.customer_id, Contact.phone == phone)
            ).scalar_one_or_none()
        if contact is None and contact_name:
            contact = parties.create_contact(
                session=session,
                data={"company_id": obj.customer_id, "full_name": contact_name, "phone": phone},
            )
        if contact is None:
            raise InvalidInput(
                "contact phone: no contact of this customer has it; give --contact-name too",
                field="contact",
            )
        contact_id = contact.id
    data: dict[str, Any] = {
        "customer_id": obj.customer_id,
        "object_id": obj.id,
        "contact_id": contact_id,
        "description": description,
        "source": OrderSource(source),
    }
    if criticality:
        data["criticality"] = criticality
    return orders.create_order(session=session, data=data, actor=actor)


# --- documents from the database -------------------------------------------------------


@requires("labels.print")
def objects_for_labels(
    *,
    session: Session,
    object_ids: Sequence[int] = (),
    customer_ids: Sequence[int] = (),
    kind: str | None = None,
    with_children: bool = True,
) -> list[ServiceObject]:
    """The objects to print labels for, in a stable order (customer, then name)."""
    from fsm_core.db import folded, search_fold

    query = (
        select(ServiceObject)
        .join(Company, Company.id == ServiceObject.customer_id)
        .where(ServiceObject.active)
    )
    if object_ids:
        ids = (
            descendant_ids(session=session, object_ids=object_ids)
            if with_children
            else list(object_ids)
        )
        query = query.where(col(ServiceObject.id).in_(ids))
    if customer_ids:
        query = query.where(col(ServiceObject.customer_id).in_(customer_ids))
    if kind:
        query = query.where(folded(ServiceObject.kind) == search_fold(kind))
    query = query.order_by(Company.name, ServiceObject.name, ServiceObject.id)
    return list(session.execute(query).scalars())


@requires("labels.print")
def label_data(*, session: Session, objects: Sequence[ServiceObject]) -> list[Any]:
    from fsm_core.documents.labels import LabelData

    settings = company_settings.load(session=session)
    base = settings["passport_base_url"]
    phone = format_phone(settings["company_phone"]) or None
    names = dict(
        session.execute(
            select(Company.id, Company.name).where(
                col(Company.id).in_({o.customer_id for o in objects})
            )
        ).all()
    )
    return [
        LabelData(
            url=passport_url(base, o.passport_token),
            title=o.name,
            customer=names.get(o.customer_id),
            address=effective_address(session=session, obj=o),
            inventory_number=o.inventory_number,
            company_phone=phone,
        )
        for o in objects
    ]


@requires("labels.print")
def passport_data(*, session: Session, obj: ServiceObject, lang: str, limit: int = 40) -> Any:
    from fsm_core.documents.passport import PassportData, PassportEntry
    from fsm_core.services.stages import load_workflow

    settings = company_settings.load(session=session)
    workflow = load_workflow(session=session)
    customer = session.get(Company, obj.customer_id)
    ids = descendant_ids(session=session, object_ids=[obj.id])
    orders = session.execute(
        select(Order)
        .where(col(Order.object_id).in_(ids))
        .order_by(col(Order.created_at).desc())
        .limit(limit)
    ).scalars()
    history = tuple(
        PassportEntry(
            date=o.closed_at or o.resolved_at or o.created_at,
            order_number=o.number,
            description=o.description,
            stage=workflow.stages[o.stage_code].name(lang),
        )
        for o in orders
    )
    coordinates = (
        (obj.latitude, obj.longitude)
        if obj.latitude is not None and obj.longitude is not None
        else None
    )
    return PassportData(
        url=passport_url(settings["passport_base_url"], obj.passport_token),
        name=obj.name,
        kind=obj.kind,
        customer=customer.name if customer else None,
        address=effective_address(session=session, obj=obj),
        location_hint=obj.location_hint,
        building=obj.building,
        floor=obj.floor,
        serial_number=obj.serial_number,
        inventory_number=obj.inventory_number,
        coordinates=coordinates,
        company_name=settings["company_name"] or None,
        company_phone=format_phone(settings["company_phone"]) or None,
        history=history,
    )


@requires("labels.print")
def business_card(*, session: Session, employee: Employee) -> Any:
    from fsm_core.documents.vcard import Contact as CardContact

    settings = company_settings.load(session=session)
    phones = tuple(
        p for p in (format_phone(employee.phone), format_phone(settings["company_phone"])) if p
    )
    return CardContact(
        full_name=employee.full_name,
        position=employee.position,
        company=settings["company_name"] or None,
        phones=phones,
        email=employee.email,
        address=settings["company_address"] or None,
    )


@requires("settings.read")
def placeholder_in_use(*, session: Session) -> bool:
    """True while labels would point at the example address, not the company's own."""
    base = company_settings.load(session=session)["passport_base_url"]
    return base == company_settings.PLACEHOLDER_PASSPORT_URL


def now_stamp() -> str:
    return clock.now().strftime("%Y%m%d-%H%M")
