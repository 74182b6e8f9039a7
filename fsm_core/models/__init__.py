"""Every table, importable from one place.

The order core's tables (parties, objects, work types, orders) load with this package; the
other areas (stock, execution, planning, chats, attachments) load the first time one of
their names is asked for, so that `fsm orders list` does not pay for defining tables it
never touches. :func:`load_all` loads everything (Alembic and the schema tests need the
complete metadata).
"""

import importlib
from typing import Any

from fsm_core.models.base import metadata
from fsm_core.models.catalog import WorkType
from fsm_core.models.objects import ServiceObject
from fsm_core.models.orders import (
    ImportBatch,
    Order,
    OrderCounter,
    OrderHistory,
    OrderSource,
    Setting,
    SlaPolicy,
    Stage,
    StageCategory,
    StageTransition,
)
from fsm_core.models.parties import Company, Contact, Crew, CrewMember, Employee
from fsm_core.vocabulary import Criticality, MovementKind, SlaStatus, WarehouseKind

_AREAS = ("attachments", "stock", "execution", "planning", "chat", "gps", "customer")
_LAZY: dict[str, str] = {
    "Attachment": "attachments",
    "AppUser": "chat",
    "AuditEntry": "chat",
    "UserRole": "chat",
    "Channel": "chat",
    "ChatRead": "chat",
    "Message": "chat",
    "MessageAttachment": "chat",
    "UserKind": "chat",
    "ChecklistAnswer": "execution",
    "ChecklistBinding": "execution",
    "ChecklistItem": "execution",
    "ChecklistTemplate": "execution",
    "ExecutionRecord": "execution",
    "MaterialUse": "execution",
    "OrderAttachment": "execution",
    "WorkEntry": "execution",
    "WorkExecutor": "execution",
    "GpsDevice": "gps",
    "MapBackground": "gps",
    "Position": "gps",
    "Notification": "customer",
    "NotificationEvent": "customer",
    "NotificationState": "customer",
    "OrderRating": "customer",
    "StatusLink": "customer",
    "Holiday": "planning",
    "TimeOff": "planning",
    "TimeOffKind": "planning",
    "Visit": "planning",
    "WorkPattern": "planning",
    "Item": "stock",
    "Reservation": "stock",
    "StockBalance": "stock",
    "StockMovement": "stock",
    "Warehouse": "stock",
}


def __getattr__(name: str) -> Any:
    area = _LAZY.get(name)
    if area is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{area}"), name)
    globals()[name] = value
    return value


def load_all() -> None:
    """Define every table (for Alembic's autogenerate and the schema checks)."""
    for area in _AREAS:
        importlib.import_module(f"{__name__}.{area}")


__all__ = [
    "AppUser",
    "Attachment",
    "AuditEntry",
    "Channel",
    "ChatRead",
    "ChecklistAnswer",
    "ChecklistBinding",
    "ChecklistItem",
    "ChecklistTemplate",
    "Company",
    "Contact",
    "Crew",
    "CrewMember",
    "Criticality",
    "Employee",
    "ExecutionRecord",
    "GpsDevice",
    "Holiday",
    "ImportBatch",
    "Item",
    "MapBackground",
    "MaterialUse",
    "Message",
    "MessageAttachment",
    "MovementKind",
    "Notification",
    "NotificationEvent",
    "NotificationState",
    "Order",
    "OrderAttachment",
    "OrderCounter",
    "OrderHistory",
    "OrderRating",
    "OrderSource",
    "Position",
    "Reservation",
    "ServiceObject",
    "Setting",
    "SlaPolicy",
    "SlaStatus",
    "Stage",
    "StageCategory",
    "StageTransition",
    "StatusLink",
    "StockBalance",
    "StockMovement",
    "TimeOff",
    "TimeOffKind",
    "UserKind",
    "UserRole",
    "Visit",
    "Warehouse",
    "WarehouseKind",
    "WorkEntry",
    "WorkExecutor",
    "WorkPattern",
    "WorkType",
    "metadata",
]
