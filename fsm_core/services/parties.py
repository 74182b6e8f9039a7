"""Customer companies, their contacts, employees and crews."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from fsm_core.access import requires
from fsm_core.db import folded, search_fold, text_filter
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Company, Contact, Crew, CrewMember, Employee
from fsm_core.schemas import validated
from fsm_core.schemas.parties import (
    CompanyCreate,
    CompanyUpdate,
    ContactCreate,
    CrewCreate,
    EmployeeCreate,
    EmployeeUpdate,
)
from fsm_core.services.common import (
    apply_changes,
    ensure_unique,
    flush_or_duplicate,
    update_record,
)
from fsm_core.values import short_name

# --- companies -------------------------------------------------------------------------


@requires("parties.edit")
def create_company(*, session: Session, data: CompanyCreate | dict[str, Any]) -> Company:
    data = validated(CompanyCreate, data)
    ensure_unique(session=session, model=Company, column=Company.inn, value=data.inn, what="INN")
    ensure_unique(
        session=session,
        model=Company,
        column=Company.external_id,
        value=data.external_id,
        what="external id",
    )
    company = Company(**data.model_dump())
    session.add(company)
    flush_or_duplicate(session=session, what=f"customer {data.name!r}")
    return company


@requires("parties.edit")
def update_company(
    *, session: Session, company_id: int, data: CompanyUpdate | dict[str, Any]
) -> Company:
    data = validated(CompanyUpdate, data)
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound("customer", f"#{company_id}")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        raise InvalidInput("name: a customer needs a name", field="name")
    if "inn" in changes:
        ensure_unique(
            session=session,
            model=Company,
            column=Company.inn,
            value=changes["inn"],
            what="INN",
            exclude_id=company_id,
        )
    if "external_id" in changes:
        ensure_unique(
            session=session,
            model=Company,
            column=Company.external_id,
            value=changes["external_id"],
            what="external id",
            exclude_id=company_id,
        )
    apply_changes(company, changes)
    flush_or_duplicate(session=session, what=f"customer {company.name!r}")
    return company


@requires("parties.read")
def list_companies(
    *, session: Session, text: str | None = None, limit: int | None = None, offset: int = 0
) -> Sequence[Company]:
    query = (
        select(Company)
        .where(*text_filter(text, Company.name, Company.inn, Company.address))
        .order_by(Company.name, Company.id)
    )
    return session.exec(query.offset(offset).limit(limit)).all()


# --- contacts --------------------------------------------------------------------------


@requires("parties.edit")
def create_contact(*, session: Session, data: ContactCreate | dict[str, Any]) -> Contact:
    data = validated(ContactCreate, data)
    if session.get(Company, data.company_id) is None:
        raise NotFound("customer", f"#{data.company_id}")
    ensure_unique(
        session=session,
        model=Contact,
        column=Contact.external_id,
        value=data.external_id,
        what="external id",
    )
    contact = Contact(**data.model_dump())
    session.add(contact)
    flush_or_duplicate(session=session, what=f"contact {data.full_name!r}")
    return contact


@requires("parties.read")
def list_contacts(
    *,
    session: Session,
    company_id: int | None = None,
    text: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Sequence[tuple[Contact, str]]:
    query = (
        select(Contact, Company.name)
        .join(Company, Company.id == Contact.company_id)
        .where(*text_filter(text, Contact.full_name, Contact.email, Contact.phone))
        .order_by(Company.name, Contact.full_name, Contact.id)
    )
    if company_id is not None:
        query = query.where(Contact.company_id == company_id)
    return session.exec(query.offset(offset).limit(limit)).all()


# --- employees -------------------------------------------------------------------------


@requires("staff.edit")
def create_employee(*, session: Session, data: EmployeeCreate | dict[str, Any]) -> Employee:
    data = validated(EmployeeCreate, data)
    ensure_unique(
        session=session,
        model=Employee,
        column=Employee.external_id,
        value=data.external_id,
        what="external id",
    )
    values = data.model_dump()
    values["short_name"] = values["short_name"] or short_name(data.full_name)
    employee = Employee(**values)
    session.add(employee)
    flush_or_duplicate(session=session, what=f"employee {data.full_name!r}")
    return employee


@requires("staff.edit")
def update_employee(
    *, session: Session, employee_id: int, data: EmployeeUpdate | dict[str, Any]
) -> Employee:
    data = validated(EmployeeUpdate, data)
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("employee", f"#{employee_id}")
    changes = data.model_dump(exclude_unset=True)
    for required in ("full_name", "active", "skills"):
        if required in changes and changes[required] is None:
            raise InvalidInput(f"{required}: cannot be cleared", field=required)
    if "external_id" in changes:
        ensure_unique(
            session=session,
            model=Employee,
            column=Employee.external_id,
            value=changes["external_id"],
            what="external id",
            exclude_id=employee_id,
        )
    if "full_name" in changes and "short_name" not in changes:
        changes["short_name"] = short_name(changes["full_name"])
    if changes.get("short_name", "") is None:
        changes["short_name"] = short_name(changes.get("full_name") or employee.full_name)
    apply_changes(employee, changes)
    flush_or_duplicate(session=session, what=f"employee {employee.full_name!r}")
    return employee


@requires("parties.read")
def list_employees(
    *,
    session: Session,
    text: str | None = None,
    area: str | None = None,
    active: bool | None = True,
    limit: int | None = None,
    offset: int = 0,
) -> Sequence[Employee]:
    query = select(Employee).where(
        *text_filter(
            text, Employee.full_name, Employee.short_name, Employee.position, Employee.email
        )
    )
    if area:
        query = query.where(folded(Employee.area) == search_fold(area))
    if active is not None:
        query = query.where(Employee.active == active)
    query = query.order_by(Employee.short_name, Employee.id).offset(offset).limit(limit)
    return session.exec(query).all()


# --- crews -----------------------------------------------------------------------------


@requires("staff.edit")
def create_crew(*, session: Session, data: CrewCreate | dict[str, Any]) -> Crew:
    data = validated(CrewCreate, data)
    ensure_unique(session=session, model=Crew, column=Crew.name, value=data.name, what="crew name")
    ensure_unique(
        session=session,
        model=Crew,
        column=Crew.external_id,
        value=data.external_id,
        what="external id",
    )
    member_ids = list(dict.fromkeys(data.member_ids))
    if data.leader_id is not None and data.leader_id not in member_ids:
        member_ids.insert(0, data.leader_id)
    for employee_id in member_ids:
        employee = session.get(Employee, employee_id)
        if employee is None:
            raise NotFound("employee", f"#{employee_id}")
        if not employee.active:
            raise InvalidInput(f"employee {employee.short_name} is not active")
    crew = Crew(name=data.name, leader_id=data.leader_id, external_id=data.external_id)
    session.add(crew)
    flush_or_duplicate(session=session, what=f"crew {data.name!r}")
    for employee_id in member_ids:
        session.add(CrewMember(crew_id=crew.id, employee_id=employee_id))
    session.flush()
    return crew


@requires("parties.read")
def crew_members(*, session: Session, crew_id: int) -> Sequence[Employee]:
    query = (
        select(Employee)
        .join(CrewMember, CrewMember.employee_id == Employee.id)
        .where(CrewMember.crew_id == crew_id)
        .order_by(Employee.short_name)
    )
    return session.exec(query).all()


@requires("parties.read")
def list_crews(*, session: Session, active: bool | None = True) -> Sequence[tuple[Crew, int]]:
    count = (
        select(func.count()).where(CrewMember.crew_id == Crew.id).correlate(Crew).scalar_subquery()
    )
    query = select(Crew, count).order_by(Crew.name)
    if active is not None:
        query = query.where(Crew.active == active)
    return session.exec(query).all()


@requires("parties.edit")
def update_contact(*, session: Session, contact_id: int, data: dict[str, Any]) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact", f"#{contact_id}")
    if "company_id" in data and session.get(Company, data["company_id"]) is None:
        raise NotFound("customer", f"#{data['company_id']}")
    update_record(
        session=session,
        record=contact,
        schema=ContactCreate,
        changes=data,
        unique={"external_id": (Contact.external_id, "external id")},
        what=f"contact {contact.full_name!r}",
    )
    return contact


@requires("staff.edit")
def update_crew(*, session: Session, crew_id: int, data: dict[str, Any]) -> Crew:
    """Rename a crew, change its leader, or (with ``member_ids``) replace its members."""
    crew = session.get(Crew, crew_id)
    if crew is None:
        raise NotFound("crew", f"#{crew_id}")
    changes = dict(data)
    member_ids = changes.pop("member_ids", None)
    update_record(
        session=session,
        record=crew,
        schema=CrewCreate,
        changes=changes,
        unique={
            "name": (Crew.name, "crew name"),
            "external_id": (Crew.external_id, "external id"),
        },
        what=f"crew {crew.name!r}",
    )
    if member_ids is not None:
        wanted = list(dict.fromkeys(member_ids))
        if crew.leader_id is not None and crew.leader_id not in wanted:
            wanted.insert(0, crew.leader_id)
        current = {m.id for m in crew_members(session=session, crew_id=crew.id)}
        for employee_id in wanted:
            if employee_id not in current:
                employee = session.get(Employee, employee_id)
                if employee is None:
                    raise NotFound("employee", f"#{employee_id}")
                session.add(CrewMember(crew_id=crew.id, employee_id=employee_id))
        for employee_id in current - set(wanted):
            member = session.get(CrewMember, (crew.id, employee_id))
            if member is not None:
                session.delete(member)
        session.flush()
    return crew
