"""The audit trail: every change of anything, append-only and tamper-evident.

Each row of ``audit_log`` says who acted (and on behalf of whom), when, with which command,
on what (entity and key), and what changed — ``{field: [before, after]}`` as JSON — and is
written in the same transaction as the change it records.

What is recorded, and how:

* every insert, update and delete of the audited tables (:data:`WATCHED`) made through
  the ORM in a session of a :class:`~fsm_core.db.Database` (:class:`AuditedSession`): the
  session's flushes are watched (:func:`_watch`), and each changed record becomes one row
  with the before and after of each field that changed;
* what is written with SQL statements rather than the ORM is recorded by the code that
  writes it, with :func:`record`: a new order (one ``INSERT``), an order's reservations,
  an import as a whole (one row per import: entity, file, counts — not one per row);
* not recorded: tables that only follow others or the clock — counters, the search index,
  read marks, GPS positions, stock balances (their movements are recorded), the orders'
  own history — and chat messages, which are records of who wrote what and when already
  and are never changed.

The rows of a transaction are held back until it commits and written then, in one go
(:func:`_write`): a transaction that rolls back (or a savepoint that does) leaves none.

Each row carries ``hash`` = SHA-256 of the previous row's hash and the row's own content
(:func:`row_digest`), so changing, removing or reordering a row afterwards breaks the chain
at that row; :func:`verify` recomputes it and names the first row that does not match.
Rows are chained in the order they are written: the writer takes the chain's head under a
lock (SQLite's write lock; a transaction-scoped advisory lock on PostgreSQL, taken as the
transaction commits, so that writers queue for the moment of their commit only), so two
transactions never chain to the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, insert, inspect, select
from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import Principal, principal_of

if TYPE_CHECKING:
    from sqlalchemy.orm import SessionTransaction

GENESIS = "0" * 64
"""the previous hash of the first row"""

_LOCK_KEY = 0x66736D61  # "fsma": the advisory lock that orders the chain on PostgreSQL
_PENDING = "audit_pending"
_HOOKED = "audit_hooked"
COMMAND = "command"
"""``session.info[COMMAND]``: the command being run (``fsm orders move``, a dashboard
action), recorded with each row; the front ends set it."""


def plain(value: Any) -> Any:
    """A value as the audit trail keeps it: JSON's own types, dates as ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def encode(changes: Mapping[str, Any]) -> str:
    return json.dumps(plain(changes), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_CONTENT = (
    "at",
    "actor",
    "on_behalf_of",
    "account",
    "command",
    "entity",
    "entity_key",
    "action",
    "changes",
)


def row_digest(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of a row: SHA-256 over the previous hash and the row's content fields,
    as canonical JSON (the timestamp as ISO text in UTC)."""
    content = [prev_hash, *(plain(_utc(row[name])) for name in _CONTENT)]
    data = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


# --- writing -----------------------------------------------------------------------------


def record(
    session: Session,
    *,
    entity: str,
    key: Any,
    action: str,
    changes: Mapping[str, Any],
    principal: Principal | None = None,
    at: datetime | None = None,
) -> None:
    """Add one row to the audit trail in the session's transaction: it is chained and
    written when the transaction commits, and never if it (or the savepoint it was
    recorded in) rolls back."""
    who = principal or principal_of(session)
    actor, on_behalf_of = (who.by.name, who.name) if who.by is not None else (who.name, None)
    row = {
        "at": (at or clock.now()).replace(microsecond=0),
        "actor": actor[:200],
        "on_behalf_of": on_behalf_of[:200] if on_behalf_of else None,
        "account": who.account[:100] if who.account else None,
        "command": _command(session),
        "entity": entity,
        "entity_key": None if key is None else str(key)[:200],
        "action": action[:20],
        "changes": encode(changes),
    }
    _pending(session).append((row, session.get_nested_transaction()))


def record_created(
    session: Session, *, entity: str, key: Any, values: Mapping[str, Any], action: str = "create"
) -> None:
    """Record a record written with SQL rather than the ORM (a new order): each field
    that has a value, as ``[None, value]``."""
    changes = {
        name: [None, value]
        for name, value in values.items()
        if value is not None and name not in _NOT_RECORDED
    }
    record(session, entity=entity, key=key, action=action, changes=changes)


def order_key(session: Session, order_id: int, *rest: Any) -> str:
    """``ORDER-NUMBER/REST...``: the key of a record of an order (see :data:`WATCHED`)."""
    return "/".join([_Keys(session).order(order_id), *(str(part) for part in rest)])


def _command(session: Session) -> str | None:
    command = session.info.get(COMMAND)
    return str(command)[:200] if command else None


def _pending(session: Session) -> list[tuple[dict[str, Any], Any]]:
    """The rows recorded in the session's transaction and not written yet, each with the
    savepoint it was recorded in (None: the transaction itself)."""
    pending: list[tuple[dict[str, Any], Any]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
    if not isinstance(session, AuditedSession) and not session.info.get(_HOOKED):
        # a session made elsewhere (an import's): it gets the writing hooks itself
        event.listen(session, "before_commit", _write)
        event.listen(session, "after_soft_rollback", _forget)
        event.listen(session, "after_transaction_end", _ended)
        session.info[_HOOKED] = True
    return pending


def _write(session: Session) -> None:
    """Before the transaction commits: chain and insert the rows it recorded."""
    if session.in_nested_transaction():
        return  # a savepoint is released: its rows wait for the transaction's commit
    if session.new or session.dirty or session.deleted:
        session.flush()  # what is still unflushed is recorded too
    pending: list[tuple[dict[str, Any], Any]] | None = session.info.get(_PENDING)
    if not pending:
        return
    from fsm_core.models import AuditEntry

    rows = [row for row, _savepoint in pending]
    pending.clear()
    prev = _head(session)
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = row_digest(prev, row)
    session.execute(insert(AuditEntry), rows)


_LAST = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"


def _head(session: Session) -> str:
    """The hash of the chain's last row, taken under the lock that orders the chain."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":  # SQLite: the writer holds the database
        return connection.exec_driver_sql(_LAST).scalar() or GENESIS
    # the lock, then the head: two statements (the second's snapshot is taken once the
    # lock is held, so it sees the commit of whoever held it before) in one round trip
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY}); {_LAST}")
        if not cursor.nextset():  # a driver that kept one result only: ask again, locked
            cursor.execute(_LAST)
        found = cursor.fetchone()
    finally:
        cursor.close()
    return found[0] if found else GENESIS


def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A rollback: the rows recorded in what it undid go (a savepoint's, or all)."""
    pending: list[tuple[dict[str, Any], Any]] | None = session.info.get(_PENDING)
    if not pending:
        return
    if not transaction.nested:
        pending.clear()
        return
    pending[:] = [(row, sp) for row, sp in pending if not _within(sp, transaction)]


def _within(savepoint: Any, transaction: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is transaction:
            return True
        savepoint = savepoint.parent
    return False


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (and written) or rolled back: nothing waits
        pending = session.info.get(_PENDING)
        if pending:
            pending.clear()


class AuditedSession(Session):
    """The session every :class:`~fsm_core.db.Database` hands out: its changes of the
    audited tables are recorded (see the module doc)."""


# --- what is watched ---------------------------------------------------------------------

_NOT_RECORDED = frozenset({"created_at", "updated_at", "version", "created_by", "updated_by"})
"""columns every row has and the audit row says better (when, who), or that only count"""


class _Keys:
    """What a watched record's key needs from outside it: the numbers of the orders it
    belongs to, read once per flush."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._numbers: dict[int, str] = {}
        self._entries: dict[int, int] = {}

    def order(self, order_id: int | None) -> str:
        if order_id is None:
            return "?"
        if order_id not in self._numbers:
            self.load_orders([order_id])
        return self._numbers.get(order_id, f"#{order_id}")

    def load_orders(self, ids: Iterator[int] | list[int]) -> None:
        from fsm_core.models import Order

        wanted = set(ids) - set(self._numbers)
        for order_id in list(wanted):
            found = self.session.identity_map.get(self.session.identity_key(Order, order_id))
            if found is not None:
                self._numbers[order_id] = found.number
                wanted.discard(order_id)
        if wanted:
            rows = self.session.execute(
                select(Order.id, Order.number).where(Order.id.in_(wanted))
            ).all()
            self._numbers.update((order_id, number) for order_id, number in rows)

    def entry_order(self, entry_id: int) -> int | None:
        """The order of a work entry."""
        from fsm_core.models import WorkEntry

        if entry_id not in self._entries:
            found = self.session.identity_map.get(self.session.identity_key(WorkEntry, entry_id))
            order_id = (
                found.order_id
                if found is not None
                else self.session.execute(
                    select(WorkEntry.order_id).where(WorkEntry.id == entry_id)
                ).scalar()
            )
            if order_id is None:
                return None
            self._entries[entry_id] = order_id
        return self._entries[entry_id]


_Key = Callable[[_Keys, Any], str]


def _naming(key: _Key, *columns: str) -> _Key:
    """``key``, noting the columns it shows (not repeated among the changes)."""
    key.columns = columns  # type: ignore[attr-defined]
    return key


def _own(name: str) -> _Key:
    return _naming(lambda _keys, obj: str(getattr(obj, name)), name)


def _under(parent: str, own: str = "id") -> _Key:
    """``PARENT/OWN``: a record that belongs to another (a crew's member, a template's
    item), so that listing the parent's key finds it too."""
    return _naming(lambda _keys, obj: f"{getattr(obj, parent)}/{getattr(obj, own)}", parent, own)


def _of_order(own: str | None = "id") -> _Key:
    """``ORDER-NUMBER/ID`` (or the number alone): a record of an order."""

    def key(keys: _Keys, obj: Any) -> str:
        number = keys.order(obj.order_id)
        return number if own is None else f"{number}/{getattr(obj, own)}"

    return _naming(key, "order_id")


def _of_work_entry(keys: _Keys, obj: Any) -> str:
    number = keys.order(keys.entry_order(obj.work_entry_id))
    return f"{number}/{obj.work_entry_id}/{obj.employee_id}"


_naming(_of_work_entry, "work_entry_id", "employee_id")


_CATEGORIES: dict[tuple[str, str], str | None] = {}
"""(database, stage code) -> the stage's category: a stage keeps its category for good
(no service changes it), so it is read once per process and database"""


def _category(session: Session, code: str) -> str | None:
    bind = session.get_bind()
    where = (bind.engine.url.render_as_string(hide_password=True), code)
    if where not in _CATEGORIES:
        from fsm_core.models import Stage

        found = session.execute(select(Stage.category).where(Stage.code == code)).scalar()
        if found is None:
            return None  # not (yet) a stage: nothing to remember
        _CATEGORIES[where] = found
    return _CATEGORIES[where]


def _order_action(session: Session, kind: str, changes: Mapping[str, Any]) -> str | None:
    """An order's change is named by what it did: cancel, assign, move or update."""
    if kind != "update":
        return None
    if "stage_code" in changes and _category(session, changes["stage_code"][1]) == "cancelled":
        return "cancel"
    if "assignee_id" in changes or "crew_id" in changes:
        return "assign"
    return "move" if "stage_code" in changes else "update"


def _movement_action(_session: Session, kind: str, changes: Mapping[str, Any]) -> str | None:
    """A stock movement is created as a receipt, a transfer, a write-off..."""
    return str(changes["kind"][1]) if kind == "create" and "kind" in changes else None


@dataclass(frozen=True)
class Watched:
    """How the changes of one table are recorded."""

    entity: str
    key: _Key
    skip: frozenset[str] = frozenset()
    """columns not recorded (beside :data:`_NOT_RECORDED`)"""
    hidden: frozenset[str] = frozenset()
    """columns recorded as changed without their values (a passport's token)"""
    names: Mapping[str, str] = field(default_factory=dict)
    """create / update / delete as this entity calls them (a crew member is added)"""
    name: Callable[[Session, str, Mapping[str, Any]], str | None] | None = None
    """names a change by what changed (an order's move, a stock movement's kind); None:
    by :attr:`names`"""
    order_id: bool = False
    """its key names its order (read for the whole flush at once)"""

    def action(self, session: Session, kind: str, changes: Mapping[str, Any]) -> str:
        named = self.name(session, kind, changes) if self.name is not None else None
        return named or self.names.get(kind, kind)


_ADDED = {"create": "add", "delete": "remove"}
WATCHED: dict[str, Watched] = {
    # orders and what is recorded on them: ``fsm audit list --id 26-0091`` finds it all
    "orders": Watched("order", _own("number"), name=_order_action),
    "visit": Watched("order.visit", _of_order(), order_id=True),
    "work_entry": Watched("order.work", _of_order(), order_id=True),
    "work_executor": Watched("order.executor", _of_work_entry),
    "material_use": Watched("order.material", _of_order(), order_id=True),
    "order_attachment": Watched("order.file", _of_order(), order_id=True),
    "checklist_answer": Watched(
        "order.answer", _of_order(), skip=frozenset({"answered_by", "answered_at"}), order_id=True
    ),
    "execution_record": Watched("order.execution", _of_order(None), order_id=True),
    # the customer's side: who replaced a status link (not the token), the rating given
    "status_link": Watched(
        "order.status_link", _of_order(None), hidden=frozenset({"token"}), order_id=True
    ),
    "order_rating": Watched("order.rating", _of_order(None), order_id=True),
    # customers, objects, people
    "company": Watched("customer", _own("id")),
    "contact": Watched("customer.contact", _under("company_id")),
    "service_object": Watched("object", _own("id"), hidden=frozenset({"passport_token"})),
    "employee": Watched("employee", _own("id")),
    "work_pattern": Watched("employee.pattern", _under("employee_id")),
    "time_off": Watched("employee.time_off", _under("employee_id")),
    "crew": Watched("crew", _own("id")),
    "crew_member": Watched("crew.member", _under("crew_id", "employee_id"), names=_ADDED),
    "holiday": Watched("holiday", _own("day"), names=_ADDED),
    # the company's rules
    "setting": Watched("setting", _own("key"), names={"create": "set", "update": "set"}),
    "stage": Watched("stage", _own("code")),
    "stage_transition": Watched(
        "stage.transition",
        _under("from_code", "to_code"),
        names={"create": "allow", "delete": "forbid"},
    ),
    "sla_policy": Watched("sla", _own("id")),
    "work_type": Watched("work_type", _own("id")),
    "checklist_template": Watched("checklist", _own("id")),
    "checklist_item": Watched("checklist.item", _under("template_id")),
    "checklist_binding": Watched("checklist.binding", _under("template_id")),
    # stock
    "stock_item": Watched("item", _own("id")),
    "warehouse": Watched("warehouse", _own("id")),
    "stock_movement": Watched(
        "stock", _own("id"), skip=frozenset({"actor", "at"}), name=_movement_action
    ),
    # GPS: bindings, not what the devices report
    "gps_device": Watched(
        "gps_device",
        _own("identifier"),
        skip=frozenset({"first_seen_at", "last_seen_at", "refused", "pulled_until"}),
    ),
    "map_background": Watched(
        "map_background", _own("id"), skip=frozenset({"data", "loaded_at", "loaded_by"})
    ),
}
"""The audited tables, by table name. The users' tables (``app_user``, ``user_role``)
are recorded by :mod:`fsm_core.services.users` itself, with their roles as one field."""

_COLUMNS: dict[type, tuple[str, ...]] = {}


def _columns(cls: type, spec: Watched) -> tuple[str, ...]:
    found = _COLUMNS.get(cls)
    if found is None:
        mapper: Any = inspect(cls)
        # the primary key, and what the row's key shows, are not repeated as changes
        shown = {column.key for column in mapper.primary_key}
        shown.update(getattr(spec.key, "columns", ()))
        skipped = _NOT_RECORDED | spec.skip | shown
        found = tuple(attr.key for attr in mapper.column_attrs if attr.key not in skipped)
        _COLUMNS[cls] = found
    return found


def _shown(spec: Watched, name: str, value: Any) -> Any:
    if value is None or name not in spec.hidden:
        return value
    return "…" + str(value)[-4:]


def _watch(session: Session, _flush_context: Any) -> None:
    """After a flush (its new, changed and deleted records still as they were before it,
    with their attributes' history): record each change of an audited table."""
    found: list[tuple[str, Any, Watched]] = []
    for kind, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            spec = WATCHED.get(getattr(obj, "__tablename__", ""))
            if spec is not None:
                found.append((kind, obj, spec))
    if not found:
        return
    keys = _Keys(session)
    keys.load_orders([obj.order_id for _kind, obj, spec in found if spec.order_id])
    for kind, obj, spec in found:
        state = inspect(obj)
        values = state.dict
        changes: dict[str, list[Any]] = {}
        if kind == "update":
            for name in _columns(type(obj), spec):
                history = state.attrs[name].history
                if not history.added and not history.deleted:
                    continue
                before = history.deleted[0] if history.deleted else None
                after = history.added[0] if history.added else None
                if before != after:
                    changes[name] = [_shown(spec, name, before), _shown(spec, name, after)]
            if not changes:
                continue
        else:
            for name in _columns(type(obj), spec):
                value = values.get(name)
                if value is not None:
                    value = _shown(spec, name, value)
                    changes[name] = [None, value] if kind == "create" else [value, None]
        action = spec.action(session, kind, changes)
        record(session, entity=spec.entity, key=spec.key(keys, obj), action=action, changes=changes)


event.listen(AuditedSession, "after_flush", _watch)
event.listen(AuditedSession, "before_commit", _write)
event.listen(AuditedSession, "after_soft_rollback", _forget)
event.listen(AuditedSession, "after_transaction_end", _ended)


# --- checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """The first row whose hash does not match its content or its predecessor."""

    id: int
    at: datetime
    reason: str
    reason_ru: str


_NOT_FOLLOWING = (
    "it does not follow the row before it: a row before it was removed, reordered or rewritten",
    "она не продолжает строку перед ней: строку перед ней удалили, переставили или переписали",
)
_CHANGED = (
    "its content does not match its hash: the row was changed",
    "её содержимое не соответствует её хешу: строку изменили",
)


def verify(session: Session, *, batch: int = 5000) -> tuple[int, Broken | None]:
    """Recompute the chain: the number of rows checked and the first broken row."""
    prev = GENESIS
    checked = 0
    for row in _rows(session, batch=batch):
        if row.prev_hash != prev:
            return checked, Broken(row.id, row.at, *_NOT_FOLLOWING)
        if row_digest(prev, row._mapping) != row.hash:
            return checked, Broken(row.id, row.at, *_CHANGED)
        prev = row.hash
        checked += 1
    return checked, None


def _rows(session: Session, *, batch: int) -> Iterator[Any]:
    from fsm_core.models import AuditEntry

    columns = [AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash] + [
        getattr(AuditEntry, name) for name in _CONTENT
    ]
    after = -1
    while True:
        rows = session.execute(
            select(*columns).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
