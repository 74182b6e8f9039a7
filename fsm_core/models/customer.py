"""The customer's side (сторона заказчика): the per-order status link a customer is sent,
the ratings they give a finished order, and the notifications that keep them informed."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, SmallInteger, Text
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, utc_field


def new_link_token() -> str:
    """128 random bits, URL-safe: the key of an order's status page."""
    return secrets.token_urlsafe(16)


class StatusLink(Table, table=True):
    """The unguessable link to one order's status page (one per order; a new token revokes
    the old one at once)."""

    __tablename__ = "status_link"

    order_id: int = Field(foreign_key="orders.id", primary_key=True, ondelete="CASCADE")
    token: str = Field(max_length=40, unique=True)
    created_at: datetime = created_at_field()


SCORE_CHECK = "BETWEEN 1 AND 5"
COMMENT_LENGTH = 110
"""A rating's comment, in characters (the reference product's limit)."""


class OrderRating(Table, table=True):
    """The customer's rating of a finished order (оценка): three scores 1–5 and a comment.
    Once per order: a second rating is refused, never overwrites the first."""

    __tablename__ = "order_rating"
    __table_args__ = (
        CheckConstraint(f"promptness {SCORE_CHECK}", name="promptness"),
        CheckConstraint(f"accuracy {SCORE_CHECK}", name="accuracy"),
        CheckConstraint(f"communication {SCORE_CHECK}", name="communication"),
        Index("ix_order_rating_rated_at", "rated_at"),
    )

    order_id: int = Field(foreign_key="orders.id", primary_key=True, ondelete="CASCADE")
    promptness: int = Field(sa_column=Column(SmallInteger, nullable=False))  # оперативность
    accuracy: int = Field(sa_column=Column(SmallInteger, nullable=False))  # точность
    communication: int = Field(sa_column=Column(SmallInteger, nullable=False))  # общение
    comment: str | None = Field(default=None, max_length=COMMENT_LENGTH)
    rated_at: datetime = created_at_field()


class NotificationEvent(StrEnum):
    RECEIVED = "received"  # the order was received (with the status link)
    PLANNED = "planned"  # a visit was planned (date and window)
    EN_ROUTE = "en_route"  # the technician is on the way (with the estimate)
    DONE = "done"  # the work is done (the act and the rating link)


class NotificationState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # delivered to the channel
    FAILED = "failed"  # every attempt failed: the dead letters `fsm notify list --failed` shows


class Notification(Table, table=True):
    """One message to a customer's contact (the outbox): written in the same transaction as
    the change that caused it, delivered later by the sender with retries."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
        Index("ix_notification_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    event: str = Field(max_length=20)
    channel: str = Field(max_length=20)  # email, apprise
    recipient: str = Field(max_length=300)
    # one message per event, channel and recipient, however often the sender retries
    key: str = Field(max_length=200, unique=True)
    locale: str = Field(default="ru", max_length=2)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    state: str = Field(default=NotificationState.PENDING.value, max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = utc_field(default_now=True)
    claimed_until: datetime | None = utc_field()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = utc_field()
    created_at: datetime = created_at_field()
