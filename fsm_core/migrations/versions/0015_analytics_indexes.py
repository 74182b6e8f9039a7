"""analytics: indexes for the reports of a period

A month's report (fsm report) reads the orders finished in it (``resolved_at``), the work
started in it (``work_entry.started_at``) and the materials written off in it
(``material_use.created_at``); without these indexes each of them read the whole table
through another index, row by row. The executors' hours and rates of those entries are
read from an index that holds them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_orders_resolved_at", "orders", ["resolved_at"]),
    ("ix_work_entry_started_at", "work_entry", ["started_at"]),
    ("ix_material_use_created_at", "material_use", ["created_at"]),
    # each work entry's executors, their hours and rates, read from the index alone
    (
        "ix_work_executor_hours",
        "work_executor",
        ["work_entry_id", "employee_id", "hours", "hourly_rate"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
