"""The dashboard's side of the database: sessions for worker threads, and the reference
data (stages, employees, customers, objects) the screens draw with.

Nothing here runs on the event loop. Screens call these from ``@work(thread=True)``
workers and post the results back as messages. The services the workers call are imported
here, with the app, rather than in the first worker: an import in a thread holds the
interpreter while the first screen is being drawn.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlmodel import Session

from fsm_core import clock
from fsm_core.audit import COMMAND
from fsm_core.db import Database
from fsm_core.models import AppUser
from fsm_core.services import object_tree, objects, order_queries, orders, parties  # noqa: F401
from fsm_core.services import settings as company_settings
from fsm_core.services.stages import StageView, Workflow, load_workflow


@dataclass(frozen=True)
class Choice:
    """One pickable record: its id, what it is called, and what it belongs to."""

    id: int
    name: str
    detail: str = ""
    owner_id: int | None = None  # the customer of an object or a contact
    depth: int = 0  # an object's place in its customer's tree: 0 a site, 1 its equipment

    @property
    def label(self) -> str:
        """The name as a pick list shows it: equipment indented under its site."""
        if not self.depth:
            return self.name
        return "\u00a0\u00a0" * self.depth + "└\u00a0" + self.name


@dataclass(frozen=True)
class Catalog:
    """The reference data a dispatcher picks from, read once and shared by every screen."""

    workflow: Workflow
    tz: tzinfo
    company_name: str
    employees: tuple[Choice, ...] = ()
    customers: tuple[Choice, ...] = ()
    objects: tuple[Choice, ...] = ()
    contacts: tuple[Choice, ...] = ()
    complete: bool = True
    """False for the first, light read (stages and time zone, what the board draws with):
    the pick lists come in a second read, so 5,000 objects do not delay the first page."""
    _names: dict[str, dict[int, str]] = field(default_factory=dict, compare=False, repr=False)

    def stage_name(self, code: str, lang: str) -> str:
        stage = self.workflow.stages.get(code)
        return stage.name(lang) if stage else code

    def stage(self, code: str) -> StageView | None:
        return self.workflow.stages.get(code)

    def objects_of(self, customer_id: int | None) -> list[Choice]:
        return [o for o in self.objects if customer_id is None or o.owner_id == customer_id]

    def contacts_of(self, customer_id: int | None) -> list[Choice]:
        return [c for c in self.contacts if customer_id is None or c.owner_id == customer_id]

    def name_of(self, kind: str, record_id: int | None) -> str:
        """The name of a customer/object/contact/employee by id ('' for None)."""
        if record_id is None:
            return ""
        if kind not in self._names:
            self._names[kind] = {c.id: c.name for c in getattr(self, kind)}
        return self._names[kind].get(record_id, f"#{record_id}")


def load_catalog(session: Session, *, complete: bool = True) -> Catalog:
    """The reference data; ``complete=False``: only the workflow, time zone and company
    name (no pick lists)."""
    settings = company_settings.load(session=session)
    if not complete:
        return Catalog(
            workflow=load_workflow(session=session),
            tz=settings.tz,
            company_name=settings.values.get("company_name", ""),
            complete=False,
        )
    employees = tuple(
        Choice(e.id, e.short_name, ", ".join(x for x in (e.position, e.area) if x))
        for e in parties.list_employees(session=session, active=True)
        if e.id is not None
    )
    customers = tuple(
        Choice(c.id, c.name, c.inn or "")
        for c in parties.list_companies(session=session)
        if c.id is not None
    )
    objs = tuple(  # each customer's sites, each followed by its equipment
        Choice(r.id, r.name, r.inventory_number or r.address or "", r.customer_id, r.depth)
        for r in object_tree.arrange([o for o, _c in objects.list_objects(session=session)])
    )
    contacts = tuple(
        Choice(c.id, c.full_name, c.phone or c.position or "", c.company_id)
        for c, _customer in parties.list_contacts(session=session)
        if c.id is not None
    )
    return Catalog(
        workflow=load_workflow(session=session),
        tz=settings.tz,
        company_name=settings.values.get("company_name", ""),
        employees=employees,
        customers=customers,
        objects=objs,
        contacts=contacts,
    )


class QueryHandle:
    """Lets the event loop stop a query a worker thread is running.

    A filter change makes the running page or count query useless; interrupting it frees
    the database and the CPU for the query that matters now. SQLite queries are stopped
    with ``interrupt()``, PostgreSQL ones with a cancel request; the worker then sees an
    error, which it ignores because its work was cancelled.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self.cancelled = False

    def attach(self, session: Session) -> None:
        raw = session.connection().connection.dbapi_connection
        with self._lock:
            self._connection = raw
            if self.cancelled:
                self._stop(raw)

    def detach(self) -> None:
        with self._lock:
            self._connection = None

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._connection is not None:
                self._stop(self._connection)

    @staticmethod
    def _stop(raw: Any) -> None:
        try:
            if hasattr(raw, "interrupt"):  # sqlite3
                raw.interrupt()
            elif hasattr(raw, "cancel_safe"):  # psycopg >= 3.2
                raw.cancel_safe()
            elif hasattr(raw, "cancel"):
                raw.cancel()
        except Exception:  # the query finished meanwhile: nothing to stop
            pass


@dataclass(frozen=True)
class HeadStart:
    """What the first screen draws, read before the app starts: the light catalog and the
    board's first page for ``filters``. Read in the launching process while nothing is on
    screen yet, it spares the first page a worker thread competing with Textual's first
    layout for the interpreter (a 10 ms query then takes ten times as long)."""

    catalog: Catalog
    filters: order_queries.OrderFilter
    rows: list[dict[str, Any]]


def resolve_user(database: Database, name: str | None) -> AppUser:
    """Who acts in the dashboard: the user the connection's login or account is bound to,
    or, for an admin, the user ``name`` names (a login, a display name, an employee's short
    name), as the core establishes it (:func:`fsm_core.identity.establish`). Read once,
    before the first screen; the database acts as that principal from then on. An unbound
    login, a deactivated user or ``name`` given by a non-admin is an
    :class:`~fsm_core.errors.FsmError`."""
    from fsm_core.identity import establish
    from fsm_core.models import AppUser

    principal = establish(database, on_behalf_of=name)
    database.act_as(principal)
    with database.reader() as session:
        user = session.get(AppUser, principal.user_id)
        assert user is not None
        session.expunge(user)
    return user


class Backend:
    """One database as the dashboard uses it: who acts, in which language, at what time.

    ``actor`` is the acting user: its display name (:attr:`user`) is what the history
    records for every change, and the user itself writes and reads the chats.

    ``now`` pins the clock for the services too (tests, snapshots): worker threads do not
    inherit the caller's context, so :func:`fsm_core.clock.frozen` is entered in each of
    them here.
    """

    def __init__(
        self, database: Database, *, actor: AppUser, lang: str, now: datetime | None = None
    ) -> None:
        self.database = database
        self.actor = actor
        self.user = database.principal.history_name
        """the name the history records: "A on behalf of B" when an admin acts for B"""
        self.lang = lang
        self.fixed_now = now

    @property
    def display_url(self) -> str:
        return self.database.display_url

    def now(self) -> datetime:
        return self.fixed_now or clock.now()

    def _clock(self) -> Any:
        return clock.frozen(self.fixed_now) if self.fixed_now else nullcontext()

    @contextmanager
    def reader(self, handle: QueryHandle | None = None) -> Iterator[Session]:
        with self._clock(), self.database.reader() as session:
            if handle is not None:
                handle.attach(session)
            try:
                yield session
            finally:
                if handle is not None:
                    handle.detach()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._clock(), self.database.transaction() as session:
            session.info[COMMAND] = "fsm tui"  # what the audit trail says the change came from
            yield session

    def catalog(self, *, complete: bool = True) -> Catalog:
        with self.reader() as session:
            return load_catalog(session, complete=complete)

    def head_start(self, filters: order_queries.OrderFilter, limit: int) -> HeadStart:
        """The light catalog and the first ``limit`` orders matching ``filters``."""
        with self.reader() as session:
            catalog = load_catalog(session, complete=False)
            rows = order_queries.list_orders(
                session=session, filters=filters, limit=limit, now=self.now()
            )
        return HeadStart(catalog, filters, rows)

    def close(self) -> None:
        self.database.dispose()
