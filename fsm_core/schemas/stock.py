"""Input models for the stock catalogue (items) and warehouses."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from fsm_core import values
from fsm_core.schemas.objects import Latitude, Longitude
from fsm_core.schemas.parties import ExternalId, Input, Line, OptLine
from fsm_core.vocabulary import WAREHOUSE_KIND_NAMES, WarehouseKind


def _price(value: Any) -> Any:
    if value is None:
        return Decimal("0.00")
    return values.parse_money(value, field="price")


def _level(value: Any) -> Any:
    if value is None:
        return Decimal(0)
    return values.parse_quantity(value, field="min_level", allow_zero=True)


def parse_warehouse_kind(value: Any, *, field: str = "kind") -> WarehouseKind:
    """A warehouse kind by its code or its English or Russian name (``van``, ``Автомобиль``)."""
    from fsm_core.errors import InvalidInput

    if isinstance(value, WarehouseKind):
        return value
    text = str(value).strip().lower().replace("ё", "е")
    for kind, names in WAREHOUSE_KIND_NAMES.items():
        if text in (kind.value, names["en"], names["ru"]) or text in _KIND_SYNONYMS.get(kind, ()):
            return kind
    known = ", ".join(f"{k.value} ({n['ru']})" for k, n in WAREHOUSE_KIND_NAMES.items())
    raise InvalidInput(f"{field}: unknown warehouse kind {value!r}; known: {known}", field=field)


_KIND_SYNONYMS = {
    WarehouseKind.CENTRAL: ("основной", "главный", "центральный склад"),
    WarehouseKind.REGIONAL: ("региональный склад", "филиал", "региональный"),
    WarehouseKind.VAN: ("машина", "автосклад", "склад техника", "автомобиль техника"),
}


def _kind(value: Any) -> Any:
    if value is None:
        return WarehouseKind.CENTRAL.value
    return parse_warehouse_kind(value).value


Price = Annotated[Decimal, BeforeValidator(_price)]
Level = Annotated[Decimal, BeforeValidator(_level)]


class ItemCreate(Input):
    sku: Line = Field(min_length=1, max_length=100)
    name: Line = Field(min_length=1, max_length=300)
    unit: Line = Field(default="шт", min_length=1, max_length=20)
    purchase_price: Price = Decimal("0.00")
    sale_price: Price = Decimal("0.00")
    min_level: Level = Decimal(0)
    barcode: Annotated[str | None, OptLine(64)] = None
    active: bool = True
    external_id: ExternalId = None

    @field_validator("min_level")
    @classmethod
    def _whole_level(cls, level: Decimal, info: ValidationInfo) -> Decimal:
        unit = info.data.get("unit")
        if unit and values.is_whole_unit(unit) and level != level.to_integral_value():
            raise ValueError(f"{level.normalize():f} is not a whole number of {unit}")
        return level


class WarehouseCreate(Input):
    name: Line = Field(min_length=1, max_length=200)
    kind: Annotated[str, BeforeValidator(_kind)] = WarehouseKind.CENTRAL.value
    employee_id: int | None = None
    address: Annotated[str | None, OptLine(500)] = None
    latitude: Latitude = None
    longitude: Longitude = None
    active: bool = True
    external_id: ExternalId = None

    @model_validator(mode="after")
    def _coordinates_go_together(self) -> WarehouseCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        return self

    @model_validator(mode="after")
    def _van_has_its_technician(self) -> WarehouseCreate:
        if self.kind == WarehouseKind.VAN and self.employee_id is None:
            raise ValueError("a van warehouse belongs to a technician: give the employee")
        if self.kind != WarehouseKind.VAN and self.employee_id is not None:
            raise ValueError(f"only a van belongs to an employee; this warehouse is {self.kind}")
        return self
