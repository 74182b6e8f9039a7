"""Users who act (пользователи): dispatchers, technicians and customers' contacts.

Who is acting is established by :mod:`fsm_core.identity` from the login or account that
connects; each user has roles (:mod:`fsm_core.access`). A user is named by login, display
name or the linked employee's short name; a name that matches nobody is an error, never a
silently recorded stranger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session, col, select

from fsm_core import audit
from fsm_core.access import ROLE_NAMES_RU, Role, requires
from fsm_core.db import folded, search_fold
from fsm_core.errors import Ambiguous, Duplicate, InvalidInput, NotFound
from fsm_core.models import AppUser, Contact, Employee, UserKind, UserRole
from fsm_core.services import db_logins
from fsm_core.services.common import flush_or_duplicate
from fsm_core.values import only_digits, record_id

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
_INITIALS_SPACES = re.compile(r"\.\s*")


def _short_name_key(text: str) -> str:
    """``Иванов К.П.`` and ``Иванов К. П.`` are the same short name."""
    return _INITIALS_SPACES.sub(". ", text.strip()).strip()


def parse_kind(value: str | UserKind) -> UserKind:
    text = str(value).strip().lower()
    aliases = {
        "диспетчер": UserKind.DISPATCHER,
        "техник": UserKind.TECHNICIAN,
        "инженер": UserKind.TECHNICIAN,
        "сотрудник": UserKind.TECHNICIAN,
        "заказчик": UserKind.CUSTOMER,
        "клиент": UserKind.CUSTOMER,
    }
    if text in aliases:
        return aliases[text]
    try:
        return UserKind(text)
    except ValueError:
        known = ", ".join(k.value for k in UserKind)
        raise InvalidInput(f"unknown user kind {value!r}; known: {known}", field="kind") from None


@requires("users.read")
def find_user(*, session: Session, name: str) -> AppUser:
    """The user called ``name``: a login, a display name or the linked employee's short
    name (``Иванов К.П.``), or ``#id``."""
    text = name.strip()
    if not text:
        raise NotFound("user", name)
    if text.startswith("#") and only_digits(text[1:]):
        user_id = record_id(text[1:])
        found = session.get(AppUser, user_id) if user_id is not None else None
        if found is None:
            raise NotFound("user", name)
        return found
    key = search_fold(text) or ""
    attempts: list[Any] = [
        select(AppUser).where(col(AppUser.login) == text.lower()),
        select(AppUser).where(folded(AppUser.display_name) == key),
        select(AppUser)
        .join(Employee, col(Employee.id) == AppUser.employee_id)
        .where(folded(Employee.short_name) == search_fold(_short_name_key(text))),
        select(AppUser)
        .join(Employee, col(Employee.id) == AppUser.employee_id)
        .where(folded(Employee.full_name) == key),
    ]
    for query in attempts:
        rows = session.exec(query.limit(6)).all()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise Ambiguous("user", name, [f"{u.display_name} ({u.login})" for u in rows])
    raise NotFound("user", name, hint="see `fsm users list`; add one with `fsm users create`")


def parse_roles(values: Iterable[str | Role]) -> list[Role]:
    """Role names (English or Russian) as roles, each once, in the catalogue's order."""
    aliases = {ru: role for role, ru in ROLE_NAMES_RU.items()}
    aliases.update({"инженер": Role.TECHNICIAN, "клиент": Role.CUSTOMER})
    chosen: set[Role] = set()
    for value in values:
        text = str(value).strip().lower()
        if text in aliases:
            chosen.add(aliases[text])
            continue
        try:
            chosen.add(Role(text))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(
                f"unknown role {value!r}; known: {known}",
                field="role",
                ru=f"неизвестная роль {value!r}; есть: {known}",
            ) from None
    return [r for r in Role if r in chosen]


def _kind_for(roles: Sequence[Role]) -> UserKind:
    if Role.CUSTOMER in roles:
        return UserKind.CUSTOMER
    if Role.TECHNICIAN in roles:
        return UserKind.TECHNICIAN
    return UserKind.DISPATCHER


def _default_roles(kind: UserKind) -> list[Role]:
    return [Role(kind.value)]


@requires("users.edit")
def create_user(
    *,
    session: Session,
    login: str,
    kind: UserKind | str | None = None,
    display_name: str | None = None,
    employee_id: int | None = None,
    contact_id: int | None = None,
    roles: Iterable[str | Role] | None = None,
) -> AppUser:
    """Add a user with ``roles`` (by default the role of its ``kind``, a dispatcher's
    when neither is given). A technician is an employee; a customer user is a customer's
    contact; the display name defaults to the employee's short name or the contact's."""
    chosen = parse_roles(roles) if roles else None
    kind_: UserKind = parse_kind(kind) if kind is not None else _kind_for(chosen or [])
    chosen = chosen or _default_roles(kind_)
    if Role.CUSTOMER in chosen and len(chosen) > 1:
        raise InvalidInput(
            "a customer user has the customer role alone",
            field="role",
            ru="у пользователя-заказчика только роль заказчика",
        )
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise InvalidInput(
            f"login {login!r}: use lower-case Latin letters, digits and . _ - @",
            field="login",
            hint="e.g. ivanov or k.ivanov",
        )
    employee = session.get(Employee, employee_id) if employee_id is not None else None
    if employee_id is not None and employee is None:
        raise NotFound("employee", f"#{employee_id}")
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    if contact_id is not None and contact is None:
        raise NotFound("contact", f"#{contact_id}")
    if kind_ == UserKind.TECHNICIAN and employee is None:
        raise InvalidInput("a technician user needs an employee (--employee)", field="employee")
    if kind_ == UserKind.CUSTOMER and contact is None:
        raise InvalidInput("a customer user needs a customer's contact (--contact)")
    if kind_ == UserKind.CUSTOMER and employee is not None:
        raise InvalidInput("a customer user cannot be an employee")
    name = (display_name or "").strip()
    if not name:
        name = employee.short_name if employee else contact.full_name if contact else login
    if len(name) > 200:
        raise InvalidInput("display name: longer than 200 characters", field="display_name")
    clashes: list[tuple[Any, str]] = [(col(AppUser.login) == login, f"login {login!r}")]
    if employee is not None:
        clashes.append((AppUser.employee_id == employee.id, f"employee {employee.short_name}"))
    if contact is not None:
        clashes.append((AppUser.contact_id == contact.id, f"contact {contact.full_name}"))
    for condition, what in clashes:
        other = session.exec(select(AppUser).where(condition)).first()
        if other is not None:
            raise Duplicate(f"{what} already has a user: {other.display_name} ({other.login})")
    user = AppUser(
        login=login,
        display_name=name,
        kind=kind_.value,
        employee_id=employee_id,
        contact_id=contact_id,
    )
    session.add(user)
    flush_or_duplicate(session=session, what=f"user {login!r}")
    assert user.id is not None
    session.add_all(UserRole(user_id=user.id, role=r.value) for r in chosen)
    session.flush()
    audit.record(
        session,
        entity="user",
        key=login,
        action="create",
        changes={
            "display_name": [None, name],
            "kind": [None, kind_.value],
            "roles": [None, [r.value for r in chosen]],
            "employee_id": [None, employee_id],
            "contact_id": [None, contact_id],
        },
    )
    return user


@requires("users.read")
def roles_of_user(*, session: Session, user_id: int) -> list[Role]:
    found = session.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all()
    return [r for r in Role if r.value in set(found)]


def _admins_left(session: Session, *, without: int) -> int:
    from sqlalchemy import func

    query = (
        select(func.count())
        .select_from(UserRole)
        .join(AppUser, col(AppUser.id) == UserRole.user_id)
        .where(
            UserRole.role == Role.ADMIN.value,
            col(AppUser.active).is_(True),
            UserRole.user_id != without,
        )
    )
    return int(session.exec(query).one())


def _keep_an_admin(session: Session, user: AppUser) -> None:
    assert user.id is not None
    if _admins_left(session, without=user.id) == 0:
        raise InvalidInput(
            f"{user.display_name} ({user.login}) is the last active admin",
            hint="make someone else an admin first: fsm users roles LOGIN --add admin",
            ru=f"{user.display_name} ({user.login}) — последний действующий администратор",
            hint_ru="сначала назначьте другого: fsm users roles ЛОГИН --add admin",
        )


@requires("users.edit")
def set_roles(
    *,
    session: Session,
    user_id: int,
    add: Iterable[str | Role] = (),
    remove: Iterable[str | Role] = (),
) -> list[Role]:
    """Give a user roles and take others away; the roles they have afterwards. The last
    active admin keeps the admin role, and a customer user has no other role."""
    user = _user(session, user_id)
    before = roles_of_user(session=session, user_id=user_id)
    added, removed = parse_roles(add), parse_roles(remove)
    after = [r for r in Role if (r in before or r in added) and r not in removed]
    if not after:
        raise InvalidInput(
            "a user needs at least one role",
            field="role",
            ru="у пользователя нужна хотя бы одна роль",
        )
    if (Role.CUSTOMER in after) != (user.kind == UserKind.CUSTOMER.value) or (
        Role.CUSTOMER in after and len(after) > 1
    ):
        raise InvalidInput(
            "the customer role belongs to customers' contacts alone",
            field="role",
            ru="роль заказчика — только у контактов заказчиков",
        )
    if Role.TECHNICIAN in after and user.employee_id is None:
        raise InvalidInput(
            "a technician must be an employee (create the user with --employee)",
            field="role",
            ru="техник должен быть сотрудником (создайте пользователя с --employee)",
        )
    if Role.ADMIN in before and Role.ADMIN not in after and user.active:
        _keep_an_admin(session, user)
    for role in set(before) - set(after):
        row = session.get(UserRole, (user_id, role.value))
        if row is not None:
            session.delete(row)
    session.add_all(UserRole(user_id=user_id, role=r.value) for r in after if r not in before)
    session.flush()
    db_logins.follow(session=session, user=user)
    if before != after:
        audit.record(
            session,
            entity="user",
            key=user.login,
            action="roles",
            changes={"roles": [[r.value for r in before], [r.value for r in after]]},
        )
    return after


def _user(session: Session, user_id: int) -> AppUser:
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound("user", f"#{user_id}")
    return user


@requires("users.edit")
def bind_login(
    *,
    session: Session,
    user_id: int,
    db_login: str | None = None,
    os_login: str | None = None,
    clear: bool = False,
) -> AppUser:
    """Bind a PostgreSQL login or an operating-system account to a user (``clear``:
    unbind both); one login is bound to one user."""
    user = _user(session, user_id)
    previous = user.db_login
    changes: dict[str, list[Any]] = {}
    for field, value in (("db_login", db_login), ("os_login", os_login)):
        if clear:
            value = None
        elif value is None:
            continue
        else:
            value = value.strip()
            if not value or len(value) > 63 or any(ch.isspace() or ord(ch) < 32 for ch in value):
                raise InvalidInput(
                    f"{field}: give a login of 1 to 63 characters without spaces",
                    field=field,
                    ru=f"{field}: логин от 1 до 63 символов без пробелов",
                )
            other = session.exec(
                select(AppUser).where(getattr(AppUser, field) == value, AppUser.id != user_id)
            ).first()
            if other is not None:
                raise Duplicate(
                    f"{value} is already bound to {other.display_name} ({other.login})",
                    ru=f"{value} уже привязан к {other.display_name} ({other.login})",
                )
        if getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    session.flush()
    if changes:
        audit.record(session, entity="user", key=user.login, action="bind", changes=changes)
    db_logins.follow(session=session, user=user, previous=previous)
    return user


@requires("users.edit")
def set_active(*, session: Session, user_id: int, active: bool) -> AppUser:
    user = _user(session, user_id)
    if user.active and not active and Role.ADMIN in roles_of_user(session=session, user_id=user_id):
        _keep_an_admin(session, user)
    if user.active != active:
        audit.record(
            session, entity="user", key=user.login, action="update",
            changes={"active": [user.active, active]},
        )  # fmt: skip
    user.active = active
    session.flush()
    db_logins.follow(session=session, user=user)
    return user


@requires("users.read")
def list_users(*, session: Session, include_inactive: bool = True) -> Sequence[dict[str, Any]]:
    """Every user with the employee or contact behind it, their roles and bound logins."""
    query = (
        select(AppUser, Employee.short_name, Contact.full_name)
        .outerjoin(Employee, col(Employee.id) == AppUser.employee_id)
        .outerjoin(Contact, col(Contact.id) == AppUser.contact_id)
        .order_by(col(AppUser.kind), col(AppUser.display_name))
    )
    if not include_inactive:
        query = query.where(col(AppUser.active).is_(True))
    roles: dict[int, set[str]] = {}
    for user_id, role in session.exec(select(UserRole.user_id, UserRole.role)):
        roles.setdefault(user_id, set()).add(role)
    return [
        {
            "id": user.id,
            "login": user.login,
            "display_name": user.display_name,
            "kind": user.kind,
            "roles": [r.value for r in Role if r.value in roles.get(user.id or 0, ())],
            "db_login": user.db_login,
            "os_login": user.os_login,
            "employee": employee,
            "contact": contact,
            "active": user.active,
        }
        for user, employee, contact in session.exec(query)
    ]


@requires("users.read")
def user_for_employee(*, session: Session, employee_id: int) -> AppUser | None:
    return session.exec(select(AppUser).where(AppUser.employee_id == employee_id)).first()
