"""What the stock and execution forms pick from: items, warehouses, work types, employees
with their rates, and the company's currency. Read in a worker with the data a tab or
section shows, so a form opens with its choices already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from fsm_core.services import objects, parties, stock_queries
from fsm_core.services import settings as company_settings


@dataclass(frozen=True)
class ItemChoice:
    id: int
    sku: str
    name: str
    unit: str
    purchase_price: Decimal
    sale_price: Decimal
    min_level: Decimal

    @property
    def label(self) -> str:
        return f"{self.name} · {self.sku}"


@dataclass(frozen=True)
class WarehouseChoice:
    id: int
    name: str
    kind: str
    employee: str | None


@dataclass(frozen=True)
class WorkTypeChoice:
    id: int
    name: str
    unit: str
    price: Decimal
    charge: str = "both"  # fixed | hours | both: what the act charges for it


@dataclass(frozen=True)
class EmployeeChoice:
    id: int
    name: str
    rate: Decimal | None


@dataclass(frozen=True)
class Refs:
    items: tuple[ItemChoice, ...] = ()
    warehouses: tuple[WarehouseChoice, ...] = ()
    work_types: tuple[WorkTypeChoice, ...] = ()
    employees: tuple[EmployeeChoice, ...] = ()
    currency: str = "RUB"

    def item(self, item_id: int | None) -> ItemChoice | None:
        return next((i for i in self.items if i.id == item_id), None)

    def warehouse(self, warehouse_id: int | None) -> WarehouseChoice | None:
        return next((w for w in self.warehouses if w.id == warehouse_id), None)

    def employee(self, employee_id: int | None) -> EmployeeChoice | None:
        return next((e for e in self.employees if e.id == employee_id), None)

    def work_type(self, work_type_id: int | None) -> WorkTypeChoice | None:
        return next((w for w in self.work_types if w.id == work_type_id), None)


def currency(session: Session) -> str:
    return company_settings.load(session=session)["currency"] or "RUB"


def load_stock_refs(session: Session) -> Refs:
    """Active items and warehouses (central, regional, then vans)."""
    items = tuple(
        ItemChoice(
            i.id,
            i.sku,
            i.name,
            i.unit,
            i.purchase_price,
            i.sale_price,
            i.min_level,
        )
        for i in stock_queries.list_items(session=session)
        if i.id is not None
    )
    warehouses = tuple(
        WarehouseChoice(w.id, w.name, w.kind, employee)
        for w, employee in stock_queries.list_warehouses(session=session)
        if w.id is not None
    )
    return Refs(items=items, warehouses=warehouses, currency=currency(session))


def load_refs(session: Session) -> Refs:
    """Everything the execution forms offer: stock, work types, employees."""
    stock = load_stock_refs(session)
    work_types = tuple(
        WorkTypeChoice(w.id, w.name, w.unit, w.price, w.charge)
        for w in objects.list_work_types(session=session)
        if w.id is not None
    )
    employees = tuple(
        EmployeeChoice(e.id, e.short_name, e.hourly_rate)
        for e in parties.list_employees(session=session, active=True)
        if e.id is not None
    )
    return Refs(
        items=stock.items,
        warehouses=stock.warehouses,
        work_types=work_types,
        employees=employees,
        currency=stock.currency,
    )
