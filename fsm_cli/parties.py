"""``fsm companies|contacts|employees|crews``: who we serve and who does the work."""

from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE
from fsm_cli.options import Json, JsonLines, Limit, Offset, Search

companies = typer.Typer(no_args_is_help=True, help="Customer companies (заказчики).")
contacts = typer.Typer(no_args_is_help=True, help="Customers' contact people.")
employees = typer.Typer(
    no_args_is_help=True, help="Employees (сотрудники): technicians, engineers, dispatchers."
)
crews = typer.Typer(no_args_is_help=True, help="Crews (бригады) of employees.")


Ref = Annotated[str, typer.Argument(help="Name, external id or #id.")]
Opt = Annotated[str | None, typer.Option()]
ContractNumber = Annotated[
    str | None,
    typer.Option(
        "--contract-number", help="The contract the work is done under (the act's basis)."
    ),
]
ContractDate = Annotated[
    str | None, typer.Option("--contract-date", help="The contract's date, e.g. 01.02.2026.")
]


def _record(model: Any, *, exclude: set[str] | None = None) -> dict[str, Any]:
    return model.model_dump(exclude=exclude or set())


def _contract(record: dict[str, Any]) -> str | None:
    """``№ 15/2026 от 01.02.2026`` (the act's basis), or nothing."""
    number, day = record.get("contract_number"), record.get("contract_date")
    if not (number or day):
        return None
    ru = STATE.language == "ru"
    parts = [f"№ {number}" if ru else f"No. {number}"] if number else []
    if day:
        parts.append(f"от {day:%d.%m.%Y}" if ru else f"of {day:%Y-%m-%d}")
    return " ".join(parts)


# --- companies -------------------------------------------------------------------------


@companies.command("list")
def companies_list(
    search: Search = None,
    limit: Limit = 0,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List customer companies."""
    from fsm_core.services import parties
    from fsm_core.values import format_phone

    with STATE.reader() as session:
        rows = [
            _record(c)
            for c in parties.list_companies(
                session=session, text=search, limit=limit or None, offset=offset
            )
        ]
    if output.emit_records(rows, json_, nl):
        return
    output.table(
        [
            STATE.label("name"),
            STATE.label("inn"),
            STATE.label("phone"),
            STATE.label("email"),
            STATE.label("address"),
            STATE.label("external_id"),
        ],
        [
            [
                r["name"],
                r["inn"],
                format_phone(r["phone"]),
                r["email"],
                r["address"],
                r["external_id"],
            ]
            for r in rows
        ],
    )


@companies.command("show")
def companies_show(ref: Ref, json_: Json = False) -> None:
    """Show a customer with its contacts and objects."""
    from fsm_core.services import lookup, objects, parties
    from fsm_core.values import format_phone

    with STATE.reader() as session:
        company = lookup.resolve_company(session=session, ref=ref)
        record = _record(company)
        record["contacts"] = [
            _record(c) for c, _ in parties.list_contacts(session=session, company_id=company.id)
        ]
        record["objects"] = [
            {"id": o.id, "name": o.name, "kind": o.kind, "address": o.address}
            for o, _ in objects.list_objects(session=session, customer_id=company.id)
        ]
    if json_:
        output.emit_json(record)
        return
    output.fields(
        [
            (STATE.label(k), format_phone(record[k]) if k == "phone" else record[k])
            for k in ("name", "inn", "address", "phone", "email", "external_id")
        ]
        + [(STATE.label("contract"), _contract(record))],
        title=record["name"],
    )
    if record["contacts"]:
        output.table(
            [
                STATE.label("full_name"),
                STATE.label("position"),
                STATE.label("phone"),
                STATE.label("email"),
            ],
            [
                [c["full_name"], c["position"], format_phone(c["phone"]), c["email"]]
                for c in record["contacts"]
            ],
        )
    if record["objects"]:
        output.table(
            [STATE.label("object"), STATE.label("kind"), STATE.label("address")],
            [[o["name"], o["kind"], o["address"]] for o in record["objects"]],
        )


@companies.command("create")
def companies_create(
    name: Annotated[str, typer.Argument(help="Company name, e.g. 'ООО «СМ-Трейд»'.")],
    inn: Annotated[str | None, typer.Option("--inn", help="Tax id (ИНН), 10 or 12 digits.")] = None,
    address: Opt = None,
    phone: Opt = None,
    email: Opt = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    contract_number: ContractNumber = None,
    contract_date: ContractDate = None,
    json_: Json = False,
) -> None:
    """Add a customer company."""
    from fsm_core.services import parties

    with STATE.transaction() as session:
        company = parties.create_company(
            session=session,
            data={
                "name": name,
                "inn": inn,
                "address": address,
                "phone": phone,
                "email": email,
                "external_id": external_id,
                "contract_number": contract_number,
                "contract_date": contract_date,
            },
        )
    output.result(json_, _record(company), f"Created customer #{company.id} {company.name}.")


@companies.command("update")
def companies_update(
    ref: Ref,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    inn: Annotated[str | None, typer.Option("--inn", help="Tax id (ИНН), 10 or 12 digits.")] = None,
    address: Opt = None,
    phone: Opt = None,
    email: Opt = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    contract_number: ContractNumber = None,
    contract_date: ContractDate = None,
    json_: Json = False,
) -> None:
    """Change a customer company: only the options given change ('' clears one)."""
    from fsm_core.services import lookup, parties

    given = {
        "name": name,
        "inn": inn,
        "address": address,
        "phone": phone,
        "email": email,
        "external_id": external_id,
        "contract_number": contract_number,
        "contract_date": contract_date,
    }
    changes = {key: (value or None) for key, value in given.items() if value is not None}
    if not changes:
        raise typer.BadParameter("give at least one option to change")
    with STATE.transaction() as session:
        company = parties.update_company(
            session=session,
            company_id=lookup.resolve_company(session=session, ref=ref).id,
            data=changes,
        )
    output.result(json_, _record(company), f"Updated customer #{company.id} {company.name}.")


# --- contacts --------------------------------------------------------------------------


@contacts.command("list")
def contacts_list(
    customer: Annotated[str | None, typer.Option("--customer", "-c")] = None,
    search: Search = None,
    limit: Limit = 0,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List contacts, optionally of one customer."""
    from fsm_core.services import lookup, parties
    from fsm_core.values import format_phone

    with STATE.reader() as session:
        company_id = lookup.resolve_company(session=session, ref=customer).id if customer else None
        rows = []
        for contact, company_name in parties.list_contacts(
            session=session,
            company_id=company_id,
            text=search,
            limit=limit or None,
            offset=offset,
        ):
            rows.append(_record(contact) | {"customer": company_name})
    if output.emit_records(rows, json_, nl):
        return
    output.table(
        [
            STATE.label("full_name"),
            STATE.label("customer"),
            STATE.label("position"),
            STATE.label("phone"),
            STATE.label("email"),
        ],
        [
            [r["full_name"], r["customer"], r["position"], format_phone(r["phone"]), r["email"]]
            for r in rows
        ],
    )


@contacts.command("show")
def contacts_show(
    ref: Ref,
    customer: Annotated[str | None, typer.Option("--customer", "-c")] = None,
    json_: Json = False,
) -> None:
    """Show one contact."""
    from fsm_core.models import Company
    from fsm_core.services import lookup
    from fsm_core.values import format_phone

    with STATE.reader() as session:
        company_id = lookup.resolve_company(session=session, ref=customer).id if customer else None
        contact = lookup.resolve_contact(session=session, ref=ref, company_id=company_id)
        company = session.get(Company, contact.company_id)
        record = _record(contact) | {"customer": company.name if company else None}
    if json_:
        output.emit_json(record)
        return
    output.fields(
        [
            (STATE.label("full_name"), record["full_name"]),
            (STATE.label("customer"), record["customer"]),
            (STATE.label("position"), record["position"]),
            (STATE.label("phone"), format_phone(record["phone"])),
            (STATE.label("email"), record["email"]),
            (STATE.label("external_id"), record["external_id"]),
        ],
    )


@contacts.command("create")
def contacts_create(
    customer: Annotated[str, typer.Argument(help="The customer this person works for.")],
    full_name: Annotated[str, typer.Argument(help="Full name.")],
    position: Opt = None,
    phone: Opt = None,
    email: Opt = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Add a contact person to a customer."""
    from fsm_core.services import lookup, parties

    with STATE.transaction() as session:
        company = lookup.resolve_company(session=session, ref=customer)
        contact = parties.create_contact(
            session=session,
            data={
                "company_id": company.id,
                "full_name": full_name,
                "position": position,
                "phone": phone,
                "email": email,
                "external_id": external_id,
            },
        )
    output.result(
        json_,
        _record(contact),
        f"Created contact #{contact.id} {contact.full_name} ({company.name}).",
    )


# --- employees -------------------------------------------------------------------------


def _employee_row(e: Any) -> dict[str, Any]:
    return _record(e)


@employees.command("list")
def employees_list(
    search: Search = None,
    area: Annotated[str | None, typer.Option("--area", help="Area (участок).")] = None,
    inactive: Annotated[bool, typer.Option("--all", help="Include inactive employees.")] = False,
    limit: Limit = 0,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """List employees."""
    from fsm_core.formatting import money
    from fsm_core.services import parties
    from fsm_core.values import format_phone

    with STATE.reader() as session:
        rows = [
            _employee_row(e)
            for e in parties.list_employees(
                session=session,
                text=search,
                area=area,
                active=None if inactive else True,
                limit=limit or None,
                offset=offset,
            )
        ]
    if output.emit_records(rows, json_, nl):
        return
    lang = STATE.language
    output.table(
        [
            STATE.label("short_name"),
            STATE.label("position"),
            STATE.label("area"),
            STATE.label("phone"),
            (STATE.label("hourly_rate"), {"justify": "right"}),
            STATE.label("skills"),
        ],
        [
            [
                r["short_name"],
                r["position"],
                r["area"],
                format_phone(r["phone"]),
                money(r["hourly_rate"], lang=lang),
                ", ".join(r["skills"]),
            ]
            for r in rows
        ],
    )


@employees.command("show")
def employees_show(
    ref: Annotated[str, typer.Argument(help="Short name, e-mail, phone...")], json_: Json = False
) -> None:
    """Show one employee with the orders they have open."""
    from fsm_core.formatting import money
    from fsm_core.services import lookup, order_queries
    from fsm_core.values import format_phone

    with STATE.reader() as session:
        employee = lookup.resolve_employee(session=session, ref=ref)
        record = _employee_row(employee)
        record["open_orders"] = [
            {k: r[k] for k in ("number", "stage_code", "customer", "object", "sla_status")}
            for r in order_queries.list_orders(
                session=session,
                filters=order_queries.OrderFilter(assignee_ids=[employee.id], open_only=True),
                limit=None,
            )
        ]
    if json_:
        output.emit_json(record)
        return
    lang = STATE.language
    output.fields(
        [
            (STATE.label("full_name"), record["full_name"]),
            (STATE.label("short_name"), record["short_name"]),
            (STATE.label("position"), record["position"]),
            (STATE.label("area"), record["area"]),
            (STATE.label("phone"), format_phone(record["phone"])),
            (STATE.label("email"), record["email"]),
            (STATE.label("hourly_rate"), money(record["hourly_rate"], lang=lang)),
            (STATE.label("skills"), ", ".join(record["skills"])),
            (STATE.label("active"), "yes" if record["active"] else "no"),
            (STATE.label("orders"), ", ".join(o["number"] for o in record["open_orders"]) or "—"),
        ],
        title=record["full_name"],
    )


@employees.command("create")
def employees_create(
    full_name: Annotated[str, typer.Argument(help="Surname, name, patronymic.")],
    short_name: Annotated[
        str | None, typer.Option("--short-name", help="Default: 'Иванов К. П.' from the name.")
    ] = None,
    position: Opt = None,
    area: Opt = None,
    phone: Opt = None,
    email: Opt = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help="Hourly rate, e.g. '1 750,00'.")
    ] = None,
    skills: Annotated[str | None, typer.Option("--skills", help="Comma-separated.")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Add an employee."""
    from fsm_core.services import parties

    with STATE.transaction() as session:
        employee = parties.create_employee(
            session=session,
            data={
                "full_name": full_name,
                "short_name": short_name,
                "position": position,
                "area": area,
                "phone": phone,
                "email": email,
                "hourly_rate": rate,
                "skills": skills or [],
                "external_id": external_id,
            },
        )
    output.result(
        json_, _record(employee), f"Created employee #{employee.id} {employee.short_name}."
    )


# --- crews -----------------------------------------------------------------------------


@crews.command("list")
def crews_list(json_: Json = False, nl: JsonLines = False) -> None:
    """List crews with their size."""
    from fsm_core.services import parties

    with STATE.reader() as session:
        rows = [_record(c) | {"members": n} for c, n in parties.list_crews(session=session)]
    if output.emit_records(rows, json_, nl):
        return
    output.table(
        [STATE.label("name"), STATE.label("members")], [[r["name"], r["members"]] for r in rows]
    )


@crews.command("show")
def crews_show(ref: Ref, json_: Json = False) -> None:
    """Show a crew and its members."""
    from fsm_core.services import lookup, parties

    with STATE.reader() as session:
        crew = lookup.resolve_crew(session=session, ref=ref)
        members = parties.crew_members(session=session, crew_id=crew.id)
        record = _record(crew) | {
            "members": [
                {"id": m.id, "short_name": m.short_name, "position": m.position} for m in members
            ],
        }
    if json_:
        output.emit_json(record)
        return
    leader = next((m["short_name"] for m in record["members"] if m["id"] == crew.leader_id), None)
    output.fields(
        [
            (STATE.label("name"), record["name"]),
            (STATE.label("leader"), leader),
            (STATE.label("members"), ", ".join(m["short_name"] for m in record["members"])),
        ],
    )


@crews.command("create")
def crews_create(
    name: Annotated[str, typer.Argument(help="Crew name.")],
    members: Annotated[
        list[str] | None, typer.Option("--member", "-m", help="Employee; repeatable.")
    ] = None,
    leader: Annotated[str | None, typer.Option("--leader", help="Crew leader (бригадир).")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    json_: Json = False,
) -> None:
    """Create a crew of employees."""
    from fsm_core.services import lookup, parties

    with STATE.transaction() as session:
        member_ids = [lookup.resolve_employee(session=session, ref=m).id for m in members or ()]
        leader_id = lookup.resolve_employee(session=session, ref=leader).id if leader else None
        crew = parties.create_crew(
            session=session,
            data={
                "name": name,
                "member_ids": member_ids,
                "leader_id": leader_id,
                "external_id": external_id,
            },
        )
    output.result(json_, _record(crew), f"Created crew #{crew.id} {crew.name}.")
