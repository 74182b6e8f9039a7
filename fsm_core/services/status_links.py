"""An order's status page link (ссылка на статус заявки): one unguessable token per order,
sent to the customer in every notification; ``fsm serve`` answers it at ``/s/{token}``.

A token is 128 random bits. An unknown token, a replaced one and one of an order closed
more than ``status_link_days`` ago are the same to whoever holds it: "not found".
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import NotFound
from fsm_core.models import Order
from fsm_core.models.customer import StatusLink, new_link_token
from fsm_core.services import settings as company_settings

STATUS_PATH = "/s"
"""Where ``fsm serve`` answers status pages, below the company's public address."""


def public_base(passport_base_url: str) -> str:
    """The company's public address, from the passport links' base: the labels say
    ``{public}/p``, as the README tells a company to set it; any other base gives its
    origin (scheme and host)."""
    base = passport_base_url.rstrip("/")
    if base.endswith("/p"):
        return base[:-2]
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def status_url(passport_base_url: str, token: str) -> str:
    return f"{public_base(passport_base_url)}{STATUS_PATH}/{token}"


@requires("orders.read", scoped=True)
def ensure_link(*, session: Session, order_id: int) -> StatusLink:
    """The order's status link, made on first use (in the caller's transaction)."""
    link = session.get(StatusLink, order_id)
    if link is None:
        link = StatusLink(order_id=order_id, token=new_link_token())
        session.add(link)
        session.flush()
    return link


@requires("orders.read", scoped=True)
def link_url(*, session: Session, order_id: int) -> str:
    """The full address of the order's status page (made on first use)."""
    link = ensure_link(session=session, order_id=order_id)
    base = company_settings.load(session=session)["passport_base_url"]
    return status_url(base, link.token)


@requires("orders.read", scoped=True)
def current_url(*, session: Session, order_id: int) -> str | None:
    """The address of the order's status page when it has a link already, else None: a
    read that makes nothing (for a reader's session, or a user whose database login may
    not write links)."""
    link = session.get(StatusLink, order_id)
    if link is None:
        return None
    base = company_settings.load(session=session)["passport_base_url"]
    return status_url(base, link.token)


@requires("orders.edit", scoped=True)
def replace_link(*, session: Session, order_id: int) -> StatusLink:
    """A new token for the order: the link sent before stops working at once."""
    link = session.get(StatusLink, order_id)
    if link is None:
        return ensure_link(session=session, order_id=order_id)
    link.token = new_link_token()
    link.created_at = clock.now()
    session.flush()
    return link


def _not_found(token: str) -> NotFound:
    # the same words for unknown, replaced and expired: a holder learns nothing
    return NotFound("order status page", token[:8] + "…" if len(token) > 8 else token)


@requires("orders.read")
def order_by_token(*, session: Session, token: str) -> Order:
    """The order a status link leads to; unknown, replaced and expired links raise the
    same :class:`NotFound`."""
    if not token or len(token) > 40:
        raise _not_found(token)
    order: Order | None = session.execute(
        select(Order)
        .join(StatusLink, StatusLink.order_id == Order.id)
        .where(StatusLink.token == token)
    ).scalar_one_or_none()
    if order is None:
        raise _not_found(token)
    if order.closed_at is not None:
        days = int(company_settings.load(session=session)["status_link_days"])
        if clock.now() - order.closed_at > timedelta(days=days):
            raise _not_found(token)
    return order
