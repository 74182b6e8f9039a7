"""Who is acting, established from the connection rather than claimed.

On PostgreSQL each person connects with their own login, bound to one product user
(``app_user.db_login``); on SQLite the operating-system account running ``fsm`` is bound
(``app_user.os_login``), and the database file's permissions decide who may open it at all.
``--as`` / ``FSM_USER`` names someone to act *on behalf of*: only an admin may, and what is
done is recorded as "A on behalf of B".

A database no account has been bound to yet (a new one, or one upgraded from a version
without logins) is claimed by the account that owns it — the file's owner on SQLite, the
database's owner or a superuser on PostgreSQL — which is bound to its first admin (the
``default_user`` setting's user). ``fsm init`` does it explicitly and says so.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from fsm_core.access import SYSTEM, Forbidden, Principal, Role, roles_of
from fsm_core.errors import FsmError

if TYPE_CHECKING:
    from sqlmodel import Session

    from fsm_core.db import Database
    from fsm_core.models import AppUser


class NotBound(FsmError):
    """The connecting login or account is bound to no active user."""


@dataclass(frozen=True)
class Account:
    """What connected: a PostgreSQL login (``kind`` "db") or an OS account ("os")."""

    kind: str
    name: str
    may_claim: bool
    """whether it may claim a database no account is bound to yet"""

    def describe(self, lang: str = "en") -> str:
        if self.kind == "db":
            return (
                f"PostgreSQL login {self.name}" if lang == "en" else f"логин PostgreSQL {self.name}"
            )
        return (
            f"operating-system account {self.name}"
            if lang == "en"
            else f"учётная запись системы {self.name}"
        )


def os_account() -> str:
    """The operating-system account running this process, from its effective user id
    (not from $USER or $LOGNAME, which anyone can set)."""
    if sys.platform == "win32":  # pragma: no cover - no such host in CI
        import getpass

        return getpass.getuser()
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # an id with no name (a container's): the number is the account
        return str(os.geteuid())


def connected_account(db: Database) -> Account:
    if db.is_sqlite:
        path = db.engine.url.database
        owner = True
        if path and path != ":memory:" and os.path.exists(path):
            owner = os.stat(path).st_uid == os.geteuid() or os.geteuid() == 0
        return Account("os", os_account(), owner)
    with db.engine.connect() as conn:
        login, may_claim = conn.execute(
            text(
                "SELECT session_user, (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)"
                " OR pg_has_role(session_user, (SELECT datdba FROM pg_database"
                " WHERE datname = current_database()), 'MEMBER')"
            )
        ).one()
    return Account("db", str(login), bool(may_claim))


def _login_column(account: Account) -> Any:
    from fsm_core.models import AppUser

    return AppUser.db_login if account.kind == "db" else AppUser.os_login


def principal_for(
    session: Session, user: AppUser, *, account: str | None = None, by: Principal | None = None
) -> Principal:
    """The principal acting as ``user``, with the user's roles."""
    from fsm_core.models import Contact, UserRole

    roles = roles_of(
        session.execute(select(UserRole.role).where(UserRole.user_id == user.id)).scalars()
    )
    customer_id = None
    if user.contact_id is not None:
        customer_id = session.execute(
            select(Contact.company_id).where(Contact.id == user.contact_id)
        ).scalar()
    return Principal(
        login=user.login,
        name=user.display_name,
        roles=roles,
        user_id=user.id,
        employee_id=user.employee_id,
        customer_id=customer_id,
        account=account,
        by=by,
    )


def bound_user(session: Session, account: Account) -> AppUser | None:
    from fsm_core.models import AppUser

    column = _login_column(account)
    return session.execute(select(AppUser).where(column == account.name)).scalar_one_or_none()


def claim(session: Session, account: Account) -> AppUser | None:
    """Bind ``account`` to the first admin if no account of its kind is bound to anyone
    yet and it may claim the database; the user bound, else None."""
    from fsm_core.models import AppUser, UserRole

    if not account.may_claim:
        return None
    column = _login_column(account)
    if session.execute(select(func.count()).where(column.isnot(None))).scalar():
        return None
    from fsm_core.services import settings as company_settings

    first = company_settings.load(session=session)["default_user"]
    admins = (
        select(AppUser)
        .join(UserRole, UserRole.user_id == AppUser.id)
        .where(UserRole.role == Role.ADMIN.value, AppUser.active.is_(True))
        .order_by((AppUser.login == first).desc(), AppUser.id)
    )
    user = session.execute(admins.limit(1)).scalar_one_or_none()
    if user is None:
        return None
    setattr(user, "db_login" if account.kind == "db" else "os_login", account.name)
    session.add(user)
    session.flush()
    from fsm_core import audit

    audit.record(
        session,
        entity="user",
        key=user.login,
        action="bind",
        changes={_field(account): [None, account.name]},
        principal=Principal(
            login=account.name, name=account.name, roles=frozenset(), account=account.name
        ),
    )
    return user


def _field(account: Account) -> str:
    return "db_login" if account.kind == "db" else "os_login"


def establish(db: Database, *, on_behalf_of: str | None = None) -> Principal:
    """Who acts on ``db``: the user the connection's account is bound to (claiming a
    database no one is bound to yet), or, for an admin, the user ``on_behalf_of`` names.
    Refuses an unbound account, a deactivated user, and ``--as`` by a non-admin."""
    from fsm_core.services.users import find_user

    account = connected_account(db)
    with db.transaction(principal=SYSTEM) as session:
        user = bound_user(session, account) or claim(session, account)
        if user is None:
            field = "--db-login" if account.kind == "db" else f"--os-login {account.name}"
            raise NotBound(
                f"the {account.describe()} is bound to no user of this database",
                hint=f"an admin binds it: fsm users bind LOGIN {field}",
                ru=f"{account.describe('ru')} не привязан(а) ни к одному пользователю базы",
                hint_ru=f"администратор привязывает: fsm users bind ЛОГИН {field}",
            )
        if not user.active:
            raise NotBound(
                f"the {account.describe()} is bound to {user.display_name} ({user.login}),"
                " who is deactivated",
                ru=f"{account.describe('ru')} привязан(а) к {user.display_name} ({user.login}),"
                " но пользователь отключён",
            )
        me = principal_for(session, user, account=account.name)
        if on_behalf_of is None or not on_behalf_of.strip():
            return me
        other = find_user(session=session, name=on_behalf_of)
        if other.id == user.id:
            return me
        if Role.ADMIN not in me.roles:
            raise Forbidden(me, "users.impersonate")
        if not other.active:
            raise NotBound(
                f"user {other.display_name} ({other.login}) is deactivated",
                ru=f"пользователь {other.display_name} ({other.login}) отключён",
            )
        return principal_for(session, other, account=account.name, by=me)
