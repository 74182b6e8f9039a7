"""The order lifecycle (жизненный цикл заявки): create, update, assign, move, list, history.

Every change goes through here, in the caller's transaction, and writes one history row per
changed field with the actor and the time. A change made on a stale copy of the order (its
``version`` moved on) raises :class:`Conflict`; nothing is silently overwritten.
"""

from __future__ import annotations

import string
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from fsm_core import clock
from fsm_core.errors import Conflict, Duplicate, InvalidInput, NotFound, TransitionNotAllowed
from fsm_core.models import (
    Company,
    Contact,
    Crew,
    Employee,
    Order,
    OrderCounter,
    OrderHistory,
    ServiceObject,
    Stage,
    StageCategory,
)
from fsm_core.schemas import validated
from fsm_core.schemas.orders import OrderCreate, OrderUpdate
from fsm_core.services import settings as company_settings
from fsm_core.services import sla
from fsm_core.services.order_queries import display_value, history_field
from fsm_core.services.stages import Workflow, guards, load_workflow


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP
"""Passed for an argument that should stay as it is (distinct from None, which clears)."""


# --- numbering -------------------------------------------------------------------------


def _pattern_fields(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name}


def _bump_counter(session: Session, scope: str) -> int:
    """Increment the scope's counter and return the new value.

    The UPDATE takes the counter row's lock until the transaction ends, so concurrent
    creators queue behind it, and a rolled-back creation gives its number back: numbers
    stay unique and without gaps.
    """
    bump = (
        update(OrderCounter)
        .where(col(OrderCounter.scope) == scope)
        .values(value=OrderCounter.value + 1)
        .returning(OrderCounter.value)
    )
    value = session.execute(bump).scalar()
    if value is None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(OrderCounter).values(scope=scope, value=0).on_conflict_do_nothing())
        value = session.execute(bump).scalar_one()
    return int(value)


def next_number(session: Session, *, created_at: datetime) -> str:
    """The next order number by the company's pattern (default ``{yy}-{seq:04d}``)."""
    settings = company_settings.load(session)
    pattern = settings.order_number_pattern
    fields = _pattern_fields(pattern)
    local = created_at.astimezone(settings.tz)
    scope = "all"
    if fields & {"yy", "yyyy"}:
        scope = f"{local.year:04d}"
        if "mm" in fields:
            scope += f"-{local.month:02d}"
    for _ in range(1000):
        seq = _bump_counter(session, scope)
        number = pattern.format(
            yy=f"{local.year % 100:02d}", yyyy=f"{local.year:04d}", mm=f"{local.month:02d}", seq=seq
        )
        taken = session.exec(sqlmodel_select(Order.id).where(Order.number == number)).first()
        if taken is None:  # an imported order may already carry this number
            return number
    raise InvalidInput(f"order number pattern {pattern!r} gives no free number")


# --- history ---------------------------------------------------------------------------


def _record(
    session: Session,
    order: Order,
    *,
    actor: str,
    action: str,
    changes: dict[str, tuple[Any, Any]] | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> None:
    at = at or clock.now()
    if changes is None:
        session.add(
            OrderHistory(order_id=order.id, at=at, actor=actor, action=action, new_value=note)
        )
        return
    for name, (old, new) in changes.items():
        session.add(
            OrderHistory(
                order_id=order.id,
                at=at,
                actor=actor,
                action=action,
                field=history_field(name),
                old_value=display_value(session, name, old),
                new_value=display_value(session, name, new),
            )
        )


# --- checks shared by create and update ------------------------------------------------


def _customer(session: Session, customer_id: int) -> Company:
    customer = session.get(Company, customer_id)
    if customer is None:
        raise NotFound("customer", f"#{customer_id}")
    return customer


def _check_object(session: Session, object_id: int | None, customer: Company) -> None:
    if object_id is None:
        return
    obj = session.get(ServiceObject, object_id)
    if obj is None:
        raise NotFound("object", f"#{object_id}")
    if obj.customer_id != customer.id:
        owner = session.get(Company, obj.customer_id)
        raise InvalidInput(
            f"object {obj.name!r} belongs to {owner.name if owner else 'another customer'}, "
            f"not to {customer.name}",
            field="object",
        )


def _check_contact(session: Session, contact_id: int | None, customer: Company) -> None:
    if contact_id is None:
        return
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact", f"#{contact_id}")
    if contact.company_id != customer.id:
        raise InvalidInput(
            f"contact {contact.full_name!r} is not a contact of {customer.name}", field="contact"
        )


def _check_assignee(session: Session, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    employee = session.get(Employee, assignee_id)
    if employee is None:
        raise NotFound("employee", f"#{assignee_id}")
    if not employee.active:
        raise InvalidInput(f"employee {employee.short_name} is not active", field="assignee")


def _check_crew(session: Session, crew_id: int | None) -> None:
    if crew_id is None:
        return
    crew = session.get(Crew, crew_id)
    if crew is None:
        raise NotFound("crew", f"#{crew_id}")
    if not crew.active:
        raise InvalidInput(f"crew {crew.name} is not active", field="crew")


def _stage_label(stage: Stage) -> str:
    return f"{stage.name_en} ({stage.code})"


def _require_assignee(order: Order, stage: Stage) -> None:
    if stage.requires_assignee and order.assignee_id is None and order.crew_id is None:
        raise TransitionNotAllowed(
            f"order {order.number} needs an assignee or a crew to be in stage "
            f"{_stage_label(stage)}",
            hint="assign it first: fsm orders assign",
        )


def _stage_timestamps(order: Order, stage: Stage, at: datetime) -> dict[str, Any]:
    """The reaction/resolution/closing timestamps entering ``stage`` implies."""
    category = StageCategory(stage.category)
    values: dict[str, Any] = {}
    if category not in (StageCategory.NEW, StageCategory.CANCELLED) and order.reacted_at is None:
        values["reacted_at"] = at
    if category == StageCategory.DONE:
        values["resolved_at"] = order.resolved_at or at
        values["closed_at"] = None
    elif category == StageCategory.CLOSED:
        values["resolved_at"] = order.resolved_at or at
        values["closed_at"] = at
    elif category == StageCategory.CANCELLED:
        values["resolved_at"] = None
        values["closed_at"] = at
    else:
        values["resolved_at"] = None
        values["closed_at"] = None
    return {k: v for k, v in values.items() if getattr(order, k) != v}


def _apply_deadlines(session: Session, order: Order, *, risk_share: Decimal) -> None:
    if order.sla_manual:
        order.sla_at_risk_at = sla.at_risk_moment(
            order.created_at, order.resolution_due, risk_share
        )
        return
    policy = sla.policy_for(session, customer_id=order.customer_id, criticality=order.criticality)
    deadlines = sla.compute_deadlines(
        created_at=order.created_at, policy=policy, risk_share=risk_share
    )
    order.reaction_due = deadlines.reaction_due
    order.resolution_due = deadlines.resolution_due
    order.sla_at_risk_at = deadlines.at_risk_at


# --- create ----------------------------------------------------------------------------


def create_order(*, session: Session, data: OrderCreate | dict[str, Any], actor: str) -> Order:
    """Create an order: number it, compute its SLA deadlines, record it in the history."""
    data = validated(OrderCreate, data)
    settings = company_settings.load(session)
    workflow = load_workflow(session)
    customer = _customer(session, data.customer_id)
    _check_object(session, data.object_id, customer)
    _check_contact(session, data.contact_id, customer)
    _check_assignee(session, data.assignee_id)
    _check_crew(session, data.crew_id)

    now = clock.now()
    created_at = data.created_at or now
    if data.stage:
        stage = workflow.stage(data.stage)
    else:
        stage = workflow.initial()
        if data.assignee_id is not None or data.crew_id is not None:
            stage = workflow.first_of(StageCategory.ACTIVE, reachable_from=stage.code) or stage

    if data.number:
        if session.exec(sqlmodel_select(Order.id).where(Order.number == data.number)).first():
            raise Duplicate(f"order number {data.number!r} is already taken")
        number = data.number
    else:
        number = next_number(session, created_at=created_at)
    if (
        data.external_id is not None
        and session.exec(
            sqlmodel_select(Order.id).where(Order.external_id == data.external_id)
        ).first()
    ):
        raise Duplicate(f"external id {data.external_id!r} is already used by another order")

    order = Order(
        number=number,
        external_id=data.external_id,
        customer_id=customer.id,
        object_id=data.object_id,
        contact_id=data.contact_id,
        description=data.description,
        criticality=data.criticality.value,
        stage_code=stage.code,
        assignee_id=data.assignee_id,
        crew_id=data.crew_id,
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        reaction_due=data.reaction_due,
        resolution_due=data.resolution_due,
        sla_manual=data.reaction_due is not None or data.resolution_due is not None,
        created_at=created_at,
        updated_at=now,
        source=data.source.value,
        created_by=actor,
    )
    _require_assignee(order, stage)
    _apply_deadlines(session, order, risk_share=settings.sla_risk_share)
    for name, value in _stage_timestamps(order, stage, now).items():
        setattr(order, name, value if name != "reacted_at" else min(value, created_at))
    session.add(order)
    session.flush()
    summary = [f"stage={stage.code}", f"criticality={order.criticality}"]
    if order.assignee_id is not None:
        summary.append(f"assignee={display_value(session, 'assignee_id', order.assignee_id)}")
    if order.crew_id is not None:
        summary.append(f"crew={display_value(session, 'crew_id', order.crew_id)}")
    _record(session, order, actor=actor, action="create", note=f"{number}; " + "; ".join(summary))
    return order


# --- changes to an existing order ------------------------------------------------------


def _load(session: Session, order_id: int, expected_version: int | None) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    if expected_version is not None and order.version != expected_version:
        raise Conflict(
            f"order {order.number}",
            expected_version=expected_version,
            current_version=order.version,
            current=snapshot(order),
        )
    return order


def _save(session: Session, order: Order, expected_version: int | None) -> Order:
    """Flush the order; a concurrent writer who got there first makes this a Conflict."""
    order.updated_at = clock.now()
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        current = session.get(Order, order.id, populate_existing=True)
        raise Conflict(
            f"order {order.number}",
            expected_version=expected_version,
            current_version=current.version if current else -1,
            current=snapshot(current) if current else None,
        ) from None
    return order


def snapshot(order: Order) -> dict[str, Any]:
    """The order's editable fields, as a conflict reports them."""
    return order.model_dump(
        include={
            "number",
            "version",
            "customer_id",
            "object_id",
            "contact_id",
            "description",
            "criticality",
            "stage_code",
            "assignee_id",
            "crew_id",
            "planned_start",
            "planned_end",
            "reaction_due",
            "resolution_due",
            "external_id",
        }
    )


def update_order(
    *,
    session: Session,
    order_id: int,
    data: OrderUpdate | dict[str, Any],
    actor: str,
    expected_version: int | None = None,
) -> Order:
    """Change an order's fields; only the fields set in ``data`` are touched."""
    data = validated(OrderUpdate, data)
    order = _load(session, order_id, expected_version)
    with session.no_autoflush:
        requested = data.model_dump(exclude_unset=True)
        if "criticality" in requested:
            requested["criticality"] = data.criticality.value if data.criticality else None
        changes = {k: v for k, v in requested.items() if getattr(order, k) != v}
        if not changes:
            return order

        customer = _customer(session, changes.get("customer_id", order.customer_id))
        object_id = changes.get("object_id", order.object_id)
        contact_id = changes.get("contact_id", order.contact_id)
        if "customer_id" in changes or "object_id" in changes:
            _check_object(session, object_id, customer)
        if "customer_id" in changes or "contact_id" in changes:
            _check_contact(session, contact_id, customer)
        start = changes.get("planned_start", order.planned_start)
        end = changes.get("planned_end", order.planned_end)
        if start is not None and end is not None and end < start:
            raise InvalidInput("planned end is before planned start", field="planned_end")
        if "external_id" in changes and changes["external_id"] is not None:
            clash = session.exec(
                sqlmodel_select(Order.number).where(
                    Order.external_id == changes["external_id"], Order.id != order.id
                )
            ).first()
            if clash:
                raise Duplicate(f"external id {changes['external_id']!r} is used by order {clash}")

        names = [*changes, *(f for f in _SLA_FIELDS if f not in changes)]
        old = {name: getattr(order, name) for name in names}
        for name, value in changes.items():
            setattr(order, name, value)
        if "reaction_due" in changes or "resolution_due" in changes:
            order.sla_manual = order.reaction_due is not None or order.resolution_due is not None
        if {"criticality", "customer_id", *_SLA_FIELDS} & changes.keys():
            settings = company_settings.load(session)
            _apply_deadlines(session, order, risk_share=settings.sla_risk_share)
        recorded = {
            name: (old[name], getattr(order, name))
            for name in old
            if old[name] != getattr(order, name)
        }
        _record(session, order, actor=actor, action="update", changes=recorded)
    return _save(session, order, expected_version)


_SLA_FIELDS = ("reaction_due", "resolution_due")


def _enter_stage(
    session: Session,
    order: Order,
    workflow: Workflow,
    dst: Stage,
    *,
    actor: str,
    note: str | None = None,
) -> None:
    """Move ``order`` to ``dst`` if the workflow and every guard allow it."""
    src = workflow.stages[order.stage_code]
    if src.code == dst.code:
        raise InvalidInput(f"order {order.number} is already in stage {_stage_label(dst)}")
    if not workflow.can_move(src.code, dst.code):
        allowed = ", ".join(_stage_label(s) for s in workflow.allowed_from(src.code)) or "none"
        raise TransitionNotAllowed(
            f"order {order.number} cannot move from {_stage_label(src)} to {_stage_label(dst)}; "
            f"allowed from here: {allowed}"
        )
    _require_assignee(order, dst)
    for guard in guards():
        guard(session, order, src, dst)
    now = clock.now()
    changes: dict[str, tuple[Any, Any]] = {"stage_code": (src.code, dst.code)}
    order.stage_code = dst.code
    for name, value in _stage_timestamps(order, dst, now).items():
        changes[name] = (getattr(order, name), value)
        setattr(order, name, value)
    _record(session, order, actor=actor, action="stage", changes={"stage": changes["stage_code"]})
    if note:
        _record(session, order, actor=actor, action="comment", note=note)


def move_order(
    *,
    session: Session,
    order_id: int,
    stage: str,
    actor: str,
    expected_version: int | None = None,
    note: str | None = None,
) -> Order:
    """Move an order to another stage (перейти на стадию), along an allowed transition."""
    order = _load(session, order_id, expected_version)
    with session.no_autoflush:
        workflow = load_workflow(session)
        _enter_stage(session, order, workflow, workflow.stage(stage), actor=actor, note=note)
    return _save(session, order, expected_version)


def assign_order(
    *,
    session: Session,
    order_id: int,
    actor: str,
    assignee_id: int | _Keep | None = KEEP,
    crew_id: int | _Keep | None = KEEP,
    expected_version: int | None = None,
) -> Order:
    """Give an order to an employee and/or a crew, or take it away (None).

    A new order that gets someone moves on to the first active stage ("assigned"); an
    order that loses everyone while in a stage that needs an assignee goes back to "new"
    when the workflow allows it, and is refused otherwise.
    """
    order = _load(session, order_id, expected_version)
    with session.no_autoflush:
        changes: dict[str, tuple[Any, Any]] = {}
        if assignee_id is not KEEP and assignee_id != order.assignee_id:
            _check_assignee(session, assignee_id)
            changes["assignee_id"] = (order.assignee_id, assignee_id)
        if crew_id is not KEEP and crew_id != order.crew_id:
            _check_crew(session, crew_id)
            changes["crew_id"] = (order.crew_id, crew_id)
        if not changes:
            return order
        for name, (_, new) in changes.items():
            setattr(order, name, new)
        _record(session, order, actor=actor, action="assign", changes=changes)

        workflow = load_workflow(session)
        stage = workflow.stages[order.stage_code]
        has_someone = order.assignee_id is not None or order.crew_id is not None
        if has_someone and stage.category == StageCategory.NEW:
            target = workflow.first_of(StageCategory.ACTIVE, reachable_from=stage.code)
            if target is not None:
                _enter_stage(session, order, workflow, target, actor=actor)
        elif not has_someone and stage.requires_assignee:
            back = workflow.first_of(StageCategory.NEW, reachable_from=stage.code)
            if back is None:
                raise TransitionNotAllowed(
                    f"order {order.number} is in stage {_stage_label(stage)} and must keep an "
                    "assignee or a crew",
                    hint="move it to another stage first",
                )
            _enter_stage(session, order, workflow, back, actor=actor)
    return _save(session, order, expected_version)
