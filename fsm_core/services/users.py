"""Users who act (пользователи): dispatchers, technicians and customers' contacts.

Every front end asks :func:`resolve_actor` who is acting: ``--as`` / ``FSM_USER`` in the
CLI, or the company's ``default_user`` setting when nothing names anyone. The user is found
by login, display name or the linked employee's short name; a name that matches nobody is
an error, never a silently recorded stranger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from fsm_core.db import folded, search_fold
from fsm_core.errors import Ambiguous, Duplicate, InvalidInput, NotFound
from fsm_core.models import AppUser, Contact, Employee, UserKind
from fsm_core.services import settings as company_settings
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


def resolve_actor(*, session: Session, name: str | None) -> AppUser:
    """Who is acting: the user ``name`` names, or the company's ``default_user``.

    An unknown or deactivated user is an error."""
    if name is not None and name.strip():
        user = find_user(session=session, name=name)
    else:
        login = company_settings.load(session=session)["default_user"]
        try:
            user = find_user(session=session, name=login)
        except NotFound:
            raise NotFound(
                "user",
                login,
                hint="the default_user setting names nobody; name one with --as or FSM_USER, "
                "or fix it: fsm settings set default_user LOGIN",
            ) from None
    if not user.active:
        raise InvalidInput(f"user {user.display_name} ({user.login}) is deactivated")
    return user


def create_user(
    *,
    session: Session,
    login: str,
    kind: UserKind | str = UserKind.DISPATCHER,
    display_name: str | None = None,
    employee_id: int | None = None,
    contact_id: int | None = None,
) -> AppUser:
    """Add a user. A technician is an employee; a customer user is a customer's contact;
    the display name defaults to the employee's short name or the contact's name."""
    kind = parse_kind(kind)
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
    if kind == UserKind.TECHNICIAN and employee is None:
        raise InvalidInput("a technician user needs an employee (--employee)", field="employee")
    if kind == UserKind.CUSTOMER and contact is None:
        raise InvalidInput("a customer user needs a customer's contact (--contact)")
    if kind == UserKind.CUSTOMER and employee is not None:
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
        kind=kind.value,
        employee_id=employee_id,
        contact_id=contact_id,
    )
    session.add(user)
    flush_or_duplicate(session=session, what=f"user {login!r}")
    return user


def set_active(*, session: Session, user_id: int, active: bool) -> AppUser:
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound("user", f"#{user_id}")
    user.active = active
    session.flush()
    return user


def list_users(*, session: Session, include_inactive: bool = True) -> Sequence[dict[str, Any]]:
    """Every user with the employee or contact behind it."""
    query = (
        select(AppUser, Employee.short_name, Contact.full_name)
        .outerjoin(Employee, col(Employee.id) == AppUser.employee_id)
        .outerjoin(Contact, col(Contact.id) == AppUser.contact_id)
        .order_by(col(AppUser.kind), col(AppUser.display_name))
    )
    if not include_inactive:
        query = query.where(col(AppUser.active).is_(True))
    return [
        {
            "id": user.id,
            "login": user.login,
            "display_name": user.display_name,
            "kind": user.kind,
            "employee": employee,
            "contact": contact,
            "active": user.active,
        }
        for user, employee, contact in session.exec(query)
    ]


def user_for_employee(*, session: Session, employee_id: int) -> AppUser | None:
    return session.exec(select(AppUser).where(AppUser.employee_id == employee_id)).first()
