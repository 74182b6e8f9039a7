"""``fsm checklist``: checklist templates, where they apply, and answers on orders."""

from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE
from fsm_cli.options import Json

app = typer.Typer(no_args_is_help=True, help="Checklists (чек-листы): templates and answers.")
template = typer.Typer(no_args_is_help=True, help="Checklist templates and their items.")
app.add_typer(template, name="template")

Order = Annotated[str, typer.Argument(help="Order number.")]
TemplateRef = Annotated[str, typer.Argument(help="Checklist name (or #id).")]


def _template(session: Any, ref: str) -> Any:
    from sqlalchemy import select

    from fsm_core.errors import NotFound
    from fsm_core.models.execution import ChecklistTemplate
    from fsm_core.values import record_id

    template_id = record_id(ref.strip().lstrip("#"))
    if template_id is not None:
        found = session.get(ChecklistTemplate, template_id)
        if found is not None:
            return found
    found = session.execute(
        select(ChecklistTemplate).where(ChecklistTemplate.name == ref.strip())
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("checklist", ref, hint="fsm checklist template list")
    return found


@template.command("create")
def template_create(
    name: Annotated[str, typer.Argument(help="E.g. 'Осмотр ДГУ перед работой'.")],
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
) -> None:
    """Create an empty checklist; add its items with `fsm checklist template item`."""
    from fsm_core.services import execution

    with STATE.transaction() as session:
        created = execution.create_template(session=session, name=name, description=description)
    output.done(f"Created checklist #{created.id} {created.name}.")


@template.command("item")
def template_item(
    ref: TemplateRef,
    kind: Annotated[str, typer.Argument(help="yes_no, number, text, choice, file or check_in.")],
    text: Annotated[str, typer.Argument(help="The question or instruction.")],
    hint: Annotated[str | None, typer.Option("--hint", help="How to check it.")] = None,
    optional: Annotated[bool, typer.Option("--optional", help="Not needed to close.")] = False,
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    min_value: Annotated[str | None, typer.Option("--min")] = None,
    max_value: Annotated[str | None, typer.Option("--max")] = None,
    choices: Annotated[
        str | None, typer.Option("--choices", help="For choice items: a;b;c.")
    ] = None,
    trigger: Annotated[
        str | None,
        typer.Option(
            "--trigger", help="The answer that fires the rule: no, a choice, out_of_range."
        ),
    ] = None,
    follow_up: Annotated[
        str | None,
        typer.Option(
            "--follow-up", help="Create an order with this description ({answer}, {order})."
        ),
    ] = None,
    raise_to: Annotated[
        str | None, typer.Option("--raise-to", help="Raise the order's criticality to this.")
    ] = None,
) -> None:
    """Add an item to a checklist, with an optional rule on its answer."""
    from fsm_core.services import execution
    from fsm_core.values import parse_decimal

    with STATE.transaction() as session:
        found = _template(session, ref)
        item = execution.add_item(
            session=session,
            template_id=found.id,
            kind=kind,
            text=text,
            hint=hint,
            required=not optional,
            unit=unit,
            min_value=parse_decimal(min_value, field="--min"),
            max_value=parse_decimal(max_value, field="--max"),
            choices=(choices or "").split(";"),
            trigger=trigger,
            follow_up=follow_up,
            raise_to=raise_to,
        )
    output.done(f"Added item [{item.id}] {item.position}. {item.text}")


@template.command("bind")
def template_bind(
    ref: TemplateRef,
    work_type: Annotated[str | None, typer.Option("--work-type", help="A work type.")] = None,
    object_kind: Annotated[
        str | None, typer.Option("--object-kind", help="An object kind, e.g. generator.")
    ] = None,
    order: Annotated[str | None, typer.Option("--order", help="One order.")] = None,
) -> None:
    """Make a checklist apply to a work type, an object kind, or one order."""
    from fsm_core.services import execution, lookup

    with STATE.transaction() as session:
        found = _template(session, ref)
        execution.bind_template(
            session=session,
            template_id=found.id,
            work_type_id=lookup.resolve_work_type(session=session, ref=work_type).id
            if work_type
            else None,
            object_kind=object_kind,
            order_id=lookup.resolve_order(session=session, ref=order).id if order else None,
        )
    output.done(f"Checklist {found.name!r} bound.")


@template.command("list")
def template_list(json_: Json = False) -> None:
    """List checklists with their items and rules."""
    from sqlalchemy import select

    from fsm_core.models.execution import ChecklistItem, ChecklistTemplate

    with STATE.reader() as session:
        templates = list(
            session.execute(select(ChecklistTemplate).order_by(ChecklistTemplate.name)).scalars()
        )
        items = list(
            session.execute(
                select(ChecklistItem).order_by(ChecklistItem.template_id, ChecklistItem.position)
            ).scalars()
        )
    records = [
        t.model_dump()
        | {"items": [i.model_dump(mode="json") for i in items if i.template_id == t.id]}
        for t in templates
    ]
    if json_:
        output.emit_json(records)
        return
    rows = []
    for t in records:
        for i in t["items"]:
            rule = ""
            if i["trigger"]:
                rule = f"{i['trigger']} → " + ", ".join(
                    filter(
                        None, [i["raise_to"] and f"↑{i['raise_to']}", i["follow_up"] and "order"]
                    )
                )
            rows.append(
                [
                    t["name"],
                    f"[{i['id']}] {i['position']}",
                    i["kind"],
                    i["text"],
                    "" if i["required"] else "optional",
                    rule,
                ]
            )
    output.table(["Checklist", "Item", "Kind", "Text", "", "Rule"], rows)


@app.command("show")
def show(order: Order, json_: Json = False) -> None:
    """An order's checklists: every item, its answer, who gave it and when."""
    from fsm_core.formatting import local_time
    from fsm_core.services import execution, lookup
    from fsm_core.services.settings import load

    with STATE.reader() as session:
        found = lookup.resolve_order(session=session, ref=order)
        state = execution.checklist_state(session=session, order_id=found.id)
        tz = load(session=session).tz
    records: list[dict[str, Any]] = [
        {
            "checklist": s.template.name,
            "item_id": s.item.id,
            "position": s.item.position,
            "kind": s.item.kind,
            "text": s.item.text,
            "hint": s.item.hint,
            "required": s.item.required,
            "answer": s.answer.value if s.answer else None,
            "shown": execution.answer_text(s.item, s.answer, tz=tz, lang=STATE.language),
            "answered_by": s.answer.answered_by if s.answer else None,
            "answered_at": s.answer.answered_at if s.answer else None,
        }
        for s in state
    ]
    if json_:
        output.emit_json([{k: v for k, v in r.items() if k != "shown"} for r in records])
        return
    if not records:
        output.done(f"Order {found.number} has no checklist.")
        return
    lang = STATE.language
    output.table(
        ["Checklist", "Item", "Question", "Answer", "By", "When"],
        [
            [
                r["checklist"],
                f"[{r['item_id']}]",
                r["text"] + ("" if r["required"] else " (opt.)"),
                r["shown"] or ("— required" if r["required"] else "—"),
                r["answered_by"] or "",
                local_time(r["answered_at"], tz, lang=lang),
            ]
            for r in records
        ],
        title=found.number,
    )


@app.command("answer")
def answer(
    order: Order,
    item: Annotated[str, typer.Argument(help="Item id ([17] in `checklist show`) or its text.")],
    value: Annotated[
        str | None, typer.Argument(help="да/нет, a number, a choice, text (none for check-in).")
    ] = None,
    file: Annotated[str | None, typer.Option("--file", help="For photo/file items.")] = None,
) -> None:
    """Answer a checklist item; a rule may create a follow-up order or raise criticality."""
    from fsm_core.services import execution, lookup

    with STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        target = execution.find_item(session=session, order_id=found.id, ref=item)
        outcome = execution.answer_item(
            session=session,
            order_id=found.id,
            item_id=target.id,
            value=value,
            actor=STATE.actor,
            file=file,
        )
        follow = outcome.follow_up.number if outcome.follow_up else None
    parts = [f"Answered [{target.id}] {target.text}: {outcome.answer.value}"]
    if outcome.out_of_range:
        parts.append("outside the allowed range")
    if outcome.raised_to:
        parts.append(f"criticality raised to {outcome.raised_to}")
    if follow:
        parts.append(f"follow-up order {follow} created")
    output.done("; ".join(parts) + ".")
