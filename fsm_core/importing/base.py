"""The shape every importable entity shares: a :class:`Column` (a field and the headers
that mean it, with the public readers entities build columns from), a :class:`Row`, and
the :class:`Entity` kinds (row by row through a service, or checked in the import's
workers). The entities themselves are in :mod:`.entities` and :mod:`.stock_entities`;
:mod:`.registry` names them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fsm_core.errors import FsmError, InvalidInput
from fsm_core.importing import fields as f

if TYPE_CHECKING:
    from fsm_core.importing.engine import ImportRun
    from fsm_core.importing.parallel import Checked


@dataclass(frozen=True)
class Column:
    """A field an entity's rows may carry, and the headers that mean it."""

    name: str
    aliases: tuple[str, ...]
    read: Callable[[ImportRun], Callable[[Any], Any]]
    required: bool = False
    help: str = ""


def text_column(n: int) -> Callable[[ImportRun], Callable[[Any], Any]]:
    reader = f.text(n)
    return lambda run: reader


def long_text_column(n: int) -> Callable[[ImportRun], Callable[[Any], Any]]:
    reader = f.text(n, single_line=False)
    return lambda run: reader


def constant(reader: Callable[[Any], Any]) -> Callable[[ImportRun], Callable[[Any], Any]]:
    return lambda run: reader


def moment_column(*, end_of_day: bool = False) -> Callable[[ImportRun], Callable[[Any], Any]]:
    return lambda run: f.datetime_reader(run.tz, end_of_day=end_of_day)


def day_column() -> Callable[[ImportRun], Callable[[Any], Any]]:
    """A calendar date (a contract's), read like any moment in the company's zone."""

    def make(run: ImportRun) -> Callable[[Any], Any]:
        moment = f.datetime_reader(run.tz)
        return lambda value: (m := moment(value)) and m.astimezone(run.tz).date()

    return make


EXTERNAL_ID = Column(
    "external_id",
    ("Внешний код", "Внешний ID", "Код", "ID", "Идентификатор", "Код 1С", "GUID"),
    text_column(100),
    help="the record's id in your other system; the default upsert key",
)


@dataclass(slots=True)
class Row:
    """A row after reading its cells: typed values by field name, and its origin."""

    line: int
    values: dict[str, Any]
    raw: dict[str, Any]
    key: str | None = None


class Entity(ABC):
    """An importable kind of record. Subclasses declare their columns and write rows."""

    name: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ("external_id",)
    key_help: str = ""
    # tables a large import of this entity fills in bulk (their indexes may be deferred)
    bulk_tables: tuple[str, ...] = ()

    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.session = run.session

    # reading ----------------------------------------------------------------------
    def resolve(self, row: Row) -> None:  # noqa: B027 - optional: most entities refer to others
        """Turn names in ``row.values`` into ids (raises for an unknown reference)."""

    # writing ----------------------------------------------------------------------
    @abstractmethod
    def apply(self, rows: Sequence[Row]) -> None:
        """Insert, update or leave each row; count it in the run's report."""

    def finish(self) -> None:  # noqa: B027 - optional: most entities write all in apply
        """After the last batch: anything the entity writes once for the whole file."""


class CheckedInWorkers(Entity):
    """An entity whose rows worker processes may check (see importing/parallel.py).

    The worker side (``prepare``) must not touch the database: whatever the checks
    consult is loaded by ``prepare_for_workers`` before the workers are forked.
    """

    @abstractmethod
    def prepare_for_workers(self) -> None:
        """Load everything ``resolve`` and ``prepare`` consult (called before the fork)."""

    @abstractmethod
    def prepare(self, row: Row) -> Any:
        """In a worker: what the writing process needs of a resolved row (picklable)."""

    @abstractmethod
    def apply_checked(self, items: Sequence[Checked], recheck: Callable[[Checked], Row]) -> None:
        """In the writing process: ``apply`` for a batch of worker-checked rows, in file
        order; ``recheck`` reads one of them again here as a :class:`Row`."""


class RowByRow(Entity):
    """An entity written one row at a time through its service, each row inside a
    savepoint, so that a refused row takes nothing else with it."""

    def apply(self, rows: Sequence[Row]) -> None:
        run = self.run
        for row in rows:
            if run.stop_writing:
                run.count("checked")
                continue
            try:
                with self.session.begin_nested():
                    outcome = self.write(row)
            except FsmError as exc:
                run.reject(row, exc.one_line())
                continue
            run.count(outcome)

    @abstractmethod
    def write(self, row: Row) -> str:
        """Write one row; returns "inserted", "updated" or "unchanged"."""


class RecordEntity(RowByRow):
    """Customers, contacts, employees, crews, objects, work types: upserted by a key."""

    model: type[Any]

    def __init__(self, run: ImportRun) -> None:
        super().__init__(run)
        self._by_key: dict[str, int] | None = None

    @property
    @abstractmethod
    def unique_key_columns(self) -> dict[str, Any]:
        """The columns a row's key may name (``external_id``, ``inn``, ...); every record
        entity says which."""

    def existing_id(self, key_field: str, key: str) -> int | None:
        if self._by_key is None:
            column = self.unique_key_columns[key_field]
            self._by_key = {}
            duplicated: set[str] = set()
            for value, record_id in self.session.execute(select(column, self.model.id)):
                if value in self._by_key:
                    duplicated.add(value)
                self._by_key[value] = record_id
            self._duplicated = duplicated
        if key in getattr(self, "_duplicated", set()):
            raise InvalidInput(f"{key_field} {key!r} belongs to several records; use another --key")
        return self._by_key.get(key)

    def remember(self, key: str | None, record_id: int) -> None:
        if key is not None and self._by_key is not None:
            self._by_key[key] = record_id

    def data(self, row: Row) -> dict[str, Any]:
        """The service's fields for this row (only the columns the file has)."""
        return dict(row.values)

    def write(self, row: Row) -> str:
        key = row.key
        existing = self.existing_id(self.run.key, key) if key is not None else None
        data = self.data(row)
        if existing is None:
            record_id = self.run.fake_id() if self.run.dry_run else self.create(data)
            self.remember(key, record_id)
            self.after_write(row, record_id, data)
            return "inserted"
        record = self.session.get(self.model, existing)
        changes = {k: v for k, v in data.items() if getattr(record, k, v) != v}
        changes = self.real_changes(record, changes)
        if not changes:
            return "unchanged"
        if not self.run.dry_run:
            self.update(existing, changes)
        self.after_write(row, existing, {**data})
        return "updated"

    def real_changes(self, record: Any, changes: dict[str, Any]) -> dict[str, Any]:
        return changes

    @abstractmethod
    def create(self, data: dict[str, Any]) -> int:
        """Create the record through its service; returns its id."""

    @abstractmethod
    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        """Change the record through its service."""

    def after_write(self, row: Row, record_id: int, data: dict[str, Any]) -> None:
        """Teach the resolver a record this file created or renamed."""
