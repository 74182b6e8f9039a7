"""gps: technicians' devices and positions, an object's site radius, check-in verdicts

Devices (a phone with Traccar Client, a tracker) bound to employees; their positions, one
per employee and moment (a fix sent twice is stored once), indexed for "this employee,
this day", "the latest of each" and the retention's pruning. An object may say how far
from its point a technician still counts as on site. A check-in answer keeps how far the
technician's latest fix was from the object and how old it was.

On PostgreSQL new positions announce themselves to listening dashboards (NOTIFY
fsm_changes, kind ``position``, with the employees concerned), once per statement: the
server writes fixes in batches.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fsm_core.models.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gps_device",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("identifier", sa.String(100), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("pulled_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name="fk_gps_device_employee_id_employee",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_gps_device"),
        sa.UniqueConstraint("identifier", name="uq_gps_device_identifier"),
    )
    op.create_index("ix_gps_device_employee_id", "gps_device", ["employee_id"])
    op.create_table(
        "position",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("fix_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="ck_position_latitude"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="ck_position_longitude"),
        sa.CheckConstraint(
            "source IN ('osmand', 'traccar', 'gpx', 'manual')", name="ck_position_source"
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name="fk_position_employee_id_employee",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["gps_device.id"],
            name="fk_position_device_id_gps_device",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_position"),
        sa.UniqueConstraint("employee_id", "fix_at", name="uq_position_employee_id_fix_at"),
    )
    op.create_index("ix_position_fix_at", "position", ["fix_at"])
    with op.batch_alter_table("service_object") as batch:
        batch.add_column(sa.Column("gps_radius_m", sa.Integer(), nullable=True))
    with op.batch_alter_table("checklist_answer") as batch:
        batch.add_column(sa.Column("check_in_distance_m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("check_in_fix_age_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("check_in_verdict", sa.String(20), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_NOTIFY:
            op.execute(statement)


PG_NOTIFY = (
    """
    CREATE FUNCTION fsm_notify_position() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        employees integer[];
    BEGIN
        SELECT array_agg(DISTINCT employee_id) INTO employees FROM changed_rows;
        IF employees IS NOT NULL THEN
            PERFORM pg_notify('fsm_changes', json_build_object(
                'kind', 'position',
                'orders', json_build_array(),
                'ids', CASE WHEN cardinality(employees) > 200 THEN NULL ELSE employees END
            )::text);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER position_notify AFTER INSERT ON position
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fsm_notify_position()
    """,
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS position_notify ON position")
        op.execute("DROP FUNCTION IF EXISTS fsm_notify_position()")
    # SQLite 3.35+ drops a plain column in place: a batch rebuild of service_object would
    # drop a table that orders point at
    for table, column in (
        ("checklist_answer", "check_in_verdict"),
        ("checklist_answer", "check_in_fix_age_s"),
        ("checklist_answer", "check_in_distance_m"),
        ("service_object", "gps_radius_m"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index("ix_position_fix_at", table_name="position")
    op.drop_table("position")
    op.drop_index("ix_gps_device_employee_id", table_name="gps_device")
    op.drop_table("gps_device")
