"""planning and chats: visits, working time, time off, holidays, users, messages

Also the employee's home base (for the nearest free technician), the default acting user
("dispatcher", named by the default_user setting), and on PostgreSQL the triggers that
announce order, visit and message changes to listening dashboards (NOTIFY fsm_changes, sent
at commit with the change). SQLite needs no trigger: listeners watch PRAGMA data_version.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import fsm_core.models.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_holiday")),
    )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('day_off', 'leave', 'sick')", name=op.f("ck_time_off_kind")),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_time_off_window")),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_time_off_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_off")),
    )
    with op.batch_alter_table("time_off", schema=None) as batch_op:
        batch_op.create_index(
            "ix_time_off_employee_start", ["employee_id", "start_at"], unique=False
        )

    op.create_table(
        "work_pattern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("start_time <> end_time", name=op.f("ck_work_pattern_shift_length")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_work_pattern_valid_range")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_work_pattern_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_pattern")),
    )
    with op.batch_alter_table("work_pattern", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_pattern_employee_id"), ["employee_id"], unique=False
        )

    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind <> 'customer' OR contact_id IS NOT NULL",
            name=op.f("ck_app_user_customer_contact"),
        ),
        sa.CheckConstraint(
            "kind <> 'technician' OR employee_id IS NOT NULL",
            name=op.f("ck_app_user_technician_employee"),
        ),
        sa.CheckConstraint(
            "kind IN ('dispatcher', 'technician', 'customer')", name=op.f("ck_app_user_kind")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_app_user_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_app_user_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_app_user_contact_id")),
        sa.UniqueConstraint("employee_id", name=op.f("uq_app_user_employee_id")),
        sa.UniqueConstraint("login", name=op.f("uq_app_user_login")),
    )
    op.create_table(
        "chat_read",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.Column("read_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('team', 'customer')", name=op.f("ck_chat_read_channel")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_chat_read_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_chat_read_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "order_id", "channel", name=op.f("pk_chat_read")),
    )
    with op.batch_alter_table("chat_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_read_order_id"), ["order_id"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("forwarded_from_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("channel IN ('team', 'customer')", name=op.f("ck_message_channel")),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["app_user.id"],
            name=op.f("fk_message_author_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_from_id"],
            ["message.id"],
            name=op.f("fk_message_forwarded_from_id_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_message_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_author_user_id"), ["author_user_id"], unique=False
        )
        batch_op.create_index(
            "ix_message_order_channel_id", ["order_id", "channel", "id"], unique=False
        )

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column("start_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", fsm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(employee_id IS NULL) <> (crew_id IS NULL)", name=op.f("ck_visit_one_assignee")
        ),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_visit_window")),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crew.id"], name=op.f("fk_visit_crew_id_crew"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name=op.f("fk_visit_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_visit_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_crew_start", ["crew_id", "start_at"], unique=False)
        batch_op.create_index("ix_visit_employee_start", ["employee_id", "start_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_visit_start", ["start_at"], unique=False)

    op.create_table(
        "message_attachment",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_message_attachment_attachment_id_attachment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_attachment_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "attachment_id", name=op.f("pk_message_attachment")),
    )
    with op.batch_alter_table("message_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_attachment_attachment_id"), ["attachment_id"], unique=False
        )

    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("home_longitude", sa.Float(), nullable=True))

    _seed()
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_NOTIFY:
            op.execute(statement)


def _seed() -> None:
    user = sa.table(
        "app_user",
        sa.column("login", sa.String),
        sa.column("display_name", sa.String),
        sa.column("kind", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", fsm_core.models.types.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        user,
        [
            {
                "login": "dispatcher",
                "display_name": "Диспетчер",
                "kind": "dispatcher",
                "active": True,
                "created_at": datetime(2026, 11, 28, tzinfo=UTC),
            }
        ],
    )


# One notification per statement (an import of 100,000 rows sends one, not 100,000), with
# the ids of what changed, or null ids when more than 200 did ("reload everything").
PG_NOTIFY = (
    """
    CREATE FUNCTION fsm_notify_order_history() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        rec record;
    BEGIN
        FOR rec IN
            SELECT CASE WHEN action = 'visit' THEN 'visit' ELSE 'order' END AS kind,
                   array_agg(DISTINCT order_id) AS orders
            FROM changed_rows GROUP BY 1
        LOOP
            PERFORM pg_notify('fsm_changes', json_build_object(
                'kind', rec.kind,
                'orders', CASE WHEN cardinality(rec.orders) > 200 THEN NULL ELSE rec.orders END
            )::text);
        END LOOP;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER order_history_notify AFTER INSERT ON order_history
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fsm_notify_order_history()
    """,
    """
    CREATE FUNCTION fsm_notify_message() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        orders integer[];
        ids integer[];
    BEGIN
        SELECT array_agg(DISTINCT order_id), array_agg(id ORDER BY id) INTO orders, ids
        FROM changed_rows;
        IF ids IS NOT NULL THEN
            PERFORM pg_notify('fsm_changes', json_build_object(
                'kind', 'message',
                'orders', CASE WHEN cardinality(orders) > 200 THEN NULL ELSE orders END,
                'ids', CASE WHEN cardinality(ids) > 200 THEN NULL ELSE ids END
            )::text);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER message_notify AFTER INSERT ON message
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fsm_notify_message()
    """,
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS message_notify ON message")
        op.execute("DROP TRIGGER IF EXISTS order_history_notify ON order_history")
        op.execute("DROP FUNCTION IF EXISTS fsm_notify_message()")
        op.execute("DROP FUNCTION IF EXISTS fsm_notify_order_history()")

    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.drop_column("home_longitude")
        batch_op.drop_column("home_latitude")

    with op.batch_alter_table("message_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_attachment_attachment_id"))
    op.drop_table("message_attachment")

    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_start")
        batch_op.drop_index(batch_op.f("ix_visit_order_id"))
        batch_op.drop_index("ix_visit_employee_start")
        batch_op.drop_index("ix_visit_crew_start")
    op.drop_table("visit")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_order_channel_id")
        batch_op.drop_index(batch_op.f("ix_message_author_user_id"))
    op.drop_table("message")

    with op.batch_alter_table("chat_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_read_order_id"))
    op.drop_table("chat_read")
    op.drop_table("app_user")

    with op.batch_alter_table("work_pattern", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_pattern_employee_id"))
    op.drop_table("work_pattern")

    with op.batch_alter_table("time_off", schema=None) as batch_op:
        batch_op.drop_index("ix_time_off_employee_start")
    op.drop_table("time_off")
    op.drop_table("holiday")
