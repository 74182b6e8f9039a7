"""stock: item catalogue, warehouses, ledger of movements, balances and reservations

Quantities are integer thousandths and money integer kopecks (BIGINT); the CHECK
constraints keep the ledger's shape (which warehouse a movement leaves and enters, by
kind) and make a negative balance, or more reserved than on hand, impossible even for a
writer that bypasses the services. The migration uses plain SQLAlchemy types only, so it
stays what it is whatever the models' column types become.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
KOPECKS = sa.BigInteger()  # money: integer kopecks
THOUSANDTHS = sa.BigInteger()  # quantities: integer thousandths (1,5 кг = 1500)


def upgrade() -> None:
    op.create_table(
        "stock_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("purchase_price", KOPECKS, nullable=False),
        sa.Column("sale_price", KOPECKS, nullable=False),
        sa.Column("min_level", THOUSANDTHS, nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("min_level >= 0", name=op.f("ck_stock_item_min_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_item")),
        sa.UniqueConstraint("barcode", name=op.f("uq_stock_item_barcode")),
        sa.UniqueConstraint("external_id", name=op.f("uq_stock_item_external_id")),
        sa.UniqueConstraint("sku", name=op.f("uq_stock_item_sku")),
    )
    with op.batch_alter_table("stock_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_item_name"), ["name"], unique=False)

    op.create_table(
        "warehouse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "kind IN ('central', 'regional', 'van')", name=op.f("ck_warehouse_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'van' AND employee_id IS NOT NULL) OR (kind <> 'van' AND employee_id IS NULL)",
            name=op.f("ck_warehouse_van_employee"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_warehouse_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse")),
        sa.UniqueConstraint("employee_id", name=op.f("uq_warehouse_employee_id")),
        sa.UniqueConstraint("external_id", name=op.f("uq_warehouse_external_id")),
        sa.UniqueConstraint("name", name=op.f("uq_warehouse_name")),
    )

    op.create_table(
        "stock_balance",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", THOUSANDTHS, nullable=False),
        sa.Column("reserved", THOUSANDTHS, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_balance_on_hand")),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name=op.f("ck_stock_balance_reserved")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["stock_item.id"],
            name=op.f("fk_stock_balance_item_id_stock_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_stock_balance_warehouse_id_warehouse"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("item_id", "warehouse_id", name=op.f("pk_stock_balance")),
    )
    with op.batch_alter_table("stock_balance", schema=None) as batch_op:
        batch_op.create_index("ix_stock_balance_warehouse_id", ["warehouse_id"], unique=False)

    op.create_table(
        "reservation",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("quantity", THOUSANDTHS, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reservation_quantity")),
        sa.ForeignKeyConstraint(
            ["item_id", "warehouse_id"],
            ["stock_balance.item_id", "stock_balance.warehouse_id"],
            name=op.f("fk_reservation_item_id_stock_balance"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_reservation_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("order_id", "item_id", "warehouse_id", name=op.f("pk_reservation")),
    )
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reservation_item_id_warehouse_id", ["item_id", "warehouse_id"], unique=False
        )

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_warehouse_id", sa.Integer(), nullable=True),
        sa.Column("to_warehouse_id", sa.Integer(), nullable=True),
        sa.Column("quantity", THOUSANDTHS, nullable=False),
        sa.Column("unit_price", KOPECKS, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("document", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "kind IN ('receipt', 'transfer', 'write_off', 'return', 'adjustment')",
            name=op.f("ck_stock_movement_kind"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_movement_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_stock_movement_unit_price")),
        sa.CheckConstraint(
            "(kind = 'receipt' AND from_warehouse_id IS NULL AND to_warehouse_id IS NOT NULL)"
            " OR (kind = 'transfer' AND from_warehouse_id IS NOT NULL"
            " AND to_warehouse_id IS NOT NULL AND from_warehouse_id <> to_warehouse_id)"
            " OR (kind = 'write_off' AND from_warehouse_id IS NOT NULL"
            " AND to_warehouse_id IS NULL AND order_id IS NOT NULL)"
            " OR (kind = 'return' AND from_warehouse_id IS NULL"
            " AND to_warehouse_id IS NOT NULL AND order_id IS NOT NULL)"
            " OR (kind = 'adjustment'"
            " AND (from_warehouse_id IS NULL) <> (to_warehouse_id IS NULL))",
            name=op.f("ck_stock_movement_direction"),
        ),
        sa.ForeignKeyConstraint(
            ["from_warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_stock_movement_from_warehouse_id_warehouse"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["stock_item.id"],
            name=op.f("fk_stock_movement_item_id_stock_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_stock_movement_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_stock_movement_to_warehouse_id_warehouse"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index("ix_stock_movement_item_at", ["item_id", "at"], unique=False)
        batch_op.create_index(
            "ix_stock_movement_from_item", ["from_warehouse_id", "item_id"], unique=False
        )
        batch_op.create_index(
            "ix_stock_movement_to_item", ["to_warehouse_id", "item_id"], unique=False
        )
        batch_op.create_index("ix_stock_movement_order_id", ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_order_id")
        batch_op.drop_index("ix_stock_movement_to_item")
        batch_op.drop_index("ix_stock_movement_from_item")
        batch_op.drop_index("ix_stock_movement_item_at")
    op.drop_table("stock_movement")
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.drop_index("ix_reservation_item_id_warehouse_id")
    op.drop_table("reservation")
    with op.batch_alter_table("stock_balance", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_balance_warehouse_id")
    op.drop_table("stock_balance")
    op.drop_table("warehouse")
    with op.batch_alter_table("stock_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_item_name"))
    op.drop_table("stock_item")
