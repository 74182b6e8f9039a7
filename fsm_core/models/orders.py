"""Orders (заявки), their stages and transitions, SLA policies and change history."""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field

from fsm_core.models.base import Table, external_id_field, utc_field
from fsm_core.vocabulary import (
    Criticality,
)


class StageCategory(StrEnum):
    """What a stage means to the rules; each configurable stage belongs to one category.

    new: the order waits for a reaction; active: someone works on it (leaving "new" for an
    active stage is the SLA reaction); paused: on hold; done: work finished (SLA resolution);
    closed: accepted and archived; cancelled: withdrawn, no SLA.
    """

    NEW = "new"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OrderSource(StrEnum):
    MANUAL = "manual"
    IMPORT = "import"
    PASSPORT = "passport"
    CHECKLIST = "checklist"
    QR = "qr"  # the customer scanned an object's label and sent the request form


class Stage(Table, table=True):
    """A stage of an order's life (стадия); the set is configurable."""

    __tablename__ = "stage"
    __table_args__ = (
        CheckConstraint(
            "category IN ('new', 'active', 'paused', 'done', 'closed', 'cancelled')",
            name="category",
        ),
    )

    code: str = Field(primary_key=True, max_length=40)
    name_en: str = Field(max_length=100)
    name_ru: str = Field(max_length=100)
    category: str = Field(max_length=20)
    position: int = Field(default=0)
    requires_assignee: bool = Field(default=False)

    def name(self, lang: str) -> str:
        return self.name_ru if lang == "ru" else self.name_en


class StageTransition(Table, table=True):
    """An allowed move from one stage to another."""

    __tablename__ = "stage_transition"

    from_code: str = Field(
        foreign_key="stage.code", primary_key=True, max_length=40, ondelete="CASCADE"
    )
    to_code: str = Field(
        foreign_key="stage.code", primary_key=True, max_length=40, ondelete="CASCADE"
    )


class SlaPolicy(Table, table=True):
    """Reaction and resolution times by criticality; a customer's own row wins over the default.

    ``calendar`` says when its clocks run: ``24/7``, ``company`` (the company's working
    hours, the ``company_hours`` setting, less holidays) or the contract's own weekly hours
    (``mon-sat 08:00-20:00``, less holidays); see :mod:`fsm_core.services.sla`.
    """

    __tablename__ = "sla_policy"
    __table_args__ = (
        UniqueConstraint("customer_id", "criticality"),
        CheckConstraint("reaction_minutes > 0 AND resolution_minutes > 0", name="positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="company.id", ondelete="CASCADE")
    criticality: str = Field(max_length=20)
    reaction_minutes: int
    resolution_minutes: int
    calendar: str = Field(default="24/7", max_length=200)


_version = Column("version", Integer, nullable=False)


class Order(Table, table=True):
    """An order (заявка)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("criticality IN ('low', 'normal', 'high', 'critical')", name="criticality"),
        CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name="planned_window",
        ),
        Index("ix_orders_stage_assignee_created", "stage_code", "assignee_id", "created_at"),
        Index("ix_orders_assignee_created", "assignee_id", "created_at"),
        Index("ix_orders_crew_created", "crew_id", "created_at"),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_object_created", "object_id", "created_at"),
        Index("ix_orders_resolution_due", "resolution_due"),
        # the reports of a period; the stage: the finished orders counted from the index alone
        Index("ix_orders_resolved_stage", "resolved_at", "stage_code"),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _version}

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    external_id: str | None = external_id_field()
    customer_id: int = Field(foreign_key="company.id", ondelete="RESTRICT")
    object_id: int | None = Field(
        default=None, foreign_key="service_object.id", ondelete="RESTRICT"
    )
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    description: str = Field(sa_column=Column(Text, nullable=False))
    criticality: str = Field(default=Criticality.NORMAL.value, max_length=20)
    stage_code: str = Field(foreign_key="stage.code", max_length=40, ondelete="RESTRICT")
    assignee_id: int | None = Field(default=None, foreign_key="employee.id", ondelete="RESTRICT")
    crew_id: int | None = Field(default=None, foreign_key="crew.id", ondelete="RESTRICT")
    planned_start: datetime | None = utc_field()
    planned_end: datetime | None = utc_field()
    reaction_due: datetime | None = utc_field()
    resolution_due: datetime | None = utc_field()
    sla_at_risk_at: datetime | None = utc_field()
    # a deadline typed in (kept), not the policy's (recomputed when the criticality changes)
    reaction_manual: bool = Field(default=False)
    resolution_manual: bool = Field(default=False)
    reacted_at: datetime | None = utc_field()
    resolved_at: datetime | None = utc_field()
    closed_at: datetime | None = utc_field()
    created_at: datetime = utc_field(default_now=True, index=True)
    updated_at: datetime = utc_field(default_now=True)
    source: str = Field(default=OrderSource.MANUAL.value, max_length=20)
    created_by: str = Field(max_length=100)
    version: int = Field(default=1, sa_column=_version)
    # the import that wrote the order ahead of publishing it (SQLite): hidden from every
    # reader while that import_batch is not published (see fsm_core/import_batches.py)
    import_batch_id: int | None = Field(default=None)


class OrderHistory(Table, table=True):
    """One change of one order field (история изменений): who, when, old and new value."""

    __tablename__ = "order_history"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    at: datetime = utc_field(default_now=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=20)
    field: str | None = Field(default=None, max_length=50)
    old_value: str | None = Field(default=None, sa_column=Column(Text))
    new_value: str | None = Field(default=None, sa_column=Column(Text))


class ImportBatch(Table, table=True):
    """An import that writes its orders ahead, in short transactions, before one short
    transaction publishes them all (SQLite; see fsm_core/import_batches.py). Its orders
    are hidden from every reader until ``published``; those of a batch whose process is
    gone unpublished are deleted by the next program that opens the database."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=200)  # host and process (fsm_core.files.process_tag)
    started_at: datetime = utc_field(default_now=True)
    published: bool = Field(default=False)
    first_id: int | None = Field(default=None)  # the ids its orders lie between
    last_id: int | None = Field(default=None)
    counters: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    """JSON: order-number scope -> [value before the batch, value after it]"""


class OrderCounter(Table, table=True):
    """The last order number handed out per numbering scope (e.g. per year)."""

    __tablename__ = "order_counter"

    scope: str = Field(primary_key=True, max_length=40)
    value: int = Field(default=0)


class Setting(Table, table=True):
    """A company-wide setting every dispatcher shares (key / text value)."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))
