"""Input models for companies, contacts, employees and crews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
)
from pydantic_core import CoreSchema

from fsm_core import values


def _phone(value: str | None) -> str | None:
    return values.normalize_phone(value)


def _email(value: str | None) -> str | None:
    return values.normalize_email(value)


def _inn(value: str | None) -> str | None:
    return values.normalize_inn(value)


def _day(value: Any) -> Any:
    """A calendar date: a date, or text as people write it (``01.02.2026``, ISO)."""
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        return value
    from datetime import UTC

    from fsm_core.errors import InvalidInput
    from fsm_core.timeparse import parse_datetime

    if not value.strip():
        return None
    moment = parse_datetime(value, tz=UTC, field="date")
    if moment is None:
        return None
    if (moment.hour, moment.minute, moment.second) != (0, 0, 0):
        raise InvalidInput(f"date: {value!r} is a date and time; give the date only", field="date")
    return moment.date()


def _line(value: Any) -> Any:
    return values.single_line(value) if isinstance(value, str) else value


def _text(value: Any) -> Any:
    return values.clean_text(value) if isinstance(value, str) else value


def _money(value: Any) -> Any:
    return values.parse_money(value, field="amount") if value is not None else None


def _skills(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    if isinstance(value, list | tuple):
        seen: dict[str, None] = {}
        for item in value:
            skill = values.single_line(str(item))
            if skill:
                seen.setdefault(skill.lower(), None)
        return list(seen)
    return value


Line = Annotated[str, BeforeValidator(_line)]


@dataclass(frozen=True)
class OptLine:
    """``Annotated[str | None, OptLine(n)]``: an optional single-line text of at most ``n``
    characters; blank is None. (Metadata rather than a function that builds the type, so a
    type checker sees ``str | None``.)"""

    max_length: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        limited = Annotated[str, StringConstraints(max_length=self.max_length)]
        return handler.generate_schema(Annotated[limited | None, BeforeValidator(_line)])


OptText = Annotated[str | None, BeforeValidator(_text)]
Phone = Annotated[str | None, BeforeValidator(_line), AfterValidator(_phone)]
Email = Annotated[str | None, BeforeValidator(_line), AfterValidator(_email)]
Inn = Annotated[str | None, BeforeValidator(_line), AfterValidator(_inn)]
Rate = Annotated[Decimal | None, BeforeValidator(_money)]
Day = Annotated[date | None, BeforeValidator(_day)]
ExternalId = Annotated[str | None, OptLine(100)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CompanyCreate(Input):
    name: Line = Field(min_length=1, max_length=300)
    inn: Inn = None
    address: Annotated[str | None, OptLine(500)] = None
    phone: Phone = None
    email: Email = None
    external_id: ExternalId = None
    notes: OptText = None
    contract_number: Annotated[str | None, OptLine(100)] = None
    contract_date: Day = None


class CompanyUpdate(Input):
    name: Annotated[str | None, OptLine(300)] = None
    inn: Inn = None
    address: Annotated[str | None, OptLine(500)] = None
    phone: Phone = None
    email: Email = None
    external_id: ExternalId = None
    notes: OptText = None
    contract_number: Annotated[str | None, OptLine(100)] = None
    contract_date: Day = None


class ContactCreate(Input):
    company_id: int
    full_name: Line = Field(min_length=1, max_length=200)
    position: Annotated[str | None, OptLine(200)] = None
    phone: Phone = None
    email: Email = None
    external_id: ExternalId = None


class EmployeeCreate(Input):
    full_name: Line = Field(min_length=1, max_length=200)
    short_name: Annotated[str | None, OptLine(100)] = None
    position: Annotated[str | None, OptLine(200)] = None
    area: Annotated[str | None, OptLine(200)] = None
    phone: Phone = None
    email: Email = None
    hourly_rate: Rate = None
    skills: Annotated[list[str], BeforeValidator(_skills)] = Field(default_factory=list)
    active: bool = True
    external_id: ExternalId = None


class EmployeeUpdate(Input):
    full_name: Annotated[str | None, OptLine(200)] = None
    short_name: Annotated[str | None, OptLine(100)] = None
    position: Annotated[str | None, OptLine(200)] = None
    area: Annotated[str | None, OptLine(200)] = None
    phone: Phone = None
    email: Email = None
    hourly_rate: Rate = None
    skills: Annotated[list[str] | None, BeforeValidator(_skills)] = None
    active: bool | None = None
    external_id: ExternalId = None


class CrewCreate(Input):
    name: Line = Field(min_length=1, max_length=200)
    leader_id: int | None = None
    member_ids: list[int] = Field(default_factory=list)
    external_id: ExternalId = None
