"""Stock (ТМЦ): the item catalogue, warehouses, and every movement of stock (reading them
is :mod:`fsm_core.services.stock_queries`).

Every quantity comes from the ledger. A movement (receipt, transfer, write-off against an
order, return from an order, inventory adjustment) adds one :class:`StockMovement` row and
changes the :class:`StockBalance` rows it touches, in the caller's transaction, so a
balance always equals the sum of its ledger rows.

Nothing is ever oversold. A movement first locks the balance rows it will read
(``SELECT ... FOR UPDATE`` on PostgreSQL, in warehouse order so that two opposite
transfers cannot deadlock; on SQLite writers are already serialized by ``BEGIN
IMMEDIATE``), then checks, then writes: there is no window between the check and the
write. The CHECK constraints (``on_hand >= 0``, ``0 <= reserved <= on_hand``) are the
last line of defence.

Reservations (необходимые материалы) promise stock to an order without moving it: they
lower what is *available* (on hand minus reserved). A write-off against an order first
consumes that order's own reservation of the item at the warehouse; beyond it, it may take
only free stock. Another order's reserved parts are never taken: a write-off takes at most
on hand minus the other orders' reservations. A transfer for an order carries its
reservation along with the parts (central warehouse → the technician's van). Cancelling or
closing an order releases whatever is still reserved for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.errors import InsufficientStock, InvalidInput, NotFound
from fsm_core.formatting import quantity as fmt_quantity
from fsm_core.models import (
    Employee,
    Item,
    MovementKind,
    Order,
    OrderHistory,
    Reservation,
    Stage,
    StockBalance,
    StockMovement,
    Warehouse,
    WarehouseKind,
)
from fsm_core.schemas import validated
from fsm_core.schemas.stock import ItemCreate, WarehouseCreate
from fsm_core.services.common import add_record, dialect_insert, update_record
from fsm_core.services.stages import FINAL_CATEGORIES, StageView, register_after_move
from fsm_core.services.stock_queries import (
    ZERO,
    Level,
    availability,
    get_item,
    get_warehouse,
    reserved_for,
    written_off,
)
from fsm_core.values import parse_money, parse_quantity, single_line

# --- catalogue -------------------------------------------------------------------------


ITEM_UNIQUE = {
    "sku": (Item.sku, "SKU"),
    "barcode": (Item.barcode, "barcode"),
    "external_id": (Item.external_id, "external id"),
}
WAREHOUSE_UNIQUE = {
    "name": (Warehouse.name, "warehouse name"),
    "external_id": (Warehouse.external_id, "external id"),
}


@requires("stock.edit")
def create_item(*, session: Session, data: ItemCreate | dict[str, Any]) -> Item:
    """Add an item to the catalogue (номенклатура)."""
    data = validated(ItemCreate, data)
    item = Item(**data.model_dump())
    add_record(session=session, record=item, unique=ITEM_UNIQUE, what=f"item {data.sku!r}")
    return item


@requires("stock.edit")
def update_item(*, session: Session, item_id: int, data: dict[str, Any]) -> Item:
    """Change an item's fields; its unit only while it has no stock movements (a ledger in
    шт must not be reread in кг)."""
    item = get_item(session=session, item_id=item_id)
    if "unit" in data and data["unit"] is not None:
        unit = single_line(str(data["unit"]))
        if unit != item.unit and _has_movements(session, item.id):
            raise InvalidInput(
                f"unit of {_label(item)} cannot change from {item.unit} to {unit}: "
                "its stock movements are counted in it",
                field="unit",
                hint="add a new item with the new unit",
            )
    update_record(
        session=session,
        record=item,
        schema=ItemCreate,
        changes=data,
        unique=ITEM_UNIQUE,
        what=f"item {item.sku!r}",
    )
    return item


def _has_movements(session: Session, item_id: int | None) -> bool:
    found = session.execute(
        select(StockMovement.id).where(StockMovement.item_id == item_id).limit(1)
    ).first()
    return found is not None


# --- warehouses ------------------------------------------------------------------------


def van_name(employee: Employee) -> str:
    """The default name of a technician's van warehouse."""
    return f"Автомобиль ({employee.short_name})"


@requires("stock.edit")
def create_warehouse(*, session: Session, data: WarehouseCreate | dict[str, Any]) -> Warehouse:
    """Add a warehouse: central, regional, or a technician's van (``employee_id`` given;
    named after the technician unless a name is given)."""
    if isinstance(data, dict):
        data = dict(data)
        if data.get("employee_id") is not None:
            data.setdefault("kind", WarehouseKind.VAN.value)
            if not data.get("name"):
                data["name"] = van_name(_employee(session, data["employee_id"]))
    data = validated(WarehouseCreate, data)
    if data.employee_id is not None:
        _check_van_owner(session, data.employee_id, exclude_id=None)
    warehouse = Warehouse(**data.model_dump())
    add_record(
        session=session, record=warehouse, unique=WAREHOUSE_UNIQUE, what=f"warehouse {data.name!r}"
    )
    return warehouse


@requires("stock.edit")
def update_warehouse(*, session: Session, warehouse_id: int, data: dict[str, Any]) -> Warehouse:
    """Rename, re-address, hand a van to another technician, or deactivate a warehouse
    (only an empty one: its stock must be moved out first)."""
    warehouse = get_warehouse(session=session, warehouse_id=warehouse_id)
    if data.get("employee_id") is not None and data["employee_id"] != warehouse.employee_id:
        _check_van_owner(session, data["employee_id"], exclude_id=warehouse.id)
    if data.get("active") is False and warehouse.active:
        held = session.execute(
            select(func.count()).where(
                StockBalance.warehouse_id == warehouse.id, StockBalance.on_hand > 0
            )
        ).scalar_one()
        if held:
            raise InvalidInput(
                f"warehouse {warehouse.name!r} still holds {held} item(s)",
                hint="move its stock out first: fsm stock transfer",
            )
    update_record(
        session=session,
        record=warehouse,
        schema=WarehouseCreate,
        changes=data,
        unique=WAREHOUSE_UNIQUE,
        what=f"warehouse {warehouse.name!r}",
    )
    return warehouse


def _employee(session: Session, employee_id: int) -> Employee:
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("employee", f"#{employee_id}")
    return employee


def _check_van_owner(session: Session, employee_id: int, *, exclude_id: int | None) -> None:
    employee = _employee(session, employee_id)
    if not employee.active:
        raise InvalidInput(f"employee {employee.short_name} is not active", field="employee")
    query = select(Warehouse.name).where(Warehouse.employee_id == employee_id)
    if exclude_id is not None:
        query = query.where(Warehouse.id != exclude_id)
    other = session.execute(query).scalar()
    if other is not None:
        raise InvalidInput(f"{employee.short_name} already has a van: {other!r}", field="employee")


# --- balances under lock ---------------------------------------------------------------


def _lock(session: Session, item_id: int, *warehouse_ids: int) -> dict[int, Level | None]:
    """Lock the existing balance rows of ``item_id`` at ``warehouse_ids`` (in warehouse
    order) until the transaction ends; None for a warehouse without a row yet."""
    ids = sorted(set(warehouse_ids))
    rows = session.execute(
        select(StockBalance.warehouse_id, StockBalance.on_hand, StockBalance.reserved)
        .where(StockBalance.item_id == item_id, col(StockBalance.warehouse_id).in_(ids))
        .order_by(StockBalance.warehouse_id)
        .with_for_update()
    ).all()
    found: dict[int, Level | None] = dict.fromkeys(ids)
    for warehouse_id, on_hand, reserved in rows:
        found[warehouse_id] = Level(on_hand, reserved)
    return found


def _ensure_row(session: Session, item_id: int, warehouse_id: int) -> None:
    """Create the (empty) balance row stock is about to enter, and lock it."""
    upsert = dialect_insert(session=session)
    session.execute(
        upsert(StockBalance)
        .values(
            item_id=item_id,
            warehouse_id=warehouse_id,
            on_hand=ZERO,
            reserved=ZERO,
            updated_at=clock.now(),
        )
        .on_conflict_do_nothing()
    )
    _lock(session, item_id, warehouse_id)


def _change(
    session: Session,
    item_id: int,
    warehouse_id: int,
    *,
    on_hand: Decimal = ZERO,
    reserved: Decimal = ZERO,
) -> None:
    """Add to a locked balance row (the amounts may be negative)."""
    session.execute(
        update(StockBalance)
        .where(
            col(StockBalance.item_id) == item_id,
            col(StockBalance.warehouse_id) == warehouse_id,
        )
        .values(
            on_hand=StockBalance.on_hand + on_hand,
            reserved=StockBalance.reserved + reserved,
            updated_at=clock.now(),
        )
    )


def _set_reservation(
    session: Session,
    order_id: int,
    item_id: int,
    warehouse_id: int,
    *,
    by: Decimal,
    actor: str,
) -> Decimal:
    """Change an order's reservation row by ``by`` (under the balance row's lock); the row
    goes when it reaches zero. Returns the new quantity."""
    current = reserved_for(
        session=session, order_id=order_id, item_id=item_id, warehouse_id=warehouse_id
    )
    new = current + by
    key = (
        col(Reservation.order_id) == order_id,
        col(Reservation.item_id) == item_id,
        col(Reservation.warehouse_id) == warehouse_id,
    )
    now = clock.now()
    if new <= 0:
        session.execute(delete(Reservation).where(*key))
    elif current == 0:
        session.execute(
            insert(Reservation).values(
                order_id=order_id,
                item_id=item_id,
                warehouse_id=warehouse_id,
                quantity=new,
                actor=actor,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        session.execute(
            update(Reservation).where(*key).values(quantity=new, actor=actor, updated_at=now)
        )
    from fsm_core import audit  # (written with SQL: the session does not see it)

    audit.record(
        session,
        entity="order.reservation",
        key=audit.order_key(session, order_id, item_id, warehouse_id),
        action="reserve" if by > 0 else "release",
        changes={"quantity": [current or None, new if new > 0 else None]},
    )
    return max(new, ZERO)


# --- refusals --------------------------------------------------------------------------


def _label(item: Item) -> str:
    return repr(item.name)


def _q(value: Decimal, item: Item) -> str:
    return fmt_quantity(value, item.unit)


def _not_enough(
    session: Session,
    item: Item,
    warehouse: Warehouse,
    *,
    available: Decimal,
    requested: Decimal,
    held_for_others: Decimal = ZERO,
) -> InsufficientStock:
    available = max(available, ZERO)
    message = (
        f"not enough {_label(item)} at {warehouse.name!r}: {_q(available, item)} available, "
        f"{_q(requested, item)} requested"
    )
    if held_for_others > 0:
        message += f" ({_q(held_for_others, item)} more reserved for other orders)"
    assert item.id is not None
    elsewhere = [
        f"{line.warehouse} {_q(line.available, item)}"
        for line in availability(session=session, item_id=item.id).lines
        if line.warehouse_id != warehouse.id and line.available > 0
    ]
    hint = "available elsewhere: " + "; ".join(elsewhere[:3]) if elsewhere else None
    return InsufficientStock(
        message,
        item=item.name,
        warehouse=warehouse.name,
        available=available,
        requested=requested,
        hint=hint,
    )


# --- movements -------------------------------------------------------------------------


def read_quantity(text: str | Decimal | None, *, item: Item, field: str = "quantity") -> Decimal:
    """A quantity of ``item`` as a user typed it (``2,5``), checked for its unit: what the
    movements below take. The error names ``field`` and quotes the text as typed."""
    return _parse(text, item, field)


def _parse(quantity: str | Decimal | None, item: Item, field: str = "quantity") -> Decimal:
    value = parse_quantity(quantity, field=field, unit=item.unit)
    if value is None:
        raise InvalidInput(f"{field}: a quantity is required", field=field)
    return value


def _price(value: Decimal | None, default: Decimal) -> Decimal:
    price = parse_money(value, field="price") if value is not None else None
    return default if price is None else price


def _text(value: str | None, limit: int, field: str) -> str | None:
    text = single_line(value) if value is not None else None
    if text is not None and len(text) > limit:
        raise InvalidInput(f"{field}: longer than {limit} characters", field=field)
    return text


def _receiving(warehouse: Warehouse, item: Item) -> None:
    """Stock may only enter an active warehouse, as an active item."""
    if not warehouse.active:
        raise InvalidInput(f"warehouse {warehouse.name!r} is not active", field="warehouse")
    if not item.active:
        raise InvalidInput(f"item {_label(item)} is not active", field="item")


def _order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    return order


def _lock_order(session: Session, order_id: int, *, share: bool = False) -> str:
    """Lock the order's row until the transaction ends and return its stage as it is now
    (after waiting for whoever held it, not as it was read before).

    It serializes what depends on the order as a whole (its stage, for a reservation;
    what it has used, for a return) with a concurrent cancellation. Taken before any
    balance row: the order every stock service and the cancellation hook keep.
    """
    stage: str | None = session.execute(
        select(Order.stage_code).where(Order.id == order_id).with_for_update(read=share)
    ).scalar()
    if stage is None:
        raise NotFound("order", f"#{order_id}")
    return stage


def _movement(
    session: Session,
    *,
    kind: MovementKind,
    item: Item,
    quantity: Decimal,
    unit_price: Decimal,
    actor: str,
    source: Warehouse | None = None,
    target: Warehouse | None = None,
    order: Order | None = None,
    reason: str | None = None,
    document: str | None = None,
) -> StockMovement:
    movement = StockMovement(
        kind=kind.value,
        item_id=item.id,
        from_warehouse_id=source.id if source else None,
        to_warehouse_id=target.id if target else None,
        quantity=quantity,
        unit_price=unit_price,
        order_id=order.id if order else None,
        reason=_text(reason, 500, "reason"),
        document=_text(document, 100, "document"),
        actor=actor,
        at=clock.now(),
    )
    session.add(movement)
    session.flush()
    return movement


@requires("stock.edit")
def receive(
    *,
    session: Session,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    actor: str,
    unit_price: Decimal | None = None,
    document: str | None = None,
    reason: str | None = None,
) -> StockMovement:
    """Stock arrives at a warehouse (приход), at ``unit_price`` (default: the item's
    purchase price)."""
    item = get_item(session=session, item_id=item_id)
    warehouse = get_warehouse(session=session, warehouse_id=warehouse_id)
    _receiving(warehouse, item)
    amount = _parse(quantity, item)
    price = _price(unit_price, item.purchase_price)
    _ensure_row(session, item_id, warehouse_id)
    _change(session, item_id, warehouse_id, on_hand=amount)
    return _movement(
        session,
        kind=MovementKind.RECEIPT,
        item=item,
        quantity=amount,
        unit_price=price,
        actor=actor,
        target=warehouse,
        reason=reason,
        document=document,
    )


@requires("stock.edit")
def transfer(
    *,
    session: Session,
    item_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: Decimal,
    actor: str,
    order_id: int | None = None,
    document: str | None = None,
    reason: str | None = None,
) -> StockMovement:
    """Move stock between warehouses (перемещение). Only free stock moves, except that a
    transfer for an order takes that order's reserved parts first and keeps them reserved
    for it at the destination."""
    item = get_item(session=session, item_id=item_id)
    source = get_warehouse(session=session, warehouse_id=from_warehouse_id)
    target = get_warehouse(session=session, warehouse_id=to_warehouse_id)
    if source.id == target.id:
        raise InvalidInput(
            f"transfer of {_label(item)}: {source.name!r} is both source and destination"
        )
    if not target.active:
        raise InvalidInput(f"warehouse {target.name!r} is not active", field="warehouse")
    amount = _parse(quantity, item)
    src, dst = from_warehouse_id, to_warehouse_id
    order = None
    carried = ZERO
    if order_id is not None:
        order = _order(session, order_id)
        _lock_order(session, order_id, share=True)  # its reservation may move: not mid-cancel
    levels = _lock(session, item_id, src, dst)
    level = levels[src] or Level()
    if order_id is not None:
        carried = min(
            amount,
            reserved_for(session=session, order_id=order_id, item_id=item_id, warehouse_id=src),
        )
    if level.available < amount - carried:
        raise _not_enough(
            session,
            item,
            source,
            available=level.available + carried,
            requested=amount,
            held_for_others=level.reserved - carried,
        )
    if levels[dst] is None:
        _ensure_row(session, item_id, dst)
    _change(session, item_id, src, on_hand=-amount, reserved=-carried)
    _change(session, item_id, dst, on_hand=amount, reserved=carried)
    if order_id is not None and carried:
        _set_reservation(session, order_id, item_id, src, by=-carried, actor=actor)
        _set_reservation(session, order_id, item_id, dst, by=carried, actor=actor)
    return _movement(
        session,
        kind=MovementKind.TRANSFER,
        item=item,
        quantity=amount,
        unit_price=item.purchase_price,
        actor=actor,
        source=source,
        target=target,
        order=order,
        reason=reason,
        document=document,
    )


@requires("stock.edit")
def write_off(
    *,
    session: Session,
    order_id: int,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    actor: str,
    unit_price: Decimal | None = None,
    document: str | None = None,
    reason: str | None = None,
) -> StockMovement:
    """Materials used on an order leave the warehouse (списание), at ``unit_price``
    (default: the item's sale price, what the act charges). The order's reservation of
    the item at this warehouse is consumed first; the rest must be free stock. Not on an
    order whose execution is frozen (closed, cancelled, or its act signed: see
    :func:`fsm_core.services.execution.execution_lock`)."""
    from fsm_core.services.execution import ensure_unlocked

    item = get_item(session=session, item_id=item_id)
    warehouse = get_warehouse(session=session, warehouse_id=warehouse_id)
    order = _order(session, order_id)
    ensure_unlocked(
        session=session, order=order
    )  # closed, cancelled or signed: what it used is settled
    amount = _parse(quantity, item)
    price = _price(unit_price, item.sale_price)
    level = _lock(session, item_id, warehouse_id)[warehouse_id] or Level()
    own = reserved_for(
        session=session, order_id=order_id, item_id=item_id, warehouse_id=warehouse_id
    )
    consumed = min(amount, own)
    if level.available < amount - consumed:
        raise _not_enough(
            session,
            item,
            warehouse,
            available=level.available + own,
            requested=amount,
            held_for_others=level.reserved - own,
        )
    _change(session, item_id, warehouse_id, on_hand=-amount, reserved=-consumed)
    if consumed:
        _set_reservation(session, order_id, item_id, warehouse_id, by=-consumed, actor=actor)
    return _movement(
        session,
        kind=MovementKind.WRITE_OFF,
        item=item,
        quantity=amount,
        unit_price=price,
        actor=actor,
        source=warehouse,
        order=order,
        reason=reason,
        document=document,
    )


@requires("stock.edit")
def return_from_order(
    *,
    session: Session,
    order_id: int,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    actor: str,
    document: str | None = None,
    reason: str | None = None,
) -> StockMovement:
    """Unused materials come back from an order into a warehouse (возврат); never more
    than the order has used, and at the price they were written off at. Not from an order
    whose execution is frozen (closed, cancelled or signed), as for :func:`write_off`."""
    item = get_item(session=session, item_id=item_id)
    warehouse = get_warehouse(session=session, warehouse_id=warehouse_id)
    _receiving(warehouse, item)
    from fsm_core.services.execution import ensure_unlocked

    amount = _parse(quantity, item)
    order = _order(session, order_id)
    _lock_order(session, order_id)
    ensure_unlocked(
        session=session, order=order
    )  # closed, cancelled or signed: what it used is settled
    used = written_off(session=session, order_id=order_id, item_id=item_id)
    if amount > used:
        raise InvalidInput(
            f"order {order.number} has {_q(used, item)} of {_label(item)} written off; "
            f"{_q(amount, item)} cannot come back",
            field="quantity",
        )
    last_price = session.execute(
        select(StockMovement.unit_price)
        .where(
            StockMovement.order_id == order_id,
            StockMovement.item_id == item_id,
            StockMovement.kind == MovementKind.WRITE_OFF.value,
        )
        .order_by(col(StockMovement.id).desc())
        .limit(1)
    ).scalar()
    _ensure_row(session, item_id, warehouse_id)
    _change(session, item_id, warehouse_id, on_hand=amount)
    return _movement(
        session,
        kind=MovementKind.RETURN,
        item=item,
        quantity=amount,
        unit_price=last_price if last_price is not None else item.sale_price,
        actor=actor,
        target=warehouse,
        order=order,
        reason=reason,
        document=document,
    )


@requires("stock.edit")
def adjust(
    *,
    session: Session,
    item_id: int,
    warehouse_id: int,
    actor: str,
    reason: str,
    counted: Decimal | None = None,
    delta: Decimal | None = None,
    document: str | None = None,
) -> StockMovement | None:
    """Correct a balance after an inventory count (корректировка): to the ``counted``
    quantity, or by ``delta`` (negative for a loss), with the reason. Returns None when
    the count agrees with the books. Stock reserved for orders cannot be counted away:
    release those reservations first."""
    item = get_item(session=session, item_id=item_id)
    warehouse = get_warehouse(session=session, warehouse_id=warehouse_id)
    why = _text(reason, 500, "reason")
    if not why:
        raise InvalidInput("reason: an adjustment needs a reason (e.g. инвентаризация)")
    if (counted is None) == (delta is None):
        raise InvalidInput("give either the counted quantity or the difference, not both")
    if counted is not None:
        target = parse_quantity(counted, field="counted", unit=item.unit, allow_zero=True)
        change = None
    else:
        change = parse_quantity(delta, field="delta", unit=item.unit, allow_negative=True)
        target = None
    level = _lock(session, item_id, warehouse_id)[warehouse_id]
    current = level or Level()
    new = target if target is not None else current.on_hand + (change or ZERO)
    if new < 0:
        raise InvalidInput(
            f"{_label(item)} at {warehouse.name!r}: {_q(current.on_hand, item)} on hand, "
            f"cannot take away {_q(-(change or ZERO), item)}",
            field="delta",
        )
    if new < current.reserved:
        holders = _reservation_holders(session, item_id, warehouse_id)
        raise InvalidInput(
            f"cannot count {_label(item)} at {warehouse.name!r} down to {_q(new, item)}: "
            f"{_q(current.reserved, item)} reserved for order(s) {', '.join(holders)}",
            hint="release those reservations first: fsm stock reserve ORDER ITEM --release",
        )
    difference = new - current.on_hand
    if difference == 0:
        return None
    if level is None:
        _ensure_row(session, item_id, warehouse_id)
    _change(session, item_id, warehouse_id, on_hand=difference)
    return _movement(
        session,
        kind=MovementKind.ADJUSTMENT,
        item=item,
        quantity=abs(difference),
        unit_price=item.purchase_price,
        actor=actor,
        source=warehouse if difference < 0 else None,
        target=warehouse if difference > 0 else None,
        reason=why,
        document=document,
    )


def _reservation_holders(session: Session, item_id: int, warehouse_id: int) -> list[str]:
    rows = session.execute(
        select(Order.number)
        .join(Reservation, Reservation.order_id == Order.id)
        .where(Reservation.item_id == item_id, Reservation.warehouse_id == warehouse_id)
        .order_by(Order.number)
    ).scalars()
    return list(rows)


# --- reservations ----------------------------------------------------------------------


def _history(session: Session, order: Order, *, actor: str, action: str, note: str) -> None:
    session.add(
        OrderHistory(order_id=order.id, at=clock.now(), actor=actor, action=action, new_value=note)
    )


def _note(amount: Decimal, item: Item, warehouse_name: str) -> str:
    return f"{_q(amount, item)} {item.name} ({item.sku}), {warehouse_name}"


@requires("stock.edit")
def reserve(
    *,
    session: Session,
    order_id: int,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    actor: str,
) -> Decimal:
    """Reserve free stock for an order's required materials (необходимые материалы);
    returns what the order now has reserved of the item at the warehouse."""
    item = get_item(session=session, item_id=item_id)
    warehouse = get_warehouse(session=session, warehouse_id=warehouse_id)
    _receiving(warehouse, item)
    amount = _parse(quantity, item)
    order = _order(session, order_id)
    stage = _lock_order(session, order_id, share=True)
    category = session.execute(select(Stage.category).where(Stage.code == stage)).scalar()
    if category in FINAL_CATEGORIES:
        raise InvalidInput(
            f"order {order.number} is {category}; nothing can be reserved for it",
            field="order",
        )
    level = _lock(session, item_id, warehouse_id)[warehouse_id] or Level()
    if level.available < amount:
        raise _not_enough(session, item, warehouse, available=level.available, requested=amount)
    _change(session, item_id, warehouse_id, reserved=amount)
    total = _set_reservation(session, order_id, item_id, warehouse_id, by=amount, actor=actor)
    _history(
        session, order, actor=actor, action="reserve", note=_note(amount, item, warehouse.name)
    )
    return total


@dataclass(frozen=True)
class Released:
    item_id: int
    warehouse_id: int
    quantity: Decimal


@requires("stock.edit")
def release(
    *,
    session: Session,
    order_id: int,
    actor: str,
    item_id: int | None = None,
    warehouse_id: int | None = None,
    quantity: Decimal | None = None,
    why: str | None = None,
) -> list[Released]:
    """Give back stock reserved for an order: all of it, one item's, one item's at one
    warehouse, or ``quantity`` of that. Returns what was released (empty: nothing was
    reserved)."""
    order = _order(session, order_id)
    query = select(Reservation.item_id, Reservation.warehouse_id, Reservation.quantity).where(
        Reservation.order_id == order_id
    )
    if item_id is not None:
        query = query.where(Reservation.item_id == item_id)
    if warehouse_id is not None:
        query = query.where(Reservation.warehouse_id == warehouse_id)
    rows = session.execute(query.order_by(Reservation.item_id, Reservation.warehouse_id)).all()
    amount = None
    if quantity is not None:
        if item_id is None:
            raise InvalidInput("say which item to release a quantity of")
        item = get_item(session=session, item_id=item_id)
        amount = _parse(quantity, item)
        if len(rows) > 1:
            raise InvalidInput(
                f"order {order.number} has {_label(item)} reserved at {len(rows)} warehouses; "
                "say which one"
            )
        held = rows[0][2] if rows else ZERO
        if amount > held:
            raise InvalidInput(
                f"order {order.number} has {_q(held, item)} of {_label(item)} reserved; "
                f"cannot release {_q(amount, item)}",
                field="quantity",
            )
    released: list[Released] = []
    for row_item, row_warehouse, _ in rows:
        _lock(session, row_item, row_warehouse)
        held = reserved_for(
            session=session, order_id=order_id, item_id=row_item, warehouse_id=row_warehouse
        )  # as of the lock
        take = min(held, amount) if amount is not None else held
        if take <= 0:
            continue
        _change(session, row_item, row_warehouse, reserved=-take)
        _set_reservation(session, order_id, row_item, row_warehouse, by=-take, actor=actor)
        item = get_item(session=session, item_id=row_item)
        warehouse = get_warehouse(session=session, warehouse_id=row_warehouse)
        note = _note(take, item, warehouse.name) + (f" ({why})" if why else "")
        _history(session, order, actor=actor, action="release", note=note)
        released.append(Released(row_item, row_warehouse, take))
    return released


def _release_when_finished(
    session: Session, order: Order, src: StageView, dst: StageView, actor: str
) -> None:
    """A cancelled or closed order needs no parts any more: release its reservations."""
    if not dst.final or src.final:
        return
    # Locked first, so a reservation being made for the order right now either commits
    # before this reads the reservations (and is released) or waits and sees the stage.
    _lock_order(session, order.id)
    release(session=session, order_id=order.id, actor=actor, why=f"order {dst.name_en.lower()}")


register_after_move(_release_when_finished)
