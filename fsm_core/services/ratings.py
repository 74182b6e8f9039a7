"""Customers' ratings of finished orders (оценки): promptness (оперативность), accuracy
(точность) and communication (общение), 1–5 each, and a comment of at most 110
characters, as the reference product asks them. An order is rated once: a second rating
is refused, never overwrites the first. The order's rating is the mean of the three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import order_filter, requires
from fsm_core.errors import Duplicate, InvalidInput, NotFound
from fsm_core.models import Company, Employee, Order, OrderHistory, ServiceObject, Stage
from fsm_core.models.customer import COMMENT_LENGTH, OrderRating
from fsm_core.models.orders import StageCategory

SCORES = ("promptness", "accuracy", "communication")
SCORE_NAMES = {
    "promptness": ("promptness", "оперативность"),
    "accuracy": ("accuracy", "точность"),
    "communication": ("communication", "общение"),
}
RATED = (StageCategory.DONE.value, StageCategory.CLOSED.value)
"""The stage categories of an order that may be rated: the work is done."""
_HUNDREDTH = Decimal("0.01")


def mean(promptness: int, accuracy: int, communication: int) -> Decimal:
    """The order's rating: the mean of its three scores, to two decimals (4.67)."""
    total = Decimal(promptness + accuracy + communication)
    return (total / 3).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RatingView:
    order_id: int
    number: str
    promptness: int
    accuracy: int
    communication: int
    comment: str | None
    rating: Decimal
    rated_at: datetime
    customer: str | None = None
    object: str | None = None
    assignee: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "promptness": self.promptness,
            "accuracy": self.accuracy,
            "communication": self.communication,
            "comment": self.comment,
            "rating": float(self.rating),
            "rated_at": self.rated_at.isoformat(),
            "customer": self.customer,
            "object": self.object,
            "assignee": self.assignee,
        }


def _score(name: str, value: object) -> int:
    en, ru = SCORE_NAMES[name]
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise InvalidInput(
            f"{en}: give a score from 1 to 5",
            field=name,
            ru=f"{ru}: поставьте оценку от 1 до 5",
        )
    return int(text)


def clean_comment(comment: str | None) -> str | None:
    """The comment as stored: trimmed, at most 110 characters, no control characters."""
    if comment is None:
        return None
    text = " ".join(comment.split())
    if not text:
        return None
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text):
        raise InvalidInput(
            "comment: control characters are not taken",
            field="comment",
            ru="комментарий: управляющие символы не принимаются",
        )
    if len(text) > COMMENT_LENGTH:
        raise InvalidInput(
            f"comment: at most {COMMENT_LENGTH} characters (this one has {len(text)})",
            field="comment",
            ru=f"комментарий: не больше {COMMENT_LENGTH} символов (здесь {len(text)})",
        )
    return text


def _category(session: Session, order: Order) -> str:
    stage = session.get(Stage, order.stage_code)
    return stage.category if stage else ""


@requires("ratings.read", scoped=True)
def may_rate(*, session: Session, order: Order) -> bool:
    """The order is done and not rated yet."""
    if _category(session, order) not in RATED:
        return False
    return not session.execute(
        select(exists().where(OrderRating.order_id == order.id))
    ).scalar_one()


@requires("ratings.give", scoped=True)
def rate(
    *,
    session: Session,
    order_id: int,
    promptness: object,
    accuracy: object,
    communication: object,
    comment: str | None = None,
    actor: str,
) -> OrderRating:
    """Record the customer's rating of a done order, once."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    scores = {
        "promptness": _score("promptness", promptness),
        "accuracy": _score("accuracy", accuracy),
        "communication": _score("communication", communication),
    }
    text = clean_comment(comment)
    if _category(session, order) not in RATED:
        raise InvalidInput(
            f"order {order.number} is not done yet: it can be rated when the work is done",
            ru=f"заявка {order.number} ещё не выполнена: оценить её можно после выполнения",
        )
    if session.get(OrderRating, order_id) is not None:
        raise _rated_already(order)
    rating = OrderRating(order_id=order_id, comment=text, rated_at=clock.now(), **scores)
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        # another submission of the same order won the race
        raise _rated_already(order) from None
    session.add(
        OrderHistory(
            order_id=order_id,
            at=rating.rated_at,
            actor=actor,
            action="rate",
            field="rating",
            new_value=str(mean(**scores)),
        )
    )
    return rating


def _rated_already(order: Order) -> Duplicate:
    return Duplicate(
        f"order {order.number} has been rated already",
        ru=f"заявка {order.number} уже оценена",
    )


def _views(session: Session, query: Any) -> list[RatingView]:
    rows = session.execute(query).all()
    return [
        RatingView(
            order_id=r.OrderRating.order_id,
            number=r.number,
            promptness=r.OrderRating.promptness,
            accuracy=r.OrderRating.accuracy,
            communication=r.OrderRating.communication,
            comment=r.OrderRating.comment,
            rating=mean(
                r.OrderRating.promptness, r.OrderRating.accuracy, r.OrderRating.communication
            ),
            rated_at=r.OrderRating.rated_at,
            customer=r.customer,
            object=r.object,
            assignee=r.assignee,
        )
        for r in rows
    ]


def _query() -> Any:
    return (
        select(
            OrderRating,
            Order.number,
            Company.name.label("customer"),
            ServiceObject.name.label("object"),
            Employee.short_name.label("assignee"),
        )
        .join(Order, Order.id == OrderRating.order_id)
        .join(Company, Company.id == Order.customer_id)
        .outerjoin(ServiceObject, ServiceObject.id == Order.object_id)
        .outerjoin(Employee, Employee.id == Order.assignee_id)
    )


@requires("ratings.read", scoped=True)
def rating_of(*, session: Session, order_id: int) -> RatingView | None:
    found = _views(session, _query().where(OrderRating.order_id == order_id))
    return found[0] if found else None


@requires("ratings.read", scoped=True)  # a technician's or customer's own: order_filter
def list_ratings(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    customer_ids: Sequence[int] = (),
    object_ids: Sequence[int] = (),
    employee_ids: Sequence[int] = (),
    at_most: int | None = None,
    limit: int | None = None,
) -> list[RatingView]:
    """Ratings, newest first: rated in [since, until), of these customers, objects or
    assignees, with an order rating at most ``at_most`` (the unhappy ones)."""
    query = _query()
    scope = order_filter(session, "ratings.read")
    if scope is not None:
        query = query.where(scope)
    if since is not None:
        query = query.where(col(OrderRating.rated_at) >= since)
    if until is not None:
        query = query.where(col(OrderRating.rated_at) < until)
    if customer_ids:
        query = query.where(col(Order.customer_id).in_(customer_ids))
    if object_ids:
        query = query.where(col(Order.object_id).in_(object_ids))
    if employee_ids:
        query = query.where(col(Order.assignee_id).in_(employee_ids))
    if at_most is not None:
        total = (
            col(OrderRating.promptness) + col(OrderRating.accuracy) + col(OrderRating.communication)
        )
        query = query.where(total <= at_most * 3)
    query = query.order_by(col(OrderRating.rated_at).desc(), col(OrderRating.order_id).desc())
    if limit is not None:
        query = query.limit(limit)
    return _views(session, query)
