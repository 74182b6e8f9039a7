"""SLA in working time: a service calendar per SLA policy, and per-deadline manual flags

``sla_policy.calendar``: ``24/7`` (what every existing policy keeps), ``company`` or a
contract's own weekly hours. ``orders.sla_manual`` (one flag for both deadlines) becomes
``reaction_manual`` and ``resolution_manual``: a deadline counts as typed in only if the
order had one; an empty deadline of a "manual" order (an import that gave only ``Срок``)
is the policy's again, filled in when the order's criticality next changes. Stored
deadlines are not recomputed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar", sa.String(length=200), nullable=False, server_default="24/7")
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reaction_manual", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("resolution_manual", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE orders SET "
        "reaction_manual = (sla_manual AND reaction_due IS NOT NULL), "
        "resolution_manual = (sla_manual AND resolution_due IS NOT NULL) "
        "WHERE sla_manual"
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("sla_manual")


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sla_manual", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE orders SET sla_manual = (reaction_manual OR resolution_manual) "
        "WHERE reaction_manual OR resolution_manual"
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("resolution_manual")
        batch_op.drop_column("reaction_manual")
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.drop_column("calendar")
