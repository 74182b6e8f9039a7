"""A range of days per person, with the conflicts each is part of."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlmodel import Session

from fsm_core.access import requires
from fsm_core.errors import InvalidInput
from fsm_core.services.planning.conflicts import _conflicts
from fsm_core.services.planning.loading import _load, _Plan
from fsm_core.services.planning.views import Conflict, PersonDay, PersonSchedule, Schedule
from fsm_core.timeparse import local_day_bounds


@requires("plan.read")
def schedule(
    *,
    session: Session,
    first_day: date,
    last_day: date,
    employee_ids: Sequence[int] | None = None,
) -> Schedule:
    """Everyone's (or ``employee_ids``') days from ``first_day`` to ``last_day``: working
    time, time off, visits and the conflicts of each day."""
    if last_day < first_day:
        raise InvalidInput("the schedule ends before it starts")
    if (last_day - first_day).days > 62:
        raise InvalidInput("a schedule covers at most two months")
    plan = _load(session, first_day=first_day, last_day=last_day, employee_ids=employee_ids)
    found = [c for c in _conflicts(plan) if c.start < plan.end and c.end > plan.start]
    tz = plan.tz
    people = []
    for employee_id, name in plan.people.items():
        days = []
        mine = [c for c in found if employee_id in _people_of(plan, c)]
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            info = plan.calendar.day(employee_id, day)
            lo, hi = local_day_bounds(day, tz)
            visits = [v for v in plan.by_person.get(employee_id, []) if v.start < hi and v.end > lo]
            days.append(
                PersonDay(
                    day=day,
                    shifts=info.shifts,
                    working=info.working,
                    holiday=info.holiday,
                    time_off=[
                        {"id": t.id, "kind": t.kind, "note": t.note, "start": t.start, "end": t.end}
                        for t in info.time_off
                    ],
                    visits=sorted(visits, key=lambda v: (v.start, v.id)),
                    conflicts=[c for c in mine if c.start < hi and c.end > lo],
                )
            )
        people.append(
            PersonSchedule(employee_id, name, bool(plan.calendar.has_hours.get(employee_id)), days)
        )
    return Schedule(first_day, last_day, tz, people, found)


def _people_of(plan: _Plan, conflict: Conflict) -> set[int]:
    if conflict.employee_id is not None:
        return {conflict.employee_id}
    ids = set(conflict.visit_ids)
    return {e for e, visits in plan.by_person.items() if any(v.id in ids for v in visits)}


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)
