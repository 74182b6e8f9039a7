"""import batches: an SQLite import writes its orders ahead, hidden until published

A large import on SQLite no longer holds the write lock for seconds while it publishes:
it writes its orders into ``orders`` in short transactions as it reads the file, each
row tagged with its ``import_batch``, and one short transaction publishes the batch.
Until then every reader leaves the batch's orders out (fsm_core/import_batches.py); a
batch whose process died unpublished is deleted by the next program that opens the
database. PostgreSQL, whose writers lock rows and not the database, publishes from
temporary tables as before: the table is there (and granted) but stays empty.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fsm_core.models.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=True),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("counters", sa.Text(), nullable=False),
    )
    # no index and no foreign key: written ahead with every imported order, read only
    # with the batch's id range
    op.add_column("orders", sa.Column("import_batch_id", sa.Integer(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from fsm_core import pg_access

        pg_access.apply(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # an unpublished batch's orders go with it
        op.execute(
            "DELETE FROM orders WHERE import_batch_id IN "
            "(SELECT id FROM import_batch WHERE NOT published)"
        )
        # SQLite drops the column in place (3.35+): a batch copy of the table would lose
        # the search index's triggers
        op.execute("ALTER TABLE orders DROP COLUMN import_batch_id")
    else:
        op.drop_column("orders", "import_batch_id")
    op.drop_table("import_batch")
