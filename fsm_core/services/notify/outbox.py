"""The outbox: a notification is a row written in the transaction of the change that
caused it. A change rolled back takes its rows with it (nothing is sent); a change
committed has them (nothing is lost, whatever happens to the sender afterwards).

One row per event, channel and recipient, under an idempotency key
(``{order}.{event}.{occurrence}.{channel}.{recipient hash}``): writing the same event
again — a visit saved twice, an order moved back and forth — queues nothing new.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import Company, Contact, Order, ServiceObject
from fsm_core.models.customer import NotificationEvent, NotificationState, StatusLink
from fsm_core.models.planning import Visit
from fsm_core.services import settings as company_settings
from fsm_core.services.stages import StageView, after_order_saved, register_after_move

EMAIL, APPRISE = "email", "apprise"
CHANNELS = (EMAIL, APPRISE)


def recipient_hash(recipient: str) -> str:
    return hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]


def make_key(order_id: int, event: str, occurrence: str, channel: str, recipient: str) -> str:
    """The idempotency key: letters, digits, dots and dashes only (it is an e-mail's
    Message-ID and a gateway's key field as it is)."""
    return f"{order_id}.{event}.{occurrence}.{channel}.{recipient_hash(recipient)}"


def _recipients(
    session: Session, order: Order, values: company_settings.CompanySettings
) -> tuple[Contact | None, list[tuple[str, str]]]:
    """(contact, [(channel, recipient)]): the order's contact's e-mail (when the company
    has a mail server) and phone (when it has an Apprise URL); none for no contact or
    one who opted out."""
    if order.contact_id is None:
        return None, []
    contact = session.get(Contact, order.contact_id)
    if contact is None or contact.notify_opt_out:
        return contact, []
    found: list[tuple[str, str]] = []
    if values["smtp_url"] and contact.email and contact.email.strip():
        found.append((EMAIL, contact.email.strip()))
    apprise_url = values["notify_apprise_url"]
    if apprise_url:
        phone = (contact.phone or "").strip()
        if phone:
            found.append((APPRISE, phone))
        elif "{phone}" not in apprise_url:  # one gateway address for every contact
            found.append((APPRISE, f"contact-{contact.id}"))
    return contact, found


def _link(session: Session, order_id: int, base: str) -> str | None:
    """The order's status page address; made now if the order has none yet. A principal
    who may not make links (a technician, on PostgreSQL) sends the message without one."""
    from fsm_core.services.status_links import ensure_link, status_url

    link = session.get(StatusLink, order_id)
    if link is None:
        try:
            with session.begin_nested():
                link = ensure_link(session=session, order_id=order_id)
        except DBAPIError:
            return None
    return status_url(base, link.token)


def _local(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz)


def _window(start: datetime, end: datetime, tz: tzinfo) -> str:
    a, b = _local(start, tz), _local(end, tz)
    if a.date() == b.date():
        return f"{a:%H:%M}–{b:%H:%M}"
    return f"{a:%d.%m %H:%M}–{b:%d.%m.%Y %H:%M}"


@requires("orders.read")
def queue(
    *,
    session: Session,
    order: Order,
    event: NotificationEvent,
    occurrence: str = "-",
    extra: dict[str, Any] | None = None,
) -> int:
    """Write the event's rows for the order's contact into the session's transaction;
    returns how many are new (an event already queued is not queued again)."""
    assert order.id is not None
    values = company_settings.load(session=session)
    contact, recipients = _recipients(session, order, values)
    if contact is None or not recipients:
        return 0
    tz = values.tz
    locale = values["company_language"] or "ru"
    company = session.get(Company, order.customer_id) if order.customer_id else None
    obj = session.get(ServiceObject, order.object_id) if order.object_id else None
    payload: dict[str, Any] = {
        "number": order.number,
        "name": contact.full_name,
        "description": (order.description or "").strip()[:200],
        "customer": company.name if company else "",
        "object": obj.name if obj else "",
        "company": values["company_name"],
        "company_phone": values["company_phone"],
        "status_url": _link(session, order.id, values["passport_base_url"]) or "",
        **(extra or {}),
    }
    if "start" in payload:  # a visit: its day and window in the company's time zone
        start = datetime.fromisoformat(payload["start"])
        end = datetime.fromisoformat(payload["end"])
        payload["date"] = f"{_local(start, tz):%d.%m.%Y}"
        payload["window"] = _window(start, end, tz)
    if "eta" in payload:
        at, earliest, latest = (
            datetime.fromisoformat(payload[k]) for k in ("eta", "eta_earliest", "eta_latest")
        )
        payload["eta_time"] = f"{_local(at, tz):%H:%M}"
        payload["eta_window"] = _window(earliest, latest, tz)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    now = clock.now()
    rows = [
        {
            "order_id": order.id,
            "contact_id": contact.id,
            "event": event.value,
            "channel": channel,
            "recipient": recipient[:300],
            "key": make_key(order.id, event.value, occurrence, channel, recipient),
            "locale": locale,
            "payload": text,
            "state": NotificationState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel, recipient in recipients
    ]
    return _insert_new(session, rows)


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING: a key already queued stays as it is."""
    from fsm_core.models.customer import Notification

    table = Notification.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table).on_conflict_do_nothing(index_elements=["key"])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=["key"])
    added = 0
    for row in rows:  # one by one: rowcount tells which were new
        result = session.execute(statement.values(**row))
        added += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return added


# --- the events --------------------------------------------------------------------------


@requires("orders.read")
def order_received(*, session: Session, order: Order) -> int:
    """A new order: "received", with its status link. Declared as reading the order: it is
    written by whichever change caused it (creating the order), which that change's own
    permission allowed."""
    return queue(session=session, order=order, event=NotificationEvent.RECEIVED)


@requires("orders.read")
def visit_planned(*, session: Session, visit: Visit) -> int:
    """A visit planned or moved in time: "planned", with its day and window. Moving it to
    another time is a new message; giving it to another technician is not."""
    order = session.get(Order, visit.order_id)
    if order is None or visit.id is None:
        return 0
    occurrence = f"v{visit.id}-{visit.start_at.astimezone(UTC):%Y%m%dT%H%M}"
    extra = {"start": visit.start_at.isoformat(), "end": visit.end_at.isoformat()}
    return queue(
        session=session,
        order=order,
        event=NotificationEvent.PLANNED,
        occurrence=occurrence,
        extra=extra,
    )


def _en_route(session: Session, order: Order) -> int:
    from fsm_core.services import arrival

    assert order.id is not None
    found = arrival.estimate(session=session, order_id=order.id)
    now = clock.now()
    visit_id = session.execute(
        select(Visit.id)
        .where(Visit.order_id == order.id, Visit.end_at > now)
        .order_by(Visit.start_at)
        .limit(1)
    ).scalar_one_or_none()
    tz = company_settings.load(session=session).tz
    # once per visit; an order on its way without a visit, once a day
    occurrence = f"v{visit_id}" if visit_id else f"d{_local(now, tz):%Y%m%d}"
    extra: dict[str, Any] = {}
    if found is not None:
        extra = {
            "eta": found.at.isoformat(),
            "eta_earliest": found.earliest.isoformat(),
            "eta_latest": found.latest.isoformat(),
            "technician": found.technician or "",
        }
    return queue(
        session=session,
        order=order,
        event=NotificationEvent.EN_ROUTE,
        occurrence=occurrence,
        extra=extra,
    )


def _done(session: Session, order: Order) -> int:
    return queue(session=session, order=order, event=NotificationEvent.DONE)


EN_ROUTE_STAGE = "en_route"
DONE_CATEGORY = "done"


def _after_move(session: Session, order: Order, src: StageView, dst: StageView, actor: str) -> None:
    # queued once the order is written: the queue reads the database (and may make the
    # status link), which must not write the order halfway through its move
    if dst.code == EN_ROUTE_STAGE:
        after_order_saved(session, lambda: _en_route(session, order))
    elif dst.category == DONE_CATEGORY and src.category != DONE_CATEGORY:
        after_order_saved(session, lambda: _done(session, order))


register_after_move(_after_move)
