"""``fsm work`` and ``fsm act``: what was done on an order, and the act of completed works."""

from decimal import Decimal
from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.options import MAX_INT, Json

app = typer.Typer(no_args_is_help=True, help="Execution: work, materials, photos, signature.")
act_app = typer.Typer()

Order = Annotated[str, typer.Argument(help="Order number.")]


def _executors(session: Any, specs: list[str]) -> list[Any]:
    """``Иванов К. П.`` or ``Иванов К. П.:1800`` (a rate other than the employee's)."""
    from fsm_core.services import execution, lookup
    from fsm_core.values import parse_money

    result = []
    for spec in specs:
        name, sep, rate = spec.rpartition(":")
        if not sep or not rate.strip() or not any(ch.isdigit() for ch in rate):
            name, rate = spec, ""
        employee = lookup.resolve_employee(session=session, ref=name.strip())
        result.append(
            execution.ExecutorInput(
                employee_id=employee.id,
                hourly_rate=parse_money(rate, field="--executor rate") if rate.strip() else None,
            )
        )
    return result


@app.command("add")
def add(
    order: Order,
    work_type: Annotated[str, typer.Option("--type", "-t", help="Work type (вид работ).")],
    executor: Annotated[
        list[str], typer.Option("--executor", "-e", help="NAME or NAME:RATE; repeatable.")
    ],
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="E.g. '27.11.2026 10:00' (default: the start of the order's visit that has "
            "begun, else an hour ago).",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="E.g. '27.11.2026 12:30' (default: the end of that visit, or now if it is "
            "still on).",
            show_default=False,
        ),
    ] = None,
    obj: Annotated[
        str | None, typer.Option("--object", help="Default: the order's object.")
    ] = None,
    quantity: Annotated[str, typer.Option("--quantity", help="Of the work type.")] = "1",
    comment: Annotated[str | None, typer.Option("--comment")] = None,
) -> None:
    """Record work done: the work type's price and the executors' rates are kept as of now.
    Without --start/--end, the planned time of the order's visit that has begun (as the
    dashboard's work form suggests it)."""
    from fsm_core.formatting import moment
    from fsm_core.services import execution, lookup, planning
    from fsm_core.timeparse import parse_datetime
    from fsm_core.values import parse_quantity

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        tz = company(session).tz
        started_at = parse_datetime(start, tz=tz, field="--start") if start else None
        finished_at = parse_datetime(end, tz=tz, field="--end") if end else None
        if started_at is None or finished_at is None:
            window = planning.work_window(session=session, order_id=found.id, start=started_at)
            started_at = started_at or window.start
            finished_at = finished_at or window.end
        entry = execution.add_work(
            session=session,
            order_id=found.id,
            work_type_id=lookup.resolve_work_type(session=session, ref=work_type).id,
            started_at=started_at,
            finished_at=finished_at,
            executors=_executors(session, executor),
            object_id=(
                lookup.resolve_object(session=session, ref=obj, customer_id=found.customer_id).id
                if obj
                else None
            ),
            quantity=parse_quantity(quantity, field="--quantity", allow_zero=True) or Decimal(0),
            comment=comment,
            actor=STATE.actor,
        )
    when = f"{moment(started_at, tz, lang=STATE.language)}–{finished_at.astimezone(tz):%H:%M}"
    output.done(f"Order {found.number}: work #{entry.id} {entry.work_type_name} recorded ({when}).")


@app.command("material")
def material(
    order: Order,
    item: Annotated[str, typer.Argument(help="Item: SKU, barcode or name.")],
    quantity: Annotated[str, typer.Argument(help="E.g. 0,8 (kg) or 1.")],
    warehouse: Annotated[
        str | None,
        typer.Option(
            "--warehouse",
            "-w",
            help="Taken from here (default: as fsm stock writeoff suggests it - the order's "
            "reservation, the technician's van if it has enough, else the nearest that has).",
            show_default=False,
        ),
    ] = None,
    entry: Annotated[
        int | None,
        typer.Option("--entry", min=1, max=MAX_INT, help="The work entry it was for."),
    ] = None,
) -> None:
    """Record a material used: it is written off the warehouse (never below zero)."""
    from fsm_cli.stock import order_warehouse
    from fsm_core.services import execution, lookup
    from fsm_core.values import parse_quantity

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        what = lookup.resolve_item(session=session, ref=item)
        source = order_warehouse(session, warehouse, found, what, back=False, quantity=quantity)
        use = execution.use_material(
            session=session,
            order_id=found.id,
            item_id=what.id,
            warehouse_id=source.id,
            quantity=parse_quantity(quantity, field="quantity", allow_zero=True) or Decimal(0),
            work_entry_id=entry,
            actor=STATE.actor,
        )
    output.done(
        f"Order {found.number}: {use.item_name} {use.quantity} {use.unit} written off "
        f"from {source.name}."
    )


@app.command("attach")
def attach(
    order: Order,
    file: Annotated[str, typer.Argument(help="A photo or document.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Attach a photo or a document to the order (kept by content, size-limited)."""
    from fsm_core.services import execution, lookup

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        link = execution.attach(
            session=session, order_id=found.id, path=file, note=note, actor=STATE.actor
        )
    output.done(f"Order {found.number}: attachment #{link.attachment_id} added.")


@app.command("comment")
def comment(order: Order, text: Annotated[str, typer.Argument(help="The comment.")]) -> None:
    """Set the execution comment printed on the act."""
    from fsm_core.services import execution, lookup

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        execution.set_comment(session=session, order_id=found.id, comment=text, actor=STATE.actor)
    output.done(f"Order {found.number}: comment saved.")


@app.command("sign")
def sign(
    order: Order,
    name: Annotated[str, typer.Option("--name", help="Who signs for the customer.")],
    position: Annotated[
        str | None,
        typer.Option("--position", help="The signer's position, e.g. 'Главный инженер'."),
    ] = None,
    image: Annotated[
        str | None, typer.Option("--image", help="PNG or JPEG of the signature.")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (default: now).")] = None,
) -> None:
    """Record the customer's signature (получить подпись): from now on the work, materials,
    answers and comment it signed no longer change (see `fsm work unsign`)."""
    from fsm_core.services import execution, lookup
    from fsm_core.timeparse import parse_datetime

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        moment = parse_datetime(at, tz=company(session).tz, field="--at") if at else None
        execution.sign(
            session=session,
            order_id=found.id,
            signer_name=name,
            signer_position=position,
            image=image,
            at=moment,
            actor=STATE.actor,
        )
    output.done(f"Order {found.number}: signed by {name}" + ("" if name.endswith(".") else "."))


@app.command("unsign")
def unsign(
    order: Order,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why, e.g. 'в акт не вошла замена помпы'.")
    ],
) -> None:
    """Withdraw the customer's signature (отозвать подпись): the act is unsigned and its
    execution can change again; the history keeps who signed, who withdrew it and why."""
    from fsm_core.services import execution, lookup

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        execution.unsign(session=session, order_id=found.id, reason=reason, actor=STATE.actor)
    output.done(f"Order {found.number}: the signature is withdrawn; the act is unsigned.")


@app.command("show")
def show(order: Order, json_: Json = False) -> None:
    """The order's execution: work with executors, materials, the totals, the signature."""
    from fsm_core.formatting import local_time, money, number
    from fsm_core.models.execution import ExecutionRecord
    from fsm_core.services import execution, lookup

    lang = STATE.language
    with STATE.reader() as session:
        found = lookup.resolve_order(session=session, ref=order)
        computed = execution.totals(session=session, order_id=found.id, lang=lang)
        record = session.get(ExecutionRecord, found.id)
        settings = company(session)
    blocks: list[dict[str, Any]] = [
        {
            "work": b.entry.work_type_name if b.entry else None,
            "started_at": b.entry.started_at if b.entry else None,
            "finished_at": b.entry.finished_at if b.entry else None,
            "executors": [e.employee_name for e in b.executors],
            "lines": [
                {
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "price": line.price,
                    "amount": line.amount,
                    "kind": line.kind,
                }
                for line in b.lines
            ],
            "subtotal": b.subtotal,
        }
        for b in computed.blocks
    ]
    vat_rate = settings.vat_rate
    if not computed.priced:  # a technician's, where the company keeps prices from them
        for block in blocks:
            block["subtotal"] = None
            for line in block["lines"]:
                line["price"] = line["amount"] = None
    priced = computed.priced
    summary: dict[str, Any] = {
        "order": found.number,
        "blocks": blocks,
        "total": computed.total if priced else None,
        "vat_rate": vat_rate,  # null: «Без НДС»
        "vat_amount": (
            execution.vat_included(computed.total, vat_rate)
            if vat_rate is not None and priced
            else None
        ),
        "comment": record.comment if record else None,
        "signer": record.signer_name if record else None,
        "signer_position": record.signer_position if record else None,
        "signed_at": record.signed_at if record else None,
    }
    if json_:
        output.emit_json(summary)
        return
    currency = settings["currency"]
    rows = []
    for block in blocks:
        if block["work"]:
            when = local_time(block["started_at"], settings.tz, lang=lang)
            from rich.text import Text

            rows.append([Text(f"{block['work']} · {when}", style="bold"), "", "", ""])
        for line in block["lines"]:
            rows.append(
                [
                    "  " + line["name"],
                    f"{number(line['quantity'], lang=lang, digits=2)} {line['unit']}",
                    money(line["price"], lang=lang, currency=currency) if priced else "—",
                    money(line["amount"], lang=lang, currency=currency) if priced else "—",
                ]
            )
    total = money(computed.total, lang=lang, currency=currency) if priced else "—"
    if vat_rate is not None and priced:
        total += f" (VAT {vat_rate}%: {money(summary['vat_amount'], lang=lang, currency=currency)})"
    output.table(
        [
            "",
            ("Qty", {"justify": "right"}),
            ("Price", {"justify": "right"}),
            ("Amount", {"justify": "right"}),
        ],
        rows,
        title=found.number,
        caption=f"Total {total}"
        + (f" · signed by {summary['signer']}" if summary["signer"] else " · not signed"),
    )


@act_app.command("act")
def act(
    order: Annotated[str | None, typer.Argument(help="Order number (or use the filters).")] = None,
    out: Annotated[str | None, typer.Option("--output", "-o", help="PDF file.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en (default: yours).")] = None,
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="Batch: orders in stage.")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Batch: created since.")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    customer: Annotated[list[str] | None, typer.Option("--customer", "-c")] = None,
    out_dir: Annotated[
        str | None, typer.Option("--out-dir", help="Batch: one PDF per order here.")
    ] = None,
    combined: Annotated[
        str | None, typer.Option("--combined", help="Batch: all acts in one PDF.")
    ] = None,
) -> None:
    """The act of completed works (акт выполненных работ) as a PDF: one order, or a batch."""
    language = lang or STATE.language
    if language not in ("ru", "en"):
        raise typer.BadParameter("use ru or en", param_hint="--lang")
    if order is not None:
        if out_dir or combined or stage or since or until or customer:
            raise typer.BadParameter("give an order, or the batch options, not both")
        _one_act(order, out or f"act-{order}.pdf", language)
        return
    if not (out_dir or combined) or (out_dir and combined):
        raise typer.BadParameter("a batch needs --out-dir DIR or --combined FILE")
    _batch(stage, since, until, customer, out_dir, combined, language)


def _one_act(order: str, out: str, lang: str) -> None:
    from fsm_core.documents.act import render_act
    from fsm_core.services import execution, lookup

    with STATE.reader() as session:
        found = lookup.resolve_order(session=session, ref=order)
        document = execution.act_document(session=session, order_id=found.id, lang=lang)
        tz = company(session).tz
    render_act(document, out=out, lang=lang, tz=tz)
    output.done(f"Wrote the act for order {found.number} to {out}.")


def _batch(
    stage: Any, since: Any, until: Any, customer: Any, out_dir: Any, combined: Any, lang: str
) -> None:
    from pathlib import Path

    from fsm_core.documents.act import render_act, render_acts
    from fsm_core.errors import InvalidInput
    from fsm_core.services import execution, order_queries

    with STATE.reader() as session:
        flt = order_queries.filter_from_text(
            session=session, stages=stage, since=since, until=until, customers=customer
        )
        rows = order_queries.list_orders(session=session, filters=flt, limit=None)
        tz = company(session).tz
        documents = []
        skipped = 0
        for row in reversed(rows):  # oldest first
            try:
                documents.append(
                    (
                        row["number"],
                        execution.act_document(session=session, order_id=row["id"], lang=lang),
                    )
                )
            except InvalidInput:
                skipped += 1  # nothing recorded on it: no act to print
    if not documents:
        raise InvalidInput("no order in the selection has work recorded; no act written")
    with output.progress_bar("Acts", total=len(documents)) as advance:
        if combined:
            count = render_acts(
                (d for _, d in documents),
                out=combined,
                lang=lang,
                tz=tz,
                progress=lambda done, total: advance(done, len(documents)),
            )
            where = combined
        else:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for done, (number, document) in enumerate(documents, 1):
                render_act(document, out=folder / f"act-{number}.pdf", lang=lang, tz=tz)
                advance(done, len(documents))
            count, where = len(documents), f"{folder}/"
    note = f" ({skipped} without work skipped)" if skipped else ""
    output.done(f"Wrote {count} act(s) to {where}{note}.")
