"""access: users' roles, the logins bound to users, and the audit trail

- ``user_role``: a user's roles (admin, dispatcher, storekeeper, technician, viewer,
  customer); existing users get the role of their kind, and the user the
  ``default_user`` setting names (the first dispatcher) becomes an admin as well, so that
  an upgraded company keeps one person who can manage the others;
- ``app_user.db_login`` / ``os_login``: the PostgreSQL login or operating-system account
  bound to a user (see fsm_core.identity);
- ``audit_log``: the append-only, hash-chained record of every change (fsm_core.audit).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fsm_core.models.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLES = "('admin', 'dispatcher', 'storekeeper', 'technician', 'viewer', 'customer')"


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("db_login", sa.String(63), nullable=True))
        batch.add_column(sa.Column("os_login", sa.String(100), nullable=True))
        batch.create_unique_constraint(op.f("uq_app_user_db_login"), ["db_login"])
        batch.create_unique_constraint(op.f("uq_app_user_os_login"), ["os_login"])
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.CheckConstraint(f"role IN {ROLES}", name=op.f("ck_user_role_role")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_user_role_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_role")),
    )  # fmt: skip
    op.execute("INSERT INTO user_role (user_id, role) SELECT id, kind FROM app_user")
    op.execute(
        """
        INSERT INTO user_role (user_id, role)
        SELECT id, 'admin' FROM app_user
        WHERE kind = 'dispatcher' AND login = COALESCE(
            (SELECT value FROM setting WHERE key = 'default_user'), 'dispatcher')
        """
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("on_behalf_of", sa.String(200), nullable=True),
        sa.Column("account", sa.String(100), nullable=True),
        sa.Column("command", sa.String(200), nullable=True),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_key", sa.String(200), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_key", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


# PostgreSQL: the audit trail's rows are changed or removed by no one but the table's
# owner (and superusers), whatever GRANTs the product's roles have; the hash chain shows
# what an owner does (fsm audit verify). A restore loads the rows with INSERT (COPY)
# before it makes the triggers; a copy into a new database deletes from empty tables.
APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_has_role(current_user,
                       (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RAISE EXCEPTION 'the audit trail is append-only: % of audit_log refused for %',
            TG_OP, current_user USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("user_role")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_constraint(op.f("uq_app_user_os_login"), type_="unique")
        batch.drop_constraint(op.f("uq_app_user_db_login"), type_="unique")
        batch.drop_column("os_login")
        batch.drop_column("db_login")
