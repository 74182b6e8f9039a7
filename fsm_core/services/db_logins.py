"""Each person's own PostgreSQL login: created or bound with their user, a member of the
group roles of their product roles (see :mod:`fsm_core.pg_access`), kept in step when
their roles change, unable to log in while they are deactivated.

Everything happens in the session's transaction, together with the product change
(PostgreSQL's CREATE ROLE, GRANT and ALTER ROLE are transactional): a refusal anywhere
leaves neither the user nor the login behind.

Logins that own the database, superusers and fsm's group roles are never changed: an
owner or superuser bound to a user acts with its own rights, whatever the user's roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from fsm_core import audit, pg_access
from fsm_core.access import Role, open_to_all, requires
from fsm_core.errors import Duplicate, FsmError, InvalidInput, NotFound
from fsm_core.models import AppUser, UserRole

if TYPE_CHECKING:
    from fsm_core.db import Database


class LoginRefused(FsmError):
    """PostgreSQL cannot do what binding a login needs (no right to create roles, no
    group roles in this database)."""


def _sqlite_error() -> InvalidInput:
    return InvalidInput(
        "database logins (--db-login) are PostgreSQL's; on SQLite bind an operating-system"
        " account instead (--os-login)",
        ru="логины базы данных (--db-login) есть только в PostgreSQL; в SQLite привяжите"
        " учётную запись системы (--os-login)",
    )


@open_to_all
def require_postgres(db: Database) -> None:
    """Refuse, before anything is asked or read, a login on an SQLite database."""
    if db.is_sqlite:
        raise _sqlite_error()


def _raw(session: Session) -> Any:
    if session.get_bind().dialect.name != "postgresql":
        raise _sqlite_error()
    return pg_access.raw_connection(session)


def _user(session: Session, user_id: int) -> AppUser:
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound("user", f"#{user_id}")
    return user


def _may_manage(raw: Any) -> None:
    if pg_access.may_create_roles(raw):
        groups = pg_access.group_roles(pg_access.current_database(raw))
        present = pg_access.present_groups(raw)
        missing = [g for role, g in groups.items() if role not in present]
        if missing:
            raise LoginRefused(
                f"this database has no group roles yet ({', '.join(missing[:2])}, ...)",
                hint="its owner or a superuser runs: fsm db grants",
                ru=f"в этой базе ещё нет групповых ролей ({', '.join(missing[:2])}, ...)",
                hint_ru="владелец базы или суперпользователь выполняет: fsm db grants",
            )
        return
    me = raw.execute("SELECT current_user").fetchone()[0]
    raise LoginRefused(
        f"the PostgreSQL login {me} may not create or change roles (it lacks CREATEROLE)",
        hint="a superuser runs: ALTER ROLE ... CREATEROLE, or creates the login instead",
        ru=f"логин PostgreSQL {me} не может создавать и менять роли (нет права CREATEROLE)",
        hint_ru="суперпользователь выполняет ALTER ROLE ... CREATEROLE или создаёт логин сам",
    )


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ord(ch) < 32 for ch in name):
        raise InvalidInput(
            f"login {name!r}: give a PostgreSQL login without spaces",
            field="db_login",
            ru=f"логин {name!r}: укажите логин PostgreSQL без пробелов",
        )
    if len(name.encode()) > pg_access.NAME_BYTES:
        raise InvalidInput(
            f"login {name!r}: a PostgreSQL login is at most {pg_access.NAME_BYTES} bytes",
            field="login",
            ru=f"логин {name!r}: логин PostgreSQL — не длиннее {pg_access.NAME_BYTES} байт",
        )
    if name.startswith("pg_"):
        raise InvalidInput(
            f"login {name!r}: names starting with pg_ are PostgreSQL's own",
            field="login",
            ru=f"логин {name!r}: имена на pg_ зарезервированы PostgreSQL",
        )


@requires("users.edit")
def create_login(*, session: Session, user_id: int, password: str, name: str | None = None) -> str:
    """Create a PostgreSQL login ``name`` (by default the user's login) with
    ``password`` and bind it to the user (a member of the groups of their roles); the
    login's name."""
    raw = _raw(session)
    user = _user(session, user_id)
    name = name.strip() if name is not None else user.login
    _check_name(name)
    if not password:
        raise InvalidInput("the password is empty", field="password", ru="пароль пуст")
    if "\x00" in password:
        raise InvalidInput(
            "the password holds a NUL character", field="password", ru="в пароле символ NUL"
        )
    _may_manage(raw)
    if pg_access.role_exists(raw, name):
        raise Duplicate(
            f"PostgreSQL already has a role {name}",
            hint="to bind it, leave out --password-stdin",
            ru=f"в PostgreSQL уже есть роль {name}",
            hint_ru="чтобы привязать её, уберите --password-stdin",
        )
    pg_access.create_login(raw, name, password)
    audit.record(
        session, entity="db_login", key=name, action="create", changes={"user": [None, user.login]}
    )
    _bind(session, user, name)
    return name


@requires("users.edit")
def bind_existing_login(*, session: Session, user_id: int, name: str | None = None) -> str:
    """Bind the existing PostgreSQL login ``name`` (by default the user's login) to the
    user (a member of the groups of their roles); the login's name."""
    raw = _raw(session)
    user = _user(session, user_id)
    name = name.strip() if name is not None else user.login
    _check_name(name)
    found = pg_access.login(raw, name)
    if found is None:
        raise NotFound(
            "PostgreSQL login",
            name,
            hint="create it with the user: add --password-stdin and give the password",
        )
    if found.group:
        raise InvalidInput(
            f"{name} is one of fsm's group roles, not a person's login",
            ru=f"{name} — групповая роль fsm, а не логин человека",
        )
    _may_manage(raw)
    _bind(session, user, name)
    return name


def _bind(session: Session, user: AppUser, name: str) -> None:
    from fsm_core.services import users

    assert user.id is not None
    users.bind_login(session=session, user_id=user.id, db_login=name)


@requires("users.edit")
def follow(*, session: Session, user: AppUser, previous: str | None = None) -> None:
    """Bring the PostgreSQL side in step with ``user`` after a change of their roles,
    binding or activity: their login is a member of the groups of their roles while they
    are active, of none while they are not (and cannot log in then); a login just
    unbound from them (``previous``) leaves this database's groups. Nothing on SQLite,
    and nothing for a login that does not exist (yet), owns the database or is a
    superuser."""
    if session.get_bind().dialect.name != "postgresql":
        return
    raw = pg_access.raw_connection(session)
    if previous and previous != user.db_login:
        _step(session, raw, previous, roles=set(), active=None)
    if user.db_login:
        assert user.id is not None
        roles = {
            Role(r) for r in session.exec(select(UserRole.role).where(UserRole.user_id == user.id))
        }
        _step(
            session, raw, user.db_login, roles=roles if user.active else set(), active=user.active
        )


def _step(session: Session, raw: Any, name: str, *, roles: set[Role], active: bool | None) -> None:
    found = pg_access.login(raw, name)
    if found is None or found.superuser or found.owner or found.group:
        return
    wanted = roles & set(pg_access.present_groups(raw))
    login_change = active is not None and found.can_login != active
    if wanted == pg_access.memberships(raw, name) and not login_change:
        return
    _may_manage(raw)
    granted, revoked = pg_access.set_memberships(raw, name, wanted)
    changes: dict[str, Any] = {}
    if granted or revoked:
        changes["groups"] = [
            sorted(r.value for r in (wanted - granted) | revoked),
            sorted(r.value for r in wanted),
        ]
    if login_change:
        assert active is not None
        pg_access.set_can_login(raw, name, active)
        changes["can_login"] = [found.can_login, active]
    audit.record(session, entity="db_login", key=name, action="update", changes=changes)


@requires("database.admin")
def grant_groups(*, session: Session) -> pg_access.Applied:
    """Create this database's group roles where missing and grant them their privileges
    and row-level security anew (after the database was copied, restored under another
    name or renamed; the migrations do it otherwise). Its owner or a superuser runs it."""
    raw = _raw(session)
    owner = raw.execute(
        "SELECT pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database"
        " WHERE datname = current_database()"
    ).fetchone()[0]
    if not owner:
        me = raw.execute("SELECT current_user").fetchone()[0]
        raise LoginRefused(
            f"the PostgreSQL login {me} does not own this database; its owner or a superuser"
            " grants the group roles",
            ru=f"логин PostgreSQL {me} не владеет этой базой; групповые роли выдаёт её"
            " владелец или суперпользователь",
        )
    return pg_access.apply(session)
