"""Every table of the core, importable from one place (Alembic autogenerate reads this)."""

from fsm_core.models.attachments import Attachment
from fsm_core.models.base import metadata
from fsm_core.models.catalog import WorkType
from fsm_core.models.chat import (
    AppUser,
    Channel,
    ChatRead,
    Message,
    MessageAttachment,
    UserKind,
)
from fsm_core.models.execution import (
    ChecklistAnswer,
    ChecklistBinding,
    ChecklistItem,
    ChecklistTemplate,
    ExecutionRecord,
    MaterialUse,
    OrderAttachment,
    WorkEntry,
    WorkExecutor,
)
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
from fsm_core.models.planning import Holiday, TimeOff, TimeOffKind, Visit, WorkPattern
from fsm_core.models.stock import (
    Item,
    MovementKind,
    Reservation,
    StockBalance,
    StockMovement,
    Warehouse,
    WarehouseKind,
)

__all__ = [
    "AppUser",
    "Attachment",
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
    "Holiday",
    "Item",
    "MaterialUse",
    "Message",
    "MessageAttachment",
    "MovementKind",
    "Order",
    "OrderAttachment",
    "OrderCounter",
    "OrderHistory",
    "OrderSource",
    "Reservation",
    "ServiceObject",
    "Setting",
    "SlaPolicy",
    "SlaStatus",
    "Stage",
    "StageCategory",
    "StageTransition",
    "StockBalance",
    "StockMovement",
    "TimeOff",
    "TimeOffKind",
    "UserKind",
    "Visit",
    "Warehouse",
    "WarehouseKind",
    "WorkEntry",
    "WorkExecutor",
    "WorkPattern",
    "WorkType",
    "metadata",
]
