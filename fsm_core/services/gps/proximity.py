"""How far a technician is from an object by their latest fix, and what a manual check-in
is worth: near, far, no fix, stale, or not verifiable (the object has no coordinates).

A check-in is never taken as an arrival by itself: it records the distance and the fix's
age beside the time, and the order shows them ("checked in 2,9 km from the object")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, select

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models import AppUser, GpsDevice, Order, Position, ServiceObject
from fsm_core.services import settings as company_settings
from fsm_core.services.gps.positions import latest_positions
from fsm_core.services.gps.stays import metres


class Verdict(StrEnum):
    NEAR = "near"
    FAR = "far"
    NO_FIX = "no_fix"
    STALE = "stale"
    NO_COORDINATES = "no_coordinates"


@dataclass(frozen=True)
class Proximity:
    """The latest fix read against an object: ``distance_m`` None when there is no fix or
    the object has no point; ``fix_age_s`` None without a fix."""

    verdict: Verdict
    distance_m: float | None
    fix_age_s: int | None
    fix_at: datetime | None
    radius_m: int
    object_name: str | None = None


@requires("parties.read")
def object_point(session: Session, object_id: int) -> tuple[str, float, float, int] | None:
    """An object's name, point (its own or its site's) and radius; None without a point."""
    from fsm_core.services.planning.loading import places

    place = places(session=session, object_ids=[object_id]).get(object_id)
    if place is None or place.point is None:
        return None
    obj = session.get(ServiceObject, object_id)
    radius = obj.gps_radius_m if obj is not None and obj.gps_radius_m else None
    if radius is None:
        radius = company_settings.load(session=session).gps_radius_m
    return place.name, place.point[0], place.point[1], radius


@requires("gps.read")
def employee_distance_to_object(
    *,
    session: Session,
    employee_id: int | None,
    object_id: int | None,
    now: datetime | None = None,
) -> Proximity:
    """The employee's latest fix against the object: near (within its radius), far,
    stale (older than ``gps_fresh_minutes``), no fix, or no coordinates to compare."""
    cfg = company_settings.load(session=session)
    point = object_point(session, object_id) if object_id is not None else None
    name = None
    if object_id is not None:
        obj = session.get(ServiceObject, object_id)
        name = obj.name if obj is not None else None
    if point is None:
        return Proximity(Verdict.NO_COORDINATES, None, None, None, cfg.gps_radius_m, name)
    _, lat, lon, radius = point
    latest = (
        latest_positions(session=session, employee_ids=[employee_id]).get(employee_id)
        if employee_id is not None
        else None
    )
    if latest is None:
        return Proximity(Verdict.NO_FIX, None, None, None, radius, name)
    age = max(0, int(((now or clock.now()) - latest.at).total_seconds()))
    distance = metres(latest.latitude, latest.longitude, lat, lon)
    if age > cfg.gps_fresh_minutes * 60:
        verdict = Verdict.STALE
    elif distance <= radius:
        verdict = Verdict.NEAR
    else:
        verdict = Verdict.FAR
    return Proximity(verdict, round(distance, 1), age, latest.at, radius, name)


@requires("orders.execute")
def check_in_employee(session: Session, order: Order, actor: str) -> int | None:
    """Whose position a check-in is read against: the answering user's employee if the
    user is one, else the order's assignee."""
    found = {
        employee_id
        for employee_id in session.exec(
            select(AppUser.employee_id).where(AppUser.display_name == actor)
        ).all()
        if employee_id is not None
    }
    if len(found) == 1:
        return int(found.pop())
    return order.assignee_id


@requires("gps.read")
def is_tracked(session: Session, employee_id: int) -> bool:
    """Whether the employee carries a bound device or has any position: a check-in of
    someone the company does not track records only its time."""
    device = session.exec(
        select(GpsDevice.id).where(GpsDevice.employee_id == employee_id).limit(1)
    ).first()
    if device is not None:
        return True
    return (
        session.exec(
            select(Position.id).where(Position.employee_id == employee_id).limit(1)
        ).first()
        is not None
    )


def distance_text(distance_m: float, *, lang: str) -> str:
    """``40 м``, ``2,9 км`` / ``40 m``, ``2.9 km``."""
    if distance_m < 1000:
        return f"{round(distance_m)} м" if lang == "ru" else f"{round(distance_m)} m"
    km = f"{distance_m / 1000:.1f}" if distance_m < 100_000 else f"{round(distance_m / 1000)}"
    return f"{km.replace('.', ',')} км" if lang == "ru" else f"{km} km"


def age_text(seconds: int, *, lang: str) -> str:
    """``3 мин назад`` / ``3 min ago``; ``только что`` under a minute."""
    minutes = seconds // 60
    if minutes < 1:
        return "только что" if lang == "ru" else "just now"
    if minutes < 120:
        return f"{minutes} мин назад" if lang == "ru" else f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} ч назад" if lang == "ru" else f"{hours} h ago"
    return f"{hours // 24} д назад" if lang == "ru" else f"{hours // 24} d ago"


def verdict_text(
    verdict: str | None,
    distance_m: float | None,
    fix_age_s: int | None,
    *,
    lang: str,
) -> str:
    """What a check-in's reading says to a person."""
    ru = lang == "ru"
    if verdict == Verdict.NEAR and distance_m is not None:
        d = distance_text(distance_m, lang=lang)
        return f"отметка у объекта ({d})" if ru else f"checked in at the object ({d})"
    if verdict == Verdict.FAR and distance_m is not None:
        d = distance_text(distance_m, lang=lang)
        return f"отметка в {d} от объекта" if ru else f"checked in {d} from the object"
    if verdict == Verdict.STALE and fix_age_s is not None:
        span = _span(fix_age_s, lang=lang)
        return f"нет позиции {span}" if ru else f"no position for {span}"
    if verdict == Verdict.NO_COORDINATES:
        return (
            "не проверить: у объекта нет координат"
            if ru
            else "not verified: the object has no coordinates"
        )
    return "нет позиции" if ru else "no position"


def _span(seconds: int, *, lang: str) -> str:
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} мин" if lang == "ru" else f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} ч" if lang == "ru" else f"{hours} h"
    return f"{hours // 24} д" if lang == "ru" else f"{hours // 24} d"
