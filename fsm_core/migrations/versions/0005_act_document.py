"""the act as a primary document: customers' contracts, how work is charged, the signer's
position

``company.contract_number`` / ``contract_date``: the basis line of the act ("Основание:
договор № … от …"). ``work_type.charge``: fixed (the price), hours (the executors' hours)
or both lines, as every act showed until now (existing rows get "both"); the charge is
copied onto each ``work_entry`` when the work is recorded, like its price, so changing a
work type next month does not change an act signed today. ``execution_record.
signer_position``: the customer's signer's position printed under the signature.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHARGE_CHECK = "charge IN ('fixed', 'hours', 'both')"


def upgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_number", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("contract_date", sa.Date(), nullable=True))

    for table in ("work_type", "work_entry"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("charge", sa.String(length=10), nullable=False, server_default="both")
            )
        # the default only filled the existing rows: new ones say how they are charged
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("charge", server_default=None)
            batch_op.create_check_constraint("charge", CHARGE_CHECK)

    with op.batch_alter_table("execution_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signer_position", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("execution_record", schema=None) as batch_op:
        batch_op.drop_column("signer_position")

    for table in ("work_entry", "work_type"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_charge"), type_="check")
            batch_op.drop_column("charge")

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("contract_date")
        batch_op.drop_column("contract_number")
