"""Order chats (сообщения): a team channel (чат с командой) and a customer channel (чат с
заказчиком) per order, with attachments, forwarding and unread counters.

Unread counts rest on one pointer per (user, order, channel): the last message id the
user has read. A channel's unread messages are those by others past the pointer, so the
counts per order and overall are one grouped query, and reading moves one pointer.

Who is concerned: a dispatcher follows every order; a technician the orders assigned to
them or their crew, or planned for them; a customer's contact only the customer channel
of their company's orders (and may write nowhere else).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fsm_core import clock
from fsm_core.access import (
    customer_orders,
    order_filter,
    principal_of,
    requires,
    technician_orders,
)
from fsm_core.db import text_filter
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import (
    AppUser,
    Attachment,
    Channel,
    ChatRead,
    Company,
    Contact,
    Message,
    MessageAttachment,
    Order,
    ServiceObject,
    UserKind,
)

MAX_TEXT = 4000
MAX_ATTACHMENTS = 10


_CHANNEL_WORDS = {
    "team": Channel.TEAM,
    "команда": Channel.TEAM,
    "команде": Channel.TEAM,
    "customer": Channel.CUSTOMER,
    "заказчик": Channel.CUSTOMER,
    "заказчику": Channel.CUSTOMER,
    "клиент": Channel.CUSTOMER,
}


def parse_channel(value: str | Channel) -> Channel:
    if isinstance(value, Channel):
        return value
    found = _CHANNEL_WORDS.get(str(value).strip().lower())
    if found is None:
        raise InvalidInput(f"unknown channel {value!r}; use team or customer", field="channel")
    return found


def badge(count: int) -> str:
    """The counter as the dashboard shows it: ``13``, ``99+``; empty for none."""
    if count <= 0:
        return ""
    return "99+" if count > 99 else str(count)


# --- who is concerned ----------------------------------------------------------------------


def _customer_of(session: Session, user: AppUser) -> int | None:
    if user.kind != UserKind.CUSTOMER or user.contact_id is None:
        return None
    contact = session.get(Contact, user.contact_id)
    return contact.company_id if contact else -1


def _scope(session: Session, user: AppUser) -> list[Any]:
    """Conditions on ``Message`` limiting it to what concerns ``user``, and to the orders
    the session's principal may see (the same orders when the principal is ``user``:
    then they are asked once)."""
    conditions: list[Any] = []
    visible = order_filter(session, "chat.read")
    if visible is not None:
        conditions.append(col(Message.order_id).in_(select(Order.id).where(visible)))
    mine: Any = None
    if user.kind == UserKind.CUSTOMER:
        conditions.append(Message.channel == Channel.CUSTOMER.value)
        company = _customer_of(session, user)
        assert company is not None  # a customer user is a contact of a company
        mine = customer_orders(company)
    elif user.kind == UserKind.TECHNICIAN and user.employee_id is not None:
        mine = technician_orders(user.employee_id)
    if mine is not None and (visible is None or principal_of(session).user_id != user.id):
        conditions.append(col(Message.order_id).in_(select(Order.id).where(mine)))
    return conditions


def _check_can_read(session: Session, user: AppUser, order: Order, channel: Channel) -> None:
    if user.kind != UserKind.CUSTOMER:
        return
    if channel != Channel.CUSTOMER or _customer_of(session, user) != order.customer_id:
        raise InvalidInput(
            f"{user.display_name} is the customer's contact and sees only the customer "
            f"chat of their own orders"
        )


def _channels_for(user: AppUser, channel: Channel | None) -> list[Channel]:
    if user.kind == UserKind.CUSTOMER:
        return [Channel.CUSTOMER]
    return [channel] if channel is not None else [Channel.TEAM, Channel.CUSTOMER]


# --- reading ------------------------------------------------------------------------------


@dataclass
class MessageView:
    id: int
    order_id: int
    number: str
    channel: str
    author_user_id: int
    author: str
    author_kind: str
    text: str
    created_at: datetime
    forwarded_from: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _views(
    session: Session,
    conditions: Sequence[Any],
    *,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[MessageView]:
    query = (
        sa_select(
            Message.id,
            Message.order_id,
            Order.number,
            Message.channel,
            Message.author_user_id,
            AppUser.display_name,
            AppUser.kind,
            Message.text,
            Message.created_at,
            Message.forwarded_from_id,
        )
        .join(Order, col(Order.id) == Message.order_id)
        .join(AppUser, col(AppUser.id) == Message.author_user_id)
        .where(*conditions)
        .order_by(col(Message.id).desc() if newest_first else col(Message.id))
    )
    if limit:
        query = query.limit(limit)
    rows = session.execute(query).all()
    views = [MessageView(*row[:9]) for row in rows]
    by_id = {v.id: v for v in views}
    sources = {row[0]: row[9] for row in rows if row[9] is not None}
    if sources:
        for message_id, source_id in sources.items():
            by_id[message_id].forwarded_from = _origin(session, source_id)
    if views:
        attached = session.exec(
            select(MessageAttachment.message_id, Attachment)
            .join(Attachment, col(Attachment.id) == MessageAttachment.attachment_id)
            .where(col(MessageAttachment.message_id).in_(list(by_id)))
            .order_by(col(MessageAttachment.message_id), col(MessageAttachment.position))
        ).all()
        for message_id, attachment in attached:
            by_id[message_id].attachments.append(
                {
                    "id": attachment.id,
                    "name": attachment.original_name,
                    "size": attachment.size,
                    "media_type": attachment.media_type,
                    "sha256": attachment.sha256,
                }
            )
    return views


def _origin(session: Session, source_id: int) -> dict[str, Any] | None:
    """What a forwarded message came from: the message it was forwarded from (its order
    and channel), and the author who first wrote it."""
    source = session.get(Message, source_id)
    if source is None:
        return None
    root, steps = source, 0
    while root.forwarded_from_id is not None and steps < 20:
        parent = session.get(Message, root.forwarded_from_id)
        if parent is None:
            break
        root, steps = parent, steps + 1
    order = session.get(Order, source.order_id)
    author = session.get(AppUser, root.author_user_id)
    return {
        "id": source.id,
        "order_id": source.order_id,
        "number": order.number if order else None,
        "channel": source.channel,
        "author": author.display_name if author else None,
        "created_at": root.created_at,
    }


@requires("chat.read")
def messages(
    *, session: Session, order_id: int, user: AppUser, channel: Channel | None = None
) -> list[MessageView]:
    """An order's messages in time order: one channel, or both interleaved."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    channels = _channels_for(user, channel)
    for c in channels:
        _check_can_read(session, user, order, c)
    return _views(
        session,
        [Message.order_id == order_id, col(Message.channel).in_([c.value for c in channels])],
    )


@requires("chat.read", scoped=True)
def messages_by_id(*, session: Session, ids: Sequence[int], user: AppUser) -> list[MessageView]:
    if not ids:
        return []
    return _views(session, [col(Message.id).in_(list(ids)), *_scope(session, user)])


@requires("chat.read", scoped=True)
def messages_after(*, session: Session, after_id: int, user: AppUser) -> list[MessageView]:
    return _views(session, [Message.id > after_id, *_scope(session, user)])


@requires("chat.read", scoped=True)
def last_message_id(*, session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(Message.id), 0))).one())


@requires("chat.read", scoped=True)
def search(
    *,
    session: Session,
    user: AppUser,
    text: str,
    order_id: int | None = None,
    limit: int = 50,
) -> list[MessageView]:
    """Messages containing ``text`` (case- and ё-insensitive), newest first."""
    condition = text_filter(text, Message.text)
    if not condition:
        raise InvalidInput("search: give some text to look for")
    extra = [Message.order_id == order_id] if order_id is not None else []
    return _views(
        session, [*condition, *extra, *_scope(session, user)], newest_first=True, limit=limit
    )


@dataclass
class Unread:
    total: int
    by_order: dict[int, dict[str, int]]

    @property
    def badge(self) -> str:
        return badge(self.total)

    def of(self, order_id: int) -> int:
        return sum(self.by_order.get(order_id, {}).values())


@requires("chat.read", scoped=True)
def unread(*, session: Session, user: AppUser, order_id: int | None = None) -> Unread:
    """How many messages ``user`` has not read, per order and channel, and overall."""
    pointer = and_(
        ChatRead.user_id == user.id,
        ChatRead.order_id == Message.order_id,
        ChatRead.channel == Message.channel,
    )
    query = (
        select(Message.order_id, Message.channel, func.count())
        .select_from(Message)
        .outerjoin(ChatRead, pointer)
        .where(
            Message.author_user_id != user.id,
            Message.id > func.coalesce(ChatRead.last_read_id, 0),
            *_scope(session, user),
        )
        .group_by(col(Message.order_id), col(Message.channel))
    )
    if order_id is not None:
        query = query.where(Message.order_id == order_id)
    by_order: dict[int, dict[str, int]] = {}
    count = 0
    for oid, channel, n in session.exec(query):
        by_order.setdefault(oid, {})[channel] = int(n)
        count += int(n)
    return Unread(count, by_order)


@requires("chat.read")
def mark_read(
    *, session: Session, user: AppUser, order_id: int, channel: Channel | None = None
) -> int:
    """Move the user's pointers to the newest message of the channel(s); returns how many
    messages were unread."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    before = unread(session=session, user=user, order_id=order_id)
    channels = _channels_for(user, channel)
    now = clock.now()
    for c in channels:
        _check_can_read(session, user, order, c)
        newest = session.exec(
            select(func.max(Message.id)).where(
                Message.order_id == order_id, Message.channel == c.value
            )
        ).one()
        if newest is None:
            continue
        row = session.get(ChatRead, (user.id, order_id, c.value))
        if row is None:
            session.add(
                ChatRead(
                    user_id=user.id,
                    order_id=order_id,
                    channel=c.value,
                    last_read_id=newest,
                    read_at=now,
                )
            )
        elif row.last_read_id < newest:
            row.last_read_id, row.read_at = newest, now
    session.flush()
    return sum(before.by_order.get(order_id, {}).get(c.value, 0) for c in channels)


@requires("chat.read", scoped=True)
def chat_list(
    *, session: Session, user: AppUser, unread_only: bool = False, limit: int | None = 50
) -> list[dict[str, Any]]:
    """Orders with messages, the most recent conversation first: the last message and the
    unread counts of ``user``."""
    counts = unread(session=session, user=user)
    query = (
        select(Message.order_id, func.max(Message.id).label("last_id"), func.count())
        .where(*_scope(session, user))
        .group_by(col(Message.order_id))
        .order_by(func.max(Message.id).desc())
    )
    if unread_only:
        if not counts.by_order:
            return []
        query = query.where(col(Message.order_id).in_(list(counts.by_order)))
    if limit:
        query = query.limit(limit)
    rows = session.exec(query).all()
    if not rows:
        return []
    last = {v.id: v for v in _views(session, [col(Message.id).in_([r[1] for r in rows])])}
    info = {
        oid: (number, customer, obj)
        for oid, number, customer, obj in session.exec(
            select(Order.id, Order.number, Company.name, ServiceObject.name)
            .join(Company, col(Company.id) == Order.customer_id)
            .outerjoin(ServiceObject, col(ServiceObject.id) == Order.object_id)
            .where(col(Order.id).in_([r[0] for r in rows]))
        )
    }
    result = []
    for order_id, last_id, total_count in rows:
        number, customer, obj = info[order_id]
        message = last[last_id]
        per_channel = counts.by_order.get(order_id, {})
        result.append(
            {
                "order_id": order_id,
                "number": number,
                "customer": customer,
                "object": obj,
                "messages": int(total_count),
                "unread": sum(per_channel.values()),
                "unread_team": per_channel.get(Channel.TEAM.value, 0),
                "unread_customer": per_channel.get(Channel.CUSTOMER.value, 0),
                "last_at": message.created_at,
                "last_author": message.author,
                "last_channel": message.channel,
                "last_text": message.text,
            }
        )
    return result


# --- writing ------------------------------------------------------------------------------


def _check_can_write(session: Session, user: AppUser, order: Order, channel: Channel) -> None:
    if not user.active:
        raise InvalidInput(f"user {user.display_name} is deactivated")
    if user.kind == UserKind.CUSTOMER:
        if channel != Channel.CUSTOMER:
            raise InvalidInput(
                f"{user.display_name} is the customer's contact and writes only to the "
                "customer chat"
            )
        _check_can_read(session, user, order, channel)


def _clean_text(text: str | None, has_files: bool) -> str:
    value = (text or "").strip()
    if not value and not has_files:
        raise InvalidInput("a message needs text or an attachment", field="text")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"a message is at most {MAX_TEXT} characters", field="text")
    return value


def _attach(session: Session, message: Message, attachment_ids: Sequence[int]) -> None:
    for position, attachment_id in enumerate(dict.fromkeys(attachment_ids)):
        session.add(
            MessageAttachment(message_id=message.id, attachment_id=attachment_id, position=position)
        )


@requires("chat.write")
def send_message(
    *,
    session: Session,
    order_id: int,
    user: AppUser,
    text: str | None,
    channel: Channel | str = Channel.TEAM,
    also_customer: bool = False,
    files: Sequence[str | os.PathLike[str]] = (),
) -> list[Message]:
    """Write to an order's chat. ``also_customer`` sends the same message to the customer
    channel too («также отправить сообщение заказчику»); ``files`` are copied into the
    attachment store. Returns the message(s) written."""
    from fsm_core import attachments

    channel = parse_channel(channel)
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments per message")
    body = _clean_text(text, bool(files))
    targets = [channel]
    if also_customer and channel != Channel.CUSTOMER:
        targets.append(Channel.CUSTOMER)
    for target in targets:
        _check_can_write(session, user, order, target)
    stored = [attachments.store(session, path).id for path in files]
    now = clock.now()
    written = []
    for target in targets:
        message = Message(
            order_id=order_id,
            channel=target.value,
            author_user_id=user.id,
            text=body,
            created_at=now,
        )
        session.add(message)
        session.flush()
        _attach(session, message, [a for a in stored if a is not None])
        written.append(message)
    _read_own(session, user, order_id, written)
    session.flush()
    return written


def _read_own(session: Session, user: AppUser, order_id: int, written: Sequence[Message]) -> None:
    """Writing to a channel means having read it up to one's own message."""
    for message in written:
        row = session.get(ChatRead, (user.id, order_id, message.channel))
        if row is None:
            session.add(
                ChatRead(
                    user_id=user.id,
                    order_id=order_id,
                    channel=message.channel,
                    last_read_id=message.id or 0,
                    read_at=message.created_at,
                )
            )
        elif row.last_read_id < (message.id or 0):
            row.last_read_id, row.read_at = message.id or 0, message.created_at


@requires("chat.write")
def forward_message(
    *,
    session: Session,
    message_id: int,
    order_id: int,
    user: AppUser,
    channel: Channel | str = Channel.TEAM,
) -> Message:
    """Forward a message (with its attachments) to a channel of this or another order; it
    shows as «пересланное от ...»."""
    channel = parse_channel(channel)
    source = session.get(Message, message_id)
    if source is None:
        raise NotFound("message", f"#{message_id}")
    source_order = session.get(Order, source.order_id)
    assert source_order is not None
    _check_can_read(session, user, source_order, Channel(source.channel))
    if source.order_id == order_id and source.channel == channel.value:
        raise InvalidInput(
            f"message #{message_id} is already in the {channel.value} chat of "
            f"{source_order.number}",
            hint="forward it to the other channel or to another order",
        )
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    _check_can_write(session, user, order, channel)
    message = Message(
        order_id=order_id,
        channel=channel.value,
        author_user_id=user.id,
        text=source.text,
        created_at=clock.now(),
        forwarded_from_id=source.id,
    )
    session.add(message)
    session.flush()
    files = session.exec(
        select(MessageAttachment.attachment_id)
        .where(MessageAttachment.message_id == source.id)
        .order_by(col(MessageAttachment.position))
    ).all()
    _attach(session, message, list(files))
    _read_own(session, user, order_id, [message])
    session.flush()
    return message


@requires("chat.read", scoped=True)
def attachment(*, session: Session, attachment_id: int, user: AppUser) -> Attachment:
    """An attachment of a message the user may read."""
    found = session.get(Attachment, attachment_id)
    if found is None:
        raise NotFound("attachment", f"#{attachment_id}")
    holders = session.exec(
        select(Message.id)
        .join(MessageAttachment, col(MessageAttachment.message_id) == Message.id)
        .where(MessageAttachment.attachment_id == attachment_id, *_scope(session, user))
        .limit(1)
    ).first()
    if holders is None:
        raise NotFound("attachment", f"#{attachment_id}", hint="not in a chat you can read")
    return found
