"""Small helpers the services share."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from fsm_core.errors import Duplicate


def ensure_unique(
    session: Session,
    model: type[SQLModel],
    column: Any,
    value: Any,
    *,
    what: str,
    exclude_id: int | None = None,
) -> None:
    """Refuse ``value`` when another row of ``model`` already has it in ``column``."""
    if value is None:
        return
    query = select(model).where(column == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)  # type: ignore[attr-defined]
    other = session.exec(query).first()
    if other is not None:
        label = getattr(other, "name", None) or getattr(other, "full_name", None) or other
        raise Duplicate(f"{what} {value!r} is already used by {label}")


def flush_or_duplicate(session: Session, what: str) -> None:
    """Flush; a unique-constraint race lost to another writer becomes a one-line error."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Duplicate(f"{what} already exists (saved by someone else just now)") from exc


def apply_changes(record: SQLModel, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set the changed attributes; returns {field: (old, new)} for those that really changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in changes.items():
        old = getattr(record, name)
        if old != value:
            setattr(record, name, value)
            changed[name] = (old, value)
    return changed
