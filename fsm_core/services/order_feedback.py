"""What the order's views (``fsm orders show``, the dashboard's order screen) show of the
customer's side: the customer's rating, if they gave one, and the address of the order's
status page.

The status link is made on first use (see :mod:`fsm_core.services.status_links`) by those
who change orders — their database login may write links; a viewer, a storekeeper or a
technician sees the link once it exists, and nothing before. A user who may not see
ratings (a storekeeper) sees no rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from fsm_core.access import open_to_all, principal_of, requires
from fsm_core.services import ratings, status_links


@dataclass(frozen=True)
class OrderFeedback:
    rating: ratings.RatingView | None
    """the customer's rating, or None (not rated, or not for this user's eyes)"""
    status_url: str | None
    """the status page's address, or None (no link yet, and this user makes none)"""
    link_wanted: bool
    """no link yet, and this user would make one: read again in a transaction with
    ``make_link=True``"""

    def rating_json(self) -> dict[str, Any] | None:
        """The rating as ``ratings list --json`` gives it, without the order's own fields."""
        if self.rating is None:
            return None
        own = ("number", "customer", "object", "assignee")
        return {k: v for k, v in self.rating.as_json().items() if k not in own}


@open_to_all  # arithmetic on a number the caller has
def rating_level(mean: Decimal) -> str:
    """How a rating reads, for the views' colours: ``low`` below 3 (an unhappy customer,
    what ``ratings list --at-most`` looks for), ``fair`` below 4, else ``good``."""
    return "low" if mean < 3 else "fair" if mean < 4 else "good"


@open_to_all  # what the user's own roles allow
def makes_links(session: Session) -> bool:
    """Whether this user's looking at an order makes its status link when it has none."""
    return principal_of(session).may("orders.edit")


@requires("orders.read", scoped=True)
def order_feedback(*, session: Session, order_id: int, make_link: bool = False) -> OrderFeedback:
    """The order's rating and status link; ``make_link``: make the link if it has none
    and this user makes links (in the caller's transaction)."""
    rating = (
        ratings.rating_of(session=session, order_id=order_id)
        if principal_of(session).may("ratings.read")
        else None
    )
    url = status_links.current_url(session=session, order_id=order_id)
    wanted = url is None and makes_links(session)
    if wanted and make_link:
        url = status_links.link_url(session=session, order_id=order_id)
        wanted = False
    return OrderFeedback(rating=rating, status_url=url, link_wanted=wanted)
