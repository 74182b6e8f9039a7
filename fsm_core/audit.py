"""The audit trail: every change of anything, append-only and tamper-evident.

Each row of ``audit_log`` says who acted (and on behalf of whom), when, with which command,
on what (entity and key), and what changed — ``{field: [before, after]}`` as JSON — and is
written in the same transaction as the change it records.

Each row carries ``hash`` = SHA-256 of the previous row's hash and the row's own content
(:func:`row_digest`), so changing, removing or reordering a row afterwards breaks the chain
at that row; :func:`verify` recomputes it and names the first row that does not match.
Rows are chained in the order they are written: the writer takes the chain's head under a
lock (SQLite's write lock; a transaction-scoped advisory lock on PostgreSQL), so two
transactions never chain to the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text

from fsm_core import clock
from fsm_core.access import Principal, principal_of

if TYPE_CHECKING:
    from sqlmodel import Session

GENESIS = "0" * 64
"""the previous hash of the first row"""

_LOCK_KEY = 0x66736D61  # "fsma": the advisory lock that orders the chain on PostgreSQL
_HEAD = "audit_head"
COMMAND = "command"
"""``session.info[COMMAND]``: the command being run (``fsm orders move``, a dashboard
action), recorded with each row; the front ends set it."""


def plain(value: Any) -> Any:
    """A value as the audit trail keeps it: JSON's own types, dates as ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
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


def _head(session: Session) -> str:
    found = session.info.get(_HEAD)
    if isinstance(found, str):
        return found
    from fsm_core.models import AuditEntry

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    return last or GENESIS


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
    """Append one row to the audit trail, in the session's transaction."""
    from fsm_core.models import AuditEntry

    who = principal or principal_of(session)
    actor, on_behalf_of = (who.by.name, who.name) if who.by is not None else (who.name, None)
    row = {
        "at": (at or clock.now()).replace(microsecond=0),
        "actor": actor[:200],
        "on_behalf_of": on_behalf_of[:200] if on_behalf_of else None,
        "account": (who.account or None) and who.account[:100],
        "command": _command(session),
        "entity": entity,
        "entity_key": None if key is None else str(key)[:200],
        "action": action,
        "changes": encode(changes),
    }
    prev = _head(session)
    row["prev_hash"] = prev
    row["hash"] = row_digest(prev, row)
    session.execute(insert(AuditEntry), [row])
    session.info[_HEAD] = row["hash"]
    # a rolled-back transaction's head must not outlive it
    _forget_head_after(session)


def _command(session: Session) -> str | None:
    command = session.info.get(COMMAND)
    return str(command)[:200] if command else None


def _forget_head_after(session: Session) -> None:
    if session.info.get("_audit_hooked"):
        return
    from sqlalchemy import event

    def forget(*_: Any) -> None:
        session.info.pop(_HEAD, None)

    event.listen(session, "after_commit", forget)
    event.listen(session, "after_rollback", forget)
    session.info["_audit_hooked"] = True


@dataclass(frozen=True)
class Broken:
    """The first row whose hash does not match its content or its predecessor."""

    id: int
    reason: str


def verify(session: Session, *, batch: int = 5000) -> tuple[int, Broken | None]:
    """Recompute the chain: the number of rows checked and the first broken row."""
    prev = GENESIS
    checked = 0
    for row in _rows(session, batch=batch):
        if row.prev_hash != prev:
            return checked, Broken(row.id, "its previous hash is not the hash of the row before")
        if row_digest(prev, row._mapping) != row.hash:
            return checked, Broken(row.id, "its content does not match its hash")
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
