"""Input models for serviced objects and work types."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from fsm_core import values
from fsm_core.schemas.parties import ExternalId, Input, Line, OptLine, OptText


def _coordinate(value: Any) -> Any:
    if isinstance(value, str):
        number = values.parse_decimal(value, field="coordinate")
        return float(number) if number is not None else None
    return value


def _charge(value: Any) -> Any:
    """How a work type is charged: ``fixed``, ``hours`` or ``both`` (or their Russian
    names, as an import file may have them)."""
    if value is None or not isinstance(value, str):
        return value
    from fsm_core.models.catalog import parse_charge

    return parse_charge(value).value


def _price(value: Any) -> Any:
    return values.parse_money(value, field="price") if value is not None else value


Latitude = Annotated[Annotated[float, Field(ge=-90, le=90)] | None, BeforeValidator(_coordinate)]
Longitude = Annotated[Annotated[float, Field(ge=-180, le=180)] | None, BeforeValidator(_coordinate)]
PlanCoordinate = Annotated[Annotated[float, Field(ge=0, le=1)] | None, BeforeValidator(_coordinate)]


class ServiceObjectCreate(Input):
    customer_id: int
    parent_id: int | None = None
    name: Line = Field(min_length=1, max_length=300)
    kind: Line = Field(default="equipment", min_length=1, max_length=100)
    address: Annotated[str | None, OptLine(500)] = None
    latitude: Latitude = None
    longitude: Longitude = None
    # metres from the point within which a technician is on site (None: gps_radius_m)
    gps_radius_m: Annotated[int | None, Field(ge=10, le=5000)] = None
    location_hint: OptText = None
    building: Annotated[str | None, OptLine(100)] = None
    floor: Annotated[str | None, OptLine(50)] = None
    plan_x: PlanCoordinate = None
    plan_y: PlanCoordinate = None
    serial_number: Annotated[str | None, OptLine(100)] = None
    inventory_number: Annotated[str | None, OptLine(100)] = None
    external_id: ExternalId = None

    @model_validator(mode="after")
    def _pairs(self) -> ServiceObjectCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        if (self.plan_x is None) != (self.plan_y is None):
            raise ValueError("plan_x and plan_y go together: give both or neither")
        return self


class WorkTypeCreate(Input):
    name: Line = Field(min_length=1, max_length=300)
    price: Annotated[Decimal, BeforeValidator(_price)] = Decimal("0.00")
    unit: Line = Field(default="усл.", min_length=1, max_length=20)
    charge: Annotated[str, BeforeValidator(_charge)] = "both"
    description: OptText = None
    external_id: ExternalId = None
