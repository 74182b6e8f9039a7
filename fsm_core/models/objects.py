"""Serviced objects (объекты обслуживания): a tree of sites and their equipment."""

import secrets
from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, external_id_field


def new_passport_token() -> str:
    """128 random bits, URL-safe: the key of the object's QR passport link."""
    return secrets.token_urlsafe(16)


class ServiceObject(Table, table=True):
    __tablename__ = "service_object"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="company.id", index=True, ondelete="RESTRICT")
    parent_id: int | None = Field(
        default=None, foreign_key="service_object.id", index=True, ondelete="RESTRICT"
    )
    name: str = Field(max_length=300, index=True)
    kind: str = Field(default="equipment", max_length=100)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    # how far from the point a technician still counts as on site (GPS); None: the
    # company's gps_radius_m
    gps_radius_m: int | None = Field(default=None)
    location_hint: str | None = Field(default=None, sa_column=Column(Text))
    building: str | None = Field(default=None, max_length=100)
    floor: str | None = Field(default=None, max_length=50)
    plan_x: float | None = Field(default=None)
    plan_y: float | None = Field(default=None)
    serial_number: str | None = Field(default=None, max_length=100)
    inventory_number: str | None = Field(default=None, max_length=100)
    external_id: str | None = external_id_field()
    passport_token: str = Field(default_factory=new_passport_token, max_length=64, unique=True)
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()
