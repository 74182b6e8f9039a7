"""Customer companies and their contacts, employees and crews."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, external_id_field, money_field


class Company(Table, table=True):
    """A customer company (компания, заказчик)."""

    __tablename__ = "company"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300, index=True)
    inn: str | None = Field(default=None, max_length=12, unique=True)
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    external_id: str | None = external_id_field()
    notes: str | None = Field(default=None, sa_column=Column(Text))
    # the contract the work is done under: "Основание: договор № 15/2026 от 01.02.2026"
    contract_number: str | None = Field(default=None, max_length=100)
    contract_date: date | None = Field(default=None)
    created_at: datetime = created_at_field()


class Contact(Table, table=True):
    """A person at a customer company (контактное лицо)."""

    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True, ondelete="CASCADE")
    full_name: str = Field(max_length=200)
    position: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    external_id: str | None = external_id_field()
    # the contact asked to receive no notifications (e-mail, SMS, messengers)
    notify_opt_out: bool = Field(default=False)
    created_at: datetime = created_at_field()


class Employee(Table, table=True):
    """An employee (сотрудник): a technician, an engineer, a dispatcher."""

    __tablename__ = "employee"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=200)
    short_name: str = Field(max_length=100, index=True)
    position: str | None = Field(default=None, max_length=200)
    area: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    hourly_rate: Decimal | None = money_field()
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = Field(default=True)
    external_id: str | None = external_id_field()
    # where the employee starts the day (home base): the planner's "nearest technician"
    home_latitude: float | None = Field(default=None)
    home_longitude: float | None = Field(default=None)
    created_at: datetime = created_at_field()


class Crew(Table, table=True):
    """A crew (бригада) of employees who take orders together."""

    __tablename__ = "crew"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    leader_id: int | None = Field(default=None, foreign_key="employee.id", ondelete="SET NULL")
    active: bool = Field(default=True)
    external_id: str | None = external_id_field()
    created_at: datetime = created_at_field()


class CrewMember(Table, table=True):
    __tablename__ = "crew_member"

    crew_id: int = Field(foreign_key="crew.id", primary_key=True, ondelete="CASCADE")
    employee_id: int = Field(foreign_key="employee.id", primary_key=True, ondelete="CASCADE")
