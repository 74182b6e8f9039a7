"""Work types (виды работ) and their prices."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Text
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, external_id_field, money_field


class WorkType(Table, table=True):
    __tablename__ = "work_type"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300, unique=True)
    price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    unit: str = Field(default="усл.", max_length=20)
    description: str | None = Field(default=None, sa_column=Column(Text))
    active: bool = Field(default=True)
    external_id: str | None = external_id_field()
    created_at: datetime = created_at_field()
