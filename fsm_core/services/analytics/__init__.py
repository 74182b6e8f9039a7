"""Analytics (аналитика): employees ranked "N of M", each order's figures, the company's
volume, backlog, SLA compliance, objects, materials and ratings — for a period of local
days and optional filters, aggregated by the database.

:mod:`.employees` says who is credited with what; :mod:`.common` holds the period, the
filters, the buckets and the ranking rules (competition ranking, and the shrunk mean the
rating is ranked on).
"""

from fsm_core.services.analytics.common import (
    NO_FILTERS,
    Filters,
    Period,
    buckets,
    competition_ranks,
    month_of,
    shrunk,
)
from fsm_core.services.analytics.company import (
    DailyCount,
    backlog,
    daily_counts,
    materials,
    per_bucket,
    ratings_distribution,
    sla_compliance,
    summary,
    top_objects,
    volume,
)
from fsm_core.services.analytics.employees import (
    METRICS,
    EmployeeReport,
    EmployeeStats,
    employee_report,
)
from fsm_core.services.analytics.order_stats import OrderStats, order_report, stage_times

__all__ = [
    "METRICS",
    "NO_FILTERS",
    "DailyCount",
    "EmployeeReport",
    "EmployeeStats",
    "Filters",
    "OrderStats",
    "Period",
    "backlog",
    "buckets",
    "competition_ranks",
    "daily_counts",
    "employee_report",
    "materials",
    "month_of",
    "order_report",
    "per_bucket",
    "ratings_distribution",
    "shrunk",
    "sla_compliance",
    "stage_times",
    "summary",
    "top_objects",
    "volume",
]
