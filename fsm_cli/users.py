"""``fsm users``: who can act (dispatchers, technicians, customers' contacts)."""

from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE
from fsm_cli.context import say as _t
from fsm_cli.options import Json

app = typer.Typer(
    no_args_is_help=True,
    help="Users (пользователи): dispatchers, technicians and customers' contacts who act.",
)


@app.command("list")
def list_(json_: Json = False) -> None:
    """List users; --as / FSM_USER take a login, a display name or an employee's short name."""
    from fsm_core.services import settings, users

    with STATE.reader() as session:
        rows = users.list_users(session=session)
        default = settings.load(session=session)["default_user"]
    if json_:
        output.emit_json([{**r, "default": r["login"] == default} for r in rows])
        return
    output.table(
        [
            _t("Login", "Логин"),
            _t("Name", "Имя"),
            _t("Kind", "Тип"),
            _t("Employee", "Сотрудник"),
            _t("Contact", "Контакт"),
            _t("Active", "Активен"),
        ],
        [
            [
                r["login"] + (" *" if r["login"] == default else ""),
                r["display_name"],
                r["kind"],
                r["employee"] or "",
                r["contact"] or "",
                "✓" if r["active"] else "—",
            ]
            for r in rows
        ],
        caption=_t(
            "* acts when --as and FSM_USER are not given", "* действует, если не задан --as"
        ),
    )


@app.command("create")
def create(
    login: Annotated[str, typer.Argument(help="Login: lower-case Latin letters, digits, . _ -")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Display name (default: the employee's short name)"),
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="dispatcher, technician or customer.")
    ] = "dispatcher",
    employee: Annotated[
        str | None, typer.Option("--employee", "-e", help="The employee this user is.")
    ] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="The customer's contact this user is.")
    ] = None,
) -> None:
    """Add a user (a technician is an employee; a customer user is a contact)."""
    from fsm_core.services import lookup, users

    with STATE.transaction() as session:
        employee_id = (
            lookup.resolve_employee(session=session, ref=employee).id if employee else None
        )
        contact_id = lookup.resolve_contact(session=session, ref=contact).id if contact else None
        user = users.create_user(
            session=session,
            login=login,
            kind=kind,
            display_name=name,
            employee_id=employee_id,
            contact_id=contact_id,
        )
        shown = f"{user.display_name} ({user.login}, {user.kind})"
    output.done(_t(f"Created user {shown}.", f"Создан пользователь {shown}."))


@app.command("deactivate")
def deactivate(user: Annotated[str, typer.Argument(help="Login, name or short name.")]) -> None:
    """Stop a user from acting (their history and messages stay)."""
    from fsm_core.services import users

    with STATE.transaction() as session:
        found = users.find_user(session=session, name=user)
        users.set_active(session=session, user_id=found.id, active=False)
        shown = f"{found.display_name} ({found.login})"
    output.done(_t(f"Deactivated {shown}.", f"Пользователь {shown} отключён."))


@app.command("me")
def me(json_: Json = False) -> None:
    """Show who is acting now (--as, FSM_USER or the default_user setting)."""
    user = STATE.app_user()
    record = {
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "kind": user.kind,
        "employee_id": user.employee_id,
        "contact_id": user.contact_id,
    }
    if json_:
        output.emit_json(record)
        return
    output.plain(f"{user.display_name} ({user.login}, {user.kind})")
