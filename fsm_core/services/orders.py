"""The order lifecycle (жизненный цикл заявки): create, update, assign, move, list, history.

Every change goes through here, in the caller's transaction, and writes one history row per
changed field with the actor and the time. A change made on a stale copy of the order (its
``version`` moved on) raises :class:`Conflict`; nothing is silently overwritten.
"""

from __future__ import annotations

import re
import sqlite3
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from fsm_core import clock, import_batches, search_index
from fsm_core.access import authorize_customer, requires
from fsm_core.bulk import execute_in, insert_rows, select_in, staging_of
from fsm_core.db import writers_waiting
from fsm_core.errors import Conflict, Duplicate, InvalidInput, NotFound, TransitionNotAllowed
from fsm_core.models import (
    Company,
    Contact,
    Crew,
    Criticality,
    Employee,
    ExecutionRecord,
    Order,
    OrderCounter,
    OrderHistory,
    OrderSource,
    ServiceObject,
    SlaPolicy,
    StageCategory,
)
from fsm_core.schemas import validated
from fsm_core.schemas.orders import OrderCreate, OrderUpdate
from fsm_core.services import settings as company_settings
from fsm_core.services import sla
from fsm_core.services.common import dialect_insert
from fsm_core.services.order_queries import display_value, history_field
from fsm_core.services.stages import (
    StageView,
    Workflow,
    after_move_hooks,
    drop_after_order_saved,
    guards,
    load_workflow,
    run_after_order_saved,
)


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP
T = TypeVar("T")
"""Passed for an argument that should stay as it is (distinct from None, which clears)."""


# --- numbering -------------------------------------------------------------------------


def _pattern_fields(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name}


def _bump_counter(session: Session, scope: str, amount: int = 1) -> int:
    """Increase the scope's counter by ``amount`` and return the new value.

    The UPDATE takes the counter row's lock until the transaction ends, so concurrent
    creators queue behind it, and a rolled-back creation gives its number back: numbers
    stay unique and without gaps.
    """
    bump = (
        update(OrderCounter)
        .where(col(OrderCounter.scope) == scope)
        .values(value=OrderCounter.value + amount)
        .returning(OrderCounter.value)
    )
    value = session.execute(bump).scalar()
    if value is None:
        insert = dialect_insert(session=session)
        session.execute(insert(OrderCounter).values(scope=scope, value=0).on_conflict_do_nothing())
        value = session.execute(bump).scalar_one()
    import_batches.record_bump(session, scope, int(value), amount)
    return int(value)


@requires("orders.create", scoped=True)
def next_number(*, session: Session, created_at: datetime) -> str:
    """The next order number by the company's pattern (default ``{yy}-{seq:04d}``)."""
    ctx = OrderContext(session)
    return _assign_numbers(ctx, [order_month(ctx, created_at)], reserved=set())[0]


# --- history ---------------------------------------------------------------------------


@requires("orders.execute")
def record_history(
    *,
    session: Session,
    order: Order,
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
                old_value=display_value(session=session, name=name, value=old),
                new_value=display_value(session=session, name=name, value=new),
            )
        )


# --- what the rules need, loaded once per action -------------------------------------


class OrderContext:
    """The settings, workflow, SLA policies and referenced records the order rules consult.

    One action builds one context; a bulk import builds one for the whole file and calls
    :meth:`preload`, so that checking 100,000 rows costs dictionary lookups, not queries.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.settings = company_settings.load(session=session)
        self.workflow = load_workflow(session=session)
        self._policies: dict[tuple[int | None, str], tuple[int, int, str]] | None = None
        self._calendars: sla.Calendars | None = None
        self._offsets: dict[tuple[int, str], tuple[Any, Any, Any, Any]] = {}
        self._companies: dict[int, str] = {}
        self._objects: dict[int, tuple[int, str]] = {}
        self._contacts: dict[int, tuple[int, str]] = {}
        self._employees: dict[int, tuple[bool, str]] = {}
        self._crews: dict[int, tuple[bool, str]] = {}
        self._signatures: dict[int, tuple[str | None, datetime]] | None = None
        self._complete = False

    def preload(self) -> OrderContext:
        s = self.session
        self._companies = dict(s.execute(select(Company.id, Company.name)).all())
        self._objects = {
            i: (c, n)
            for i, c, n in s.execute(
                select(ServiceObject.id, ServiceObject.customer_id, ServiceObject.name)
            )
        }
        self._contacts = {
            i: (c, n)
            for i, c, n in s.execute(select(Contact.id, Contact.company_id, Contact.full_name))
        }
        self._employees = {
            i: (a, n)
            for i, a, n in s.execute(select(Employee.id, Employee.active, Employee.short_name))
        }
        self._crews = {i: (a, n) for i, a, n in s.execute(select(Crew.id, Crew.active, Crew.name))}
        self._signatures = {
            i: (who, when)
            for i, who, when in s.execute(
                select(
                    ExecutionRecord.order_id,
                    ExecutionRecord.signer_name,
                    ExecutionRecord.signed_at,
                ).where(col(ExecutionRecord.signed_at).is_not(None))
            )
        }
        self.policies()
        self.calendars()
        self._complete = True
        return self

    def remember_company(self, company_id: int, name: str) -> None:
        self._companies[company_id] = name

    def remember_object(self, object_id: int, customer_id: int, name: str) -> None:
        self._objects[object_id] = (customer_id, name)

    def _fetch(
        self, cache: dict[int, T], model: type[Any], key: int, make: Callable[[Any], T]
    ) -> T | None:
        if key in cache:
            return cache[key]
        if self._complete:
            return None
        record = self.session.get(model, key)
        if record is None:
            return None
        cache[key] = make(record)
        return cache[key]

    def company(self, company_id: int) -> str | None:
        return self._fetch(self._companies, Company, company_id, lambda r: r.name)

    def object(self, object_id: int) -> tuple[int, str] | None:
        return self._fetch(
            self._objects, ServiceObject, object_id, lambda r: (r.customer_id, r.name)
        )

    def contact(self, contact_id: int) -> tuple[int, str] | None:
        return self._fetch(
            self._contacts, Contact, contact_id, lambda r: (r.company_id, r.full_name)
        )

    def employee(self, employee_id: int) -> tuple[bool, str] | None:
        return self._fetch(
            self._employees, Employee, employee_id, lambda r: (r.active, r.short_name)
        )

    def crew(self, crew_id: int) -> tuple[bool, str] | None:
        return self._fetch(self._crews, Crew, crew_id, lambda r: (r.active, r.name))

    def signature(self, order_id: int) -> tuple[str | None, datetime] | None:
        """Who signed the order's act and when, while the signature stands."""
        if self._signatures is not None:
            return self._signatures.get(order_id)
        record = self.session.get(ExecutionRecord, order_id)
        if record is None or record.signed_at is None:
            return None
        return record.signer_name, record.signed_at

    def policies(self) -> dict[tuple[int | None, str], tuple[int, int, str]]:
        if self._policies is None:
            rows = self.session.execute(
                select(
                    SlaPolicy.customer_id,
                    SlaPolicy.criticality,
                    SlaPolicy.reaction_minutes,
                    SlaPolicy.resolution_minutes,
                    SlaPolicy.calendar,
                )
            )
            self._policies = {(c, k): (r, res, cal) for c, k, r, res, cal in rows}
        return self._policies

    def calendars(self) -> sla.Calendars:
        """The service calendars as they are now (zone, company hours, holidays)."""
        if self._calendars is None:
            self._calendars = sla.load_calendars(session=self.session, settings=self.settings)
        return self._calendars

    def _policy(self, customer_id: int, criticality: str) -> tuple[Any, Any, Any, Any]:
        """(reaction, resolution, at-risk offset, calendar) of the policy that applies."""
        key = (customer_id, criticality)
        offsets = self._offsets.get(key)
        if offsets is None:
            policies = self.policies()
            found = policies.get(key) or policies.get((None, criticality))
            if found is None:
                offsets = None, None, None, sla.AROUND_THE_CLOCK
            else:
                reaction = timedelta(minutes=found[0])
                resolution = timedelta(minutes=found[1])
                # the same arithmetic as sla.compute_deadlines, done once per policy
                risk = sla.risk_offset(resolution, self.settings.sla_risk_share)
                offsets = reaction, resolution, risk, self.calendars().get(found[2])
            self._offsets[key] = offsets
        return offsets

    def deadlines(self, customer_id: int, criticality: str, created_at: datetime) -> sla.Deadlines:
        """The policy's deadlines, in the open time of its calendar."""
        reaction, resolution, risk, calendar = self._policy(customer_id, criticality)
        if reaction is None:
            return sla.Deadlines(None, None, None)
        if calendar.always:
            return sla.Deadlines(created_at + reaction, created_at + resolution, created_at + risk)
        return sla.Deadlines(
            calendar.add(created_at, reaction),
            calendar.add(created_at, resolution),
            calendar.add(created_at, risk),
        )

    def at_risk(
        self, customer_id: int, criticality: str, created_at: datetime, due: datetime | None
    ) -> datetime | None:
        """When a typed-in resolution deadline is at risk, in the policy's calendar."""
        calendar = self._policy(customer_id, criticality)[3]
        return sla.at_risk_moment(created_at, due, self.settings.sla_risk_share, calendar)

    # -- checks shared by create and update --

    def check_customer(self, customer_id: int) -> str:
        name = self.company(customer_id)
        if name is None:
            raise NotFound("customer", f"#{customer_id}")
        return name

    def check_object(self, object_id: int | None, customer_id: int) -> None:
        if object_id is None:
            return
        found = self.object(object_id)
        if found is None:
            raise NotFound("object", f"#{object_id}")
        owner_id, name = found
        if owner_id != customer_id:
            owner = self.company(owner_id) or "another customer"
            raise InvalidInput(
                f"object {name!r} belongs to {owner}, not to {self.company(customer_id)}",
                field="object",
            )

    def check_contact(self, contact_id: int | None, customer_id: int) -> None:
        if contact_id is None:
            return
        found = self.contact(contact_id)
        if found is None:
            raise NotFound("contact", f"#{contact_id}")
        if found[0] != customer_id:
            raise InvalidInput(
                f"contact {found[1]!r} is not a contact of {self.company(customer_id)}",
                field="contact",
            )

    def check_assignee(self, assignee_id: int | None) -> None:
        if assignee_id is None:
            return
        found = self.employee(assignee_id)
        if found is None:
            raise NotFound("employee", f"#{assignee_id}")
        if not found[0]:
            raise InvalidInput(f"employee {found[1]} is not active", field="assignee")

    def check_crew(self, crew_id: int | None) -> None:
        if crew_id is None:
            return
        found = self.crew(crew_id)
        if found is None:
            raise NotFound("crew", f"#{crew_id}")
        if not found[0]:
            raise InvalidInput(f"crew {found[1]} is not active", field="crew")


def _stage_label(stage: StageView) -> str:
    return f"{stage.name_en} ({stage.code})"


def _stage_label_ru(stage: StageView) -> str:
    """Russian messages name stages as people do, never by code."""
    return f"«{stage.name_ru}»"


def _require_assignee(number: str, values: Mapping[str, Any], stage: StageView) -> None:
    if stage.requires_assignee and values["assignee_id"] is None and values["crew_id"] is None:
        raise TransitionNotAllowed(
            f"order {number or '(new)'} needs an assignee or a crew to be in stage "
            f"{_stage_label(stage)}",
            hint="assign it first: fsm orders assign",
            ru=f"заявке {number or '(новой)'} для стадии {_stage_label_ru(stage)} нужен "
            "исполнитель или бригада",
            hint_ru="сначала назначьте: fsm orders assign",
        )


def _stage_timestamps(values: Mapping[str, Any], stage: StageView, at: datetime) -> dict[str, Any]:
    """The reaction/resolution/closing timestamps entering ``stage`` implies."""
    category = stage.category
    result: dict[str, Any] = {}
    if category != "new" and category != "cancelled" and not values["reacted_at"]:
        result["reacted_at"] = at
    if category == "done":
        result["resolved_at"] = values["resolved_at"] or at
        result["closed_at"] = None
    elif category == "closed":
        result["resolved_at"] = values["resolved_at"] or at
        result["closed_at"] = values["closed_at"] or at
    elif category == "cancelled":
        result["resolved_at"] = None
        result["closed_at"] = values["closed_at"] or at
    else:
        result["resolved_at"] = None
        result["closed_at"] = None
    return {k: v for k, v in result.items() if values[k] != v}


def _sla_values(ctx: OrderContext, values: Mapping[str, Any]) -> dict[str, Any]:
    """reaction_due / resolution_due / sla_at_risk_at for ``values``: a deadline typed in
    (its ``*_manual`` flag) is kept, the other comes from the policy, counted from the
    creation time in the policy's calendar as it is now."""
    customer_id, criticality = values["customer_id"], values["criticality"]
    d = ctx.deadlines(customer_id, criticality, values["created_at"])
    result = {
        "reaction_due": values["reaction_due"] if values["reaction_manual"] else d.reaction_due,
        "resolution_due": (
            values["resolution_due"] if values["resolution_manual"] else d.resolution_due
        ),
        "sla_at_risk_at": d.at_risk_at,
    }
    if values["resolution_manual"]:
        result["sla_at_risk_at"] = ctx.at_risk(
            customer_id, criticality, values["created_at"], values["resolution_due"]
        )
    return result


def history_action(name: str, merged: Mapping[str, Any]) -> str:
    """The history's action for a changed field: "sla" for a deadline the policy gave
    (recomputed), "update" for what someone set."""
    flag = MANUAL_FLAGS.get(name)
    return "sla" if flag is not None and not merged[flag] else "update"


# --- create ----------------------------------------------------------------------------

ORDER_COLUMNS = (
    "number",
    "external_id",
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
    "sla_at_risk_at",
    "reaction_manual",
    "resolution_manual",
    "reacted_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
    "source",
    "created_by",
    "version",
)


def prepare_new_order(
    ctx: OrderContext, data: Mapping[str, Any], *, now: datetime
) -> dict[str, Any]:
    """Apply every rule of creation to ``data`` (the fields of :class:`OrderCreate`, absent
    ones at their defaults); returns the row to insert, its number still None unless
    given. Raises for anything that breaks a rule; touches nothing."""
    get = data.get
    customer_id = data["customer_id"]
    object_id, contact_id = get("object_id"), get("contact_id")
    assignee_id, crew_id = get("assignee_id"), get("crew_id")
    ctx.check_customer(customer_id)
    ctx.check_object(object_id, customer_id)
    ctx.check_contact(contact_id, customer_id)
    ctx.check_assignee(assignee_id)
    ctx.check_crew(crew_id)
    description = (get("description") or "").strip()
    if not description:
        raise InvalidInput("description: an order needs a description", field="description")
    if len(description) > 4000:
        raise InvalidInput("description: longer than 4000 characters", field="description")
    planned_start, planned_end = get("planned_start"), get("planned_end")
    if planned_start is not None and planned_end is not None and planned_end < planned_start:
        raise InvalidInput("planned end is before planned start", field="planned_end")
    workflow = ctx.workflow
    if get("stage"):
        stage = workflow.stage(data["stage"])
    else:
        stage = workflow.initial()
        if assignee_id is not None or crew_id is not None:
            stage = workflow.first_of(StageCategory.ACTIVE, reachable_from=stage.code) or stage
    criticality = str(get("criticality") or Criticality.NORMAL)
    created_at = get("created_at") or now
    reaction_due, resolution_due = get("reaction_due"), get("resolution_due")
    # each deadline given is typed in, unless it is the policy's (an exported order coming
    # back); the one not given comes from the policy
    reaction_manual = resolution_manual = False
    if reaction_due is not None or resolution_due is not None:
        policy = ctx.deadlines(customer_id, criticality, created_at)
        reaction_manual = reaction_due is not None and reaction_due != policy.reaction_due
        resolution_manual = resolution_due is not None and resolution_due != policy.resolution_due
    row: dict[str, Any] = {
        "number": get("number"),
        "external_id": get("external_id"),
        "customer_id": customer_id,
        "object_id": object_id,
        "contact_id": contact_id,
        "description": description,
        "criticality": criticality,
        "stage_code": stage.code,
        "assignee_id": assignee_id,
        "crew_id": crew_id,
        "planned_start": planned_start,
        "planned_end": planned_end,
        "reaction_due": reaction_due,
        "resolution_due": resolution_due,
        "reaction_manual": reaction_manual,
        "resolution_manual": resolution_manual,
        "reacted_at": get("reacted_at"),
        "resolved_at": get("resolved_at"),
        "closed_at": get("closed_at"),
        "created_at": created_at,
        "updated_at": now,
        "source": str(get("source") or OrderSource.MANUAL),
        "version": 1,
    }
    _require_assignee(row["number"] or "", row, stage)
    row.update(_sla_values(ctx, row))
    for name, value in _stage_timestamps(row, stage, now).items():
        row[name] = min(value, created_at) if name == "reacted_at" and value else value
    return row


# The history's "create" row, written by the database for a whole batch at once:
# "26-0001; stage=assigned; criticality=high; assignee=Иванов К. П.; crew=..."
_CREATION_HISTORY = """
INSERT INTO order_history (order_id, at, actor, action, new_value)
SELECT o.id, ?, ?, 'create',
       o.number || '; stage=' || o.stage_code || '; criticality=' || o.criticality
       || COALESCE('; assignee=' || e.short_name, '') || COALESCE('; crew=' || c.name, '')
FROM orders o
LEFT JOIN employee e ON e.id = o.assignee_id
LEFT JOIN crew c ON c.id = o.crew_id
WHERE {which}
"""


def insert_new_orders(
    ctx: OrderContext,
    rows: Sequence[dict[str, Any]],
    *,
    actor: str,
    now: datetime,
    return_ids: bool = True,
    history: bool = True,
) -> list[int]:
    """Number, insert and record prepared orders in one go; returns their ids in order
    (unless ``return_ids`` is false: an import does not need them).

    Explicit numbers and external ids must be free (checked here, in one query each);
    the others get the next numbers of their scope, the counter bumped once per scope.
    """
    stored = [[row.get(name) for name in ORDER_COLUMNS] for row in rows]
    months = [None if row["number"] else order_month(ctx, row["created_at"]) for row in rows]
    numbers = store_new_orders(ctx, stored, months, actor=actor, now=now, history=history)
    for row, number in zip(rows, numbers, strict=True):
        row["number"] = number
    if not return_ids:
        return []
    ids = _ids_by_number(ctx.session, numbers)
    return [ids[n] for n in numbers]


_NUMBER = ORDER_COLUMNS.index("number")
_EXTERNAL_ID = ORDER_COLUMNS.index("external_id")
_CREATED_BY = ORDER_COLUMNS.index("created_by")


def order_month(ctx: OrderContext, created_at: datetime) -> tuple[int, int]:
    """The (year, month) of ``created_at`` in the company's zone: what numbers it."""
    if 2 <= created_at.day <= 27:  # no zone is a day away from UTC: the same month
        return created_at.year, created_at.month
    local = created_at.astimezone(ctx.settings.tz)
    return local.year, local.month


def store_new_orders(
    ctx: OrderContext,
    rows: Sequence[list[Any]],
    months: Sequence[tuple[int, int] | None],
    *,
    actor: str,
    now: datetime,
    history: bool = True,
    external_ids_checked: bool = False,
) -> list[str]:
    """The writing half of :func:`insert_new_orders`, for rows already laid out as
    :data:`ORDER_COLUMNS` lists in a form :func:`fsm_core.bulk.insert_rows` takes (a bulk
    import prepares them in worker processes, with times already in stored form). A row
    without a number gets the next one of its ``months`` entry's scope. Returns the
    numbers, in order. ``history=False`` leaves the "create" history rows to a later
    :func:`record_creations`. ``external_ids_checked``: the caller has just found that
    none of the rows' external ids is taken (an import matching rows by them)."""
    session = ctx.session
    given = [r[_NUMBER] for r in rows if r[_NUMBER]]
    if len(set(given)) != len(given):
        raise Duplicate("the same order number appears twice")
    taken = _existing(session, Order.number, given)
    if taken:
        raise Duplicate(f"order number {sorted(taken)[0]!r} is already taken")
    external = [r[_EXTERNAL_ID] for r in rows if r[_EXTERNAL_ID]]
    if len(set(external)) != len(external):
        raise Duplicate("the same external id appears twice")
    taken = set() if external_ids_checked else _existing(session, Order.external_id, external)
    if taken:
        raise Duplicate(f"external id {sorted(taken)[0]!r} is already used by another order")
    for row in rows:
        row[_CREATED_BY] = actor
    stage = staging_of(session)
    if stage is not None and stage.writes_ahead:
        _gather_ahead(ctx, stage, rows, months, now=now)
        stage.on_publish("orders", lambda: _publish_batch(ctx, stage, actor=actor, now=now))
        stage.on_abandon("orders", lambda: _abandon_batch(ctx, stage))
        return [r[_NUMBER] for r in rows]
    if stage is not None:
        _hold_back(ctx, stage, rows, months, actor=actor, now=now)
        return [r[_NUMBER] for r in rows]
    unnumbered = [i for i, r in enumerate(rows) if not r[_NUMBER]]
    wanted: list[tuple[int, int]] = []
    for i in unnumbered:
        month = months[i]
        if month is None:
            raise ValueError(f"row {i} has neither a number nor a month to number it by")
        wanted.append(month)
    for i, number in zip(unnumbered, _assign_numbers(ctx, wanted, set(given)), strict=True):
        rows[i][_NUMBER] = number
    _advance_counters(ctx, given)
    insert_rows(session, "orders", ORDER_COLUMNS, rows)
    numbers = [r[_NUMBER] for r in rows]
    if history:
        statement = _CREATION_HISTORY.replace("{which}", "o.number {in}")
        execute_in(session, statement, (now, actor), numbers)
    return numbers


def record_creations(ctx: OrderContext, *, after_id: int, actor: str, now: datetime) -> None:
    """The history's "create" rows of every order with an id above ``after_id``: what a
    bulk load that stored its orders with ``history=False`` calls once, at its end. (Only
    where no one else can insert meanwhile: SQLite, whose writer holds the database.) A
    staged load writes them when it publishes instead."""
    if staging_of(ctx.session) is not None:
        return
    statement = _CREATION_HISTORY.replace("{which}", "o.id > ?")
    ctx.session.connection().exec_driver_sql(statement, (now, actor, after_id))


# --- a long import's orders on SQLite, written ahead and published at its end --------------

_BATCH = "fsm_import_batch"  # Staging.info key: the batch's id


AHEAD_ROWS = 8_000
"""New orders an import writes ahead per write turn (SQLite) when no one else waits for
the lock: about 0.3 s of it on two cores. Fewer per turn cost more in all (every turn
rewrites the indexes' pages it touches into the write-ahead log: 2,000 a turn took a fifth
longer)."""
AHEAD_ROWS_BUSY = 2_000
"""The same while other writers wait for the lock (about 0.1 s of it)."""


class _Ahead:
    """An import's checked new orders not yet written ahead (Staging.info[_AHEAD]). The
    import's own look-ups by number or external id (:func:`fsm_core.bulk.select_in`) find
    them as if written: a later row giving the same number is refused at its line."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget them (written)."""
        self.rows: list[list[Any]] = []
        self.months: list[tuple[int, int] | None] = []
        self.by: dict[str, dict[Any, list[Any]]] = {"number": {}, "external_id": {}}

    def add(self, rows: Sequence[list[Any]], months: Sequence[tuple[int, int] | None]) -> None:
        self.rows.extend(rows)
        self.months.extend(months)
        for column, index in ((_NUMBER, "number"), (_EXTERNAL_ID, "external_id")):
            found = self.by[index]
            for row in rows:
                if row[column]:
                    found[row[column]] = row

    def look_up(
        self, columns: Sequence[str], key: str, values: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        found = self.by.get(key)
        if not found or not set(columns) <= _ORDER_COLUMN_SET:
            return []
        at = [ORDER_COLUMNS.index(c) for c in columns]
        return [tuple(row[i] for i in at) for v in values if (row := found.get(v)) is not None]


_AHEAD = "fsm_orders_ahead"  # Staging.info key
_ORDER_COLUMN_SET = frozenset(ORDER_COLUMNS)


def _gather_ahead(
    ctx: OrderContext,
    stage: Any,
    rows: Sequence[list[Any]],
    months: Sequence[tuple[int, int] | None],
    *,
    now: datetime,
) -> None:
    """Keep checked new orders until a turn's worth (:data:`AHEAD_ROWS`, or the import's
    batch size) is gathered, then write them ahead in one turn; the rest are written
    before the import publishes."""
    ahead = stage.info.get(_AHEAD)
    if ahead is None:
        ahead = stage.info[_AHEAD] = _Ahead()
        stage.on_look_up("orders", ahead.look_up)
        stage.before_publish("orders", lambda: _flush_ahead(ctx, stage, now=now))
    ahead.add(rows, months)
    gathered = len(ahead.rows)
    if stage.turn_rows is not None:
        due = gathered >= stage.turn_rows
    else:  # shorter turns while others want the lock: they wait less for each
        due = gathered >= AHEAD_ROWS or (gathered >= AHEAD_ROWS_BUSY and writers_waiting(stage.raw))
    if due:
        _flush_ahead(ctx, stage, now=now)


def _flush_ahead(ctx: OrderContext, stage: Any, *, now: datetime) -> None:
    """Write the gathered new orders ahead, in one write turn."""
    ahead = stage.info.get(_AHEAD)
    if ahead is None or not ahead.rows:
        return
    given = list(ahead.by["number"])
    stage.write_turn(lambda: _write_ahead(ctx, stage, ahead.rows, ahead.months, given, now=now))
    ahead.clear()


def _write_ahead(
    ctx: OrderContext,
    stage: Any,
    rows: Sequence[list[Any]],
    months: Sequence[tuple[int, int] | None],
    given: Sequence[str],
    *,
    now: datetime,
) -> None:
    """In a write turn of the import (see fsm_core/import_batches.py): number the rows,
    insert them tagged with the import's batch (made on the first turn), note the ids
    and counters the batch holds."""
    session = ctx.session
    conn = session.connection()
    batch = stage.info.get(_BATCH)
    if batch is None:
        batch = stage.info[_BATCH] = import_batches.open_batch(conn, now)
        stage.info[import_batches.COUNTER_LOG] = {}
    session.info[import_batches.COUNTER_LOG] = stage.info[import_batches.COUNTER_LOG]
    try:
        wanted: list[tuple[int, int]] = []
        unnumbered = [i for i, r in enumerate(rows) if not r[_NUMBER]]
        for i in unnumbered:
            month = months[i]
            if month is None:
                raise ValueError(f"row {i} has neither a number nor a month to number it by")
            wanted.append(month)
        for i, number in zip(unnumbered, _assign_numbers(ctx, wanted, set(given)), strict=True):
            rows[i][_NUMBER] = number
        _advance_counters(ctx, given)
    finally:
        session.info.pop(import_batches.COUNTER_LOG, None)
    before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM orders").scalar_one()
    # the text index of these orders is written after the import has published them, in
    # short transactions (see fsm_core/search_index.py): none of it in this turn, and
    # nothing of it to take back if the import is dropped
    deferred = (
        search_index.defer_from(conn, before + 1) if search_index.has_pending_table(conn) else None
    )
    try:
        insert_rows(session, "orders", _BATCH_COLUMNS, [[*row, batch] for row in rows])
    except (IntegrityError, sqlite3.IntegrityError):
        raise _taken_while_importing(conn, rows) from None
    if deferred is not None:
        search_index.defer_until(conn, deferred)
    last = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM orders").scalar_one()
    import_batches.note_written(
        conn, batch, before + 1, last, stage.info[import_batches.COUNTER_LOG]
    )


_BATCH_COLUMNS = (*ORDER_COLUMNS, "import_batch_id")


def _taken_while_importing(conn: Any, rows: Sequence[list[Any]]) -> Duplicate:
    """The error for written-ahead orders whose number or external id another order
    took while the import ran (their INSERT was refused)."""
    for index, column, what in (
        (_NUMBER, "number", "order number"),
        (_EXTERNAL_ID, "external_id", "external id"),
    ):
        values = [r[index] for r in rows if r[index]]
        taken = _existing_in(conn, column, values)
        if taken:
            return _clashed(what, sorted(taken)[0])
    return _clashed()


def _clashed(what: str | None = None, value: object = None) -> Duplicate:
    """The error of an import whose number or external id (``what``, ``value``) another
    order took while it ran; without them, when the clashing value was not found again."""
    if what is None:
        return Duplicate(
            "an order of the file clashes with one written meanwhile; nothing was written"
        )
    return Duplicate(
        f"{what} {value!r} was taken by another order while the import ran; nothing was written",
        hint="run the import again",
    )


def _existing_in(conn: Any, column: str, values: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 10_000):
        part = values[start : start + 10_000]
        marks = ", ".join("?" * len(part))
        found |= {
            v
            for (v,) in conn.exec_driver_sql(
                f"SELECT {column} FROM orders WHERE {column} IN ({marks})", tuple(part)
            )
        }
    return found


def _publish_batch(ctx: OrderContext, stage: Any, *, actor: str, now: datetime) -> None:
    """In the import's publishing transaction: the batch's orders become visible, each
    with its "create" history row."""
    conn = ctx.session.connection()
    batch = stage.info.get(_BATCH)
    if batch is None:
        return
    ids = import_batches.publish(conn, batch)
    if ids is None:
        return
    history = _CREATION_HISTORY.replace(
        "{which}", "o.id BETWEEN ? AND ? AND o.import_batch_id = ? ORDER BY o.id"
    )
    conn.exec_driver_sql(history, (now, actor, *ids, batch))


def _abandon_batch(ctx: OrderContext, stage: Any) -> None:
    """The import ends unpublished: its batch's orders are deleted again."""
    batch = stage.info.get(_BATCH)
    if batch is not None:
        import_batches.abandon(stage.raw, batch, wait=stage.wait)


# --- a long import's orders, held back and published at its end ---------------------------

_STAGED_EXTRA = ("fsm_year", "fsm_month")


def _hold_back(
    ctx: OrderContext,
    stage: Any,
    rows: Sequence[list[Any]],
    months: Sequence[tuple[int, int] | None],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Stage checked new orders (see :class:`fsm_core.bulk.Staging`): numbered and written
    by :func:`publish_staged_orders` when the import publishes."""
    held = []
    for row, month in zip(rows, months, strict=True):
        if not row[_NUMBER] and month is None:
            raise ValueError("a row has neither a number nor a month to number it by")
        year, mon = month if not row[_NUMBER] and month is not None else (None, None)
        held.append([*row, year, mon])
    stage.add("orders", ORDER_COLUMNS, held, _STAGED_EXTRA, index=("number", "external_id"))
    stage.on_publish(
        "orders", lambda: publish_staged_orders(ctx, stage=stage, actor=actor, now=now)
    )


def publish_staged_orders(ctx: OrderContext, *, stage: Any, actor: str, now: datetime) -> int:
    """Write the orders an import held back, in one go, under the write lock: the rules
    of :func:`store_new_orders` — the rows without a number get the next numbers of their
    scopes (skipping those the file gives), counters move past the given ones, each order
    gets its "create" history row — with one INSERT ... SELECT from the staging table. A
    number or external id someone else took while the import ran refuses the whole file.
    Returns how many orders were written."""
    session = ctx.session
    staged = stage.table("orders")
    if staged is None:
        return 0
    conn = session.connection()
    given = [
        n
        for (n,) in conn.exec_driver_sql(
            f"SELECT number FROM {staged} WHERE number IS NOT NULL ORDER BY fsm_seq"
        )
    ]
    pending = conn.exec_driver_sql(
        f"SELECT fsm_seq, fsm_year, fsm_month FROM {staged} WHERE number IS NULL ORDER BY fsm_seq"
    ).all()
    numbers = _assign_numbers(ctx, [(y, m) for _, y, m in pending], set(given))
    _advance_counters(ctx, given)
    named = stage.add(
        "order_numbers",
        ("number",),
        [(seq, number) for (seq, _, _), number in zip(pending, numbers, strict=True)],
        like="orders",
        seq=True,
    )
    sqlite = conn.dialect.name == "sqlite"
    before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM orders").scalar_one()
    # SQLite: the text index of these orders is written after the commit, outside the
    # write lock (see fsm_core/search_index.py)
    deferred = (
        search_index.defer_from(conn, before + 1) if search_index.has_pending_table(conn) else None
    )
    columns = ", ".join(ORDER_COLUMNS)
    values = ", ".join(
        "coalesce(s.number, n.number)" if c == "number" else f"s.{c}" for c in ORDER_COLUMNS
    )
    try:
        with session.begin_nested():  # the savepoint is made when the connection is asked for
            count = (
                session.connection()
                .exec_driver_sql(
                    f"INSERT INTO orders ({columns}) SELECT {values} FROM {staged} s "
                    f"LEFT JOIN {named} n ON n.fsm_seq = s.fsm_seq ORDER BY s.fsm_seq"
                )
                .rowcount
            )
    except IntegrityError:
        raise _taken_meanwhile(conn, staged, named) from None
    if deferred is not None:
        search_index.defer_until(conn, deferred)
    # SQLite: this transaction is the only writer, so the new orders are the ids above
    which = (
        "o.id > ?"
        if sqlite
        else f"o.number IN (SELECT number FROM {staged} WHERE number IS NOT NULL "
        f"UNION ALL SELECT number FROM {named})"
    )
    history = _CREATION_HISTORY.replace("{which}", f"{which} ORDER BY o.id")
    if sqlite:
        conn.exec_driver_sql(history, (now, actor, before))
    else:
        conn.exec_driver_sql(history.replace("?", "%s"), (now, actor))
    return count


def _taken_meanwhile(conn: Any, staged: str, named: str) -> Duplicate:
    """The error for held-back orders whose number or external id another order took
    while the import ran (the INSERT was refused)."""
    for column, what, rows in (
        (
            "number",
            "order number",
            f"SELECT number FROM {staged} UNION ALL SELECT number FROM {named}",
        ),
        ("external_id", "external id", f"SELECT external_id FROM {staged}"),
    ):
        clash = conn.exec_driver_sql(
            f"SELECT o.{column} FROM orders o WHERE o.{column} IN ({rows}) LIMIT 1"
        ).first()
        if clash is not None:
            return _clashed(what, clash[0])
    return _clashed()


def _existing(session: Session, column: Any, values: Sequence[str]) -> set[str]:
    """Which of ``values`` an order already has in ``column`` (number or external_id)."""
    return {row[0] for row in select_in(session, "orders", (column.key,), column.key, values)}


def _ids_by_number(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    return dict(select_in(session, "orders", ("number", "id"), "number", numbers))


def _assign_numbers(
    ctx: OrderContext, months: Sequence[tuple[int, int]], reserved: set[str]
) -> list[str]:
    """The next numbers of each entry's scope (year, or year and month), in order."""
    numbers: list[str] = [""] * len(months)
    if not months:
        return numbers
    session = ctx.session
    pattern = ctx.settings.order_number_pattern
    fields = _pattern_fields(pattern)
    # per (year, month): its scope, and the pattern with all but the sequence filled in
    scope_of: dict[tuple[int, int], str] = {}
    template_of: dict[tuple[int, int], str] = {}
    for year, month in set(months):
        scope = "all"
        if fields & {"yy", "yyyy"}:
            scope = f"{year:04d}" + (f"-{month:02d}" if "mm" in fields else "")
        scope_of[year, month] = scope
        template_of[year, month] = _sequence_template(pattern, year, month)
    by_scope: dict[str, list[int]] = {}
    for i, year_month in enumerate(months):
        by_scope.setdefault(scope_of[year_month], []).append(i)
    for scope, pending in by_scope.items():
        while pending:
            last = _bump_counter(session, scope, len(pending))
            first = last - len(pending) + 1
            candidates = [
                template_of[months[i]].format(seq=first + offset)
                for offset, i in enumerate(pending)
            ]
            clashes = _existing(session, Order.number, candidates) | reserved.intersection(
                candidates
            )
            waiting = []
            for i, number in zip(pending, candidates, strict=True):
                if number in clashes:  # an imported order already carries it: skip it
                    waiting.append(i)
                else:
                    numbers[i] = number
            pending = waiting
    return numbers


def _sequence_template(pattern: str, year: int, month: int) -> str:
    """``pattern`` with its date fields filled in for (year, month): only ``{seq}`` left."""
    parts = {"yy": f"{year % 100:02d}", "yyyy": f"{year:04d}", "mm": f"{month:02d}"}
    out = []
    for literal, name, spec, conversion in string.Formatter().parse(pattern):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name == "seq":
            out.append("{seq" + (f"!{conversion}" if conversion else "") + f":{spec}}}")
        elif name is not None:
            value = format(parts[name], spec or "")
            out.append(value.replace("{", "{{").replace("}", "}}"))
    return "".join(out)


def _number_regex(pattern: str) -> re.Pattern[str]:
    """A regular expression that reads a number back into its pattern's fields."""
    groups = {"yy": r"(?P<yy>\d{2})", "yyyy": r"(?P<yyyy>\d{4})", "mm": r"(?P<mm>\d{2})"}
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(pattern):
        parts.append(re.escape(literal))
        if name == "seq":
            parts.append(r"(?P<seq>\d+)")
        elif name:
            parts.append(groups[name])
    return re.compile("^" + "".join(parts) + "$")


def _advance_counters(ctx: OrderContext, numbers: Sequence[str]) -> None:
    """Orders imported with their own numbers (``26-0417``) move the counter of their scope
    past them, so the next order created here does not have to skip over them one by one."""
    if not numbers:
        return
    pattern = ctx.settings.order_number_pattern
    regex = _number_regex(pattern)
    fields = _pattern_fields(pattern)
    highest: dict[str, int] = {}
    for number in numbers:
        match = regex.match(number)
        if match is None:
            continue
        found = match.groupdict()
        scope = "all"
        if fields & {"yy", "yyyy"}:
            year = int(found["yyyy"]) if found.get("yyyy") else 2000 + int(found["yy"])
            scope = f"{year:04d}" + (f"-{found['mm']}" if "mm" in fields else "")
        highest[scope] = max(highest.get(scope, 0), int(found["seq"]))
    for scope, seq in highest.items():
        current = _bump_counter(ctx.session, scope, 0)
        if seq > current:
            _bump_counter(ctx.session, scope, seq - current)


@requires("orders.create", scoped=True)
def create_order(*, session: Session, data: OrderCreate | dict[str, Any], actor: str) -> Order:
    """Create an order: number it, compute its SLA deadlines, record it in the history."""
    values = validated(OrderCreate, data).model_dump()
    ctx = OrderContext(session)
    now = clock.now()
    row = prepare_new_order(ctx, values, now=now)
    authorize_customer(session, "orders.create", customer_id=row["customer_id"])
    (order_id,) = insert_new_orders(ctx, [row], actor=actor, now=now)
    order = session.get(Order, order_id)
    assert order is not None
    from fsm_core import audit  # (ORM changes are recorded by the session; this INSERT is not)

    values = {k: v for k, v in row.items() if k != "number"}
    audit.record_created(session, entity="order", key=order.number, values=values)
    from fsm_core.services.notify import outbox

    # in this transaction: a creation rolled back sends nothing
    outbox.order_received(session=session, order=order)
    return order


# --- changes to an existing order ------------------------------------------------------

EDITABLE = (
    "customer_id",
    "object_id",
    "contact_id",
    "description",
    "criticality",
    "planned_start",
    "planned_end",
    "reaction_due",
    "resolution_due",
    "external_id",
)
_STATE = (
    "number",
    "version",
    "stage_code",
    "assignee_id",
    "crew_id",
    "reaction_manual",
    "resolution_manual",
    "sla_at_risk_at",
    "reacted_at",
    "resolved_at",
    "closed_at",
    "created_at",
)
_SLA_FIELDS = ("reaction_due", "resolution_due", "sla_at_risk_at")
MANUAL_FLAGS = {"reaction_due": "reaction_manual", "resolution_due": "resolution_manual"}


def values_of(order: Order) -> dict[str, Any]:
    """The order's fields as a plain dict (what the rules below work on)."""
    return {"id": order.id, **{name: getattr(order, name) for name in (*EDITABLE, *_STATE)}}


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
    order_id, number = order.id, order.number  # the instance is unreadable after a failure
    try:
        session.flush()
    except StaleDataError:
        drop_after_order_saved(session)
        # this session's transaction is spoilt; read what won on a connection of its own
        reader = session.get_bind().execution_options(fsm_begin="DEFERRED")
        with Session(reader) as fresh:
            current = fresh.get(Order, order_id)
        raise Conflict(
            f"order {number}",
            expected_version=expected_version,
            current_version=current.version if current else -1,
            current=snapshot(current) if current else None,
        ) from None
    run_after_order_saved(session)
    return order


def snapshot(order: Order) -> dict[str, Any]:
    """The order's editable fields, as a conflict reports them."""
    return {name: getattr(order, name) for name in ("number", "version", "stage_code", *EDITABLE)}


def plan_update(
    ctx: OrderContext, current: Mapping[str, Any], requested: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Every rule of changing an order's fields, on plain values.

    ``current`` holds the order's fields (:func:`values_of`), ``requested`` the editable
    fields to set. Returns {field: (old, new)} for what really changes, SLA deadlines
    recomputed included; an empty dict means nothing to do. Raises for a broken rule.
    """
    changes = {k: v for k, v in requested.items() if current[k] != v}
    if not changes:
        return {}
    _check_signed_act(ctx, current, changes)
    merged = {**current, **changes}
    if "customer_id" in changes:
        ctx.check_customer(merged["customer_id"])
    if "customer_id" in changes or "object_id" in changes:
        ctx.check_object(merged["object_id"], merged["customer_id"])
    if "customer_id" in changes or "contact_id" in changes:
        ctx.check_contact(merged["contact_id"], merged["customer_id"])
    start, end = merged["planned_start"], merged["planned_end"]
    if start is not None and end is not None and end < start:
        raise InvalidInput("planned end is before planned start", field="planned_end")
    for deadline, flag in MANUAL_FLAGS.items():
        if deadline in changes:  # typed in; cleared: the policy's again
            merged[flag] = merged[deadline] is not None
    if {"criticality", "customer_id", "reaction_due", "resolution_due"} & changes.keys():
        # a deadline not typed in is the policy's, recomputed on its calendar as it is now
        merged.update(_sla_values(ctx, merged))
    derived = (*_SLA_FIELDS, *MANUAL_FLAGS.values())
    names = [*changes, *(f for f in derived if f not in changes)]
    return {n: (current[n], merged[n]) for n in names if current[n] != merged[n]}


# what the act of works states about the order: the customer signed these as they are
ACT_FIELDS = ("customer_id", "object_id", "contact_id", "description")


def _check_signed_act(
    ctx: OrderContext, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> None:
    """A signed act freezes what it states about the order, as it freezes the work."""
    touched = [name for name in ACT_FIELDS if name in changes]
    if not touched or current.get("id") is None:
        return
    signed = ctx.signature(current["id"])
    if signed is None:
        return
    who, when = signed
    from fsm_core.formatting import local_time

    shown = local_time(when, ctx.settings.tz, lang="en")
    shown_ru = local_time(when, ctx.settings.tz, lang="ru")
    fields = ", ".join(history_field(name) for name in touched)
    number = current.get("number") or ""
    raise InvalidInput(
        f"order {number}: the act signed by {who} on {shown} states its {fields}; "
        "they cannot change while the signature stands",
        field=history_field(touched[0]),
        hint=f"withdraw the signature first: fsm work unsign {number} --reason ...",
        ru=f"заявка {number}: акт, подписанный {who} {shown_ru}, фиксирует "
        f"{fields}; пока подпись действует, их не изменить",
        hint_ru=f"сначала отзовите подпись: fsm work unsign {number} --reason ...",
    )


# derived: changed with their causes, not shown
_QUIET = {"sla_at_risk_at", "reaction_manual", "resolution_manual"}


@requires("orders.edit")
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
        if requested.get("criticality") is not None and data.criticality is not None:
            requested["criticality"] = data.criticality.value
        ctx = OrderContext(session)
        changes = plan_update(ctx, values_of(order), requested)
        if not changes:
            return order
        if "external_id" in changes and changes["external_id"][1] is not None:
            # an import's order not yet published holds its external id too
            clash = session.exec(
                sqlmodel_select(Order.number)
                .where(Order.external_id == changes["external_id"][1], Order.id != order.id)
                .execution_options(fsm_every_order=True)
            ).first()
            if clash:
                raise Duplicate(
                    f"external id {changes['external_id'][1]!r} is used by order {clash}"
                )
        for name, (_, new) in changes.items():
            setattr(order, name, new)
        merged = values_of(order)
        shown: dict[str, dict[str, tuple[Any, Any]]] = {}
        for name, change in changes.items():
            if name not in _QUIET:
                shown.setdefault(history_action(name, merged), {})[name] = change
        for action, fields in shown.items():  # "update", then "sla": what it caused
            record_history(session=session, order=order, actor=actor, action=action, changes=fields)
    return _save(session, order, expected_version)


def _enter_stage(
    session: Session,
    order: Order,
    workflow: Workflow,
    dst: StageView,
    *,
    actor: str,
    note: str | None = None,
) -> None:
    """Move ``order`` to ``dst`` if the workflow and every guard allow it."""
    src = workflow.stages[order.stage_code]
    if src.code == dst.code:
        raise InvalidInput(
            f"order {order.number} is already in stage {_stage_label(dst)}",
            ru=f"заявка {order.number} уже на стадии {_stage_label_ru(dst)}",
        )
    if not workflow.can_move(src.code, dst.code):
        nexts = workflow.allowed_from(src.code)
        allowed = ", ".join(_stage_label(s) for s in nexts) or "none"
        allowed_ru = ", ".join(_stage_label_ru(s) for s in nexts) or "никуда"
        raise TransitionNotAllowed(
            f"order {order.number} cannot move from {_stage_label(src)} to {_stage_label(dst)}; "
            f"allowed from here: {allowed}",
            ru=f"заявку {order.number} нельзя перевести из {_stage_label_ru(src)} в "
            f"{_stage_label_ru(dst)}. Можно перевести в {allowed_ru}",
        )
    current = values_of(order)
    _require_assignee(order.number, current, dst)
    for guard in guards():
        guard(session, order, src, dst)
    order.stage_code = dst.code
    for name, value in _stage_timestamps(current, dst, clock.now()).items():
        setattr(order, name, value)
    record_history(
        session=session,
        order=order,
        actor=actor,
        action="stage",
        changes={"stage": (src.code, dst.code)},
    )
    if note:
        record_history(session=session, order=order, actor=actor, action="comment", note=note)
    for hook in after_move_hooks():  # e.g. stock releases a cancelled order's reservations
        hook(session, order, src, dst, actor)


@requires("orders.move")
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
        workflow = load_workflow(session=session)
        _enter_stage(session, order, workflow, workflow.stage(stage), actor=actor, note=note)
    return _save(session, order, expected_version)


@requires("orders.edit")
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
        ctx = OrderContext(session)
        changes: dict[str, tuple[Any, Any]] = {}
        if assignee_id is not KEEP and assignee_id != order.assignee_id:
            ctx.check_assignee(assignee_id)
            changes["assignee_id"] = (order.assignee_id, assignee_id)
        if crew_id is not KEEP and crew_id != order.crew_id:
            ctx.check_crew(crew_id)
            changes["crew_id"] = (order.crew_id, crew_id)
        if not changes:
            return order
        for name, (_, new) in changes.items():
            setattr(order, name, new)
        record_history(session=session, order=order, actor=actor, action="assign", changes=changes)

        workflow = ctx.workflow
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
                    ru=f"заявка {order.number} на стадии {_stage_label_ru(stage)} должна "
                    "оставаться с исполнителем или бригадой",
                    hint_ru="сначала переведите её на другую стадию",
                )
            _enter_stage(session, order, workflow, back, actor=actor)
    return _save(session, order, expected_version)
