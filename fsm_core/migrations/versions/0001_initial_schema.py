"""initial schema: parties, objects, work types, orders, stages, SLA, history

The default stages, transitions and SLA policies are seeded here as literal data: a
migration is a frozen record and must not call code that may change later.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fsm_core.models.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("external_id", name=op.f("uq_company_external_id")),
        sa.UniqueConstraint("inn", name=op.f("uq_company_inn")),
    )
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_name"), ["name"], unique=False)

    op.create_table(
        "employee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("hourly_rate", fsm_core.models.types.Money(), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employee")),
        sa.UniqueConstraint("external_id", name=op.f("uq_employee_external_id")),
    )
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employee_short_name"), ["short_name"], unique=False)

    op.create_table(
        "order_counter",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_order_counter")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "stage",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("name_ru", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("requires_assignee", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "category IN ('new', 'active', 'paused', 'done', 'closed', 'cancelled')",
            name=op.f("ck_stage_category"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_stage")),
    )
    op.create_table(
        "work_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("price", fsm_core.models.types.Money(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_type")),
        sa.UniqueConstraint("external_id", name=op.f("uq_work_type_external_id")),
        sa.UniqueConstraint("name", name=op.f("uq_work_type_name")),
    )
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_contact_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
        sa.UniqueConstraint("external_id", name=op.f("uq_contact_external_id")),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_company_id"), ["company_id"], unique=False)

    op.create_table(
        "crew",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["leader_id"],
            ["employee.id"],
            name=op.f("fk_crew_leader_id_employee"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crew")),
        sa.UniqueConstraint("external_id", name=op.f("uq_crew_external_id")),
        sa.UniqueConstraint("name", name=op.f("uq_crew_name")),
    )
    op.create_table(
        "service_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("location_hint", sa.Text(), nullable=True),
        sa.Column("building", sa.String(length=100), nullable=True),
        sa.Column("floor", sa.String(length=50), nullable=True),
        sa.Column("plan_x", sa.Float(), nullable=True),
        sa.Column("plan_y", sa.Float(), nullable=True),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column("inventory_number", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("passport_token", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["company.id"],
            name=op.f("fk_service_object_customer_id_company"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["service_object.id"],
            name=op.f("fk_service_object_parent_id_service_object"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_object")),
        sa.UniqueConstraint("external_id", name=op.f("uq_service_object_external_id")),
        sa.UniqueConstraint("passport_token", name=op.f("uq_service_object_passport_token")),
    )
    with op.batch_alter_table("service_object", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_object_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_object_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_object_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("criticality", sa.String(length=20), nullable=False),
        sa.Column("reaction_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "reaction_minutes > 0 AND resolution_minutes > 0", name=op.f("ck_sla_policy_positive")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["company.id"],
            name=op.f("fk_sla_policy_customer_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
        sa.UniqueConstraint(
            "customer_id", "criticality", name=op.f("uq_sla_policy_customer_id_criticality")
        ),
    )
    op.create_table(
        "stage_transition",
        sa.Column("from_code", sa.String(length=40), nullable=False),
        sa.Column("to_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_code"],
            ["stage.code"],
            name=op.f("fk_stage_transition_from_code_stage"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_code"],
            ["stage.code"],
            name=op.f("fk_stage_transition_to_code_stage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("from_code", "to_code", name=op.f("pk_stage_transition")),
    )
    op.create_table(
        "crew_member",
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crew.id"], name=op.f("fk_crew_member_crew_id_crew"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_crew_member_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("crew_id", "employee_id", name=op.f("pk_crew_member")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criticality", sa.String(length=20), nullable=False),
        sa.Column("stage_code", sa.String(length=40), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column("planned_start", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_end", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reaction_due", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "resolution_due", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "sla_at_risk_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("sla_manual", sa.Boolean(), nullable=False),
        sa.Column("reacted_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "criticality IN ('low', 'normal', 'high', 'critical')",
            name=op.f("ck_orders_criticality"),
        ),
        sa.CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name=op.f("ck_orders_planned_window"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["employee.id"],
            name=op.f("fk_orders_assignee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_orders_contact_id_contact"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crew.id"], name=op.f("fk_orders_crew_id_crew"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["company.id"],
            name=op.f("fk_orders_customer_id_company"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["service_object.id"],
            name=op.f("fk_orders_object_id_service_object"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["stage_code"],
            ["stage.code"],
            name=op.f("fk_orders_stage_code_stage"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("external_id", name=op.f("uq_orders_external_id")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_assignee_created", ["assignee_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_orders_customer_created", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_orders_object_created", ["object_id", "created_at"], unique=False)
        batch_op.create_index("ix_orders_resolution_due", ["resolution_due"], unique=False)
        batch_op.create_index(
            "ix_orders_stage_assignee_created",
            ["stage_code", "assignee_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "order_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_history_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_history")),
    )
    with op.batch_alter_table("order_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_history_order_id"), ["order_id"], unique=False)

    _seed()


STAGES = [
    # code, name_en, name_ru, category, position, requires_assignee
    ("new", "New", "Новая", "new", 10, False),
    ("assigned", "Assigned", "Назначена", "active", 20, True),
    ("en_route", "En route", "В пути", "active", 30, True),
    ("in_progress", "In progress", "В работе", "active", 40, True),
    ("on_hold", "On hold", "Приостановлена", "paused", 50, False),
    ("done", "Done", "Выполнена", "done", 60, True),
    ("closed", "Closed", "Закрыта", "closed", 70, True),
    ("cancelled", "Cancelled", "Отменена", "cancelled", 80, False),
]

TRANSITIONS = {
    "new": ["assigned", "en_route", "in_progress", "on_hold", "cancelled"],
    "assigned": ["new", "en_route", "in_progress", "on_hold", "cancelled"],
    "en_route": ["assigned", "in_progress", "on_hold", "cancelled"],
    "in_progress": ["on_hold", "done", "cancelled"],
    "on_hold": ["assigned", "en_route", "in_progress", "cancelled"],
    "done": ["in_progress", "closed"],
    "closed": [],
    "cancelled": ["new"],
}

# criticality: (reaction minutes, resolution minutes), around the clock
SLA_DEFAULTS = {
    "low": (8 * 60, 5 * 24 * 60),
    "normal": (4 * 60, 48 * 60),
    "high": (60, 8 * 60),
    "critical": (30, 4 * 60),
}


def _seed() -> None:
    stage = sa.table(
        "stage",
        sa.column("code"),
        sa.column("name_en"),
        sa.column("name_ru"),
        sa.column("category"),
        sa.column("position"),
        sa.column("requires_assignee"),
    )
    op.bulk_insert(
        stage,
        [
            dict(
                zip(
                    ("code", "name_en", "name_ru", "category", "position", "requires_assignee"),
                    row,
                    strict=True,
                )
            )
            for row in STAGES
        ],
    )
    transition = sa.table("stage_transition", sa.column("from_code"), sa.column("to_code"))
    op.bulk_insert(
        transition,
        [
            {"from_code": src, "to_code": dst}
            for src, targets in TRANSITIONS.items()
            for dst in targets
        ],
    )
    sla = sa.table(
        "sla_policy",
        sa.column("customer_id"),
        sa.column("criticality"),
        sa.column("reaction_minutes"),
        sa.column("resolution_minutes"),
    )
    op.bulk_insert(
        sla,
        [
            {
                "customer_id": None,
                "criticality": crit,
                "reaction_minutes": r,
                "resolution_minutes": res,
            }
            for crit, (r, res) in SLA_DEFAULTS.items()
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("order_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_history_order_id"))

    op.drop_table("order_history")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_stage_assignee_created")
        batch_op.drop_index("ix_orders_resolution_due")
        batch_op.drop_index("ix_orders_object_created")
        batch_op.drop_index("ix_orders_customer_created")
        batch_op.drop_index(batch_op.f("ix_orders_created_at"))
        batch_op.drop_index("ix_orders_assignee_created")

    op.drop_table("orders")
    op.drop_table("crew_member")
    op.drop_table("stage_transition")
    op.drop_table("sla_policy")
    with op.batch_alter_table("service_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_object_parent_id"))
        batch_op.drop_index(batch_op.f("ix_service_object_name"))
        batch_op.drop_index(batch_op.f("ix_service_object_customer_id"))

    op.drop_table("service_object")
    op.drop_table("crew")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_company_id"))

    op.drop_table("contact")
    op.drop_table("work_type")
    op.drop_table("stage")
    op.drop_table("setting")
    op.drop_table("order_counter")
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employee_short_name"))

    op.drop_table("employee")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_name"))

    op.drop_table("company")
