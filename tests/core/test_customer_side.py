"""The customer's side in the core: an order's status link, and ratings given once."""

from datetime import timedelta
from decimal import Decimal

import pytest

from fsm_core import clock
from fsm_core.errors import Duplicate, InvalidInput, NotFound
from fsm_core.services import orders, ratings, settings, status_links


def _done(db, world):
    order = world.order(assignee_id=world.ivanov.id)
    with db.transaction() as s:
        for stage in ("in_progress", "done"):
            orders.move_order(session=s, order_id=order.id, stage=stage, actor="t")
    return order


def test_public_address_follows_the_passport_base():
    assert status_links.public_base("https://service.example.ru/p") == "https://service.example.ru"
    assert status_links.public_base("https://x.ru/fsm/p/") == "https://x.ru/fsm"
    assert status_links.public_base("https://x.ru/passport") == "https://x.ru"
    assert status_links.status_url("https://x.ru/p", "abc") == "https://x.ru/s/abc"


def test_a_status_link_is_made_once_and_replacing_it_revokes_the_old(db, world):
    order = world.order()
    with db.transaction() as s:
        first = status_links.ensure_link(session=s, order_id=order.id).token
        again = status_links.ensure_link(session=s, order_id=order.id).token
        settings.set_value(session=s, key="passport_base_url", value="https://svc.ru/p")
        url = status_links.link_url(session=s, order_id=order.id)
    assert first == again
    assert len(first) >= 22  # 128 bits, URL-safe
    assert url == f"https://svc.ru/s/{first}"
    with db.reader() as s:
        assert status_links.order_by_token(session=s, token=first).id == order.id
    with db.transaction() as s:
        new = status_links.replace_link(session=s, order_id=order.id).token
    with db.reader() as s:
        assert status_links.order_by_token(session=s, token=new).id == order.id
        with pytest.raises(NotFound) as old:
            status_links.order_by_token(session=s, token=first)
        with pytest.raises(NotFound) as unknown:
            status_links.order_by_token(session=s, token="A" * 22)
    # the same words, whichever it was
    assert str(old.value).replace(first[:8], "X") == str(unknown.value).replace("AAAAAAAA", "X")


def test_a_status_link_expires_some_days_after_the_order_is_closed(db, world):
    order = _done(db, world)
    with db.transaction() as s:
        token = status_links.ensure_link(session=s, order_id=order.id).token
        settings.set_value(session=s, key="status_link_days", value="10")
        orders.move_order(session=s, order_id=order.id, stage="closed", actor="t")
    with clock.frozen(clock.now() + timedelta(days=9)), db.reader() as s:
        assert status_links.order_by_token(session=s, token=token).id == order.id
    with (
        clock.frozen(clock.now() + timedelta(days=11)),
        db.reader() as s,
        pytest.raises(NotFound),
    ):
        status_links.order_by_token(session=s, token=token)


def test_a_done_order_is_rated_once_and_its_rating_is_the_mean(db, world):
    order = _done(db, world)
    with db.transaction() as s:
        ratings.rate(
            session=s,
            order_id=order.id,
            promptness="5",
            accuracy=4,
            communication=5,
            comment="  Быстро   и аккуратно ",
            actor="Смирнова",
        )
    with db.reader() as s:
        view = ratings.rating_of(session=s, order_id=order.id)
    assert view is not None
    assert (view.promptness, view.accuracy, view.communication) == (5, 4, 5)
    assert view.comment == "Быстро и аккуратно"
    assert view.rating == Decimal("4.67")
    with pytest.raises(Duplicate, match="rated already"), db.transaction() as s:
        ratings.rate(
            session=s, order_id=order.id, promptness=1, accuracy=1, communication=1, actor="x"
        )
    with db.reader() as s:
        assert ratings.rating_of(session=s, order_id=order.id).rating == Decimal("4.67")
        listed = ratings.list_ratings(session=s)
    assert [r.as_json()["rating"] for r in listed] == [4.67]
    assert listed[0].as_json()["number"] == order.number


@pytest.mark.parametrize(
    ("scores", "comment", "field"),
    [
        ((0, 5, 5), None, "promptness"),
        ((5, 6, 5), None, "accuracy"),
        ((5, 5, "x"), None, "communication"),
        ((5, 5, None), None, "communication"),
        ((5, 5, 5), "я" * 111, "comment"),
        ((5, 5, 5), "bad \x1b[2J", "comment"),
    ],
)
def test_bad_scores_and_comments_are_refused_by_field(db, world, scores, comment, field):
    order = _done(db, world)
    with pytest.raises(InvalidInput) as refused, db.transaction() as s:
        ratings.rate(
            session=s,
            order_id=order.id,
            promptness=scores[0],
            accuracy=scores[1],
            communication=scores[2],
            comment=comment,
            actor="x",
        )
    assert refused.value.field == field
    with db.reader() as s:
        assert ratings.rating_of(session=s, order_id=order.id) is None


def test_an_order_not_done_cannot_be_rated(db, world):
    order = world.order()
    with pytest.raises(InvalidInput, match="not done yet"), db.transaction() as s:
        ratings.rate(
            session=s, order_id=order.id, promptness=5, accuracy=5, communication=5, actor="x"
        )


def test_the_unhappy_ratings_are_listed_with_at_most(db, world):
    happy, unhappy = _done(db, world), _done(db, world)
    with db.transaction() as s:
        ratings.rate(
            session=s, order_id=happy.id, promptness=5, accuracy=5, communication=5, actor="x"
        )
        ratings.rate(
            session=s, order_id=unhappy.id, promptness=2, accuracy=3, communication=2, actor="x"
        )
    with db.reader() as s:
        low = ratings.list_ratings(session=s, at_most=3)
        all_of_them = ratings.list_ratings(session=s, customer_ids=[world.customer.id])
    assert [r.number for r in low] == [unhappy.number]
    assert len(all_of_them) == 2
