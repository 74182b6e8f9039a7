"""execution: checklists, work entries with executors, materials used, attachments,
signatures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fsm_core.models.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("sha256", name=op.f("uq_attachment_sha256")),
    )
    op.create_table(
        "checklist_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_template")),
        sa.UniqueConstraint("name", name=op.f("uq_checklist_template_name")),
    )
    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("min_value", fsm_core.models.types.Quantity(), nullable=True),
        sa.Column("max_value", fsm_core.models.types.Quantity(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=True),
        sa.Column("follow_up", sa.Text(), nullable=True),
        sa.Column("raise_to", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "kind IN ('yes_no', 'number', 'text', 'choice', 'file', 'check_in')",
            name=op.f("ck_checklist_item_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["checklist_template.id"],
            name=op.f("fk_checklist_item_template_id_checklist_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_item")),
        sa.UniqueConstraint(
            "template_id", "position", name=op.f("uq_checklist_item_template_id_position")
        ),
    )
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_item_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "checklist_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("number", fsm_core.models.types.Quantity(), nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=False),
        sa.Column("answered_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_checklist_answer_attachment_id_attachment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklist_item.id"],
            name=op.f("fk_checklist_answer_item_id_checklist_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_checklist_answer_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_answer")),
        sa.UniqueConstraint(
            "order_id", "item_id", name=op.f("uq_checklist_answer_order_id_item_id")
        ),
    )
    with op.batch_alter_table("checklist_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_answer_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "checklist_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("work_type_id", sa.Integer(), nullable=True),
        sa.Column("object_kind", sa.String(length=100), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN work_type_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN object_kind IS NULL THEN 0 ELSE 1 END) + (CASE WHEN order_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_checklist_binding_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_checklist_binding_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["checklist_template.id"],
            name=op.f("fk_checklist_binding_template_id_checklist_template"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_type_id"],
            ["work_type.id"],
            name=op.f("fk_checklist_binding_work_type_id_work_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_binding")),
    )
    with op.batch_alter_table("checklist_binding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_binding_object_kind"), ["object_kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_checklist_binding_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_checklist_binding_template_id"), ["template_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_checklist_binding_work_type_id"), ["work_type_id"], unique=False
        )

    op.create_table(
        "execution_record",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=True),
        sa.Column("signed_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_execution_record_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["attachment.id"],
            name=op.f("fk_execution_record_signature_id_attachment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_execution_record")),
    )
    op.create_table(
        "order_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_order_attachment_attachment_id_attachment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_attachment_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_attachment")),
    )
    with op.batch_alter_table("order_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_attachment_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "work_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("work_type_id", sa.Integer(), nullable=True),
        sa.Column("work_type_name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", fsm_core.models.types.Quantity(), nullable=False),
        sa.Column("price", fsm_core.models.types.Money(), nullable=False),
        sa.Column("started_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("finished_at > started_at", name=op.f("ck_work_entry_period")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_work_entry_quantity")),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["service_object.id"],
            name=op.f("fk_work_entry_object_id_service_object"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_work_entry_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_type_id"],
            ["work_type.id"],
            name=op.f("fk_work_entry_work_type_id_work_type"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_entry")),
    )
    with op.batch_alter_table("work_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_entry_order_id"), ["order_id"], unique=False)

    op.create_table(
        "material_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("work_entry_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("item_name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", fsm_core.models.types.Quantity(), nullable=False),
        sa.Column("price", fsm_core.models.types.Money(), nullable=False),
        sa.Column("movement_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_material_use_quantity")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["stock_item.id"],
            name=op.f("fk_material_use_item_id_stock_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["stock_movement.id"],
            name=op.f("fk_material_use_movement_id_stock_movement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_material_use_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_material_use_warehouse_id_warehouse"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_entry_id"],
            ["work_entry.id"],
            name=op.f("fk_material_use_work_entry_id_work_entry"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_use")),
    )
    with op.batch_alter_table("material_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_use_order_id"), ["order_id"], unique=False)

    op.create_table(
        "work_executor",
        sa.Column("work_entry_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("employee_name", sa.String(length=100), nullable=False),
        sa.Column("hours", fsm_core.models.types.Quantity(), nullable=False),
        sa.Column("hourly_rate", fsm_core.models.types.Money(), nullable=False),
        sa.CheckConstraint("hours > 0", name=op.f("ck_work_executor_hours")),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_work_executor_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_entry_id"],
            ["work_entry.id"],
            name=op.f("fk_work_executor_work_entry_id_work_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_entry_id", "employee_id", name=op.f("pk_work_executor")),
    )


def downgrade() -> None:
    op.drop_table("work_executor")
    with op.batch_alter_table("material_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_use_order_id"))

    op.drop_table("material_use")
    with op.batch_alter_table("work_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_entry_order_id"))

    op.drop_table("work_entry")
    with op.batch_alter_table("order_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_attachment_order_id"))

    op.drop_table("order_attachment")
    op.drop_table("execution_record")
    with op.batch_alter_table("checklist_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_binding_work_type_id"))
        batch_op.drop_index(batch_op.f("ix_checklist_binding_template_id"))
        batch_op.drop_index(batch_op.f("ix_checklist_binding_order_id"))
        batch_op.drop_index(batch_op.f("ix_checklist_binding_object_kind"))

    op.drop_table("checklist_binding")
    with op.batch_alter_table("checklist_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_answer_order_id"))

    op.drop_table("checklist_answer")
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_item_template_id"))

    op.drop_table("checklist_item")
    op.drop_table("checklist_template")
    op.drop_table("attachment")
