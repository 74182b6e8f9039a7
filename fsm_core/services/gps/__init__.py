"""Where the technicians are: devices, positions and what they say about visits.

- :mod:`.fixes` — a fix as it arrives from outside and the checks it must pass;
- :mod:`.devices` — which employee a device belongs to;
- :mod:`.store` — keeping a batch of fixes (working hours, duplicates, unknown devices);
- :mod:`.positions` — reading fixes back, the latest of each, pruning;
- :mod:`.stays` — arrivals, departures and long stops read from one employee's fixes;
- :mod:`.visits` — a day's stays read against the visits and orders, visits' actuals;
- :mod:`.proximity` — the distance to an object by the latest fix, check-in verdicts;
- :mod:`.day` — a technician's day: kilometres, time on site and on the road.
"""

from fsm_core.services.gps.day import DayReport, day_report
from fsm_core.services.gps.devices import (
    DeviceView,
    bind_device,
    check_identifier,
    list_devices,
    unbind_device,
)
from fsm_core.services.gps.fixes import KNOT_KMH, Fix, check_fix
from fsm_core.services.gps.positions import (
    Latest,
    Point,
    count_positions,
    latest_positions,
    prune,
    read_fixes,
)
from fsm_core.services.gps.proximity import (
    Proximity,
    Verdict,
    employee_distance_to_object,
)
from fsm_core.services.gps.stays import Thresholds
from fsm_core.services.gps.store import Outcome, Recorded, record_fixes, retention_start
from fsm_core.services.gps.visits import (
    Actual,
    DayMarks,
    DayStays,
    How,
    Stay,
    day_marks,
    day_stays,
    order_arrival,
    visit_actuals,
)

__all__ = [
    "KNOT_KMH",
    "Actual",
    "DayMarks",
    "DayReport",
    "DayStays",
    "DeviceView",
    "Fix",
    "How",
    "Latest",
    "Outcome",
    "Point",
    "Proximity",
    "Recorded",
    "Stay",
    "Thresholds",
    "Verdict",
    "bind_device",
    "check_fix",
    "check_identifier",
    "count_positions",
    "day_marks",
    "day_report",
    "day_stays",
    "employee_distance_to_object",
    "latest_positions",
    "list_devices",
    "order_arrival",
    "prune",
    "read_fixes",
    "record_fixes",
    "retention_start",
    "unbind_device",
    "visit_actuals",
]
