"""The planner (планировщик заявок): visits, schedules, conflicts, free slots, the queue.

A visit puts an employee or a crew on an order's object for a span of time; planning it
assigns the order through the order service (with history) and keeps the order's planned
window equal to the span of its visits. Conflicts are never refused, only shown: every
view of a schedule asks :func:`conflicts`, the one place that knows them:

- ``overlap``: one person has two visits at once (a crew's visit occupies every member);
- ``day_off`` / ``outside_hours``: a visit on a holiday, on leave or sick days, on a day
  the working pattern has no shift, or partly outside the day's working hours;
- ``after_deadline``: the visit ends after the order's SLA resolution deadline;
- ``travel``: the gap between two consecutive visits of a day is shorter than the drive
  (great-circle distance between the objects at the ``travel_speed_kmh`` setting);
- ``no_coordinates``: a note that travel could not be checked for an object.

Modules: ``views`` (what is shown and said), ``loading`` (a range read once),
``conflicts``, ``schedule``, ``slots`` (free slots, nearest, offers, the queue) and
``commands`` (changing the plan). Reading typed days and times lives in
:mod:`fsm_core.timeparse`.
"""

from __future__ import annotations

from fsm_core.services.planning.commands import (
    VisitInThePast,
    WorkWindow,
    add_visit,
    get_visit,
    is_past,
    move_visit,
    remove_visit,
    resolve_visit,
    set_home_base,
    visit_view,
    visits_of_order,
    work_window,
)
from fsm_core.services.planning.conflicts import (
    conflicts,
)
from fsm_core.services.planning.loading import (
    places,
)
from fsm_core.services.planning.schedule import (
    schedule,
    week_of,
)
from fsm_core.services.planning.slots import (
    OFFER_DAYS,
    Candidate,
    FreeSlot,
    VisitOffer,
    free_slots,
    nearest,
    offer_visit,
    unscheduled,
)
from fsm_core.services.planning.views import (
    EARTH_RADIUS_KM,
    MAX_VISIT,
    PAST_TOLERANCE,
    SEVERITY,
    Conflict,
    PersonDay,
    PersonSchedule,
    Place,
    Schedule,
    VisitView,
    describe,
    haversine_km,
    travel_minutes,
)
from fsm_core.timeparse import read_day, read_moment, read_window

__all__ = [
    "EARTH_RADIUS_KM",
    "MAX_VISIT",
    "OFFER_DAYS",
    "PAST_TOLERANCE",
    "SEVERITY",
    "Candidate",
    "Conflict",
    "FreeSlot",
    "PersonDay",
    "PersonSchedule",
    "Place",
    "Schedule",
    "VisitInThePast",
    "VisitOffer",
    "VisitView",
    "WorkWindow",
    "add_visit",
    "conflicts",
    "describe",
    "free_slots",
    "get_visit",
    "haversine_km",
    "is_past",
    "move_visit",
    "nearest",
    "offer_visit",
    "places",
    "read_day",
    "read_moment",
    "read_window",
    "remove_visit",
    "resolve_visit",
    "schedule",
    "set_home_base",
    "travel_minutes",
    "unscheduled",
    "visit_view",
    "visits_of_order",
    "week_of",
    "work_window",
]
