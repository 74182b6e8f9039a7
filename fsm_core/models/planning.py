"""The planner (планировщик заявок): visits, working-time patterns, time off, holidays."""

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, Index, Integer, Text
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, utc_field


class TimeOffKind(StrEnum):
    """Why an employee does not work although the pattern says so."""

    DAY_OFF = "day_off"
    LEAVE = "leave"
    SICK = "sick"


TIME_OFF_NAMES: dict[TimeOffKind, dict[str, str]] = {
    TimeOffKind.DAY_OFF: {"en": "day off", "ru": "отгул"},
    TimeOffKind.LEAVE: {"en": "leave", "ru": "отпуск"},
    TimeOffKind.SICK: {"en": "sick", "ru": "больничный"},
}

_visit_version = Column("version", Integer, nullable=False)


class Visit(Table, table=True):
    """A scheduled visit to an order's object by one employee or one crew."""

    __tablename__ = "visit"
    __table_args__ = (
        CheckConstraint("(employee_id IS NULL) <> (crew_id IS NULL)", name="one_assignee"),
        CheckConstraint("end_at > start_at", name="window"),
        Index("ix_visit_employee_start", "employee_id", "start_at"),
        Index("ix_visit_crew_start", "crew_id", "start_at"),
        Index("ix_visit_start", "start_at"),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _visit_version}

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    employee_id: int | None = Field(default=None, foreign_key="employee.id", ondelete="RESTRICT")
    crew_id: int | None = Field(default=None, foreign_key="crew.id", ondelete="RESTRICT")
    start_at: datetime = utc_field(nullable=False)
    end_at: datetime = utc_field(nullable=False)
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=100)
    created_at: datetime = created_at_field()
    version: int = Field(default=1, sa_column=_visit_version)


class WorkPattern(Table, table=True):
    """One recurring shift of an employee: an RFC 5545 RRULE (``FREQ=WEEKLY;BYDAY=MO,TU``)
    anchored on a day, with the local start and end time, valid over a range of days.

    A 2/2 shift is two rows ``FREQ=DAILY;INTERVAL=4`` anchored on consecutive days; a shift
    whose end is not after its start ends on the next day (night shifts).
    """

    __tablename__ = "work_pattern"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        CheckConstraint("start_time <> end_time", name="shift_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True, ondelete="CASCADE")
    rule: str = Field(max_length=200)
    anchor: date
    start_time: time
    end_time: time
    valid_from: date
    valid_to: date | None = Field(default=None)
    created_at: datetime = created_at_field()


class TimeOff(Table, table=True):
    """Days off, leave and sick days (отгул, отпуск, больничный) of one employee."""

    __tablename__ = "time_off"
    __table_args__ = (
        CheckConstraint("kind IN ('day_off', 'leave', 'sick')", name="kind"),
        CheckConstraint("end_at > start_at", name="window"),
        Index("ix_time_off_employee_start", "employee_id", "start_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    start_at: datetime = utc_field(nullable=False)
    end_at: datetime = utc_field(nullable=False)
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class Holiday(Table, table=True):
    """A company holiday (a calendar day in the company's zone): nobody works."""

    __tablename__ = "holiday"

    day: date = Field(primary_key=True)
    name: str = Field(max_length=200)
