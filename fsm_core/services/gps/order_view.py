"""What the order screen says of positions: how far the assignee is from the object
("2,9 км · 3 мин назад") and the verified arrival ("прибыл 10:42, на объекте 1 ч 5 мин").
Nothing at all for an order whose people the company does not track, so that an order
screen without GPS looks as it always did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.formatting import duration
from fsm_core.models import CrewMember, Order, Visit
from fsm_core.services import settings as company_settings
from fsm_core.services.gps.proximity import (
    Verdict,
    age_text,
    distance_text,
    employee_distance_to_object,
    is_tracked,
)
from fsm_core.services.gps.visits import Actual, How, order_arrival


@dataclass(frozen=True)
class OrderGps:
    """Two lines for the order screen and whose positions they read (to refresh them
    when those positions move)."""

    position: str
    arrival: str | None
    employee_ids: tuple[int, ...]


def _people(session: Session, order: Order) -> list[int]:
    people = [order.assignee_id] if order.assignee_id is not None else []
    crews = {order.crew_id} if order.crew_id is not None else set()
    crews |= {
        c
        for c in session.execute(
            select_columns(Visit.crew_id).where(
                Visit.order_id == order.id, col(Visit.crew_id).is_not(None)
            )
        ).scalars()
        if c is not None
    }
    if crews:
        people += [
            e
            for e in session.execute(
                select_columns(CrewMember.employee_id).where(col(CrewMember.crew_id).in_(crews))
            ).scalars()
            if e not in people
        ]
    return people


@requires("gps.read")
def order_gps(
    *, session: Session, order_id: int, lang: str, now: datetime | None = None
) -> OrderGps | None:
    """The order's position and arrival lines; None when none of its people is tracked."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    tracked = [e for e in _people(session, order) if is_tracked(session, e)]
    if not tracked:
        return None
    now = now or clock.now()
    tz = company_settings.load(session=session).tz
    ru = lang == "ru"
    reading = employee_distance_to_object(
        session=session, employee_id=tracked[0], object_id=order.object_id, now=now
    )
    if reading.verdict == Verdict.NO_COORDINATES:
        position = "у объекта нет координат" if ru else "the object has no coordinates"
    elif reading.distance_m is None or reading.fix_age_s is None:
        position = "нет позиции" if ru else "no position"
    else:
        position = (
            f"{distance_text(reading.distance_m, lang=lang)} · "
            f"{age_text(reading.fix_age_s, lang=lang)}"
        )
    arrival = arrival_text(order_arrival(session=session, order_id=order_id, now=now), tz, lang)
    return OrderGps(position, arrival, tuple(tracked))


def arrival_text(actual: Actual | None, tz: tzinfo, lang: str) -> str | None:
    """``прибыл 10:42, на объекте 1 ч 5 мин``, ``прибыл 10:42, уехал 11:47 (1 ч 5 мин)``,
    ``отметка 10:42 в 2,9 км от объекта — не подтверждена``, ``не проверить: у объекта нет
    координат``, ``не прибыл``; None when nothing was due yet."""
    if actual is None:
        return None
    ru = lang == "ru"
    if actual.arrived_at is None:
        if actual.reason and "coordinates" in actual.reason:
            return (
                "не проверить: у объекта нет координат"
                if ru
                else "not verified: the object has no coordinates"
            )
        return "не прибыл" if ru else "not arrived"
    at = actual.arrived_at.astimezone(tz).strftime("%H:%M")
    if actual.how == How.DETECTED:
        spent = duration((actual.left_at or clock.now()) - actual.arrived_at, lang=lang)
        if actual.left_at is None:
            return f"прибыл {at}, на объекте {spent}" if ru else f"arrived {at}, on site {spent}"
        left = actual.left_at.astimezone(tz).strftime("%H:%M")
        return (
            f"прибыл {at}, уехал {left} ({spent})" if ru else f"arrived {at}, left {left} ({spent})"
        )
    where = ""
    if actual.distance_m is not None:
        d = distance_text(actual.distance_m, lang=lang)
        where = f" в {d} от объекта" if ru else f" {d} from the object"
    if actual.how == How.UNVERIFIED:
        return (
            f"отметка {at}: не проверить, у объекта нет координат"
            if ru
            else f"checked in {at}: not verified, the object has no coordinates"
        )
    if actual.how == How.MANUAL_NEAR:
        return (
            f"отметка {at}{where}, по GPS не подтверждена"
            if ru
            else (f"checked in {at}{where}, not confirmed by GPS")
        )
    if actual.how == How.MANUAL_FAR:
        return f"отметка {at}{where} — далеко" if ru else f"checked in {at}{where} — far"
    return f"отметка {at} без позиции" if ru else f"checked in {at} without a position"
