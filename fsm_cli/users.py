"""``fsm users``: who can act, with which roles, bound to which logins."""

from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE
from fsm_cli.context import say as _t
from fsm_cli.options import Json

app = typer.Typer(
    no_args_is_help=True,
    help="Users (пользователи) and their roles: admin, dispatcher, storekeeper, technician, "
    "viewer, customer.",
)

RoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        "-r",
        help="A role: admin, dispatcher, storekeeper, technician, viewer or customer "
        "(repeat for several).",
    ),
]


PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="With --db-login: create the PostgreSQL login with the password read from "
        "standard input (typed without echo at a terminal).",
    ),
]


@app.command("list")
def list_(json_: Json = False) -> None:
    """List users with their roles and the logins bound to them."""
    from fsm_core.services import users

    with STATE.reader() as session:
        rows = users.list_users(session=session)
    if json_:
        output.emit_json(rows)
        return
    output.table(
        [
            _t("Login", "Логин"),
            _t("Name", "Имя"),
            _t("Roles", "Роли"),
            _t("Bound to", "Вход"),
            _t("Employee", "Сотрудник"),
            _t("Contact", "Контакт"),
            _t("Active", "Активен"),
        ],
        [
            [
                r["login"],
                r["display_name"],
                ", ".join(r["roles"]),
                ", ".join(x for x in (r["db_login"], r["os_login"]) if x),
                r["employee"] or "",
                r["contact"] or "",
                "✓" if r["active"] else "—",
            ]
            for r in rows
        ],
    )


@app.command("create")
def create(
    login: Annotated[str, typer.Argument(help="Login: lower-case Latin letters, digits, . _ -")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Display name (default: the employee's short name)"),
    ] = None,
    role: RoleOption = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="dispatcher, technician or customer (older spelling of --role)."
        ),
    ] = None,
    employee: Annotated[
        str | None, typer.Option("--employee", "-e", help="The employee this user is.")
    ] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="The customer's contact this user is.")
    ] = None,
    os_login: Annotated[
        str | None,
        typer.Option("--os-login", help="Bind this operating-system account (SQLite)."),
    ] = None,
    db_login: Annotated[
        bool,
        typer.Option(
            "--db-login",
            help="PostgreSQL: bind the login named LOGIN to the user, a member of the group "
            "roles of the user's roles; with --password-stdin, create it.",
        ),
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user (a technician is an employee; a customer user is a contact)."""
    from fsm_core.services import db_logins, lookup, users

    password = _login_password(db_login, password_stdin)
    if db_login:
        db_logins.require_postgres(STATE.database())
    with STATE.transaction() as session:
        employee_id = (
            lookup.resolve_employee(session=session, ref=employee).id if employee else None
        )
        contact_id = lookup.resolve_contact(session=session, ref=contact).id if contact else None
        user = users.create_user(
            session=session,
            login=login,
            kind=kind,
            roles=role,
            display_name=name,
            employee_id=employee_id,
            contact_id=contact_id,
        )
        assert user.id is not None
        if os_login:
            users.bind_login(session=session, user_id=user.id, os_login=os_login)
        if password is not None:
            db_logins.create_login(session=session, user_id=user.id, password=password)
        elif db_login:
            db_logins.bind_existing_login(session=session, user_id=user.id)
        roles = ", ".join(r.value for r in users.roles_of_user(session=session, user_id=user.id))
        shown = f"{user.display_name} ({user.login}: {roles})"
    output.done(_t(f"Created user {shown}.", f"Создан пользователь {shown}."))
    if db_login:
        verb = _t("created", "создан") if password is not None else _t("bound", "привязан")
        output.done(
            _t(
                f"PostgreSQL login {user.login}: {verb}, connects as this user.",
                f"Логин PostgreSQL {user.login}: {verb}, подключается как этот пользователь.",
            )
        )


def _login_password(db_login: bool, password_stdin: bool) -> str | None:
    """The password ``--password-stdin`` reads (None without it): only with
    ``--db-login``, on PostgreSQL, asked before anything is written."""
    if not password_stdin:
        return None
    if not db_login:
        from fsm_core.errors import InvalidInput

        raise InvalidInput(
            "--password-stdin goes with --db-login",
            ru="--password-stdin указывается вместе с --db-login",
        )
    from fsm_core.services import db_logins

    db_logins.require_postgres(STATE.database())
    return _read_password()


def _read_password() -> str:
    """The password from standard input: typed without echo at a terminal, else the
    first line of what is piped in (its line end dropped)."""
    import sys

    if sys.stdin is None:
        text = ""
    elif sys.stdin.isatty():
        import getpass

        text = getpass.getpass(_t("Password: ", "Пароль: "), stream=sys.stderr)
    else:
        text = sys.stdin.readline()
    return text.removesuffix("\n").removesuffix("\r")


@app.command("roles")
def roles(
    user: Annotated[str, typer.Argument(help="Login, name or short name.")],
    add: Annotated[list[str] | None, typer.Option("--add", help="A role to give.")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="A role to take.")] = None,
    json_: Json = False,
) -> None:
    """Show a user's roles, or give and take them (admins)."""
    from fsm_core.services import users

    with STATE.transaction() as session:
        found = users.find_user(session=session, name=user)
        assert found.id is not None
        if add or remove:
            now = users.set_roles(
                session=session, user_id=found.id, add=add or (), remove=remove or ()
            )
        else:
            now = users.roles_of_user(session=session, user_id=found.id)
        shown = f"{found.display_name} ({found.login})"
    if json_:
        output.emit_json({"login": found.login, "roles": [r.value for r in now]})
        return
    output.plain(f"{shown}: {', '.join(r.value for r in now)}")


@app.command("bind")
def bind(
    user: Annotated[str, typer.Argument(help="Login, name or short name.")],
    db_login: Annotated[
        str | None,
        typer.Option("--db-login", help="The PostgreSQL login that acts as this user."),
    ] = None,
    os_login: Annotated[
        str | None,
        typer.Option("--os-login", help="The operating-system account that acts as this user."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Unbind both.")] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Bind the login a person connects with to their user (admins). On PostgreSQL the
    login becomes a member of the group roles of the user's roles."""
    from fsm_core.errors import InvalidInput
    from fsm_core.services import db_logins, users

    if not (db_login or os_login or clear):
        raise InvalidInput(
            "give --db-login LOGIN, --os-login ACCOUNT or --clear",
            ru="укажите --db-login ЛОГИН, --os-login УЧЁТНАЯ_ЗАПИСЬ или --clear",
        )
    password = _login_password(bool(db_login), password_stdin)
    with STATE.transaction() as session:
        found = users.find_user(session=session, name=user)
        assert found.id is not None
        if password is not None and db_login:
            db_logins.create_login(
                session=session, user_id=found.id, password=password, name=db_login
            )
        users.bind_login(
            session=session, user_id=found.id, db_login=db_login, os_login=os_login, clear=clear
        )
        shown = f"{found.display_name} ({found.login})"
        bound = ", ".join(x for x in (found.db_login, found.os_login) if x) or "—"
    output.done(_t(f"{shown} is bound to: {bound}.", f"{shown}: вход {bound}."))


@app.command("deactivate")
def deactivate(user: Annotated[str, typer.Argument(help="Login, name or short name.")]) -> None:
    """Stop a user from acting (their history and messages stay)."""
    from fsm_core.services import users

    with STATE.transaction() as session:
        found = users.find_user(session=session, name=user)
        assert found.id is not None
        users.set_active(session=session, user_id=found.id, active=False)
        shown = f"{found.display_name} ({found.login})"
    output.done(_t(f"Deactivated {shown}.", f"Пользователь {shown} отключён."))


@app.command("me")
def me(json_: Json = False) -> None:
    """Show who is acting now: the user your login is bound to, and on whose behalf."""
    principal = STATE.principal()
    user = STATE.app_user()
    record = {
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "kind": user.kind,
        "roles": [r.value for r in sorted(principal.roles)],
        "employee_id": user.employee_id,
        "contact_id": user.contact_id,
        "account": principal.account,
        "on_behalf_of_by": principal.by.login if principal.by else None,
    }
    if json_:
        output.emit_json(record)
        return
    text = f"{user.display_name} ({user.login}: {principal.role_text(STATE.language)})"
    if principal.by is not None:
        text = _t(
            f"{principal.by.name} on behalf of {text}", f"{principal.by.name} от имени {text}"
        )
    output.plain(text)
