"""``fsm objects|work-types|stages|sla``: what we service and how orders flow."""

from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import MAX_INT, Json, JsonLines, Limit, Offset, Search

objects = typer.Typer(no_args_is_help=True, help="Serviced objects (объекты): sites and equipment.")
work_types = typer.Typer(no_args_is_help=True, help="Work types (виды работ) and their prices.")
stages = typer.Typer(
    no_args_is_help=True, help="Order stages and the transitions allowed between them."
)
sla = typer.Typer(
    no_args_is_help=True, help="SLA policies: reaction and resolution times by criticality."
)


Opt = Annotated[str | None, typer.Option()]
CHARGE_HELP = (
    "How the act charges it: fixed (the price), hours (the executors' hours × rates) or both lines."
)
ChargeOption = Annotated[str, typer.Option("--charge", help=CHARGE_HELP)]


# --- objects ---------------------------------------------------------------------------


@objects.command("list")
def objects_list(
    customer: Annotated[str | None, typer.Option("--customer", "-c")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Only what is under this.")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    search: Search = None,
    limit: Limit = 0,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List serviced objects."""
    from fsm_core.services import lookup
    from fsm_core.services import objects as service

    with STATE.reader() as session:
        customer_id = lookup.resolve_company(session=session, ref=customer).id if customer else None
        parent_id = (
            lookup.resolve_object(session=session, ref=parent, customer_id=customer_id).id
            if parent
            else None
        )
        rows = [
            obj.model_dump() | {"customer": name}
            for obj, name in service.list_objects(
                session=session,
                customer_id=customer_id,
                parent_id=parent_id,
                kind=kind,
                text=search,
                limit=limit or None,
                offset=offset,
            )
        ]
    if output.emit_records(rows, json_, nl):
        return
    output.table(
        [
            "#",
            STATE.label("object"),
            STATE.label("kind"),
            STATE.label("customer"),
            STATE.label("address"),
            STATE.label("inventory_number"),
        ],
        [
            [r["id"], r["name"], r["kind"], r["customer"], r["address"], r["inventory_number"]]
            for r in rows
        ],
    )


@objects.command("show")
def objects_show(
    ref: Annotated[str, typer.Argument(help="Name, inventory/serial no., external id or #id.")],
    json_: Json = False,
) -> None:
    """Show an object: where it is, what it contains, its recent orders."""
    from fsm_core.models import Company
    from fsm_core.services import lookup, order_queries
    from fsm_core.services import object_tree as service
    from fsm_core.services import objects as objects_service

    with STATE.reader() as session:
        obj = lookup.resolve_object(session=session, ref=ref)
        path = service.object_path(session=session, obj=obj)
        owner = session.get(Company, obj.customer_id)
        record = obj.model_dump() | {
            "customer": owner.name if owner else None,
            "path": [p.name for p in path],
            "effective_address": service.effective_address(session=session, obj=obj),
            "children": [
                {"id": c.id, "name": c.name, "kind": c.kind}
                for c, _ in objects_service.list_objects(session=session, parent_id=obj.id)
            ],
            "recent_orders": [
                {k: r[k] for k in ("number", "created_at", "stage_code", "description")}
                for r in order_queries.list_orders(
                    session=session,
                    filters=order_queries.OrderFilter(object_ids=[obj.id]),
                    limit=10,
                )
            ],
        }
    if json_:
        output.emit_json(record)
        return
    coordinates = (
        f"{record['latitude']:.6f}, {record['longitude']:.6f}"
        if record["latitude"] is not None
        else None
    )
    if coordinates and record["gps_radius_m"] is not None:
        coordinates += _t(
            f" · on site within {record['gps_radius_m']} m",
            f" · на объекте в пределах {record['gps_radius_m']} м",
        )
    output.fields(
        [
            (STATE.label("object"), " › ".join(record["path"])),
            (STATE.label("kind"), record["kind"]),
            (STATE.label("customer"), record["customer"]),
            (STATE.label("address"), record["effective_address"]),
            (STATE.label("coordinates"), coordinates),
            (STATE.label("location_hint"), record["location_hint"]),
            (STATE.label("building"), record["building"]),
            (STATE.label("floor"), record["floor"]),
            (STATE.label("inventory_number"), record["inventory_number"]),
            (STATE.label("serial_number"), record["serial_number"]),
            (STATE.label("external_id"), record["external_id"]),
            ("", ", ".join(c["name"] for c in record["children"])),
            (STATE.label("orders"), ", ".join(o["number"] for o in record["recent_orders"])),
        ],
        title=record["name"],
    )


GpsRadius = Annotated[
    str | None,
    typer.Option(
        "--gps-radius",
        help="Metres from the point within which a technician is on site (GPS); 'default' "
        "for the company's gps_radius_m.",
    ),
]


@objects.command("create")
def objects_create(
    customer: Annotated[str, typer.Argument(help="The customer who owns it.")],
    name: Annotated[str, typer.Argument(help="Object name, e.g. 'Кондиционер Daikin FTXB35C'.")],
    kind: Annotated[str, typer.Option("--kind", help="site, air conditioner, generator...")] = (
        "equipment"
    ),
    parent: Annotated[str | None, typer.Option("--parent", help="The site it belongs to.")] = None,
    address: Opt = None,
    lat: Annotated[str | None, typer.Option("--lat", help="Latitude, e.g. 59.9343.")] = None,
    lon: Annotated[str | None, typer.Option("--lon", help="Longitude, e.g. 30.3351.")] = None,
    gps_radius: GpsRadius = None,
    hint: Annotated[str | None, typer.Option("--hint", help="How to find it on site.")] = None,
    building: Opt = None,
    floor: Opt = None,
    inventory_number: Annotated[str | None, typer.Option("--inventory-number")] = None,
    serial_number: Annotated[str | None, typer.Option("--serial-number")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Add a serviced object (a site, or equipment on a site with --parent)."""
    from fsm_core.services import lookup
    from fsm_core.services import objects as service

    with STATE.transaction() as session:
        owner = lookup.resolve_company(session=session, ref=customer)
        parent_id = (
            lookup.resolve_object(session=session, ref=parent, customer_id=owner.id).id
            if parent
            else None
        )
        obj = service.create_object(
            session=session,
            data={
                "customer_id": owner.id,
                "parent_id": parent_id,
                "name": name,
                "kind": kind,
                "address": address,
                "latitude": lat,
                "longitude": lon,
                "gps_radius_m": _radius(gps_radius),
                "location_hint": hint,
                "building": building,
                "floor": floor,
                "inventory_number": inventory_number,
                "serial_number": serial_number,
                "external_id": external_id,
            },
        )
    output.result(json_, obj.model_dump(), f"Created object #{obj.id} {obj.name}.")


def _radius(value: str | None) -> int | None:
    """--gps-radius: metres, or ``default`` for the company's gps_radius_m."""
    if value is None or value.strip().lower() in ("default", "по умолчанию", ""):
        return None
    text = value.strip().lower().removesuffix("m").removesuffix("м").strip()
    if not text.isdigit():
        raise typer.BadParameter(
            f"{value!r} is not a whole number of metres (or 'default')", param_hint="--gps-radius"
        )
    return int(text)


@objects.command("update")
def objects_update(
    ref: Annotated[str, typer.Argument(help="Name, inventory/serial no., external id or #id.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    address: Opt = None,
    lat: Annotated[str | None, typer.Option("--lat", help="Latitude, e.g. 59.9343.")] = None,
    lon: Annotated[str | None, typer.Option("--lon", help="Longitude, e.g. 30.3351.")] = None,
    gps_radius: GpsRadius = None,
    hint: Annotated[str | None, typer.Option("--hint", help="How to find it on site.")] = None,
    json_: Json = False,
) -> None:
    """Change an object's name, address, point, GPS radius or how to find it; what is not
    given stays as it is."""
    from fsm_core.services import lookup
    from fsm_core.services import objects as service

    changes: dict[str, object] = {}
    for key, value in (("name", name), ("address", address), ("location_hint", hint)):
        if value is not None:
            changes[key] = value
    if lat is not None or lon is not None:
        changes.update(latitude=lat, longitude=lon)
    if gps_radius is not None:
        changes["gps_radius_m"] = _radius(gps_radius)
    if not changes:
        raise typer.BadParameter("nothing to change: give an option such as --gps-radius")
    with STATE.transaction() as session:
        obj = lookup.resolve_object(session=session, ref=ref)
        obj = service.update_object(session=session, object_id=obj.id, data=changes)
    output.result(json_, obj.model_dump(), f"Changed object #{obj.id} {obj.name}.")


@objects.command("passport")
def objects_passport(
    ref: Annotated[str, typer.Argument(help="Name, inventory/serial no., external id or #id.")],
    out: Annotated[str, typer.Option("--output", "-o", help="PDF file to write.")],
) -> None:
    """The object's e-passport page: its data, QR code and last service history."""
    from fsm_cli.labels import warn_placeholder
    from fsm_core.documents.passport import render_passport
    from fsm_core.services import lookup, passports

    with STATE.reader() as session:
        obj = lookup.resolve_object(session=session, ref=ref)
        data = passports.passport_data(session=session, obj=obj, lang=STATE.language)
        tz = company(session).tz
        warn_placeholder(session)
    shown = render_passport(data, out=out, lang=STATE.language, tz=tz)
    output.done(f"Wrote the passport of {obj.name!r} ({shown} history entries) to {out}.")


@objects.command("rotate-token")
def objects_rotate_token(
    ref: Annotated[str, typer.Argument(help="Name, inventory/serial no., external id or #id.")],
) -> None:
    """Give an object a new passport token: its old QR labels stop working."""
    from fsm_core.services import lookup, passports

    with STATE.transaction() as session:
        obj = lookup.resolve_object(session=session, ref=ref)
        passports.rotate_token(session=session, object_id=obj.id)
        url = passports.passport_url(company(session)["passport_base_url"], obj.passport_token)
    output.plain(url)
    output.done(f"New passport link for {obj.name!r}; reprint its label (fsm labels objects).")


# --- work types ------------------------------------------------------------------------


@work_types.command("list")
def work_types_list(search: Search = None, json_: Json = False, nl: JsonLines = False) -> None:
    """List work types with prices."""
    from fsm_core.formatting import money
    from fsm_core.services import objects as service

    with STATE.reader() as session:
        rows = [w.model_dump() for w in service.list_work_types(session=session, text=search)]
        currency = company(session)["currency"]
    if output.emit_records(rows, json_, nl):
        return
    lang = STATE.language
    output.table(
        [
            STATE.label("name"),
            (STATE.label("price"), {"justify": "right"}),
            STATE.label("unit"),
            STATE.label("charge"),
        ],
        [
            [
                r["name"],
                money(r["price"], lang=lang, currency=currency),
                r["unit"],
                _charge_name(r["charge"], lang),
            ]
            for r in rows
        ],
    )


def _charge_name(code: str, lang: str) -> str:
    from fsm_core.models.catalog import CHARGE_NAMES, Charge

    return CHARGE_NAMES[Charge(code)][lang if lang in ("en", "ru") else "en"]


@work_types.command("show")
def work_types_show(ref: Annotated[str, typer.Argument()], json_: Json = False) -> None:
    """Show one work type."""
    from fsm_core.formatting import money
    from fsm_core.services import lookup

    with STATE.reader() as session:
        record = lookup.resolve_work_type(session=session, ref=ref).model_dump()
    if json_:
        output.emit_json(record)
        return
    output.fields(
        [
            (STATE.label("name"), record["name"]),
            (STATE.label("price"), money(record["price"], lang=STATE.language)),
            (STATE.label("unit"), record["unit"]),
            (STATE.label("charge"), _charge_name(record["charge"], STATE.language)),
            (STATE.label("description"), record["description"]),
            (STATE.label("external_id"), record["external_id"]),
        ],
    )


@work_types.command("create")
def work_types_create(
    name: Annotated[str, typer.Argument(help="E.g. 'Чистка радиатора испарителя'.")],
    price: Annotated[str, typer.Argument(help="Price, e.g. '3 500,00'.")],
    unit: Annotated[str, typer.Option("--unit")] = "усл.",
    charge: ChargeOption = "both",
    description: Opt = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Add a work type with its price and how the act charges it."""
    from fsm_core.services import objects as service

    with STATE.transaction() as session:
        work_type = service.create_work_type(
            session=session,
            data={
                "name": name,
                "price": price,
                "unit": unit,
                "charge": charge,
                "description": description,
                "external_id": external_id,
            },
        )
    output.result(
        json_, work_type.model_dump(), f"Created work type #{work_type.id} {work_type.name}."
    )


@work_types.command("update")
def work_types_update(
    ref: Annotated[str, typer.Argument(help="Name, external id or #id.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    price: Annotated[str | None, typer.Option("--price", help="E.g. '3 500,00'.")] = None,
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    charge: Annotated[str | None, typer.Option("--charge", help=CHARGE_HELP)] = None,
    description: Opt = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Change a work type: only the options given change. Work already recorded keeps
    the price and charge it was recorded with."""
    from fsm_core.services import lookup
    from fsm_core.services import objects as service

    given: dict[str, Any] = {
        "name": name,
        "price": price,
        "unit": unit,
        "charge": charge,
        "description": description,
        "external_id": external_id,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    for key in ("description", "external_id"):  # '' clears these
        if changes.get(key) == "":
            changes[key] = None
    if not changes:
        raise typer.BadParameter("give at least one option to change")
    with STATE.transaction() as session:
        work_type = service.update_work_type(
            session=session,
            work_type_id=lookup.resolve_work_type(session=session, ref=ref).id,
            data=changes,
        )
    output.result(
        json_, work_type.model_dump(), f"Updated work type #{work_type.id} {work_type.name}."
    )


# --- stages ----------------------------------------------------------------------------


@stages.command("list")
def stages_list(json_: Json = False) -> None:
    """List the stages in board order with where each may move next."""
    from dataclasses import asdict

    from fsm_core.services.stages import load_workflow

    with STATE.reader() as session:
        workflow = load_workflow(session=session)
    records = [
        asdict(s) | {"next": [n.code for n in workflow.allowed_from(s.code)]}
        for s in workflow.stages.values()
    ]
    if json_:
        output.emit_json(records)
        return
    lang = STATE.language
    output.table(
        [
            STATE.label("code"),
            STATE.label("name"),
            STATE.label("category"),
            STATE.label("needs_assignee"),
            STATE.label("allowed_stages"),
        ],
        [
            [
                r["code"],
                r["name_ru"] if lang == "ru" else r["name_en"],
                r["category"],
                "✓" if r["requires_assignee"] else "",
                ", ".join(r["next"]),
            ]
            for r in records
        ],
    )


@stages.command("allow")
def stages_allow(
    src: Annotated[str, typer.Argument(help="From stage.")],
    dst: Annotated[str, typer.Argument(help="To stage.")],
) -> None:
    """Allow orders to move from one stage to another."""
    from fsm_core.services import stages as service

    with STATE.transaction() as session:
        added = service.allow_transition(session=session, src=src, dst=dst)
    output.done("Allowed." if added else "It was already allowed.")


@stages.command("forbid")
def stages_forbid(
    src: Annotated[str, typer.Argument(help="From stage.")],
    dst: Annotated[str, typer.Argument(help="To stage.")],
) -> None:
    """Forbid a move between two stages."""
    from fsm_core.services import stages as service

    with STATE.transaction() as session:
        removed = service.forbid_transition(session=session, src=src, dst=dst)
    output.done("Forbidden." if removed else "It was not allowed anyway.")


@stages.command("add")
def stages_add(
    code: Annotated[str, typer.Argument(help="Latin code, e.g. waiting_parts.")],
    name_en: Annotated[str, typer.Option("--en", help="English name.")],
    name_ru: Annotated[str, typer.Option("--ru", help="Russian name.")],
    category: Annotated[
        str, typer.Option("--category", help="new, active, paused, done, closed, cancelled.")
    ],
    position: Annotated[int | None, typer.Option("--position", min=0, max=MAX_INT)] = None,
    needs_assignee: Annotated[bool, typer.Option("--needs-assignee")] = False,
) -> None:
    """Add a stage (then allow transitions to and from it)."""
    from fsm_core.services import stages as service

    with STATE.transaction() as session:
        stage = service.create_stage(
            session=session,
            code=code,
            name_en=name_en,
            name_ru=name_ru,
            category=category,
            position=position,
            requires_assignee=needs_assignee,
        )
    output.done(f"Added stage {stage.code}; allow transitions with `fsm stages allow`.")


# --- SLA -------------------------------------------------------------------------------


@sla.command("list")
def sla_list(json_: Json = False) -> None:
    """List the SLA policies (the default and customers' own) with the calendar each
    counts its time in."""
    from fsm_core.formatting import duration
    from fsm_core.i18n import criticality_name
    from fsm_core.services import sla as service

    with STATE.reader() as session:
        records = [
            p.model_dump() | {"customer": name}
            for p, name in service.list_policies(session=session)
        ]
        company_hours = company(session).company_hours
    if json_:
        output.emit_json(records)
        return
    from datetime import timedelta

    lang = STATE.language
    output.table(
        [
            STATE.label("customer"),
            STATE.label("criticality"),
            STATE.label("reaction"),
            STATE.label("resolution"),
            STATE.label("calendar"),
        ],
        [
            [
                r["customer"] or STATE.label("default"),
                criticality_name(r["criticality"], lang),
                duration(timedelta(minutes=r["reaction_minutes"]), lang=lang),
                duration(timedelta(minutes=r["resolution_minutes"]), lang=lang),
                service.describe_calendar(r["calendar"], company_hours=company_hours, lang=lang),
            ]
            for r in records
        ],
    )


@sla.command("set")
def sla_set(
    criticality: Annotated[str, typer.Argument(help="low, normal, high, critical.")],
    reaction: Annotated[str, typer.Argument(help="Reaction time: 30m, 4h, 1d...")],
    resolution: Annotated[str, typer.Argument(help="Resolution time: 8h, 2d...")],
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only for this customer.")
    ] = None,
    calendar: Annotated[
        str | None,
        typer.Option(
            "--calendar",
            help="When the clocks run: 24/7; company (the company_hours setting, less "
            "holidays); or the contract's own hours, e.g. 'mon-sat 08:00-20:00' (less "
            "holidays). Default: unchanged (24/7 for a new policy).",
        ),
    ] = None,
) -> None:
    """Set reaction and resolution times for a criticality (new orders use them, and
    orders whose criticality changes later)."""
    from fsm_core.i18n import criticality_name
    from fsm_core.services import lookup
    from fsm_core.services import sla as service
    from fsm_core.timeparse import parse_minutes
    from fsm_core.vocabulary import parse_criticality

    crit = parse_criticality(criticality)
    lang = STATE.language
    with STATE.transaction() as session:
        customer_id = lookup.resolve_company(session=session, ref=customer).id if customer else None
        policy = service.set_policy(
            session=session,
            criticality=crit,
            customer_id=customer_id,
            reaction_minutes=parse_minutes(reaction, field="reaction"),
            resolution_minutes=parse_minutes(resolution, field="resolution"),
            calendar=calendar,
        )
        shown = service.describe_calendar(
            policy.calendar, company_hours=company(session).company_hours, lang=lang
        )
    name = criticality_name(crit.value, lang)
    if lang == "ru":
        output.done(f"SLA для критичности «{name}» задан; время считается: {shown}.")
    else:
        output.done(f"SLA for {name} set; time counts: {shown}.")
