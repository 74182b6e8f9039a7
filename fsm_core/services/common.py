"""Small helpers the services share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from fsm_core.errors import Duplicate


def dialect_insert(*, session: Session) -> Callable[[type[Any]], Any]:
    """The ``insert`` of the session's dialect, for ``.on_conflict_do_nothing()``, which
    PostgreSQL and SQLite both have."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def ensure_unique(
    *,
    session: Session,
    model: type[SQLModel],
    column: Any,
    value: Any,
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


def flush_or_duplicate(*, session: Session, what: str) -> None:
    """Flush; a unique-constraint race lost to another writer becomes a one-line error.

    The caller's transaction (or savepoint) is left to roll back: rolling back here would
    undo more than this one record inside an import."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Duplicate(f"{what} already exists (saved by someone else just now)") from exc


def add_record(
    *,
    session: Session,
    record: SQLModel,
    unique: dict[str, tuple[Any, str]],
    what: str,
) -> None:
    """Add a new ``record`` after checking that none of its ``unique`` fields (field ->
    (column, label), as :func:`update_record` takes them) belongs to another row."""
    for name, (column, label) in unique.items():
        ensure_unique(
            session=session,
            model=type(record),
            column=column,
            value=getattr(record, name),
            what=label,
        )
    session.add(record)
    flush_or_duplicate(session=session, what=what)


def apply_changes(record: SQLModel, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set the changed attributes; returns {field: (old, new)} for those that really changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in changes.items():
        old = getattr(record, name)
        if old != value:
            setattr(record, name, value)
            changed[name] = (old, value)
    return changed


def update_record(
    *,
    session: Session,
    record: SQLModel,
    schema: type[Any],
    changes: dict[str, Any],
    unique: dict[str, tuple[Any, str]] | None = None,
    what: str,
) -> dict[str, tuple[Any, Any]]:
    """Change ``record`` by ``changes`` after validating the result with ``schema`` (the
    entity's create schema, so a record is held to the same rules whether new or edited).

    ``unique`` maps a field to (column, label) whose new value must not belong to another
    row. Returns {field: (old, new)} of what changed.
    """
    from fsm_core.schemas import validated

    current = {name: getattr(record, name) for name in schema.model_fields if hasattr(record, name)}
    checked = validated(schema, {**current, **changes})
    clean = {name: getattr(checked, name) for name in changes if name in schema.model_fields}
    record_id: int | None = getattr(record, "id", None)  # every table's primary key
    for name, (column, label) in (unique or {}).items():
        if name in clean and clean[name] != current.get(name):
            ensure_unique(
                session=session,
                model=type(record),
                column=column,
                value=clean[name],
                what=label,
                exclude_id=record_id,
            )
    changed = apply_changes(record, clean)
    if changed:
        flush_or_duplicate(session=session, what=what)
    return changed
