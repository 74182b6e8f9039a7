"""Every importable entity by the name ``fsm import`` and ``fsm export`` know it by."""

from __future__ import annotations

from fsm_core.importing.base import Entity
from fsm_core.importing.entities import (
    Companies,
    Contacts,
    Crews,
    Employees,
    Objects,
    Orders,
    WorkTypes,
)
from fsm_core.importing.stock_entities import Items, Stock, Warehouses

ENTITIES: dict[str, type[Entity]] = {
    e.name: e
    for e in (
        Companies,
        Contacts,
        Employees,
        Crews,
        Objects,
        WorkTypes,
        Orders,
        Items,
        Warehouses,
        Stock,
    )
}
