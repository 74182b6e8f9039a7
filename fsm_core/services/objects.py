"""Serviced objects: sites and the equipment on them, as a tree per customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from fsm_core.db import folded, search_fold, text_filter
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Company, ServiceObject, WorkType
from fsm_core.schemas import validated
from fsm_core.schemas.objects import ServiceObjectCreate, WorkTypeCreate
from fsm_core.services.common import ensure_unique, flush_or_duplicate


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
        session, ServiceObject, ServiceObject.external_id, data.external_id, what="external id"
    )
    obj = ServiceObject(**data.model_dump())
    session.add(obj)
    flush_or_duplicate(session, f"object {data.name!r}")
    return obj


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


def create_work_type(*, session: Session, data: WorkTypeCreate | dict[str, Any]) -> WorkType:
    data = validated(WorkTypeCreate, data)
    ensure_unique(session, WorkType, WorkType.name, data.name, what="work type name")
    ensure_unique(session, WorkType, WorkType.external_id, data.external_id, what="external id")
    work_type = WorkType(**data.model_dump())
    session.add(work_type)
    flush_or_duplicate(session, f"work type {data.name!r}")
    return work_type


def list_work_types(
    *, session: Session, text: str | None = None, active: bool | None = True
) -> Sequence[WorkType]:
    query = select(WorkType).order_by(WorkType.name)
    if active is not None:
        query = query.where(WorkType.active == active)
    query = query.where(*text_filter(text, WorkType.name))
    return session.exec(query).all()
