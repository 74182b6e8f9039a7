"""``fsm stock``: the item catalogue, warehouses, and every movement of stock (ТМЦ)."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.options import Json, JsonLines, Limit, Offset, Search, SinceDay, UntilDay

if TYPE_CHECKING:
    from decimal import Decimal

    from sqlmodel import Session

    from fsm_core.models import Item

app = typer.Typer(
    no_args_is_help=True,
    help="Stock (ТМЦ): items, warehouses, receipts, transfers, write-offs against orders, "
    "reservations, balances and the ledger.",
)
items = typer.Typer(no_args_is_help=True, help="The item catalogue (номенклатура).")
warehouses = typer.Typer(
    no_args_is_help=True, help="Warehouses (склады): central, regional and technicians' vans."
)
app.add_typer(items, name="items")
app.add_typer(warehouses, name="warehouses")

ItemRef = Annotated[str, typer.Argument(help="Item: SKU (артикул), barcode, external id or name.")]
OrderRef = Annotated[str, typer.Argument(help="Order number, e.g. 26-0012.")]
Qty = Annotated[str, typer.Argument(help="Quantity in the item's unit, e.g. 2 or 0,5.")]
WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse", "-w", help="Warehouse: name, external id, or a technician for their van."
    ),
]
Document = Annotated[
    str | None, typer.Option("--document", "-d", help="The paper it belongs to (накладная №).")
]
Note = Annotated[str | None, typer.Option("--note", help="A comment kept in the ledger.")]
Price = Annotated[str | None, typer.Option("--price", help="Unit price, e.g. '1 250,00'.")]


def _qty(value: Any, unit: str | None = None) -> str:
    from fsm_core.formatting import quantity

    return quantity(value, unit, lang=STATE.language)


def _money(value: Any, currency: str = "RUB") -> str:
    from fsm_core.formatting import money

    return money(value, lang=STATE.language, currency=currency)


RIGHT = {"justify": "right", "no_wrap": True}


# --- items -----------------------------------------------------------------------------


@items.command("list")
def items_list(
    search: Search = None,
    inactive: Annotated[bool, typer.Option("--all", help="Include inactive items.")] = False,
    limit: Limit = 0,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List catalogue items with their stock over all warehouses."""
    from fsm_core.services import stock_queries

    with STATE.reader() as session:
        found = stock_queries.list_items(
            session=session,
            text=search,
            active=None if inactive else True,
            limit=limit or None,
            offset=offset,
        )
        totals = stock_queries.item_totals(session=session, item_ids=[i.id for i in found])
        currency = company(session)["currency"]
    rows = []
    for item in found:
        level = totals.get(item.id) or stock_queries.Level()
        rows.append(
            item.model_dump()
            | {"on_hand": level.on_hand, "reserved": level.reserved, "available": level.available}
        )
    if output.emit_records(rows, json_, nl):
        return
    # on a narrow terminal the name matters more than the purchase price and the minimum
    # (an available quantity below its minimum is shown in red anyway)
    wide = output.console().width >= 110
    columns: list[Any] = [
        (STATE.label("sku"), {"no_wrap": True}),
        (STATE.label("item"), {"squeeze": True, "min_width": 16}),
        (STATE.label("purchase_price"), RIGHT),
        (STATE.label("sale_price"), RIGHT),
        (STATE.label("on_hand"), RIGHT),
        (STATE.label("available"), RIGHT),
        (STATE.label("min_level"), RIGHT),
    ]
    shown = [0, 1, 2, 3, 4, 5, 6] if wide else [0, 1, 3, 4, 5]
    body = [
        [
            r["sku"],
            r["name"],
            _money(r["purchase_price"], currency),
            _money(r["sale_price"], currency),
            _qty(r["on_hand"], r["unit"]),
            _low(totals.get(r["id"]) or stock_queries.Level(), r["min_level"], r["unit"]),
            _qty(r["min_level"], r["unit"]) if r["min_level"] else "",
        ]
        for r in rows
    ]
    output.table([columns[i] for i in shown], [[row[i] for i in shown] for row in body])


def _low(level: Any, min_level: Any, unit: str) -> Any:
    """Available stock, in red when it is low (the core's rule)."""
    from rich.text import Text

    from fsm_core.services.stock_queries import is_low

    text = _qty(level.available, unit)
    return Text(text, style="bold red") if is_low(level, min_level) else text


@items.command("show")
def items_show(ref: ItemRef, json_: Json = False) -> None:
    """Show an item and where it is: every warehouse's on hand, reserved and available."""
    from fsm_core.services import lookup, stock_queries

    with STATE.reader() as session:
        item = lookup.resolve_item(session=session, ref=ref)
        found = stock_queries.availability(session=session, item_id=item.id)
        currency = company(session)["currency"]
    record = item.model_dump() | {
        "on_hand": found.on_hand,
        "reserved": found.reserved,
        "available": found.available,
        "warehouses": [line.as_dict() for line in found.lines],
    }
    if json_:
        output.emit_json(record)
        return
    unit = item.unit
    output.fields(
        [
            (STATE.label("item"), item.name),
            (STATE.label("sku"), item.sku),
            (STATE.label("unit"), unit),
            (STATE.label("purchase_price"), _money(item.purchase_price, currency)),
            (STATE.label("sale_price"), _money(item.sale_price, currency)),
            (STATE.label("min_level"), _qty(item.min_level, unit) if item.min_level else None),
            (STATE.label("barcode"), item.barcode),
            (STATE.label("external_id"), item.external_id),
            (STATE.label("active"), None if item.active else "no"),
        ],
    )
    _print_availability(found)


def _print_availability(found: Any) -> None:
    from fsm_core.i18n import warehouse_kind_name

    unit = found.item.unit
    lang = STATE.language
    if not found.lines:
        output.done(f"{found.item.name}: {_qty(0, unit)} in every warehouse.")
        return
    rows = [
        [
            line.warehouse,
            warehouse_kind_name(line.kind, lang),
            _qty(line.on_hand, unit),
            _qty(line.reserved, unit) if line.reserved else "",
            _qty(line.available, unit),
        ]
        for line in found.lines
    ]
    if len(found.lines) > 1:
        rows.append(
            [
                STATE.label("total"),
                "",
                _qty(found.on_hand, unit),
                _qty(found.reserved, unit) if found.reserved else "",
                _qty(found.available, unit),
            ]
        )
    output.table(
        [
            STATE.label("warehouse"),
            STATE.label("kind"),
            (STATE.label("on_hand"), RIGHT),
            (STATE.label("reserved"), RIGHT),
            (STATE.label("available"), RIGHT),
        ],
        rows,
        title=f"{found.item.name} ({found.item.sku})",
    )


Lat = Annotated[
    str | None,
    typer.Option("--lat", help="Latitude, e.g. 59.9005 (with --lon: the nearest is suggested)."),
]
Lon = Annotated[str | None, typer.Option("--lon", help="Longitude, e.g. 30.3600.")]


def _item_data(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@items.command("create")
def items_create(
    sku: Annotated[str, typer.Argument(help="SKU (артикул), e.g. 'F017C450'.")],
    name: Annotated[str, typer.Argument(help="Name, e.g. 'Кронштейн F 017 C 450'.")],
    unit: Annotated[str, typer.Option("--unit", "-u", help="шт, м, л, кг, компл....")] = "шт",
    purchase_price: Annotated[
        str | None, typer.Option("--purchase-price", help="What it costs us, e.g. '1 200'.")
    ] = None,
    sale_price: Annotated[
        str | None, typer.Option("--sale-price", help="What an act charges for it.")
    ] = None,
    min_level: Annotated[
        str | None, typer.Option("--min-level", help="Below this much available: low stock.")
    ] = None,
    barcode: Annotated[str | None, typer.Option("--barcode")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Add an item to the catalogue."""
    from fsm_core.services import stock

    with STATE.transaction() as session:
        item = stock.create_item(
            session=session,
            data=_item_data(
                sku=sku,
                name=name,
                unit=unit,
                purchase_price=purchase_price,
                sale_price=sale_price,
                min_level=min_level,
                barcode=barcode,
                external_id=external_id,
            ),
        )
    output.result(json_, item.model_dump(), f"Created item {item.sku} {item.name} ({item.unit}).")


@items.command("update")
def items_update(
    ref: ItemRef,
    sku: Annotated[str | None, typer.Option("--sku")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u")] = None,
    purchase_price: Annotated[str | None, typer.Option("--purchase-price")] = None,
    sale_price: Annotated[str | None, typer.Option("--sale-price")] = None,
    min_level: Annotated[str | None, typer.Option("--min-level")] = None,
    barcode: Annotated[str | None, typer.Option("--barcode", help="'' clears it.")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Use or retire the item.")
    ] = None,
    json_: Json = False,
) -> None:
    """Change an item (its unit only while it has no stock movements)."""
    from fsm_core.services import lookup, stock

    changes = _item_data(
        sku=sku,
        name=name,
        unit=unit,
        purchase_price=purchase_price,
        sale_price=sale_price,
        min_level=min_level,
        barcode=barcode,
        external_id=external_id,
        active=active,
    )
    for clearable in ("barcode", "external_id"):
        if changes.get(clearable, None) is not None and not changes[clearable].strip():
            changes[clearable] = None
    if not changes:
        raise typer.BadParameter("nothing to change: give at least one option")
    with STATE.transaction() as session:
        item = lookup.resolve_item(session=session, ref=ref)
        stock.update_item(session=session, item_id=item.id, data=changes)
    output.result(json_, item.model_dump(), f"Updated item {item.sku} {item.name}.")


# --- warehouses ------------------------------------------------------------------------


@warehouses.command("list")
def warehouses_list(
    inactive: Annotated[bool, typer.Option("--all", help="Include inactive warehouses.")] = False,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List warehouses: central, regional, then vans."""
    from fsm_core.i18n import warehouse_kind_name
    from fsm_core.services import stock_queries

    with STATE.reader() as session:
        rows = [
            w.model_dump() | {"employee": employee}
            for w, employee in stock_queries.list_warehouses(
                session=session, active=None if inactive else True
            )
        ]
    if output.emit_records(rows, json_, nl):
        return
    lang = STATE.language
    output.table(
        [
            STATE.label("warehouse"),
            STATE.label("kind"),
            STATE.label("technician"),
            STATE.label("address"),
        ],
        [
            [r["name"], warehouse_kind_name(r["kind"], lang), r["employee"], r["address"]]
            for r in rows
        ],
    )


@warehouses.command("create")
def warehouses_create(
    name: Annotated[
        str | None,
        typer.Argument(help="Name, e.g. 'Склад Юг' (a van is named after its technician)."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="central, regional or van (default: central).")
    ] = None,
    employee: Annotated[
        str | None, typer.Option("--employee", "-e", help="The technician whose van it is.")
    ] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    lat: Lat = None,
    lon: Lon = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Add a warehouse, or a technician's van (--employee)."""
    from fsm_core.services import lookup, stock

    if name is None and employee is None:
        raise typer.BadParameter("give the warehouse's name, or --employee for a van")
    with STATE.transaction() as session:
        employee_id = (
            lookup.resolve_employee(session=session, ref=employee).id if employee else None
        )
        warehouse = stock.create_warehouse(
            session=session,
            data=_item_data(
                name=name,
                kind=kind,
                employee_id=employee_id,
                address=address,
                latitude=lat,
                longitude=lon,
                external_id=external_id,
            ),
        )
    output.result(
        json_, warehouse.model_dump(), f"Created warehouse #{warehouse.id} {warehouse.name}."
    )


@warehouses.command("update")
def warehouses_update(
    ref: Annotated[str, typer.Argument(help="Warehouse: name, external id or technician.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    lat: Lat = None,
    lon: Lon = None,
    employee: Annotated[
        str | None, typer.Option("--employee", "-e", help="Hand the van to this technician.")
    ] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Close an empty warehouse, or reopen one."),
    ] = None,
    json_: Json = False,
) -> None:
    """Rename a warehouse, change its address, hand a van over, or close it."""
    from fsm_core.services import lookup, stock

    changes = _item_data(
        name=name,
        address=address,
        latitude=lat,
        longitude=lon,
        external_id=external_id,
        active=active,
    )
    if not changes and employee is None:
        raise typer.BadParameter("nothing to change: give at least one option")
    with STATE.transaction() as session:
        warehouse = lookup.resolve_warehouse(session=session, ref=ref)
        if employee is not None:
            changes["employee_id"] = lookup.resolve_employee(session=session, ref=employee).id
        stock.update_warehouse(session=session, warehouse_id=warehouse.id, data=changes)
    output.result(json_, warehouse.model_dump(), f"Updated warehouse {warehouse.name}.")


# --- movements -------------------------------------------------------------------------


def _movement_record(session: "Session", movement: Any) -> dict[str, Any]:
    from fsm_core.models import Order
    from fsm_core.services import stock_queries

    item = stock_queries.get_item(session=session, item_id=movement.item_id)
    names = {
        w_id: stock_queries.get_warehouse(session=session, warehouse_id=w_id).name
        for w_id in (movement.from_warehouse_id, movement.to_warehouse_id)
        if w_id is not None
    }
    order = session.get(Order, movement.order_id) if movement.order_id else None
    return movement.model_dump() | {
        "sku": item.sku,
        "item": item.name,
        "unit": item.unit,
        "from_warehouse": names.get(movement.from_warehouse_id),
        "to_warehouse": names.get(movement.to_warehouse_id),
        "order": order.number if order else None,
    }


def _level(session: "Session", item_id: int, warehouse_id: int) -> str:
    """``6 шт on hand, 4 шт available`` at one warehouse, after the movement."""
    from fsm_core.services import stock_queries

    item = stock_queries.get_item(session=session, item_id=item_id)
    for line in stock_queries.balances(session=session, item_id=item_id, warehouse_id=warehouse_id):
        if line.reserved:
            return (
                f"{_qty(line.on_hand, item.unit)} on hand, "
                f"{_qty(line.available, item.unit)} available"
            )
        return f"{_qty(line.on_hand, item.unit)} on hand"
    return f"{_qty(0, item.unit)} on hand"


def _price(text: str | None) -> "Decimal | None":
    from fsm_core.values import parse_money

    return parse_money(text, field="price") if text is not None else None


def _counted(text: str | None, item: "Item", **how: Any) -> "Decimal | None":
    """An inventory count or a difference, as typed; None when not given."""
    from fsm_core.values import parse_quantity

    return parse_quantity(text, unit=item.unit, **how) if text is not None else None


def _finish(session: "Session", movement: Any, json_: bool, message: str) -> dict[str, Any] | None:
    if json_:
        return _movement_record(session, movement)
    output.done(message)
    return None


@app.command("receive")
def receive(
    item: ItemRef,
    quantity: Qty,
    to: Annotated[str, typer.Option("--to", "-w", help="The warehouse it arrives at.")],
    price: Price = None,
    document: Document = None,
    note: Note = None,
    json_: Json = False,
) -> None:
    """Stock arrives at a warehouse (приход), at the purchase price unless --price."""
    from fsm_core.services import lookup, stock

    with STATE.transaction() as session:
        found = lookup.resolve_item(session=session, ref=item)
        warehouse = lookup.resolve_warehouse(session=session, ref=to)
        movement = stock.receive(
            session=session,
            item_id=found.id,
            warehouse_id=warehouse.id,
            quantity=stock.read_quantity(quantity, item=found),
            unit_price=_price(price),
            document=document,
            reason=note,
            actor=STATE.actor,
        )
        record = _finish(
            session,
            movement,
            json_,
            f"Received {_qty(movement.quantity, found.unit)} {found.name} at {warehouse.name}: "
            f"{_level(session, found.id, warehouse.id)}.",
        )
    if record is not None:
        output.emit_json(record)


@app.command("transfer")
def transfer(
    item: ItemRef,
    quantity: Qty,
    source: Annotated[str, typer.Option("--from", help="The warehouse it leaves.")],
    target: Annotated[str, typer.Option("--to", help="The warehouse it goes to (or a van).")],
    order: Annotated[
        str | None,
        typer.Option("--order", "-o", help="For this order: its reservation moves along."),
    ] = None,
    document: Document = None,
    note: Note = None,
    json_: Json = False,
) -> None:
    """Move stock between warehouses (перемещение), e.g. to a technician's van."""
    from fsm_core.services import lookup, stock

    with STATE.transaction() as session:
        found = lookup.resolve_item(session=session, ref=item)
        a = lookup.resolve_warehouse(session=session, ref=source)
        b = lookup.resolve_warehouse(session=session, ref=target)
        order_id = lookup.resolve_order(session=session, ref=order).id if order else None
        movement = stock.transfer(
            session=session,
            item_id=found.id,
            from_warehouse_id=a.id,
            to_warehouse_id=b.id,
            quantity=stock.read_quantity(quantity, item=found),
            order_id=order_id,
            document=document,
            reason=note,
            actor=STATE.actor,
        )
        record = _finish(
            session,
            movement,
            json_,
            f"Moved {_qty(movement.quantity, found.unit)} {found.name} from {a.name} to {b.name}: "
            f"{a.name} {_level(session, found.id, a.id)}, "
            f"{b.name} {_level(session, found.id, b.id)}.",
        )
    if record is not None:
        output.emit_json(record)


def order_warehouse(
    session: "Session",
    ref: str | None,
    order: Any,
    item: Any,
    *,
    back: bool,
    quantity: str | None = None,
) -> Any:
    """The warehouse named, or the one the order's stock evidently comes from (the
    core's suggest_write_off: its reservation's, its technician's van if it has enough,
    else the nearest warehouse that has enough) or goes back to (where it came from, or
    the technician's van)."""
    from fsm_core.errors import FsmError
    from fsm_core.services import lookup, stock_queries
    from fsm_core.values import parse_quantity

    if ref:
        return lookup.resolve_warehouse(session=session, ref=ref)
    if back:
        guess = stock_queries.suggest_return_target(session=session, order=order, item_id=item.id)
    else:
        try:
            amount = parse_quantity(quantity, unit=item.unit) if quantity else None
        except FsmError:
            amount = None  # the movement itself says what is wrong with it
        guess = stock_queries.suggest_write_off(
            session=session, order=order, item_id=item.id, quantity=amount
        )
    if guess is None:
        option = "--to" if back else "--from"
        where = (
            f"order {order.number} has no reservation of {item.name} and no technician with a van"
            if back
            else f"{item.name} is in no warehouse and order {order.number} has no technician "
            "with a van"
        )
        raise typer.BadParameter(f"say which warehouse: {where}", param_hint=option)
    return guess


@app.command("writeoff")
def writeoff(
    order: OrderRef,
    item: ItemRef,
    quantity: Qty,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            "-w",
            help="Warehouse (default: where the order's reservation is, else the "
            "technician's van if it has enough, else the nearest warehouse that has enough).",
        ),
    ] = None,
    price: Annotated[
        str | None, typer.Option("--price", help="Unit price (default: the sale price).")
    ] = None,
    document: Document = None,
    note: Note = None,
    json_: Json = False,
) -> None:
    """Write materials off against an order (списание); its reservation is used first."""
    from fsm_core.services import lookup, stock, stock_queries

    with STATE.transaction() as session:
        target = lookup.resolve_order(session=session, ref=order)
        found = lookup.resolve_item(session=session, ref=item)
        warehouse = order_warehouse(session, source, target, found, back=False, quantity=quantity)
        movement = stock.write_off(
            session=session,
            order_id=target.id,
            item_id=found.id,
            warehouse_id=warehouse.id,
            quantity=stock.read_quantity(quantity, item=found),
            unit_price=_price(price),
            document=document,
            reason=note,
            actor=STATE.actor,
        )
        left = stock_queries.reserved_for(
            session=session, order_id=target.id, item_id=found.id, warehouse_id=warehouse.id
        )
        still = f"; {_qty(left, found.unit)} still reserved for it" if left else ""
        record = _finish(
            session,
            movement,
            json_,
            f"Wrote off {_qty(movement.quantity, found.unit)} {found.name} from {warehouse.name} "
            f"for order {target.number}{still}: {_level(session, found.id, warehouse.id)}.",
        )
    if record is not None:
        output.emit_json(record)


@app.command("return")
def return_(
    order: OrderRef,
    item: ItemRef,
    quantity: Qty,
    target: Annotated[
        str | None,
        typer.Option(
            "--to",
            "-w",
            help="Warehouse (default: the one it was written off from, else the van).",
        ),
    ] = None,
    document: Document = None,
    note: Note = None,
    json_: Json = False,
) -> None:
    """Return unused materials from an order to a warehouse (возврат)."""
    from fsm_core.services import lookup, stock

    with STATE.transaction() as session:
        source = lookup.resolve_order(session=session, ref=order)
        found = lookup.resolve_item(session=session, ref=item)
        warehouse = order_warehouse(session, target, source, found, back=True)
        movement = stock.return_from_order(
            session=session,
            order_id=source.id,
            item_id=found.id,
            warehouse_id=warehouse.id,
            quantity=stock.read_quantity(quantity, item=found),
            document=document,
            reason=note,
            actor=STATE.actor,
        )
        record = _finish(
            session,
            movement,
            json_,
            f"Returned {_qty(movement.quantity, found.unit)} {found.name} from order "
            f"{source.number} to {warehouse.name}: {_level(session, found.id, warehouse.id)}.",
        )
    if record is not None:
        output.emit_json(record)


@app.command("adjust")
def adjust(
    item: ItemRef,
    warehouse: Annotated[str, typer.Option("--warehouse", "-w", help="Where the count was taken.")],
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why, e.g. 'инвентаризация 30.11'.")
    ],
    count: Annotated[
        str | None, typer.Option("--count", help="The quantity counted on the shelf.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Or the difference: -2 lost, 1 found.")
    ] = None,
    document: Document = None,
    json_: Json = False,
) -> None:
    """Correct a balance after an inventory count (корректировка), with the reason."""
    from fsm_core.services import lookup, stock

    if (count is None) == (by is None):
        raise typer.BadParameter("give --count or --by (one of them)", param_hint="--count")
    with STATE.transaction() as session:
        found = lookup.resolve_item(session=session, ref=item)
        place = lookup.resolve_warehouse(session=session, ref=warehouse)
        movement = stock.adjust(
            session=session,
            item_id=found.id,
            warehouse_id=place.id,
            counted=_counted(count, found, field="counted", allow_zero=True),
            delta=_counted(by, found, field="delta", allow_negative=True),
            reason=reason,
            document=document,
            actor=STATE.actor,
        )
        if movement is None:
            record = None
            output.result(
                json_,
                None,
                f"{found.name} at {place.name}: the count agrees "
                f"({_level(session, found.id, place.id)}); nothing to adjust.",
            )
        else:
            sign = "+" if movement.to_warehouse_id else "−"
            record = _finish(
                session,
                movement,
                json_,
                f"Adjusted {found.name} at {place.name} by {sign}"
                f"{_qty(movement.quantity, found.unit)}: {_level(session, found.id, place.id)}.",
            )
    if record is not None:
        output.emit_json(record)


# --- reading ---------------------------------------------------------------------------


@app.command("balance")
def balance(
    item: Annotated[
        str | None, typer.Argument(help="One item: where it is (every warehouse).")
    ] = None,
    warehouse: WarehouseOpt = None,
    search: Search = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Include zero balances (and empty warehouses).")
    ] = False,
    limit: Limit = 0,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """Stock on hand, reserved and available, by warehouse and item."""
    from fsm_core.services import lookup, stock_queries

    with STATE.reader() as session:
        found = lookup.resolve_item(session=session, ref=item) if item else None
        place = lookup.resolve_warehouse(session=session, ref=warehouse) if warehouse else None
        if found is not None and place is None:
            where = stock_queries.availability(
                session=session, item_id=found.id, include_empty=everything
            )
            if output.emit_records([line.as_dict() for line in where.lines], json_, nl):
                return
            _print_availability(where)
            return
        lines = stock_queries.balances(
            session=session,
            item_id=found.id if found else None,
            warehouse_id=place.id if place else None,
            text=search,
            include_empty=everything,
            limit=limit or None,
            offset=offset,
        )
    if output.emit_records([line.as_dict() for line in lines], json_, nl):
        return
    if not lines:
        output.done("No stock here." if place else "No stock anywhere yet: fsm stock receive.")
        return
    body = []
    previous = None
    for line in lines:
        body.append(
            [
                line.warehouse if line.warehouse != previous else "",
                line.sku,
                line.item,
                _qty(line.on_hand, line.unit),
                _qty(line.reserved, line.unit) if line.reserved else "",
                _qty(line.available, line.unit),
            ]
        )
        previous = line.warehouse
    output.table(
        [
            (STATE.label("warehouse"), {"max_width": 28}),
            (STATE.label("sku"), {"no_wrap": True}),
            (STATE.label("item"), {"squeeze": True}),
            (STATE.label("on_hand"), RIGHT),
            (STATE.label("reserved"), RIGHT),
            (STATE.label("available"), RIGHT),
        ],
        body,
    )


@app.command("ledger")
def ledger(
    item: Annotated[str | None, typer.Option("--item", "-i", help="One item.")] = None,
    warehouse: WarehouseOpt = None,
    order: Annotated[str | None, typer.Option("--order", "-o", help="One order.")] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind", help="receipt, transfer, write_off, return, adjustment; repeatable."
        ),
    ] = None,
    since: SinceDay = None,
    until: UntilDay = None,
    limit: Limit = 50,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """The stock ledger, newest first: who moved what, when, where, for which order."""
    from fsm_core.services import lookup, stock_queries
    from fsm_core.timeparse import day_range

    with STATE.reader() as session:
        tz = company(session).tz
        start, end = day_range(since, until, tz=tz)
        lines = stock_queries.ledger(
            session=session,
            item_id=lookup.resolve_item(session=session, ref=item).id if item else None,
            warehouse_id=lookup.resolve_warehouse(session=session, ref=warehouse).id
            if warehouse
            else None,
            order_id=lookup.resolve_order(session=session, ref=order).id if order else None,
            kinds=kind or (),
            since=start,
            until=end,
            limit=limit or None,
            offset=offset,
        )
    if output.emit_records([line.as_dict() for line in lines], json_, nl):
        return
    from fsm_core.formatting import moment
    from fsm_core.i18n import movement_name

    lang = STATE.language
    output.table(
        [
            (STATE.label("when"), {"no_wrap": True}),
            (STATE.label("movement"), {"no_wrap": True}),
            (STATE.label("item"), {"squeeze": True, "ratio": 3}),
            (STATE.label("quantity"), RIGHT),
            (f"{STATE.label('from')} → {STATE.label('to')}", {"squeeze": True, "ratio": 3}),
            (STATE.label("order"), {"no_wrap": True}),
            (STATE.label("who"), {"squeeze": True, "max_width": 14, "ratio": 1}),
            (STATE.label("reason"), {"squeeze": True, "ratio": 1}),
        ],
        [
            [
                moment(line.at, tz, lang=lang),
                movement_name(line.kind, lang),
                line.item,
                _qty(line.quantity, line.unit),
                _route(line.from_warehouse, line.to_warehouse),
                line.order or "",
                line.actor,
                " ".join(filter(None, (line.document, line.reason))),
            ]
            for line in lines
        ],
    )


def _route(source: str | None, target: str | None) -> str:
    """``Центральный склад → Склад Юг``; ``→ Склад Юг`` for stock arriving, ``Склад Юг →``
    for stock leaving for an order or lost."""
    return " ".join(filter(None, (source, "→", target)))


@app.command("low")
def low(json_: Json = False, nl: JsonLines = False) -> None:
    """Items whose available stock (all warehouses) is below their minimum level."""
    from fsm_core.services import stock_queries

    with STATE.reader() as session:
        lines = stock_queries.low_stock(session=session)
    if output.emit_records([line.as_dict() for line in lines], json_, nl):
        return
    if not lines:
        output.done("Every item is at or above its minimum level.")
        return
    output.table(
        [
            (STATE.label("sku"), {"no_wrap": True}),
            (STATE.label("item"), {"squeeze": True}),
            (STATE.label("available"), RIGHT),
            (STATE.label("min_level"), RIGHT),
            (STATE.label("shortfall"), {**RIGHT, "style": "bold"}),
        ],
        [
            [
                line.sku,
                line.item,
                _qty(line.available, line.unit),
                _qty(line.min_level, line.unit),
                _qty(line.shortfall, line.unit),
            ]
            for line in lines
        ],
    )


@app.command("reserve")
def reserve(
    order: OrderRef,
    item: Annotated[str | None, typer.Argument(help="Item to reserve (or release).")] = None,
    quantity: Annotated[
        str | None, typer.Argument(help="How much (to release: default all of it).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            "-w",
            help="Warehouse (default for a reservation: the technician's van).",
        ),
    ] = None,
    release: Annotated[
        bool, typer.Option("--release", help="Give reserved stock back instead.")
    ] = False,
    json_: Json = False,
) -> None:
    """Reserve an order's required materials (необходимые материалы), release them, or
    (with the order alone) show what it has reserved and used."""
    from fsm_core.services import lookup, stock, stock_queries
    from fsm_core.values import parse_quantity

    if quantity is not None and item is None:
        raise typer.BadParameter("give the item before the quantity")
    with STATE.transaction() as session:
        target = lookup.resolve_order(session=session, ref=order)
        found = lookup.resolve_item(session=session, ref=item) if item else None
        if release:
            place = lookup.resolve_warehouse(session=session, ref=source) if source else None
            released = stock.release(
                session=session,
                order_id=target.id,
                item_id=found.id if found else None,
                warehouse_id=place.id if place else None,
                quantity=stock.read_quantity(quantity, item=found)
                if found is not None and quantity is not None
                else None,
                actor=STATE.actor,
            )
            if not json_:
                if not released:
                    output.done(f"Order {target.number} has nothing reserved to release.")
                for part in released:
                    what = stock_queries.get_item(session=session, item_id=part.item_id)
                    where = stock_queries.get_warehouse(
                        session=session, warehouse_id=part.warehouse_id
                    )
                    output.done(
                        f"Released {_qty(part.quantity, what.unit)} {what.name} at {where.name} "
                        f"(order {target.number})."
                    )
        elif found is not None:
            if quantity is None:
                raise typer.BadParameter("how much? give the quantity after the item")
            place = order_warehouse(session, source, target, found, back=False, quantity=quantity)
            total = stock.reserve(
                session=session,
                order_id=target.id,
                item_id=found.id,
                warehouse_id=place.id,
                quantity=stock.read_quantity(quantity, item=found),
                actor=STATE.actor,
            )
            if not json_:
                output.done(
                    f"Reserved {_qty(parse_quantity(quantity), found.unit)} {found.name} "
                    f"at {place.name} for order {target.number} ({_qty(total, found.unit)} "
                    f"reserved for it there): {_level(session, found.id, place.id)}."
                )
        materials = stock_queries.order_materials(session=session, order_id=target.id)
    if json_:
        output.emit_json([m.as_dict() for m in materials])
        return
    if found is not None or release:
        return
    if not materials:
        output.done(f"Order {target.number} has no materials reserved or used.")
        return
    output.table(
        [
            (STATE.label("item"), {"squeeze": True}),
            (STATE.label("warehouse"), {"squeeze": True, "max_width": 28}),
            (STATE.label("reserved"), RIGHT),
            (STATE.label("written_off"), RIGHT),
            (STATE.label("returned"), RIGHT),
        ],
        [
            [
                f"{m.item} ({m.sku})",
                m.warehouse,
                _qty(m.reserved, m.unit) if m.reserved else "",
                _qty(m.written_off, m.unit) if m.written_off else "",
                _qty(m.returned, m.unit) if m.returned else "",
            ]
            for m in materials
        ],
        title=f"{STATE.label('order')} {target.number}",
    )
