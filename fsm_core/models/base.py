"""Shared pieces of every table: constraint naming and field helpers."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from fsm_core import clock
from fsm_core.models.types import Money, UTCDateTime

# Named constraints make Alembic's batch mode on SQLite able to find and alter them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


class Table(SQLModel):
    """Base of every table model.

    Table models are written through the ORM and never validated on the way in, so their
    pydantic schema is built only when first needed (``model_dump``): that keeps the
    cost of defining the tables off every command's start-up.
    """

    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]


def utc_field(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    """A timezone-aware UTC timestamp column."""
    if default_now:
        return Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def money_field(*, default: Decimal | None = None, nullable: bool = True) -> Any:
    """A Decimal amount stored as integer kopecks."""
    return Field(default=default, sa_type=Money, nullable=nullable)


def external_id_field() -> Any:
    """The id a record has in the customer's other systems (1C, Excel); unique when set."""
    return Field(default=None, max_length=100, unique=True, nullable=True)


def created_at_field() -> datetime:
    return utc_field(default_now=True)
