"""Stock (ТМЦ): the item catalogue, warehouses, the ledger of movements, balances and
reservations for orders.

Every quantity comes from the ledger (:class:`StockMovement`): a balance row is the sum of
its item's movements into and out of its warehouse, kept up to date in the same
transaction as each movement so that reading "how many are there" costs one row.
Quantities are :class:`~fsm_core.models.types.Quantity` (exact Decimals, integer
thousandths in the database), prices are kopecks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index
from sqlmodel import Field

from fsm_core.models.base import (
    Table,
    created_at_field,
    external_id_field,
    money_field,
    utc_field,
)
from fsm_core.models.types import Quantity
from fsm_core.vocabulary import (
    MOVEMENT_NAMES,
    WAREHOUSE_KIND_NAMES,
    MovementKind,
    WarehouseKind,
)


def quantity_field(*, default: Decimal | None = Decimal(0)) -> Any:
    """A Decimal quantity of stock, stored as integer thousandths (see ``Quantity``)."""
    return Field(default=default, sa_type=Quantity, nullable=False)


class Item(Table, table=True):
    """A catalogue item (номенклатура): a spare part, a material, a consumable."""

    __tablename__ = "stock_item"
    __table_args__ = (CheckConstraint("min_level >= 0", name="min_level"),)

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=100, unique=True)  # артикул
    name: str = Field(max_length=300, index=True)
    unit: str = Field(default="шт", max_length=20)
    purchase_price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    sale_price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    min_level: Decimal = quantity_field()
    barcode: str | None = Field(default=None, max_length=64, unique=True)
    active: bool = Field(default=True)
    external_id: str | None = external_id_field()
    created_at: datetime = created_at_field()


class Warehouse(Table, table=True):
    """A place stock is kept (склад): central, regional, or a technician's van."""

    __tablename__ = "warehouse"
    __table_args__ = (
        CheckConstraint("kind IN ('central', 'regional', 'van')", name="kind"),
        CheckConstraint(
            "(kind = 'van' AND employee_id IS NOT NULL) OR (kind <> 'van' AND employee_id IS NULL)",
            name="van_employee",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    kind: str = Field(default=WarehouseKind.CENTRAL.value, max_length=20)
    employee_id: int | None = Field(
        default=None, foreign_key="employee.id", unique=True, ondelete="RESTRICT"
    )
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None)  # where it is: the nearest one that has
    longitude: float | None = Field(default=None)  # an item is suggested for a write-off
    active: bool = Field(default=True)
    external_id: str | None = external_id_field()
    created_at: datetime = created_at_field()


class StockBalance(Table, table=True):
    """How much of an item a warehouse holds (on hand) and how much of that is promised
    to orders (reserved). Always the ledger's sum; never written except together with a
    movement or a reservation, under the row's lock."""

    __tablename__ = "stock_balance"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved"),
        Index("ix_stock_balance_warehouse_id", "warehouse_id"),
    )

    item_id: int = Field(foreign_key="stock_item.id", primary_key=True, ondelete="RESTRICT")
    warehouse_id: int = Field(foreign_key="warehouse.id", primary_key=True, ondelete="RESTRICT")
    on_hand: Decimal = quantity_field()
    reserved: Decimal = quantity_field()
    updated_at: datetime = utc_field(default_now=True)


class StockMovement(Table, table=True):
    """One row of the stock ledger. Rows are only ever added: a mistake is corrected by
    another movement (a return, a transfer back, an adjustment)."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('receipt', 'transfer', 'write_off', 'return', 'adjustment')", name="kind"
        ),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint(
            "(kind = 'receipt' AND from_warehouse_id IS NULL AND to_warehouse_id IS NOT NULL)"
            " OR (kind = 'transfer' AND from_warehouse_id IS NOT NULL"
            " AND to_warehouse_id IS NOT NULL AND from_warehouse_id <> to_warehouse_id)"
            " OR (kind = 'write_off' AND from_warehouse_id IS NOT NULL"
            " AND to_warehouse_id IS NULL AND order_id IS NOT NULL)"
            " OR (kind = 'return' AND from_warehouse_id IS NULL"
            " AND to_warehouse_id IS NOT NULL AND order_id IS NOT NULL)"
            " OR (kind = 'adjustment'"
            " AND (from_warehouse_id IS NULL) <> (to_warehouse_id IS NULL))",
            name="direction",
        ),
        Index("ix_stock_movement_item_at", "item_id", "at"),
        Index("ix_stock_movement_from_item", "from_warehouse_id", "item_id"),
        Index("ix_stock_movement_to_item", "to_warehouse_id", "item_id"),
        Index("ix_stock_movement_order_id", "order_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    item_id: int = Field(foreign_key="stock_item.id", ondelete="RESTRICT")
    from_warehouse_id: int | None = Field(
        default=None, foreign_key="warehouse.id", ondelete="RESTRICT"
    )
    to_warehouse_id: int | None = Field(
        default=None, foreign_key="warehouse.id", ondelete="RESTRICT"
    )
    quantity: Decimal = quantity_field(default=None)
    unit_price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    order_id: int | None = Field(default=None, foreign_key="orders.id", ondelete="RESTRICT")
    reason: str | None = Field(default=None, max_length=500)
    document: str | None = Field(default=None, max_length=100)
    actor: str = Field(max_length=100)
    at: datetime = utc_field(default_now=True)


class Reservation(Table, table=True):
    """Stock of an item at a warehouse promised to an order (its необходимые материалы):
    it lowers what is available without moving anything. One row per order, item and
    warehouse; writing off against the order consumes it, cancelling the order releases
    it."""

    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        ForeignKeyConstraint(
            ["item_id", "warehouse_id"],
            ["stock_balance.item_id", "stock_balance.warehouse_id"],
            ondelete="RESTRICT",
        ),
        Index("ix_reservation_item_id_warehouse_id", "item_id", "warehouse_id"),
    )

    order_id: int = Field(foreign_key="orders.id", primary_key=True, ondelete="RESTRICT")
    item_id: int = Field(primary_key=True)
    warehouse_id: int = Field(primary_key=True)
    quantity: Decimal = quantity_field(default=None)
    actor: str = Field(max_length=100)
    created_at: datetime = created_at_field()
    updated_at: datetime = utc_field(default_now=True)


__all__ = [
    "MOVEMENT_NAMES",
    "WAREHOUSE_KIND_NAMES",
    "Item",
    "MovementKind",
    "Reservation",
    "StockBalance",
    "StockMovement",
    "Warehouse",
    "WarehouseKind",
]
