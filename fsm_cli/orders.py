"""``fsm orders``: the order board and the order lifecycle."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import IfVersion, Json, JsonLines, Limit, Offset, Search

if TYPE_CHECKING:
    from sqlmodel import Session

app = typer.Typer(
    no_args_is_help=True, help="Orders (заявки): list, create, assign, move, history."
)

Number = Annotated[str, typer.Argument(help="Order number, e.g. 26-0012 (or its external id).")]
Many = Annotated[list[str] | None, typer.Option()]


def _datetime(
    session: "Session", value: str | None, field: str, *, end_of_day: bool = False
) -> Any:
    from fsm_core.timeparse import parse_datetime

    return parse_datetime(value, tz=company(session).tz, field=field, end_of_day=end_of_day)


def _clearable(value: str | None) -> bool:
    """``--option ""`` (or ``-``) clears a field."""
    return value is not None and value.strip() in ("", "-")


# --- list ------------------------------------------------------------------------------


@app.command("list")
def list_(
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="Stage code or name; repeatable.")
    ] = None,
    assignee: Annotated[
        list[str] | None,
        typer.Option(
            "--assignee",
            "-a",
            help="Employee (short name, e-mail, phone...); 'none' for unassigned. Repeatable.",
        ),
    ] = None,
    crew: Annotated[list[str] | None, typer.Option("--crew", help="Crew; repeatable.")] = None,
    customer: Annotated[
        list[str] | None, typer.Option("--customer", "-c", help="Customer; repeatable.")
    ] = None,
    obj: Annotated[
        list[str] | None,
        typer.Option("--object", "-o", help="Object (with the equipment under it); repeatable."),
    ] = None,
    criticality: Annotated[
        list[str] | None, typer.Option("--criticality", help="low, normal, high, critical.")
    ] = None,
    sla_status: Annotated[
        list[str] | None, typer.Option("--sla", help="ok, at_risk, violated, none.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Created on or after (e.g. 01.11.2026).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Created on or before this day (inclusive).")
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Hide closed and cancelled orders.")
    ] = False,
    search: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List orders, newest first, with their SLA status."""
    from fsm_core import clock
    from fsm_core.services import order_queries
    from fsm_core.services.stages import load_workflow

    now = clock.now()
    with STATE.reader() as session:
        flt = order_queries.filter_from_text(
            session=session,
            stages=stage,
            assignees=assignee,
            crews=crew,
            customers=customer,
            objects=obj,
            criticalities=criticality,
            sla_statuses=sla_status,
            since=since,
            until=until,
            text=search,
            open_only=open_only,
        )
        rows = order_queries.list_orders(
            session=session, filters=flt, limit=limit or None, offset=offset, now=now
        )
        if output.emit_records(rows, json_, nl):
            return
        total = order_queries.count_orders(session=session, filters=flt, now=now)
        workflow = load_workflow(session=session)
        settings = company(session)
    _print_board(rows, total=total, settings=settings, workflow=workflow, now=now)


_SLA_STYLE = {"ok": "green", "at_risk": "yellow", "violated": "bold red", "none": "dim"}
_CRIT_STYLE = {"low": "dim", "normal": "", "high": "bold yellow", "critical": "bold red"}


def sla_cell(row: dict[str, Any], stage: Any, now: Any, lang: str) -> Any:
    """Time left to the deadline that runs now (reaction while new, else resolution),
    coloured by the SLA status; the wording is fsm_core.formatting's, as in the dashboard."""
    from rich.text import Text

    from fsm_core.formatting import sla_for

    text, status = sla_for(row, stage, now, lang)
    return Text(text, style=_SLA_STYLE.get(status, ""))


def _print_board(
    rows: list[dict[str, Any]], *, total: int, settings: Any, workflow: Any, now: Any
) -> None:
    from rich.text import Text

    from fsm_core.formatting import moment
    from fsm_core.i18n import criticality_name, label

    lang = STATE.language
    tz = settings.tz
    squeeze = {"squeeze": True}
    columns: list[tuple[str, dict[str, Any]]] = [
        (label("number", lang), {"no_wrap": True, "style": "bold"}),
        (label("created", lang), {"no_wrap": True}),
        (label("stage", lang), {**squeeze, "max_width": 14}),
        (label("crit", lang), {**squeeze, "max_width": 9}),
        (label("customer", lang), {**squeeze, "max_width": 22}),
        (label("object", lang), {**squeeze, "max_width": 26}),
        (label("assignee", lang), {**squeeze, "max_width": 16}),
        (label("sla", lang), {**squeeze, "max_width": 22}),
        (label("description", lang), squeeze),
    ]
    body = []
    for row in rows:
        stage = workflow.stages.get(row["stage_code"])
        body.append(
            [
                row["number"],
                moment(row["created_at"], tz, lang=lang, now=now),
                stage.name(lang) if stage else row["stage_code"],
                Text(
                    criticality_name(row["criticality"], lang),
                    style=_CRIT_STYLE.get(row["criticality"], ""),
                ),
                row["customer"],
                row["object"] or "",
                row["assignee"] or row["crew"] or "",
                sla_cell(row, stage, now, lang),
                " ".join((row["description"] or "").split()),
            ]
        )
    caption = label("shown_of", lang).format(shown=len(rows), total=total)
    output.table(columns, body, caption=caption)


# --- show / history --------------------------------------------------------------------


@app.command("show")
def show(number: Number, json_: Json = False) -> None:
    """Show one order with its customer, object, deadlines and allowed next stages."""
    from fsm_core.services import lookup, order_queries
    from fsm_core.services.order_feedback import order_feedback

    with STATE.reader() as session:
        order = lookup.resolve_order(session=session, ref=number)
        details = order_queries.order_details(session=session, order=order)
        feedback = order_feedback(session=session, order_id=order.id)
        settings = company(session)
    if feedback.link_wanted:  # its first look: the link is made, once
        with STATE.transaction() as session:
            feedback = order_feedback(session=session, order_id=order.id, make_link=True)
    details["rating"] = feedback.rating_json()
    details["status_url"] = feedback.status_url
    if json_:
        output.emit_json(details)
        return
    _print_details(details, settings)


def _rating_line(rating: dict[str, Any] | None, lang: str) -> Any:
    """``4,67 (оперативность 5, точность 4, общение 5) «comment»``, coloured by the mean."""
    if rating is None:
        return None
    from decimal import Decimal

    from rich.text import Text

    from fsm_cli.ratings import rating_style, rating_text
    from fsm_core.services.ratings import SCORE_NAMES, SCORES

    mean = Decimal(str(rating["rating"]))
    line = Text(rating_text(mean, lang), style=rating_style(mean))
    scores = ", ".join(
        f"{SCORE_NAMES[name][1 if lang == 'ru' else 0]} {rating[name]}" for name in SCORES
    )
    line.append(f" ({scores})")
    if rating.get("comment"):
        line.append(f" «{rating['comment']}»" if lang == "ru" else f' "{rating["comment"]}"')
    return line


def _print_details(d: dict[str, Any], settings: Any) -> None:
    from fsm_core import clock
    from fsm_core.formatting import due_time, local_time
    from fsm_core.i18n import criticality_name, label, sla_name, source_name
    from fsm_core.values import format_phone

    lang = STATE.language
    tz = settings.tz
    now = clock.now()

    def t(value: Any) -> str:
        return local_time(value, tz, lang=lang)

    def due(value: Any) -> str:
        return due_time(value, tz, now=now, lang=lang)

    planned = t(d["planned_start"])
    if d["planned_end"]:
        planned += " – " + t(d["planned_end"])
    contact = d.get("contact") or ""
    if d.get("contact_phone"):
        contact += f", {format_phone(d['contact_phone'])}"
    output.fields(
        [
            (label("stage", lang), d["stage_name_ru"] if lang == "ru" else d["stage_name_en"]),
            (label("criticality", lang), criticality_name(d["criticality"], lang)),
            (label("customer", lang), d["customer"]),
            (label("object", lang), d.get("object")),
            (label("address", lang), d.get("address")),
            (label("location_hint", lang), d.get("location_hint")),
            (label("contact", lang), contact),
            (label("description", lang), d["description"]),
            (label("assignee", lang), d.get("assignee")),
            (label("crew", lang), d.get("crew")),
            (label("planned", lang), planned),
            (
                label("created", lang),
                f"{t(d['created_at'])} ({d['created_by']}, {source_name(d['source'], lang)})",
            ),
            (label("reaction_due", lang), due(d["reaction_due"])),
            (label("resolution_due", lang), due(d["resolution_due"])),
            (label("sla", lang), sla_name(d["sla_status"], lang)),
            (label("sla_calendar", lang), d.get(f"sla_calendar_{lang}")),
            (label("closed", lang), t(d["closed_at"])),
            (_t("Rating", "Оценка"), _rating_line(d.get("rating"), lang)),
            (_t("Status page", "Страница статуса"), d.get("status_url")),
            (label("external_id", lang), d.get("external_id")),
            (label("version", lang), d["version"]),
            (
                label("allowed_stages", lang),
                ", ".join(
                    f"«{n}»" if lang == "ru" else n for n in d[f"allowed_stage_names_{lang}"]
                ),
            ),
        ],
        title=f"{label('orders', lang)[:-1] if lang == 'en' else 'Заявка'} {d['number']}",
    )


@app.command("link")
def link(
    number: Number,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Give the order a new link: the one sent before stops working at once.",
        ),
    ] = False,
) -> None:
    """Print the address of the order's status page (the link the customer is sent)."""
    from fsm_core.errors import InvalidInput
    from fsm_core.services import lookup, status_links
    from fsm_core.services.order_feedback import order_feedback
    from fsm_core.services.passports import placeholder_in_use

    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        if replace:
            status_links.replace_link(session=session, order_id=order.id)
        url = order_feedback(session=session, order_id=order.id, make_link=True).status_url
        if url is None:
            raise InvalidInput(
                f"order {order.number} has no status link yet: a dispatcher makes it "
                f"(fsm orders link {order.number})",
                ru=f"у заявки {order.number} ещё нет ссылки на статус: её создаёт диспетчер "
                f"(fsm orders link {order.number})",
            )
        example = placeholder_in_use(session=session)
    output.plain(url)
    if example:
        output.done(
            _t(
                "Warning: the link leads to the example address; set yours first: "
                "fsm settings set passport_base_url https://.../p",
                "Внимание: ссылка ведёт на адрес-пример; сначала задайте свой: "
                "fsm settings set passport_base_url https://.../p",
            )
        )
    if replace:
        output.done(
            _t(
                f"Order {order.number}: a new status link; the old one no longer works.",
                f"Заявка {order.number}: новая ссылка на статус; прежняя больше не работает.",
            )
        )


@app.command("history")
def history(number: Number, json_: Json = False, nl: JsonLines = False) -> None:
    """The order's change history (история изменений): who changed what, when."""
    from fsm_core.formatting import local_time
    from fsm_core.i18n import label
    from fsm_core.services import lookup, order_queries

    lang = STATE.language
    with STATE.reader() as session:
        order = lookup.resolve_order(session=session, ref=number)
        rows = order_queries.history(session=session, order_id=order.id)
        tz = company(session).tz
        lines = order_queries.history_lines(session=session, order_id=order.id, lang=lang, tz=tz)
    records = [
        {
            "at": h.at,
            "actor": h.actor,
            "action": h.action,
            "field": h.field,
            "old": h.old_value,
            "new": h.new_value,
        }
        for h in rows
    ]
    if output.emit_records(records, json_, nl):
        return
    output.table(
        [
            label("when", lang),
            label("who", lang),
            label("what", lang),
            label("old", lang),
            label("new", lang),
        ],
        [
            [local_time(h.at, tz, lang=lang, seconds=True), h.actor, h.what, h.old, h.new]
            for h in lines
        ],
        title=order.number,
    )


# --- create / update -------------------------------------------------------------------


def _reference_ids(
    session: "Session",
    *,
    customer: str | None,
    obj: str | None,
    contact: str | None,
    customer_id: int | None = None,
) -> dict[str, Any]:
    """Resolve the customer/object/contact options; an object alone implies its customer."""
    from fsm_core.services import lookup

    ids: dict[str, Any] = {}
    if customer is not None:
        customer_id = lookup.resolve_company(session=session, ref=customer).id
        ids["customer_id"] = customer_id
    if obj is not None:
        if _clearable(obj):
            ids["object_id"] = None
        else:
            found = lookup.resolve_object(session=session, ref=obj, customer_id=customer_id)
            ids["object_id"] = found.id
            if customer_id is None:
                ids["customer_id"] = found.customer_id
                customer_id = found.customer_id
    if contact is not None:
        ids["contact_id"] = (
            None
            if _clearable(contact)
            else lookup.resolve_contact(session=session, ref=contact, company_id=customer_id).id
        )
    return ids


@app.command("create")
def create(
    description: Annotated[
        str, typer.Option("--description", "-d", help="What is wrong (описание).")
    ],
    customer: Annotated[
        str | None,
        typer.Option("--customer", "-c", help="Customer: name, INN or external id."),
    ] = None,
    obj: Annotated[
        str | None, typer.Option("--object", "-o", help="Object: name, inventory no., ext. id.")
    ] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Customer's contact.")] = None,
    criticality: Annotated[
        str, typer.Option("--criticality", help="low, normal, high, critical (or in Russian).")
    ] = "normal",
    assignee: Annotated[str | None, typer.Option("--assignee", "-a", help="Employee.")] = None,
    crew: Annotated[str | None, typer.Option("--crew", help="Crew.")] = None,
    planned_start: Annotated[
        str | None, typer.Option("--planned-start", help="Visit start, e.g. '14.04.2026 10:00'.")
    ] = None,
    planned_end: Annotated[str | None, typer.Option("--planned-end", help="Visit end.")] = None,
    due: Annotated[
        str | None,
        typer.Option("--due", help="Resolution deadline, overriding the SLA policy."),
    ] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Use this number instead of the next one.")
    ] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    passport: Annotated[
        str | None,
        typer.Option(
            "--passport",
            help="A scanned object passport: its link (https://.../p/TOKEN) or token.",
        ),
    ] = None,
    contact_name: Annotated[
        str | None, typer.Option("--contact-name", help="With --passport: who asks.")
    ] = None,
    contact_phone: Annotated[
        str | None, typer.Option("--contact-phone", help="With --passport: their phone.")
    ] = None,
    json_: Json = False,
) -> None:
    """Create an order; it is numbered and its SLA deadlines are set from the policy."""
    from fsm_core.services import lookup, orders

    if passport is not None:
        if customer or obj or contact:
            raise typer.BadParameter(
                "the passport names the customer and object", param_hint="--passport"
            )
        order = _create_from_passport(
            passport, description, criticality, contact_name, contact_phone
        )
        _report_created(order, json_)
        return
    if contact_name or contact_phone:
        raise typer.BadParameter("--contact-name/--contact-phone go with --passport")
    if customer is None and obj is None:
        raise typer.BadParameter("give --customer, --object or --passport")
    with STATE.transaction() as session:
        data: dict[str, Any] = {
            "description": description,
            "criticality": criticality,
            "number": number,
            "external_id": external_id,
            **_reference_ids(session, customer=customer, obj=obj, contact=contact),
        }
        if assignee:
            data["assignee_id"] = lookup.resolve_employee(session=session, ref=assignee).id
        if crew:
            data["crew_id"] = lookup.resolve_crew(session=session, ref=crew).id
        data["planned_start"] = _datetime(session, planned_start, "--planned-start")
        data["planned_end"] = _datetime(session, planned_end, "--planned-end")
        data["resolution_due"] = _datetime(session, due, "--due", end_of_day=True)
        order = orders.create_order(session=session, data=data, actor=STATE.actor)
    _report_created(order, json_)


def _create_from_passport(
    scanned: str,
    description: str,
    criticality: str,
    contact_name: str | None,
    contact_phone: str | None,
) -> Any:
    from fsm_core.services import passports

    with STATE.transaction() as session:
        return passports.create_order_from_scan(
            session=session,
            scanned=scanned,
            description=description,
            criticality=criticality,
            contact_name=contact_name,
            contact_phone=contact_phone,
            actor=STATE.actor,
        )


def _report_created(order: Any, json_: bool) -> None:
    if json_:
        from fsm_core.services import order_queries

        with STATE.reader() as session:
            output.emit_json(
                order_queries.order_details(
                    session=session, order=session.get_one(type(order), order.id)
                )
            )
        return
    output.plain(order.number)
    output.done(f"Created order {order.number} ({order.stage_code}).")


@app.command("update")
def update(
    number: Number,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    customer: Annotated[str | None, typer.Option("--customer", "-c")] = None,
    obj: Annotated[
        str | None, typer.Option("--object", "-o", help="Object ('' clears it).")
    ] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Contact ('' clears).")] = None,
    criticality: Annotated[str | None, typer.Option("--criticality")] = None,
    planned_start: Annotated[
        str | None, typer.Option("--planned-start", help="Visit start ('' clears).")
    ] = None,
    planned_end: Annotated[str | None, typer.Option("--planned-end")] = None,
    due: Annotated[
        str | None,
        typer.Option("--due", help="Resolution deadline; '' returns to the SLA policy."),
    ] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    if_version: IfVersion = None,
    json_: Json = False,
) -> None:
    """Change an order's fields; every change is written to its history."""
    from fsm_core.services import lookup, order_queries, orders

    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        data: dict[str, Any] = _reference_ids(
            session, customer=customer, obj=obj, contact=contact, customer_id=order.customer_id
        )
        if description is not None:
            data["description"] = description
        if criticality is not None:
            data["criticality"] = criticality
        for option, name, value in (
            ("--planned-start", "planned_start", planned_start),
            ("--planned-end", "planned_end", planned_end),
        ):
            if value is not None:
                data[name] = None if _clearable(value) else _datetime(session, value, option)
        if due is not None:
            data["resolution_due"] = (
                None if _clearable(due) else _datetime(session, due, "--due", end_of_day=True)
            )
            if _clearable(due):
                data["reaction_due"] = None
        if external_id is not None:
            data["external_id"] = None if _clearable(external_id) else external_id
        if not data:
            raise typer.BadParameter("nothing to change: give at least one option")
        before = order.version
        order = orders.update_order(
            session=session,
            order_id=order.id,
            data=data,
            actor=STATE.actor,
            expected_version=if_version,
        )
        details = order_queries.order_details(session=session, order=order) if json_ else None
    if json_:
        output.emit_json(details)
    elif order.version == before:
        output.done(f"Order {order.number}: nothing changed.")
    else:
        output.done(f"Updated order {order.number} (version {order.version}).")


# --- assign / move ---------------------------------------------------------------------


@app.command("assign")
def assign(
    number: Number,
    employee: Annotated[
        str | None,
        typer.Argument(help="Employee: short name ('Иванов К. П.'), e-mail, phone or ext. id."),
    ] = None,
    crew: Annotated[str | None, typer.Option("--crew", help="Crew ('' removes it).")] = None,
    unassign: Annotated[
        bool, typer.Option("--unassign", help="Take the order away from its assignee.")
    ] = False,
    if_version: IfVersion = None,
) -> None:
    """Give an order to an employee and/or a crew; a new order moves on to 'assigned'."""
    from fsm_core.services import lookup, orders

    if employee is None and crew is None and not unassign:
        raise typer.BadParameter("name an employee, --crew, or --unassign")
    if employee is not None and unassign:
        raise typer.BadParameter("an employee and --unassign contradict each other")
    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        kwargs: dict[str, Any] = {}
        if employee is not None:
            kwargs["assignee_id"] = lookup.resolve_employee(session=session, ref=employee).id
        elif unassign:
            kwargs["assignee_id"] = None
        if crew is not None:
            kwargs["crew_id"] = (
                None if _clearable(crew) else lookup.resolve_crew(session=session, ref=crew).id
            )
        order = orders.assign_order(
            session=session,
            order_id=order.id,
            actor=STATE.actor,
            expected_version=if_version,
            **kwargs,
        )
        assignee = (
            lookup.resolve_employee(session=session, ref=order.assignee_id).short_name
            if (order.assignee_id)
            else "nobody"
        )
    output.done(f"Order {order.number}: {assignee}, stage {order.stage_code}.")


@app.command("move")
def move(
    number: Number,
    stage: Annotated[str, typer.Argument(help="Stage code or name: in_progress, 'В работе'...")],
    note: Annotated[str | None, typer.Option("--note", help="A comment for the history.")] = None,
    if_version: IfVersion = None,
) -> None:
    """Move an order to another stage (only along allowed transitions)."""
    from fsm_core.services import lookup, orders

    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        order = orders.move_order(
            session=session,
            order_id=order.id,
            stage=stage,
            actor=STATE.actor,
            expected_version=if_version,
            note=note,
        )
    output.done(f"Order {order.number} is now {order.stage_code}.")
