"""Field execution (выполнение): checklists, work done with its executors, materials used,
attachments and the customer's signature — what the act of completed works is made of.

Prices and hourly rates are copied into the records when the work is recorded: a work
type's price or a technician's rate changed next month must not change an act signed today.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field

import fsm_core.models.attachments  # noqa: F401  (answers and signatures point at files)
from fsm_core.models.base import Table, created_at_field, money_field, utc_field
from fsm_core.models.catalog import CHARGE_CHECK, Charge
from fsm_core.models.types import Quantity  # exact thousandths, as stock quantities


class ChecklistTemplate(Table, table=True):
    """A checklist (чек-лист) that teaches and controls: ordered items to answer."""

    __tablename__ = "checklist_template"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()


class ChecklistItem(Table, table=True):
    """One question of a checklist, with the rule its answer may trigger."""

    __tablename__ = "checklist_item"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('yes_no', 'number', 'text', 'choice', 'file', 'check_in')", name="kind"
        ),
        UniqueConstraint("template_id", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="checklist_template.id", index=True, ondelete="CASCADE")
    position: int
    kind: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    hint: str | None = Field(default=None, sa_column=Column(Text))
    required: bool = Field(default=True)
    unit: str | None = Field(default=None, max_length=20)
    min_value: Decimal | None = Field(default=None, sa_type=Quantity)
    max_value: Decimal | None = Field(default=None, sa_type=Quantity)
    choices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # the rule: when the answer is this ("no", a choice, or "out_of_range" for numbers) ...
    trigger: str | None = Field(default=None, max_length=200)
    # ... create a follow-up order with this description ({answer}, {order}, {item}) ...
    follow_up: str | None = Field(default=None, sa_column=Column(Text))
    # ... and/or raise the order's criticality to this
    raise_to: str | None = Field(default=None, max_length=20)


class ChecklistBinding(Table, table=True):
    """Where a checklist applies: a work type, an object kind, or one order."""

    __tablename__ = "checklist_binding"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN work_type_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN object_kind IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN order_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="checklist_template.id", index=True, ondelete="CASCADE")
    work_type_id: int | None = Field(
        default=None, foreign_key="work_type.id", index=True, ondelete="CASCADE"
    )
    object_kind: str | None = Field(default=None, max_length=100, index=True)
    order_id: int | None = Field(
        default=None, foreign_key="orders.id", index=True, ondelete="CASCADE"
    )


class ChecklistAnswer(Table, table=True):
    """An answer given on an order: the latest one counts; each change is in the history."""

    __tablename__ = "checklist_answer"
    __table_args__ = (UniqueConstraint("order_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="checklist_item.id", ondelete="CASCADE")
    value: str | None = Field(default=None, sa_column=Column(Text))
    number: Decimal | None = Field(default=None, sa_type=Quantity)
    attachment_id: int | None = Field(
        default=None, foreign_key="attachment.id", ondelete="SET NULL"
    )
    answered_by: str = Field(max_length=100)
    answered_at: datetime = utc_field(default_now=True)
    # a check-in read against the technician's GPS: metres from their latest fix to the
    # object (None: no fix, or the object has no coordinates), that fix's age in seconds,
    # and the verdict: near, far, no_fix, stale, no_coordinates
    check_in_distance_m: float | None = Field(default=None)
    check_in_fix_age_s: int | None = Field(default=None)
    check_in_verdict: str | None = Field(default=None, max_length=20)


class WorkEntry(Table, table=True):
    """Work done on an order (выполненная работа): a work type on an object, over a time."""

    __tablename__ = "work_entry"
    __table_args__ = (
        CheckConstraint("finished_at > started_at", name="period"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(CHARGE_CHECK, name="charge"),
        Index("ix_work_entry_started_at", "started_at"),  # the reports of a period
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    object_id: int | None = Field(
        default=None, foreign_key="service_object.id", ondelete="SET NULL"
    )
    work_type_id: int | None = Field(default=None, foreign_key="work_type.id", ondelete="SET NULL")
    work_type_name: str = Field(max_length=300)
    unit: str = Field(max_length=20)
    quantity: Decimal = Field(default=Decimal(1), sa_type=Quantity)
    price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    # how the work type was charged when the work was recorded, kept like its price
    charge: str = Field(default=Charge.BOTH.value, max_length=10)
    started_at: datetime = utc_field(nullable=False)
    finished_at: datetime = utc_field(nullable=False)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class WorkExecutor(Table, table=True):
    """Who did a work entry, at the hourly rate they had when it was recorded."""

    __tablename__ = "work_executor"
    __table_args__ = (
        CheckConstraint("hours > 0", name="hours"),
        # the reports of a period sum each entry's hours and their price from the index
        # alone, not by reading every executor's row
        Index("ix_work_executor_hours", "work_entry_id", "employee_id", "hours", "hourly_rate"),
    )

    work_entry_id: int = Field(foreign_key="work_entry.id", primary_key=True, ondelete="CASCADE")
    employee_id: int = Field(foreign_key="employee.id", primary_key=True, ondelete="RESTRICT")
    employee_name: str = Field(max_length=100)
    hours: Decimal = Field(sa_type=Quantity)
    hourly_rate: Decimal = money_field(default=Decimal("0.00"), nullable=False)


class MaterialUse(Table, table=True):
    """A material used on an order (списание), written off a warehouse, price kept."""

    __tablename__ = "material_use"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_material_use_created_at", "created_at"),  # the reports of a period
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    work_entry_id: int | None = Field(
        default=None, foreign_key="work_entry.id", ondelete="SET NULL"
    )
    item_id: int = Field(foreign_key="stock_item.id", ondelete="RESTRICT")
    warehouse_id: int = Field(foreign_key="warehouse.id", ondelete="RESTRICT")
    item_name: str = Field(max_length=300)
    unit: str = Field(max_length=20)
    quantity: Decimal = Field(sa_type=Quantity)
    price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    movement_id: int | None = Field(
        default=None, foreign_key="stock_movement.id", ondelete="SET NULL"
    )
    created_by: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class OrderAttachment(Table, table=True):
    """A photo or document attached to an order's execution."""

    __tablename__ = "order_attachment"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    attachment_id: int = Field(foreign_key="attachment.id", ondelete="RESTRICT")
    note: str | None = Field(default=None, max_length=300)
    added_by: str = Field(max_length=100)
    added_at: datetime = created_at_field()


class ExecutionRecord(Table, table=True):
    """An order's execution summary: the comment, and the customer's signature.

    A signature freezes the execution it signed (see
    :func:`fsm_core.services.execution.execution_lock`) until it is withdrawn.
    """

    __tablename__ = "execution_record"

    order_id: int = Field(foreign_key="orders.id", primary_key=True, ondelete="CASCADE")
    comment: str | None = Field(default=None, sa_column=Column(Text))
    signer_name: str | None = Field(default=None, max_length=200)
    signer_position: str | None = Field(default=None, max_length=200)
    signed_at: datetime | None = utc_field()
    signature_id: int | None = Field(default=None, foreign_key="attachment.id", ondelete="SET NULL")
    updated_by: str | None = Field(default=None, max_length=100)
