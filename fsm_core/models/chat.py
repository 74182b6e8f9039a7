"""Users who act in the system, and order chats (сообщения): team and customer channels."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, Text
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, utc_field


class UserKind(StrEnum):
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    CUSTOMER = "customer"


class Channel(StrEnum):
    """The two chats of an order: чат с командой and чат с заказчиком."""

    TEAM = "team"
    CUSTOMER = "customer"


CHANNEL_NAMES: dict[Channel, dict[str, str]] = {
    Channel.TEAM: {"en": "team", "ru": "команда"},
    Channel.CUSTOMER: {"en": "customer", "ru": "заказчик"},
}


class AppUser(Table, table=True):
    """Someone who acts: a dispatcher, a technician (an employee) or a customer's contact.

    Every change records the acting user's display name; chats record the user.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("kind IN ('dispatcher', 'technician', 'customer')", name="kind"),
        CheckConstraint("kind <> 'customer' OR contact_id IS NOT NULL", name="customer_contact"),
        CheckConstraint(
            "kind <> 'technician' OR employee_id IS NOT NULL", name="technician_employee"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=100, unique=True)
    display_name: str = Field(max_length=200)
    kind: str = Field(default=UserKind.DISPATCHER.value, max_length=20)
    employee_id: int | None = Field(
        default=None, foreign_key="employee.id", unique=True, ondelete="RESTRICT"
    )
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", unique=True, ondelete="RESTRICT"
    )
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    db_login: str | None = Field(default=None, max_length=63, unique=True)
    """the PostgreSQL login bound to this user: connecting with it is acting as them"""
    os_login: str | None = Field(default=None, max_length=100, unique=True)
    """the operating-system account bound to this user on an SQLite database"""


class UserRole(Table, table=True):
    """One of a user's roles (see :mod:`fsm_core.access`); a user may have several."""

    __tablename__ = "user_role"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'dispatcher', 'storekeeper', 'technician', 'viewer', 'customer')",
            name="role",
        ),
    )

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    role: str = Field(max_length=20, primary_key=True)


class AuditEntry(Table, table=True):
    """One change of anything, append-only: who (and on behalf of whom), when, which
    command, what changed. ``hash`` chains each row to the one before it (see
    :mod:`fsm_core.audit`), so that a row changed or removed afterwards shows."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_key", "id"),
        Index("ix_audit_log_at", "at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    at: datetime = utc_field(nullable=False)
    actor: str = Field(max_length=200)
    """who acted: the user the connection is bound to"""
    on_behalf_of: str | None = Field(default=None, max_length=200)
    """the user an admin acted for (``--as``), else None"""
    account: str | None = Field(default=None, max_length=100)
    """the database login or operating-system account that connected"""
    command: str | None = Field(default=None, max_length=200)
    entity: str = Field(max_length=50)
    entity_key: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=20)
    changes: str = Field(sa_column=Column(Text, nullable=False))
    """JSON: {field: [before, after]}, or a summary for a whole import"""
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Message(Table, table=True):
    """One chat message of an order, in one channel."""

    __tablename__ = "message"
    __table_args__ = (
        CheckConstraint("channel IN ('team', 'customer')", name="channel"),
        Index("ix_message_order_channel_id", "order_id", "channel", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE")
    channel: str = Field(max_length=20)
    author_user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="RESTRICT")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(default_now=True)
    forwarded_from_id: int | None = Field(
        default=None, foreign_key="message.id", ondelete="SET NULL"
    )


class MessageAttachment(Table, table=True):
    """A file attached to a message (the file itself is in the attachment store)."""

    __tablename__ = "message_attachment"

    message_id: int = Field(foreign_key="message.id", primary_key=True, ondelete="CASCADE")
    attachment_id: int = Field(
        foreign_key="attachment.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    position: int = Field(default=0)


class ChatRead(Table, table=True):
    """How far a user has read one channel of one order: the last message id seen.

    Unread = the channel's messages by others with a greater id: one grouped query gives
    the counts per order and overall, and reading moves one pointer.
    """

    __tablename__ = "chat_read"
    __table_args__ = (CheckConstraint("channel IN ('team', 'customer')", name="channel"),)

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", primary_key=True, index=True, ondelete="CASCADE")
    channel: str = Field(primary_key=True, max_length=20)
    last_read_id: int = Field(default=0)
    read_at: datetime | None = utc_field()
