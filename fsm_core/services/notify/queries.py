"""What the front ends ask of the outbox: the list, the dead letters' count, a retry,
and a contact's opt-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import Contact, Order
from fsm_core.models.customer import Notification, NotificationState

EVENT_NAMES = {
    "received": ("received", "принята"),
    "planned": ("visit planned", "выезд запланирован"),
    "en_route": ("on the way", "техник в пути"),
    "done": ("done", "выполнена"),
}
STATE_NAMES = {
    "pending": ("pending", "в очереди"),
    "sent": ("sent", "отправлено"),
    "failed": ("failed", "не доставлено"),
}


@dataclass(frozen=True)
class NotificationView:
    id: int
    number: str
    event: str
    channel: str
    recipient: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime
    key: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "event": self.event,
            "channel": self.channel,
            "recipient": self.recipient,
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "key": self.key,
        }


@requires("notify.read")
def list_notifications(
    *,
    session: Session,
    order_id: int | None = None,
    state: str | None = None,
    limit: int | None = None,
) -> list[NotificationView]:
    """Notifications, newest first; of one order, or in one state."""
    if state is not None and state not in STATE_NAMES:
        raise InvalidInput(f"no notification state {state!r}", hint="pending, sent or failed")
    query = select(Notification, Order.number).join(Order, Order.id == Notification.order_id)
    if order_id is not None:
        query = query.where(Notification.order_id == order_id)
    if state is not None:
        query = query.where(Notification.state == state)
    query = query.order_by(Notification.id.desc())
    if limit:
        query = query.limit(limit)
    return [
        NotificationView(
            id=row.id or 0,
            number=number,
            event=row.event,
            channel=row.channel,
            recipient=row.recipient,
            state=row.state,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.state == "pending" else None,
            sent_at=row.sent_at,
            last_error=row.last_error,
            created_at=row.created_at,
            key=row.key,
        )
        for row, number in session.execute(query)
    ]


@requires("notify.read")
def failed_count(*, session: Session) -> int:
    """How many notifications gave up (the dashboard shows it)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Notification)
            .where(Notification.state == NotificationState.FAILED.value)
        ).scalar_one()
    )


@requires("notify.send")
def retry(*, session: Session, notification_id: int | None = None, all_failed: bool = False) -> int:
    """Send a failed notification (or every failed one) again, from its first attempt;
    returns how many. A notification already sent is not sent again."""
    if (notification_id is None) == (not all_failed):
        raise InvalidInput("retry one notification (its id) or all failed ones, not both")
    query = update(Notification).where(Notification.state == NotificationState.FAILED.value)
    if notification_id is not None:
        row = session.get(Notification, notification_id)
        if row is None:
            raise NotFound("notification", f"#{notification_id}")
        if row.state != NotificationState.FAILED.value:
            en, ru = STATE_NAMES.get(row.state, (row.state, row.state))
            raise InvalidInput(
                f"notification #{notification_id} is {en}, not failed: nothing to retry",
                ru=f"уведомление #{notification_id} {ru}, а не «не доставлено»: повторять нечего",
            )
        query = query.where(Notification.id == notification_id)
    result = session.execute(
        query.values(
            state=NotificationState.PENDING.value,
            attempts=0,
            next_attempt_at=clock.now(),
            claimed_until=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@requires("parties.edit")
def set_opt_out(*, session: Session, contact_id: int, opt_out: bool = True) -> Contact:
    """A contact asks for no notifications (or for them again). What is already queued
    for them and not yet sent is dropped (deleted) with the opt-out."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact", f"#{contact_id}")
    contact.notify_opt_out = opt_out
    if opt_out:
        session.execute(
            delete(Notification).where(
                Notification.contact_id == contact_id,
                Notification.state == NotificationState.PENDING.value,
            )
        )
    session.flush()
    return contact
