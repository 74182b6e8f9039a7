"""Reading stock: items and warehouses, where an item is (availability), balances, the
ledger, low stock, an order's materials, and the invariant check. Nothing here writes;
every movement is in :mod:`fsm_core.services.stock`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from fsm_core.access import requires
from fsm_core.db import text_filter
from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models import (
    Employee,
    Item,
    MovementKind,
    Order,
    Reservation,
    StockBalance,
    StockMovement,
    Warehouse,
    WarehouseKind,
)
from fsm_core.values import line_amount

ZERO = Decimal("0.000")


# --- records ---------------------------------------------------------------------------


@requires("stock.read")
def get_item(*, session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound("item", f"#{item_id}")
    return item


@requires("stock.read")
def list_items(
    *,
    session: Session,
    text: str | None = None,
    active: bool | None = True,
    limit: int | None = None,
    offset: int = 0,
) -> Sequence[Item]:
    query = select(Item).where(*text_filter(text, Item.name, Item.sku, Item.barcode))
    if active is not None:
        query = query.where(Item.active == active)
    query = query.order_by(Item.name, Item.id).offset(offset).limit(limit)
    return session.scalars(query).all()


@requires("stock.read")
def get_warehouse(*, session: Session, warehouse_id: int) -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound("warehouse", f"#{warehouse_id}")
    return warehouse


@requires("stock.read")
def list_warehouses(
    *, session: Session, active: bool | None = True
) -> Sequence[tuple[Warehouse, str | None]]:
    """Warehouses (central, regional, then vans; by name) with the van's technician."""
    kind_order = case(
        (Warehouse.kind == WarehouseKind.CENTRAL.value, 0),
        (Warehouse.kind == WarehouseKind.REGIONAL.value, 1),
        else_=2,
    )
    query = (
        select(Warehouse, Employee.short_name)
        .outerjoin(Employee, Employee.id == Warehouse.employee_id)
        .order_by(kind_order, Warehouse.name)
    )
    if active is not None:
        query = query.where(Warehouse.active == active)
    return [(warehouse, employee) for warehouse, employee in session.execute(query)]


@dataclass(frozen=True)
class Level:
    """A balance row's numbers at the moment it was locked."""

    on_hand: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


@requires("stock.read")
def reserved_for(*, session: Session, order_id: int, item_id: int, warehouse_id: int) -> Decimal:
    """How much of ``item_id`` at ``warehouse_id`` is reserved for ``order_id``."""
    value = session.execute(
        select(Reservation.quantity).where(
            Reservation.order_id == order_id,
            Reservation.item_id == item_id,
            Reservation.warehouse_id == warehouse_id,
        )
    ).scalar()
    return value if value is not None else ZERO


@requires("stock.read")
def written_off(*, session: Session, order_id: int, item_id: int) -> Decimal:
    """What of ``item_id`` an order has used: written off minus returned."""
    signed = case(
        (StockMovement.kind == MovementKind.WRITE_OFF.value, StockMovement.quantity),
        else_=-StockMovement.quantity,
    )
    total = session.execute(
        select(func.coalesce(func.sum(signed), 0)).where(
            StockMovement.order_id == order_id,
            StockMovement.item_id == item_id,
            col(StockMovement.kind).in_((MovementKind.WRITE_OFF.value, MovementKind.RETURN.value)),
        )
    ).scalar()
    return _dec(total)


# --- where stock is ------------------------------------------------------------------


@dataclass(frozen=True)
class StockLine:
    """An item at a warehouse: on hand, reserved, available."""

    item_id: int
    sku: str
    item: str
    unit: str
    warehouse_id: int
    warehouse: str
    kind: str
    employee: str | None
    on_hand: Decimal
    reserved: Decimal
    min_level: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "sku": self.sku,
            "item": self.item,
            "unit": self.unit,
            "warehouse_id": self.warehouse_id,
            "warehouse": self.warehouse,
            "warehouse_kind": self.kind,
            "employee": self.employee,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
        }


@dataclass(frozen=True)
class Availability:
    """Where an item is: every warehouse's on hand / reserved / available."""

    item: Item
    lines: list[StockLine] = field(default_factory=list)

    @property
    def on_hand(self) -> Decimal:
        return sum((line.on_hand for line in self.lines), ZERO)

    @property
    def reserved(self) -> Decimal:
        return sum((line.reserved for line in self.lines), ZERO)

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


def _stock_query() -> Any:
    kind_order = case(
        (Warehouse.kind == WarehouseKind.CENTRAL.value, 0),
        (Warehouse.kind == WarehouseKind.REGIONAL.value, 1),
        else_=2,
    )
    return (
        select(
            Item.id,
            Item.sku,
            Item.name,
            Item.unit,
            Warehouse.id,
            Warehouse.name,
            Warehouse.kind,
            Employee.short_name,
            StockBalance.on_hand,
            StockBalance.reserved,
            Item.min_level,
        )
        .select_from(StockBalance)
        .join(Item, Item.id == StockBalance.item_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .outerjoin(Employee, Employee.id == Warehouse.employee_id)
        .order_by(kind_order, Warehouse.name, Item.name, Item.id)
    )


@requires("stock.read")
def availability(*, session: Session, item_id: int, include_empty: bool = False) -> Availability:
    """The item at every warehouse that holds or reserves some (``include_empty``: at
    every active warehouse), central first, then regional, then vans."""
    item = get_item(session=session, item_id=item_id)
    query = _stock_query().where(StockBalance.item_id == item_id)
    lines = [StockLine(*row) for row in session.execute(query)]
    lines = [line for line in lines if line.on_hand or line.reserved]
    if include_empty:
        held = {line.warehouse_id for line in lines}
        for warehouse, employee in list_warehouses(session=session):
            if warehouse.id not in held:
                lines.append(
                    StockLine(
                        item_id,
                        item.sku,
                        item.name,
                        item.unit,
                        warehouse.id or 0,
                        warehouse.name,
                        warehouse.kind,
                        employee,
                        ZERO,
                        ZERO,
                        item.min_level,
                    )
                )
    return Availability(item=item, lines=lines)


@requires("stock.read")
def balances(
    *,
    session: Session,
    item_id: int | None = None,
    warehouse_id: int | None = None,
    text: str | None = None,
    include_empty: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[StockLine]:
    """Balances by warehouse and item (only those with stock, unless ``include_empty``)."""
    query = _stock_query().where(*text_filter(text, Item.name, Item.sku, Item.barcode))
    if item_id is not None:
        query = query.where(StockBalance.item_id == item_id)
    if warehouse_id is not None:
        query = query.where(StockBalance.warehouse_id == warehouse_id)
    if not include_empty:
        query = query.where(or_(StockBalance.on_hand > 0, StockBalance.reserved > 0))
    query = query.offset(offset).limit(limit)
    return [StockLine(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class LowStock:
    """An item whose available stock (all active warehouses) is below its minimum level."""

    item_id: int
    sku: str
    item: str
    unit: str
    min_level: Decimal
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def shortfall(self) -> Decimal:
        return self.min_level - self.available

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "sku": self.sku,
            "item": self.item,
            "unit": self.unit,
            "min_level": self.min_level,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "shortfall": self.shortfall,
        }


@requires("stock.read")
def low_stock(*, session: Session) -> list[LowStock]:
    """Active items with a minimum level whose available stock is below it, the largest
    shortfall first (what to order from the supplier)."""
    on_hand = func.coalesce(func.sum(StockBalance.on_hand), 0)
    reserved = func.coalesce(func.sum(StockBalance.reserved), 0)
    query = (
        select(
            Item.id,
            Item.sku,
            Item.name,
            Item.unit,
            Item.min_level,
            on_hand.label("on_hand"),
            reserved.label("reserved"),
        )
        .select_from(Item)
        .outerjoin(StockBalance, StockBalance.item_id == Item.id)
        .outerjoin(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(col(Item.active).is_(True), Item.min_level > 0)
        .where(or_(col(Warehouse.id).is_(None), col(Warehouse.active).is_(True)))
        .group_by(Item.id, Item.sku, Item.name, Item.unit, Item.min_level)
        .having(on_hand - reserved < Item.min_level)
    )
    rows = [
        LowStock(i, sku, name, unit, level, _dec(o), _dec(r))
        for i, sku, name, unit, level, o, r in session.execute(query)
    ]
    return sorted(rows, key=lambda r: (-r.shortfall, r.item))


def _dec(value: Any) -> Decimal:
    """A quantity from an aggregate (already a Decimal through the column type, or None
    for an empty one)."""
    return Decimal(value or 0).quantize(ZERO)


@dataclass(frozen=True)
class LedgerLine:
    id: int
    at: datetime
    kind: str
    item_id: int
    sku: str
    item: str
    unit: str
    from_warehouse: str | None
    to_warehouse: str | None
    quantity: Decimal
    unit_price: Decimal
    order: str | None
    reason: str | None
    document: str | None
    actor: str

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.unit_price)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "item_id": self.item_id,
            "sku": self.sku,
            "item": self.item,
            "unit": self.unit,
            "from_warehouse": self.from_warehouse,
            "to_warehouse": self.to_warehouse,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "amount": self.amount,
            "order": self.order,
            "reason": self.reason,
            "document": self.document,
            "actor": self.actor,
        }


@requires("stock.read")
def ledger(
    *,
    session: Session,
    item_id: int | None = None,
    warehouse_id: int | None = None,
    order_id: int | None = None,
    kinds: Iterable[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[LedgerLine]:
    """Stock movements, newest first; ``since`` inclusive, ``until`` exclusive."""
    source = aliased(Warehouse)
    target = aliased(Warehouse)
    query = (
        select(
            StockMovement.id,
            StockMovement.at,
            StockMovement.kind,
            Item.id,
            Item.sku,
            Item.name,
            Item.unit,
            source.name,
            target.name,
            StockMovement.quantity,
            StockMovement.unit_price,
            Order.number,
            StockMovement.reason,
            StockMovement.document,
            StockMovement.actor,
        )
        .select_from(StockMovement)
        .join(Item, Item.id == StockMovement.item_id)
        .outerjoin(source, source.id == StockMovement.from_warehouse_id)
        .outerjoin(target, target.id == StockMovement.to_warehouse_id)
        .outerjoin(Order, Order.id == StockMovement.order_id)
    )
    if item_id is not None:
        query = query.where(StockMovement.item_id == item_id)
    if warehouse_id is not None:
        query = query.where(
            or_(
                StockMovement.from_warehouse_id == warehouse_id,
                StockMovement.to_warehouse_id == warehouse_id,
            )
        )
    if order_id is not None:
        query = query.where(StockMovement.order_id == order_id)
    wanted = [parse_movement_kind(k).value for k in kinds]
    if wanted:
        query = query.where(col(StockMovement.kind).in_(wanted))
    if since is not None:
        query = query.where(StockMovement.at >= since)
    if until is not None:
        query = query.where(StockMovement.at < until)
    query = query.order_by(col(StockMovement.at).desc(), col(StockMovement.id).desc())
    return [LedgerLine(*row) for row in session.execute(query.offset(offset).limit(limit))]


def parse_movement_kind(value: str) -> MovementKind:
    """A movement kind by its code or name (``write_off``, ``списание``, ``writeoff``)."""
    from fsm_core.vocabulary import MOVEMENT_NAMES

    text = value.strip().lower().replace("ё", "е").replace("-", "_")
    for kind, names in MOVEMENT_NAMES.items():
        options = {kind.value, kind.value.replace("_", ""), names["ru"]}
        options.add(names["en"].replace("-", "_"))
        if text in options:
            return kind
    known = ", ".join(f"{k.value} ({n['ru']})" for k, n in MOVEMENT_NAMES.items())
    raise InvalidInput(f"unknown movement kind {value!r}; known: {known}", field="kind")


@dataclass(frozen=True)
class OrderMaterial:
    """One item for one order at one warehouse: reserved, written off, returned, and how
    much of it is free at that warehouse now."""

    item_id: int
    sku: str
    item: str
    unit: str
    warehouse_id: int
    warehouse: str
    reserved: Decimal = ZERO
    written_off: Decimal = ZERO
    returned: Decimal = ZERO
    available: Decimal = ZERO

    @property
    def used(self) -> Decimal:
        return self.written_off - self.returned

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "sku": self.sku,
            "item": self.item,
            "unit": self.unit,
            "warehouse_id": self.warehouse_id,
            "warehouse": self.warehouse,
            "reserved": self.reserved,
            "written_off": self.written_off,
            "returned": self.returned,
            "used": self.used,
        }


@requires("orders.read")
def order_materials(*, session: Session, order_id: int) -> list[OrderMaterial]:
    """An order's materials: what is reserved for it and what it has used, by item and
    warehouse (the order's "required materials" tab)."""
    if session.get(Order, order_id) is None:
        raise NotFound("order", f"#{order_id}")
    table: dict[tuple[int, int], dict[str, Decimal]] = {}
    for item_id, warehouse_id, reserved in session.execute(
        select(Reservation.item_id, Reservation.warehouse_id, Reservation.quantity).where(
            Reservation.order_id == order_id
        )
    ):
        table.setdefault((item_id, warehouse_id), {})["reserved"] = reserved
    warehouse = func.coalesce(StockMovement.from_warehouse_id, StockMovement.to_warehouse_id)
    for item_id, warehouse_id, kind, total in session.execute(
        select(
            StockMovement.item_id, warehouse, StockMovement.kind, func.sum(StockMovement.quantity)
        )
        .where(
            StockMovement.order_id == order_id,
            col(StockMovement.kind).in_((MovementKind.WRITE_OFF.value, MovementKind.RETURN.value)),
        )
        .group_by(StockMovement.item_id, warehouse, StockMovement.kind)
    ):
        name = "written_off" if kind == MovementKind.WRITE_OFF.value else "returned"
        table.setdefault((item_id, warehouse_id), {})[name] = _dec(total)
    if not table:
        return []
    wanted = select(Item).where(col(Item.id).in_({k[0] for k in table}))
    items = {i.id: i for i in session.scalars(wanted)}
    names = dict(
        session.execute(
            select(Warehouse.id, Warehouse.name).where(col(Warehouse.id).in_({k[1] for k in table}))
        ).all()
    )
    held = session.execute(
        select(
            StockBalance.item_id,
            StockBalance.warehouse_id,
            StockBalance.on_hand,
            StockBalance.reserved,
        ).where(
            col(StockBalance.item_id).in_({k[0] for k in table}),
            col(StockBalance.warehouse_id).in_({k[1] for k in table}),
        )
    )
    for item_id, warehouse_id, on_hand, reserved in held:
        if (item_id, warehouse_id) in table:
            table[item_id, warehouse_id]["available"] = on_hand - reserved
    result = [
        OrderMaterial(
            item_id,
            items[item_id].sku,
            items[item_id].name,
            items[item_id].unit,
            warehouse_id,
            names[warehouse_id],
            **values,
        )
        for (item_id, warehouse_id), values in table.items()
    ]
    return sorted(result, key=lambda m: (m.item, m.warehouse))


@requires("stock.read")
def suggest_source(*, session: Session, order: Order, item_id: int) -> Warehouse | None:
    """Where a write-off for ``order`` most likely comes from: the one warehouse holding
    the order's reservation of the item, else the van of the order's technician."""
    reserved_at = (
        session.execute(
            select(Reservation.warehouse_id).where(
                Reservation.order_id == order.id, Reservation.item_id == item_id
            )
        )
        .scalars()
        .all()
    )
    if len(reserved_at) == 1:
        return get_warehouse(session=session, warehouse_id=reserved_at[0])
    return _van_of(session, order.assignee_id)


@requires("stock.read")
def suggest_write_off(
    *, session: Session, order: Order, item_id: int, quantity: Decimal | None = None
) -> Warehouse | None:
    """Where a write-off of ``quantity`` of an item for ``order`` most likely comes from
    (the dashboard's suggestion and ``fsm stock writeoff``'s default):

    1. the one warehouse holding the order's reservation of it, if that covers it;
    2. the van of the order's technician (or of a member of its crew), if it has enough;
    3. of the warehouses that have enough available, the nearest to the order's object —
       by their coordinates, a van by its technician's home base; those whose place is
       unknown after the others, central before regional — never another technician's
       van;
    4. else wherever most of it is available (the write-off may then be refused as short,
       in one line, naming that warehouse).

    ``quantity`` None: any amount is "enough". None when the item is nowhere and the order
    has no technician with a van."""
    from fsm_core.services.planning import haversine_km, places

    wanted = quantity if quantity is not None and quantity > 0 else Decimal("0.001")
    lines = {
        line.warehouse_id: line
        for line in availability(session=session, item_id=item_id).lines
        if line.available > 0 or line.reserved > 0
    }
    reserved: dict[int, Decimal] = dict(
        session.execute(
            select(Reservation.warehouse_id, Reservation.quantity).where(
                Reservation.order_id == order.id, Reservation.item_id == item_id
            )
        ).all()
    )
    if len(reserved) == 1:
        (warehouse_id, held), *_ = reserved.items()
        line = lines.get(warehouse_id)
        free = line.available if line else ZERO
        if held + free >= wanted:
            return get_warehouse(session=session, warehouse_id=warehouse_id)
    crew = _crew_employee_ids(session, order)
    vans = {
        w.id: w
        for w in session.scalars(
            select(Warehouse).where(
                col(Warehouse.employee_id).in_(crew), col(Warehouse.active).is_(True)
            )
        )
    }

    def has(warehouse_id: int | None) -> Decimal:
        line = lines.get(warehouse_id or 0)
        return (line.available if line else ZERO) + reserved.get(warehouse_id or 0, ZERO)

    own = [w for w in vans.values() if has(w.id) >= wanted]
    if own:  # the assignee's own van before a crew member's
        own.sort(key=lambda w: (w.employee_id != order.assignee_id, -has(w.id), w.name))
        return own[0]
    candidates = [
        get_warehouse(session=session, warehouse_id=w)
        for w, line in lines.items()
        if line.kind != WarehouseKind.VAN.value or w in vans
    ]
    candidates = [w for w in candidates if w.active]
    enough = [w for w in candidates if has(w.id) >= wanted]
    if enough:
        known = [order.object_id] if order.object_id is not None else []
        target = places(session=session, object_ids=known).get(order.object_id or 0)

        def distance(w: Warehouse) -> float | None:
            point = _warehouse_point(session, w)
            if point is None or target is None or target.point is None:
                return None
            return haversine_km(*point, *target.point)

        kind_rank = {WarehouseKind.CENTRAL.value: 0, WarehouseKind.REGIONAL.value: 1}

        def rank(w: Warehouse) -> tuple[Any, ...]:
            far = distance(w)
            return (far is None, far or 0.0, kind_rank.get(w.kind, 2), -has(w.id), w.name)

        return min(enough, key=rank)
    if candidates:
        return max(candidates, key=lambda w: (has(w.id), -(w.id or 0)))
    return _van_of(session, order.assignee_id)


def _crew_employee_ids(session: Session, order: Order) -> list[int]:
    """Who works on the order: its assignee, or the members of its crew."""
    from fsm_core.models import CrewMember

    ids = [order.assignee_id] if order.assignee_id is not None else []
    if order.crew_id is not None:
        ids += list(
            session.scalars(
                select(CrewMember.employee_id).where(CrewMember.crew_id == order.crew_id)
            )
        )
    return ids


def _warehouse_point(session: Session, warehouse: Warehouse) -> tuple[float, float] | None:
    """Where a warehouse is: its coordinates; a van without them is where its technician
    starts the day (their home base)."""
    if warehouse.latitude is not None and warehouse.longitude is not None:
        return warehouse.latitude, warehouse.longitude
    if warehouse.employee_id is not None:
        employee = session.get(Employee, warehouse.employee_id)
        if employee and employee.home_latitude is not None and employee.home_longitude is not None:
            return employee.home_latitude, employee.home_longitude
    return None


@requires("stock.read")
def suggest_return_target(*, session: Session, order: Order, item_id: int) -> Warehouse | None:
    """Where unused parts of an order most likely go back: the one warehouse they were
    written off from, else the van of the order's technician."""
    sources = (
        session.execute(
            select(StockMovement.from_warehouse_id)
            .where(
                StockMovement.order_id == order.id,
                StockMovement.item_id == item_id,
                StockMovement.kind == MovementKind.WRITE_OFF.value,
            )
            .distinct()
        )
        .scalars()
        .all()
    )
    if len(sources) == 1 and sources[0] is not None:
        return get_warehouse(session=session, warehouse_id=sources[0])
    return _van_of(session, order.assignee_id)


def _van_of(session: Session, employee_id: int | None) -> Warehouse | None:
    if employee_id is None:
        return None
    query = select(Warehouse).where(
        col(Warehouse.employee_id) == employee_id, col(Warehouse.active).is_(True)
    )
    return session.scalars(query).first()


# --- the invariant ---------------------------------------------------------------------


@requires("stock.read")
def reconcile(*, session: Session) -> list[str]:
    """Compare every balance with its ledger and its reservations; returns one line per
    disagreement (none when the books are right)."""
    ledger_sums: dict[tuple[int, int], Decimal] = {}
    for sign, column in ((1, StockMovement.to_warehouse_id), (-1, StockMovement.from_warehouse_id)):
        query = (
            select(StockMovement.item_id, column, func.sum(StockMovement.quantity))
            .where(col(column).is_not(None))
            .group_by(StockMovement.item_id, column)
        )
        for item_id, warehouse_id, total in session.execute(query):
            key = (item_id, warehouse_id)
            ledger_sums[key] = ledger_sums.get(key, ZERO) + sign * _dec(total)
    reserved = {
        (item_id, warehouse_id): _dec(total)
        for item_id, warehouse_id, total in session.execute(
            select(
                Reservation.item_id, Reservation.warehouse_id, func.sum(Reservation.quantity)
            ).group_by(Reservation.item_id, Reservation.warehouse_id)
        )
    }
    problems: list[str] = []
    seen = set()
    for item_id, warehouse_id, on_hand, held in session.execute(
        select(
            StockBalance.item_id,
            StockBalance.warehouse_id,
            StockBalance.on_hand,
            StockBalance.reserved,
        )
    ):
        key = (item_id, warehouse_id)
        seen.add(key)
        where = f"item #{item_id} at warehouse #{warehouse_id}"
        if on_hand != ledger_sums.get(key, ZERO):
            problems.append(f"{where}: balance {on_hand}, ledger {ledger_sums.get(key, ZERO)}")
        if held != reserved.get(key, ZERO):
            problems.append(f"{where}: reserved {held}, reservations {reserved.get(key, ZERO)}")
        if on_hand < 0 or held < 0 or held > on_hand:
            problems.append(f"{where}: {on_hand} on hand, {held} reserved")
    for key, total in ledger_sums.items():
        if key not in seen and total != 0:
            problems.append(f"item #{key[0]} at warehouse #{key[1]}: no balance, ledger {total}")
    return problems


def is_low(level: Level, min_level: Decimal | None) -> bool:
    """The one low-stock rule: an item with a minimum level whose available stock, over
    the active warehouses (:func:`item_totals`), is below it. :func:`low_stock` is the
    same rule in SQL, for every item at once."""
    if not min_level:  # None or 0: no minimum
        return False
    return level.available < min_level


@requires("stock.read")
def item_is_low(*, session: Session, item: Item) -> bool:
    assert item.id is not None
    return is_low(
        item_totals(session=session, item_ids=[item.id]).get(item.id) or Level(), item.min_level
    )


@requires("stock.read")
def item_totals(*, session: Session, item_ids: Iterable[int] | None = None) -> dict[int, Level]:
    """Each item's stock over all active warehouses (on hand, reserved)."""
    query = (
        select(
            StockBalance.item_id,
            func.sum(StockBalance.on_hand),
            func.sum(StockBalance.reserved),
        )
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(col(Warehouse.active).is_(True))
        .group_by(StockBalance.item_id)
    )
    if item_ids is not None:
        query = query.where(col(StockBalance.item_id).in_(list(item_ids)))
    return {i: Level(_dec(o), _dec(r)) for i, o, r in session.execute(query)}
