"""the customer's side: order status links, ratings, the notification outbox, opt-out

- ``status_link``: one unguessable token per order for its status page;
- ``order_rating``: the customer's three scores (1–5) and comment, once per order;
- ``notification``: the outbox, one row per event, channel and recipient, written in the
  transaction of the change that caused it and delivered later with retries;
- ``contact.notify_opt_out``: a contact who asked for no notifications.

On PostgreSQL the new tables get the group roles' GRANTs and row-level security again
(fsm_core/pg_access.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fsm_core.models.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _scores() -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(f"{name} BETWEEN 1 AND 5", name=f"ck_order_rating_{name}")
        for name in ("promptness", "accuracy", "communication")
    ]


def upgrade() -> None:
    op.create_table(
        "status_link",
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_status_link_order_id_orders", ondelete="CASCADE"),
        ),
        sa.Column("token", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_status_link"),
        sa.UniqueConstraint("token", name="uq_status_link_token"),
    )
    op.create_table(
        "order_rating",
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_order_rating_order_id_orders", ondelete="CASCADE"),
        ),
        sa.Column("promptness", sa.SmallInteger(), nullable=False),
        sa.Column("accuracy", sa.SmallInteger(), nullable=False),
        sa.Column("communication", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(110), nullable=True),
        sa.Column("rated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_rating"),
        *_scores(),
    )
    op.create_index("ix_order_rating_rated_at", "order_rating", ["rated_at"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_notification_order_id_orders", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "contact_id",
            sa.Integer(),
            sa.ForeignKey(
                "contact.id", name="fk_notification_contact_id_contact", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(300), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
        sa.UniqueConstraint("key", name="uq_notification_key"),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="ck_notification_state"),
    )
    op.create_index("ix_notification_order_id", "notification", ["order_id"])
    op.create_index("ix_notification_due", "notification", ["state", "next_attempt_at"])
    with op.batch_alter_table("contact") as batch:
        batch.add_column(
            sa.Column("notify_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from fsm_core import pg_access

        pg_access.apply(bind)


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("notify_opt_out")
    op.drop_table("notification")
    op.drop_table("order_rating")
    op.drop_table("status_link")
