"""Every table of the core, importable from one place (Alembic autogenerate reads this)."""

from fsm_core.models.base import metadata
from fsm_core.models.catalog import WorkType
from fsm_core.models.objects import ServiceObject
from fsm_core.models.orders import (
    Criticality,
    Order,
    OrderCounter,
    OrderHistory,
    OrderSource,
    Setting,
    SlaPolicy,
    SlaStatus,
    Stage,
    StageCategory,
    StageTransition,
)
from fsm_core.models.parties import Company, Contact, Crew, CrewMember, Employee

__all__ = [
    "Company",
    "Contact",
    "Crew",
    "CrewMember",
    "Criticality",
    "Employee",
    "Order",
    "OrderCounter",
    "OrderHistory",
    "OrderSource",
    "ServiceObject",
    "Setting",
    "SlaPolicy",
    "SlaStatus",
    "Stage",
    "StageCategory",
    "StageTransition",
    "WorkType",
    "metadata",
]
