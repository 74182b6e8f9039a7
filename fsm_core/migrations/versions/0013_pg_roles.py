"""PostgreSQL roles: a group role per product role and database, its GRANTs, and the
row-level security that keeps a technician's and a customer's login to their own orders

On PostgreSQL only (an SQLite file has no logins): creates ``fsm_<database>_<role>`` for
the six roles where the migrating login may create roles, grants each the privileges of
fsm_core/pg_access.py's TABLES, and enables row-level security with its policies. The
owner, who runs the migrations, bypasses row-level security. A login that may not create
roles leaves the group roles missing; ``fsm db grants`` run later by one that may (a
superuser) completes the work. See fsm_core/pg_access.py.

Also, on both back-ends, an index on the orders' crew: a technician's orders are looked up
by crew as well as by assignee (their list, and the row-level security policies).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_crew_created", "orders", ["crew_id", "created_at"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from fsm_core import pg_access

    pg_access.apply(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from fsm_core import pg_access

        pg_access.remove(bind)
    op.drop_index("ix_orders_crew_created", table_name="orders")
