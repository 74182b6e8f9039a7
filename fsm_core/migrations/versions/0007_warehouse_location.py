"""warehouse location: latitude and longitude

Where a warehouse is, so that a write-off can suggest the nearest one that has the item
(a van is where its technician is: their home base).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("warehouse") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warehouse") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
