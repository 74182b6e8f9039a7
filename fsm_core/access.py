"""Who may do what: roles, permissions and the check every service makes.

A person acts through a :class:`Principal`: the product user their database login (on
PostgreSQL) or operating-system account (on SQLite) is bound to — see
:mod:`fsm_core.identity` — with that user's roles. An admin may act on behalf of someone
else (``--as``); the principal is then the other user, with the admin kept in ``by``, and
the history and the audit trail record "A on behalf of B".

Every public service function that reads or changes data is declared with
:func:`requires`, naming one permission of :data:`PERMISSIONS`; the declaration checks the
session's principal before the function runs and refuses in one line, changing nothing. A
permission a role holds only for its own orders (a technician's, a customer's) is checked
against the order the function is given (``order_id`` or ``order``), and the functions
that list orders filter them with :func:`order_filter`.

The session's principal is ``session.info["principal"]``, set by the
:class:`~fsm_core.db.Database` that opened the session. A database opened by the front
ends (:func:`fsm_core.db.open_database`) establishes the principal from the connection;
one constructed directly by in-process code (tests, benchmarks, migrations) acts as
:data:`SYSTEM`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from fsm_core.errors import FsmError

if TYPE_CHECKING:
    from sqlmodel import Session


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    STOREKEEPER = "storekeeper"
    TECHNICIAN = "technician"
    VIEWER = "viewer"
    CUSTOMER = "customer"


ROLE_NAMES_RU = {
    Role.ADMIN: "администратор",
    Role.DISPATCHER: "диспетчер",
    Role.STOREKEEPER: "кладовщик",
    Role.TECHNICIAN: "техник",
    Role.VIEWER: "наблюдатель",
    Role.CUSTOMER: "заказчик",
}


class Scope(StrEnum):
    """How far a role's permission reaches."""

    ALL = "all"
    OWN = "own"
    """a technician: the orders they are assigned to, in a crew of, or visit; a customer:
    their company's orders"""


_A, _D, _S, _T, _V, _C = (
    Role.ADMIN,
    Role.DISPATCHER,
    Role.STOREKEEPER,
    Role.TECHNICIAN,
    Role.VIEWER,
    Role.CUSTOMER,
)
ALL, OWN = Scope.ALL, Scope.OWN


@dataclass(frozen=True)
class Permission:
    name: str
    en: str
    """what it allows, as the refusal says it: "may not {en}" """
    ru: str
    grants: dict[Role, Scope]


def _p(name: str, en: str, ru: str, **grants: Scope) -> Permission:
    return Permission(name, en, ru, {Role(role): scope for role, scope in grants.items()})


_PERMISSIONS = [
    # orders
    _p("orders.read", "see orders", "видеть заявки",
       admin=ALL, dispatcher=ALL, viewer=ALL, storekeeper=ALL, technician=OWN, customer=OWN),
    _p("orders.create", "create orders", "создавать заявки",
       admin=ALL, dispatcher=ALL, customer=OWN),
    _p("orders.edit", "change orders", "изменять заявки", admin=ALL, dispatcher=ALL),
    _p("orders.move", "move orders", "переводить заявки по стадиям",
       admin=ALL, dispatcher=ALL, technician=OWN),
    _p("orders.execute", "record work on orders", "вести выполнение заявок",
       admin=ALL, dispatcher=ALL, technician=OWN),
    _p("orders.documents", "make acts and documents of orders", "формировать акты заявок",
       admin=ALL, dispatcher=ALL, viewer=ALL, technician=OWN, customer=OWN),
    _p("prices.read", "see prices", "видеть цены",
       admin=ALL, dispatcher=ALL, storekeeper=ALL, viewer=ALL, customer=OWN),
    # chats
    _p("chat.read", "read chats", "читать чаты",
       admin=ALL, dispatcher=ALL, viewer=ALL, technician=OWN, customer=OWN),
    _p("chat.write", "write in chats", "писать в чаты",
       admin=ALL, dispatcher=ALL, technician=OWN, customer=OWN),
    # planning
    _p("plan.read", "see the plan", "видеть план",
       admin=ALL, dispatcher=ALL, viewer=ALL, technician=OWN),
    _p("plan.edit", "plan visits", "планировать выезды", admin=ALL, dispatcher=ALL),
    # customers, objects, employees
    _p("parties.read", "see customers, objects and employees",
       "видеть заказчиков, объекты и сотрудников",
       admin=ALL, dispatcher=ALL, viewer=ALL, storekeeper=ALL, technician=ALL),
    _p("parties.edit", "change customers, contacts and objects",
       "изменять заказчиков, контакты и объекты", admin=ALL, dispatcher=ALL),
    _p("staff.edit", "change employees and crews", "изменять сотрудников и бригады",
       admin=ALL, dispatcher=ALL),
    _p("labels.print", "print labels and passports", "печатать этикетки и паспорта",
       admin=ALL, dispatcher=ALL),
    # stock
    _p("stock.read", "see stock", "видеть склад",
       admin=ALL, dispatcher=ALL, storekeeper=ALL, viewer=ALL, technician=ALL),
    _p("stock.edit", "change stock", "изменять склад", admin=ALL, storekeeper=ALL),
    # reports
    _p("reports.read", "see reports", "видеть отчёты",
       admin=ALL, dispatcher=ALL, viewer=ALL, storekeeper=ALL),
    # GPS
    _p("gps.read", "see positions", "видеть местоположение",
       admin=ALL, dispatcher=ALL, viewer=ALL, technician=OWN),
    _p("gps.record", "record positions", "записывать местоположение", admin=ALL),
    _p("gps.devices", "bind GPS devices", "привязывать GPS-устройства", admin=ALL),
    # the customer's side: ratings of finished orders, notifications to contacts
    _p("ratings.read", "see ratings", "видеть оценки",
       admin=ALL, dispatcher=ALL, viewer=ALL, technician=OWN, customer=OWN),
    _p("ratings.give", "rate finished orders", "оценивать выполненные заявки",
       admin=ALL, customer=OWN),
    _p("notify.read", "see notifications to customers", "видеть уведомления заказчикам",
       admin=ALL, dispatcher=ALL, viewer=ALL),
    _p("notify.send", "send and retry notifications to customers",
       "отправлять и повторять уведомления заказчикам", admin=ALL, dispatcher=ALL),
    # the company
    _p("settings.read", "read the company's settings", "читать настройки компании",
       admin=ALL, dispatcher=ALL, storekeeper=ALL, technician=ALL, viewer=ALL, customer=ALL),
    _p("settings.edit", "change the company's settings", "изменять настройки компании",
       admin=ALL),
    _p("users.read", "see users", "видеть пользователей",
       admin=ALL, dispatcher=ALL, storekeeper=ALL, technician=ALL, viewer=ALL),
    _p("users.edit", "manage users and roles", "управлять пользователями и ролями", admin=ALL),
    _p("users.impersonate", "act on behalf of others", "действовать от имени других",
       admin=ALL),
    _p("database.admin", "back up, restore or copy the database",
       "резервировать, восстанавливать и копировать базу", admin=ALL),
    _p("audit.read", "read the audit trail", "читать журнал аудита", admin=ALL),
]  # fmt: skip

PERMISSIONS: dict[str, Permission] = {p.name: p for p in _PERMISSIONS}


@dataclass(frozen=True)
class Principal:
    """Who is acting, and with which roles."""

    login: str
    name: str
    roles: frozenset[Role]
    user_id: int | None = None
    employee_id: int | None = None
    customer_id: int | None = None
    """the company a customer user's contact belongs to"""
    account: str | None = None
    """the database login or operating-system account that connected"""
    by: Principal | None = field(default=None, compare=False)
    """the admin acting on behalf of this user, if one is"""

    @property
    def history_name(self) -> str:
        """The name the history records: "A on behalf of B" when an admin acts for B."""
        if self.by is None:
            return self.name
        return f"{self.by.name} on behalf of {self.name}"

    def scope(self, permission: str) -> Scope | None:
        """How far ``permission`` reaches for this principal: ALL, OWN or None (not at all)."""
        grants = PERMISSIONS[permission].grants
        best: Scope | None = None
        for role in self.roles:
            scope = grants.get(role)
            if scope is ALL:
                return ALL
            if scope is not None:
                best = scope
        return best

    def may(self, permission: str) -> bool:
        return self.scope(permission) is not None

    def role_text(self, lang: str = "en") -> str:
        ordered = [r for r in Role if r in self.roles]
        if lang == "ru":
            return ", ".join(ROLE_NAMES_RU[r] for r in ordered)
        return ", ".join(r.value for r in ordered)


SYSTEM = Principal(login="system", name="system", roles=frozenset(Role) - {Role.CUSTOMER})
"""In-process code that opened the database itself: tests, benchmarks, the demo loader,
the server's own jobs. Never a person: the front ends always establish who is acting."""


class Forbidden(FsmError):
    """The acting user's roles do not allow the action; nothing was changed."""

    def __init__(self, principal: Principal, permission: str, *, own: bool = False) -> None:
        self.principal = principal
        self.permission = permission
        self.own = own
        perm = PERMISSIONS[permission]
        who_en = f"{principal.name} ({principal.role_text('en') or 'no role'})"
        who_ru = f"{principal.name} ({principal.role_text('ru') or 'нет роли'})"
        tail_en = " other than their own" if own else ""
        tail_ru = " (только свои)" if own else ""
        super().__init__(
            f"{who_en} may not {perm.en}{tail_en}",
            ru=f"{who_ru}: нет права {perm.ru}{tail_ru}",
        )


ENTITY_PERMISSIONS: dict[str, tuple[str, str]] = {
    "companies": ("parties.read", "parties.edit"),
    "contacts": ("parties.read", "parties.edit"),
    "objects": ("parties.read", "parties.edit"),
    "employees": ("parties.read", "staff.edit"),
    "crews": ("parties.read", "staff.edit"),
    "work-types": ("settings.read", "settings.edit"),
    "orders": ("orders.read", "orders.create"),
    "items": ("stock.read", "stock.edit"),
    "warehouses": ("stock.read", "stock.edit"),
    "stock": ("stock.read", "stock.edit"),
}
"""What reading (exporting) and writing (importing) each kind of table takes."""


def demand(principal: Principal, permission: str) -> None:
    """Refuse unless ``principal`` holds ``permission`` over every row (an import or an
    export of a whole table, a backup)."""
    scope = principal.scope(permission)
    if scope is None:
        raise Forbidden(principal, permission)
    if scope is not ALL:
        raise Forbidden(principal, permission, own=True)


def principal_of(session: Session) -> Principal:
    """The principal the session acts for (:data:`SYSTEM` for in-process code)."""
    found = session.info.get("principal")
    return found if isinstance(found, Principal) else SYSTEM


def authorize(session: Session, permission: str, *, order_id: int | None = None) -> Scope:
    """Refuse unless the session's principal holds ``permission`` (for ``order_id``, when
    the role holds it for its own orders only); return how far it reaches."""
    principal = principal_of(session)
    scope = principal.scope(permission)
    if scope is None:
        raise Forbidden(principal, permission)
    if scope is OWN and order_id is not None and not owns_order(session, principal, order_id):
        raise Forbidden(principal, permission, own=True)
    return scope


def authorize_customer(session: Session, permission: str, *, customer_id: int) -> None:
    """Refuse a principal who holds ``permission`` for their own orders only an action
    for a customer other than their own (a customer creating an order for another). Who
    may not act at all was refused by the declaration of the function called (a
    technician's checklist answer may create a follow-up order on its own)."""
    principal = principal_of(session)
    scope = principal.scope(permission)
    if scope is OWN and principal.customer_id != customer_id:
        raise Forbidden(principal, permission, own=True)


def sees_prices(session: Session) -> bool:
    """Whether the session's principal may see prices: every role but a technician's, and
    a technician's too where the company's ``technician_prices`` setting says so."""
    principal = principal_of(session)
    if principal.may("prices.read"):
        return True
    if Role.TECHNICIAN not in principal.roles:
        return False
    from fsm_core.services import settings

    return settings.load(session=session).technician_prices


def owns_order(session: Session, principal: Principal, order_id: int) -> bool:
    """Whether the order is the principal's own: for a customer, their company's; for a
    technician, one they are assigned to, in the crew of, or have a visit of."""
    from sqlalchemy import select

    from fsm_core.models import Order

    clause = order_filter_for(principal)
    if clause is None:
        return True
    found = session.execute(select(Order.id).where(Order.id == order_id, clause)).first()
    return found is not None


def order_filter(session: Session, permission: str = "orders.read") -> Any:
    """The condition on ``orders`` that keeps the rows the principal may see (None: all).

    Refuses a principal who may not read orders at all."""
    principal = principal_of(session)
    scope = authorize(session, permission)
    return None if scope is ALL else order_filter_for(principal)


def order_filter_for(principal: Principal) -> Any:
    """The condition on ``orders`` keeping the principal's own ones (None: all of them)."""
    from sqlalchemy import false, or_

    if principal.scope("orders.read") is ALL:
        return None
    conditions: list[Any] = []
    if Role.CUSTOMER in principal.roles and principal.customer_id is not None:
        conditions.append(customer_orders(principal.customer_id))
    if Role.TECHNICIAN in principal.roles and principal.employee_id is not None:
        conditions.append(technician_orders(principal.employee_id))
    return or_(*conditions) if conditions else false()


def customer_orders(customer_id: int) -> Any:
    """A customer's own orders: their company's."""
    from fsm_core.models import Order

    return Order.customer_id == customer_id


def technician_orders(employee_id: int) -> Any:
    """A technician's own orders: assigned to them or to a crew of theirs, or with a visit
    of theirs (or of their crew's)."""
    from sqlalchemy import or_, select

    from fsm_core.models import CrewMember, Order, Visit

    crews = select(CrewMember.crew_id).where(CrewMember.employee_id == employee_id)
    visited = select(Visit.order_id).where(
        or_(Visit.employee_id == employee_id, Visit.crew_id.in_(crews))
    )
    return or_(
        Order.assignee_id == employee_id,
        Order.crew_id.in_(crews),
        Order.id.in_(visited),
    )


F = TypeVar("F", bound=Callable[..., Any])

_ORDER_ARGS = ("order_id", "order")
_INSIDE: ContextVar[bool] = ContextVar("fsm_access_inside", default=False)
"""True while a declared function runs: what it calls was authorised with it (a
technician's move writes the history; a material used is written off the van)."""


def requires(permission: str, *, scoped: bool = False) -> Callable[[F], F]:
    """Declare the permission a service function needs, and check it when a front end
    calls it (the functions it calls in turn are covered by that check).

    A role that holds the permission for its own orders only may call the function with
    an order of theirs (a keyword ``order_id``, or ``order``), or — ``scoped`` — a
    function that narrows what it reads or does to the principal's own orders itself
    (with :func:`order_filter` or :func:`authorize`); any other call is refused."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def declare(fn: F) -> F:
        names = set(inspect.signature(fn).parameters)
        order_arg = next((name for name in _ORDER_ARGS if name in names), None)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if _INSIDE.get():
                return fn(*args, **kwargs)
            session = kwargs.get("session")
            if session is None:
                session = next((a for a in args if hasattr(a, "info")), None)
            if session is not None:
                _check(session, permission, order_arg, kwargs, scoped)
            token = _INSIDE.set(True)
            try:
                return fn(*args, **kwargs)
            finally:
                _INSIDE.reset(token)

        checked.__permission__ = permission  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return declare


def _check(
    session: Session,
    permission: str,
    order_arg: str | None,
    kwargs: dict[str, Any],
    scoped: bool,
) -> None:
    order_id = None
    if order_arg is not None:
        value = kwargs.get(order_arg)
        order_id = value if isinstance(value, int) else getattr(value, "id", None)
    scope = authorize(session, permission, order_id=order_id)
    if scope is OWN and order_id is None and not scoped:
        raise Forbidden(principal_of(session), permission, own=True)


def open_to_all(fn: F) -> F:
    """Declare a service function that reveals nothing a role may not see (a parser, a
    look-up of the session's own user): every principal may call it."""
    fn.__permission__ = None  # type: ignore[attr-defined]
    return fn


def declared_permission(fn: Callable[..., Any]) -> tuple[bool, str | None]:
    """Whether ``fn`` declares a permission, and which (None: open to all)."""
    if not hasattr(fn, "__permission__"):
        return False, None
    return True, fn.__permission__


def roles_of(values: Iterable[str]) -> frozenset[Role]:
    return frozenset(Role(v) for v in values)
