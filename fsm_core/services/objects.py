"""Serviced objects: sites and the equipment on them, as a tree per customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from fsm_core.access import requires
from fsm_core.db import folded, search_fold, text_filter
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Company, ServiceObject, WorkType
from fsm_core.schemas import validated
from fsm_core.schemas.objects import ServiceObjectCreate, WorkTypeCreate
from fsm_core.services.common import ensure_unique, flush_or_duplicate, update_record


@requires("parties.edit")
def create_object(*, session: Session, data: ServiceObjectCreate | dict[str, Any]) -> ServiceObject:
    data = validated(ServiceObjectCreate, data)
    if session.get(Company, data.customer_id) is None:
        raise NotFound("customer", f"#{data.customer_id}")
    if data.parent_id is not None:
        parent = session.get(ServiceObject, data.parent_id)
        if parent is None:
            raise NotFound("object", f"#{data.parent_id}")
        if parent.customer_id != data.customer_id:
            raise InvalidInput(
                f"parent object {parent.name!r} belongs to another customer", field="parent"
            )
    ensure_unique(
        session=session,
        model=ServiceObject,
        column=ServiceObject.external_id,
        value=data.external_id,
        what="external id",
    )
    obj = ServiceObject(**data.model_dump())
    session.add(obj)
    flush_or_duplicate(session=session, what=f"object {data.name!r}")
    return obj


@requires("parties.read")
def list_objects(
    *,
    session: Session,
    customer_id: int | None = None,
    parent_id: int | None = None,
    kind: str | None = None,
    text: str | None = None,
    active: bool | None = True,
    limit: int | None = None,
    offset: int = 0,
) -> Sequence[tuple[ServiceObject, str]]:
    query = select(ServiceObject, Company.name).join(
        Company, Company.id == ServiceObject.customer_id
    )
    if customer_id is not None:
        query = query.where(ServiceObject.customer_id == customer_id)
    if parent_id is not None:
        query = query.where(ServiceObject.parent_id == parent_id)
    if kind:
        query = query.where(folded(ServiceObject.kind) == search_fold(kind))
    if active is not None:
        query = query.where(ServiceObject.active == active)
    query = query.where(
        *text_filter(
            text,
            ServiceObject.name,
            ServiceObject.address,
            ServiceObject.inventory_number,
            ServiceObject.serial_number,
        )
    )
    query = query.order_by(Company.name, ServiceObject.name, ServiceObject.id)
    return session.exec(query.offset(offset).limit(limit)).all()


# --- work types ------------------------------------------------------------------------


@requires("settings.edit")
def create_work_type(*, session: Session, data: WorkTypeCreate | dict[str, Any]) -> WorkType:
    data = validated(WorkTypeCreate, data)
    ensure_unique(
        session=session,
        model=WorkType,
        column=WorkType.name,
        value=data.name,
        what="work type name",
    )
    ensure_unique(
        session=session,
        model=WorkType,
        column=WorkType.external_id,
        value=data.external_id,
        what="external id",
    )
    work_type = WorkType(**data.model_dump())
    session.add(work_type)
    flush_or_duplicate(session=session, what=f"work type {data.name!r}")
    return work_type


@requires("settings.read")
def list_work_types(
    *, session: Session, text: str | None = None, active: bool | None = True
) -> Sequence[WorkType]:
    query = select(WorkType).order_by(WorkType.name)
    if active is not None:
        query = query.where(WorkType.active == active)
    query = query.where(*text_filter(text, WorkType.name))
    return session.exec(query).all()


@requires("parties.edit")
def update_object(*, session: Session, object_id: int, data: dict[str, Any]) -> ServiceObject:
    """Change an object; a new parent must be the same customer's and not below it."""
    obj = session.get(ServiceObject, object_id)
    if obj is None:
        raise NotFound("object", f"#{object_id}")
    customer_id = data.get("customer_id", obj.customer_id)
    if session.get(Company, customer_id) is None:
        raise NotFound("customer", f"#{customer_id}")
    parent_id = data.get("parent_id", obj.parent_id)
    if parent_id is not None:
        from fsm_core.services.object_tree import descendant_ids

        parent = session.get(ServiceObject, parent_id)
        if parent is None:
            raise NotFound("object", f"#{parent_id}")
        if parent.customer_id != customer_id:
            raise InvalidInput(
                f"parent object {parent.name!r} belongs to another customer", field="parent"
            )
        if parent_id in descendant_ids(session=session, object_ids=[obj.id]):
            raise InvalidInput(
                f"object {obj.name!r} cannot be placed inside itself", field="parent"
            )
    update_record(
        session=session,
        record=obj,
        schema=ServiceObjectCreate,
        changes=data,
        unique={"external_id": (ServiceObject.external_id, "external id")},
        what=f"object {obj.name!r}",
    )
    return obj


@requires("settings.edit")
def update_work_type(*, session: Session, work_type_id: int, data: dict[str, Any]) -> WorkType:
    work_type = session.get(WorkType, work_type_id)
    if work_type is None:
        raise NotFound("work type", f"#{work_type_id}")
    update_record(
        session=session,
        record=work_type,
        schema=WorkTypeCreate,
        changes=data,
        unique={
            "name": (WorkType.name, "work type name"),
            "external_id": (WorkType.external_id, "external id"),
        },
        what=f"work type {work_type.name!r}",
    )
    return work_type
