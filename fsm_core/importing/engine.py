"""Running an import: columns matched, every row read and checked, written all or nothing.

By default the whole file is one transaction: every invalid row is reported (through
``on_error``, as ``FILE:LINE: column 'Срок': cannot read date '31.02.2024'``), and if there
was any, nothing is written. ``skip_invalid`` writes the valid rows and leaves the rest
out (and in the ``rejects`` file, with an ``error`` column, ready to be fixed and imported
again); ``dry_run`` checks everything and writes nothing. Rows stream through in batches:
memory does not grow with the file.

The import does not keep the others from working meanwhile: it runs on a connection of
its own through a :class:`~fsm_core.bulk.Staging`, and publishes the file at the end in
one short transaction. On SQLite its new orders are written ahead as the file is read, a
batch at a time in short write transactions, hidden from every reader until it publishes
(fsm_core/import_batches.py); on PostgreSQL they are held back in temporary tables. Until
then nothing of the file is visible, and a failed or killed import leaves nothing behind
(a killed one's hidden orders are deleted by the next program that opens the database).
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import ENTITY_PERMISSIONS, Principal, demand
from fsm_core.bulk import Staging
from fsm_core.db import Database
from fsm_core.errors import DatabaseUnavailable, FsmError, InvalidInput, NotFound
from fsm_core.files import private_dir
from fsm_core.importing import parallel
from fsm_core.importing.base import (
    CheckedInWorkers,
    Column,
    Entity,
    RecordEntity,
    Row,
)
from fsm_core.importing.fields import CellError
from fsm_core.importing.readers import ALTERNATIVES, Source, SourceRow, encoding_hint
from fsm_core.importing.registry import ENTITIES
from fsm_core.importing.resolver import Resolver

CHECK_BATCH = 2000
"""Rows checked at a time by default: what a worker hands over in one piece."""


@dataclass
class ImportOptions:
    mapping: dict[str, str] = field(default_factory=dict)  # source column -> field
    strict: bool = False
    key: str | None = None
    create_missing: bool = False
    dry_run: bool = False
    skip_invalid: bool = False
    rejects: str | Path | None = None
    batch_size: int | None = None
    """rows checked at a time, and new orders written per turn on SQLite (see
    fsm_core/import_batches.py); None: checked :data:`CHECK_BATCH` at a time, written
    :data:`fsm_core.services.orders.AHEAD_ROWS` a turn"""
    actor: str = "import"
    command: str | None = None
    """the command that runs the import (``fsm import``), for the audit trail"""
    # processes checking rows beside the writing one: None decides by the file and the
    # machine (see importing/parallel.py), 0 or 1 checks them all in this process
    workers: int | None = None

    @property
    def check_batch(self) -> int:
        """Rows checked at a time."""
        return self.batch_size or CHECK_BATCH


@dataclass
class ImportReport:
    entity: str
    source: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    checked: int = 0  # valid rows not written because another row was invalid
    seconds: float = 0.0
    unknown_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # header -> field
    key: str | None = None
    dry_run: bool = False
    committed: bool = False
    rejects_path: str | None = None
    first_errors: list[str] = field(default_factory=list)
    # records --create-missing made for rows that named them: kind -> how many
    created: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.rejected + self.checked

    @property
    def exit_code(self) -> int:
        """0 when every row is in (or would be, in a dry run); 1 otherwise."""
        if self.rejected:
            return 1
        if not self.committed and not self.dry_run and self.rows:
            return 1
        return 0

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        parts = [
            f"{self.inserted} {verb}inserted",
            f"{self.updated} {verb}updated",
            f"{self.unchanged} unchanged",
            f"{self.rejected} rejected",
        ]
        if self.checked and not self.committed:
            parts.append(f"{self.checked} valid but not written")
        if self.created and (self.committed or self.dry_run):
            made = ", ".join(
                f"{n} {kind}" if n == 1 else f"{n} {PLURALS.get(kind, kind + 's')}"
                for kind, n in self.created.items()
            )
            parts.append(f"{'would create' if self.dry_run else 'created'} {made}")
        text = f"{self.source}: {', '.join(parts)} in {self.seconds:.2f} s"
        if self.rejected and not self.committed and not self.dry_run:
            text += " (nothing written: fix the rows or use --skip-invalid)"
        if self.dry_run:
            text += " (dry run: nothing written)"
        return text


MAX_KEPT_ERRORS = 50
PLURALS = {"customer": "customers", "object": "objects", "warehouse": "warehouses"}


def normalize_header(text: str) -> str:
    """How headers are compared: case, ё, spaces, and trailing ``:`` ``*`` do not matter."""
    folded = " ".join(text.replace("\ufeff", "").strip().lower().replace("ё", "е").split())
    return folded.rstrip(":*").strip().replace("_", " ")


def column_table(entity: type[Entity]) -> dict[str, Column]:
    """Every accepted header of ``entity`` (field name, English label, Russian aliases)."""
    table: dict[str, Column] = {}
    for column in entity.columns:
        for name in (column.name, column.name.replace("_", " "), *column.aliases):
            table.setdefault(normalize_header(name), column)
    return table


def check_header_encoding(entity: type[Entity], source: Source, options: ImportOptions) -> None:
    """Refuse a file whose encoding was guessed when its headers beyond ASCII are no
    column fsm knows in that encoding, and either the guess was doubtful or another
    encoding reads them as known columns: a KOI8-R ``Заказчик`` read as Windows-1251 is
    ``ъБЛБЪЮЙЛ``, and "missing column: customer" would send the user the wrong way."""
    if not source.encoding_guessed or source.encoding is None:
        return
    table = column_table(entity)
    known = table.keys() | {normalize_header(k) for k in options.mapping}
    strange = [h for h in source.headers if not h.isascii() and normalize_header(h) not in known]
    if not strange:
        return

    def reads_known(encoding: str) -> bool:
        try:
            return all(
                normalize_header(h.encode(source.encoding or "").decode(encoding)) in known
                for h in strange
            )
        except UnicodeError:
            return False

    readable = [e for e in ALTERNATIVES if reads_known(e)]
    if not (source.encoding_doubtful or readable):
        return  # Russian headers fsm does not know: ignored as any unknown column
    hint = " or ".join(f"--encoding {e}" for e in readable) if readable else encoding_hint(source)
    where = f"{source.name}:{source.header_line}" if source.header_line else source.name
    names = ", ".join(repr(h) for h in strange)
    raise InvalidInput(
        f"{where}: read as {source.encoding}, the encoding guessed, the header(s) {names} "
        "are no column fsm knows",
        hint=f"give the file's encoding: {hint}",
    )


def plan_columns(
    entity: type[Entity], headers: list[str], options: ImportOptions
) -> tuple[list[tuple[str, Column]], list[str]]:
    """Match the file's headers to the entity's fields; returns the plan and the unknown
    headers. Refuses (before any row is read) missing required fields, two columns for one
    field, a ``--map`` to an unknown field, and with ``strict`` any unknown column."""
    table = column_table(entity)
    by_name = {c.name: c for c in entity.columns}
    mapping = {normalize_header(k): v for k, v in options.mapping.items()}
    for source, target in options.mapping.items():
        if target not in by_name:
            known = ", ".join(by_name)
            raise InvalidInput(
                f"--map {source}={target}: {entity.name} have no field {target!r}",
                hint=f"fields: {known}",
            )
        if normalize_header(source) not in {normalize_header(h) for h in headers}:
            raise InvalidInput(f"--map {source}={target}: the file has no column {source!r}")
    plan: list[tuple[str, Column]] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for header in headers:
        key = normalize_header(header)
        column = by_name.get(mapping[key]) if key in mapping else table.get(key)
        if column is None:
            unknown.append(header)
            continue
        if column.name in seen:
            raise InvalidInput(
                f"columns {seen[column.name]!r} and {header!r} both mean {column.name!r}",
                hint="drop one, or --map one of them to another field",
            )
        seen[column.name] = header
        plan.append((header, column))
    if unknown and options.strict:
        raise InvalidInput(
            f"unknown column(s): {', '.join(repr(u) for u in unknown)}",
            hint="--map 'Column=field' or drop --strict",
        )
    present = {c.name for _, c in plan}
    missing = [c for c in entity.columns if c.required and c.name not in present]
    if entity.name == "orders" and not present & {"customer", "object"}:
        missing.insert(0, next(c for c in entity.columns if c.name == "customer"))
    if missing:
        names = ", ".join(f"{c.name} ({c.aliases[0]})" if c.aliases else c.name for c in missing)
        raise InvalidInput(f"missing required column(s): {names}")
    return plan, unknown


class ImportRun:
    """The state of one import: its session, counts, and what rows refer to."""

    def __init__(
        self,
        session: Session,
        *,
        entity_name: str,
        source: Source,
        options: ImportOptions,
        report: ImportReport,
        plan: list[tuple[str, Column]],
        on_error: Callable[[str], None] | None,
    ) -> None:
        from fsm_core.services.settings import load as load_settings

        self.session = session
        self.source = source
        self.options = options
        self.report = report
        self.actor = options.actor
        self.dry_run = options.dry_run
        self.now = clock.now()
        self.tz = load_settings(session=session).tz
        self.resolver = Resolver(session)
        self.fields = [column.name for _, column in plan]
        self.header_of = {column.name: header for header, column in plan}
        self.key = report.key or ""
        self.on_error = on_error
        self.stop_writing = False
        self._orders_ctx: Any = None
        self._fake = 0
        self._spool: Any = None
        self._seen_keys: dict[str, int] = {}
        # the rejects file's columns: the headers, and keys only a later JSON object had
        self.rejects_headers = dict.fromkeys(source.headers)

    # counting ---------------------------------------------------------------------

    def count(self, outcome: str, n: int = 1) -> None:
        setattr(self.report, outcome, getattr(self.report, outcome) + n)

    def describe(self, problem: str | FsmError) -> str:
        """A row's problem as the report says it: ``column 'Срок': ...`` for a field's."""
        if not isinstance(problem, FsmError):
            return problem
        message = problem.one_line()
        name = getattr(problem, "field", None)
        header = self.header_of.get(name or "")
        if header and not message.startswith("column "):
            prefix = f"{name}: "
            message = message[len(prefix) :] if message.startswith(prefix) else message
            message = f"column {header!r}: {message}"
        return message

    def reject(self, row: Row, problem: str | FsmError) -> None:
        self.reject_line(row.line, row.raw, self.describe(problem))

    def reject_line(self, number: int, raw: dict[str, Any], message: str) -> None:
        line = f"{self.source.name}:{number}: {message}"
        self.report.rejected += 1
        if len(self.report.first_errors) < MAX_KEPT_ERRORS:
            self.report.first_errors.append(line)
        if self.on_error is not None:
            self.on_error(line)
        if not self.options.skip_invalid:
            self.stop_writing = True
        if self.options.rejects is not None:
            self.rejects_headers.update(dict.fromkeys(raw))
            if self._spool is None:
                # closed with the run (see rejected_rows); rows are spooled, not kept in memory
                self._spool = tempfile.TemporaryFile(  # noqa: SIM115
                    "w+", encoding="utf-8", dir=private_dir()
                )
            record = {**{k: _plain(v) for k, v in raw.items()}, "error": line}
            self._spool.write(json.dumps(record, ensure_ascii=False) + "\n")

    def claim_key(self, row: Row) -> bool:
        """Note the row's key; a key seen on an earlier line rejects the row (False)."""
        key = self.report.key
        if key is None or row.values.get(key) is None:
            return True
        row.key = str(row.values[key])
        problem = self.claim(row.line, row.key)
        if problem is not None:
            self.reject(row, problem)
            return False
        return True

    def claim(self, line: int, value: str) -> str | None:
        """Note that ``line`` carries the key ``value``; the problem if an earlier one did."""
        first = self._seen_keys.get(value)
        if first is not None:
            return f"{self.report.key} {value!r} appears again (first at line {first})"
        self._seen_keys[value] = line
        return None

    def rejected_rows(self) -> Iterator[dict[str, Any]]:
        if self._spool is None:
            return
        with self._spool:
            self._spool.seek(0)
            for text in self._spool:
                yield json.loads(text)

    def created(self, kind: str) -> None:
        """Count a record --create-missing made for a row (the summary says how many)."""
        self.report.created[kind] = self.report.created.get(kind, 0) + 1

    def fake_id(self) -> int:
        """An id for a record a dry run would create, so later rows can refer to it."""
        self._fake -= 1
        return self._fake

    # references -------------------------------------------------------------------

    def column_error(
        self, name: str, exc: FsmError, *, creatable: bool = False, hint: str | None = None
    ) -> InvalidInput:
        """``exc`` said of the file's column for field ``name`` (``column 'Объект': ...``),
        with ``hint`` instead of its own if given; ``creatable``: --create-missing would
        have made the record, and the hint says so."""
        header = self.header_of.get(name, name)
        hint = hint or exc.hint
        if creatable and isinstance(exc, NotFound) and not self.options.create_missing:
            hint = f"{hint}; --create-missing creates it" if hint else "--create-missing creates it"
        return InvalidInput(f"column {header!r}: {exc.message}", hint=hint)

    def customer_id(self, ref: str, row: Row) -> int:
        try:
            return self.resolver.customer(ref)
        except NotFound as exc:
            if not self.options.create_missing:
                raise self.column_error("customer", exc, creatable=True) from None
        except FsmError as exc:
            raise self.column_error("customer", exc) from None
        return self._create_customer(ref)

    def _create_customer(self, name: str) -> int:
        from fsm_core.services import parties

        if self.dry_run:
            company_id = self.fake_id()
        else:
            with self.session.begin_nested():
                company_id = parties.create_company(session=self.session, data={"name": name}).id
        self.created("customer")
        self.resolver.add_company(company_id, name, inn=None, external_id=None)
        if self._orders_ctx is not None:
            self._orders_ctx.remember_company(company_id, name)
        return company_id

    def object_id(
        self, ref: str, customer_id: int | None, row: Row, *, address: str | None = None
    ) -> int:
        """The object a row names (see importing/resolver.py); with --create-missing, a
        name the row's customer has no object of (at ``address``) becomes a new object
        of that customer, at that address."""
        try:
            return self.resolver.object(ref, customer_id=customer_id, address=address)
        except NotFound as exc:
            if not (self.options.create_missing and customer_id is not None):
                raise self.column_error("object", exc, creatable=customer_id is not None) from None
        except FsmError as exc:
            raise self.column_error("object", exc) from None
        return self._create_object(ref.strip(), customer_id, address)

    def _create_object(self, name: str, customer_id: int, address: str | None) -> int:
        from fsm_core.services import objects

        data: dict[str, Any] = {"customer_id": customer_id, "name": name}
        if address and address.strip():
            data["address"] = address.strip()
        if self.dry_run:
            object_id = self.fake_id()
        else:
            with self.session.begin_nested():
                object_id = objects.create_object(session=self.session, data=data).id
        self.created("object")
        self.remember_object(object_id, customer_id, name)
        self.resolver.add_object(object_id, customer_id, name, address=data.get("address"))
        return object_id

    def remember_object(self, object_id: int, customer_id: int, name: str) -> None:
        if self._orders_ctx is not None:
            self._orders_ctx.remember_object(object_id, customer_id, name)

    def employee_id(self, ref: str) -> int:
        try:
            return self.resolver.employee(ref)
        except FsmError as exc:
            name = "assignee" if "assignee" in self.header_of else "leader"
            if "members" in self.header_of and name not in self.header_of:
                name = "members"
            raise self.column_error(name, exc) from None

    def orders_context(self) -> Any:
        if self._orders_ctx is None:
            from fsm_core.services.orders import OrderContext

            self._orders_ctx = OrderContext(self.session).preload()
        return self._orders_ctx


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class _Rollback(Exception):
    """Leaves the import's transaction without committing."""


@contextmanager
def _staged(
    db: Database, *, dry_run: bool, turn_rows: int | None
) -> Iterator[tuple[Session, Staging]]:
    """The import's session, on a connection of its own, writing through a staging (see
    the module doc); the caller publishes and commits. Anything else rolls back."""
    db.ensure_schema()
    with (
        db.engine.connect() as connection,
        Session(bind=connection, expire_on_commit=False) as session,
    ):
        stage = Staging(session, wait=db.write_wait, dry_run=dry_run, turn_rows=turn_rows)
        try:
            yield session, stage
        except BaseException:
            session.rollback()
            raise
        finally:
            stage.close()


def _index_published(session: Session, db: Database) -> None:
    """SQLite: index the orders just published for the search, in short transactions
    (see fsm_core/search_index.py). A failure here loses nothing: the orders are in, the
    search reads the ones not indexed yet, and the next program to open the database
    indexes them."""
    from fsm_core import search_index

    connection = session.connection()
    if not search_index.has_pending_table(connection):
        return
    session.commit()  # the read transaction the question began
    raw = connection.connection.driver_connection
    if raw is None:
        return
    # the import is in whatever happens here; the index catches up when a program next
    # opens the file
    with suppress(sqlite3.Error, DatabaseUnavailable):
        search_index.catch_up(raw, wait=db.write_wait)


def run_import(
    db: Database,
    *,
    entity: str,
    source: Source,
    options: ImportOptions | None = None,
    on_error: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import ``source`` as ``entity`` rows into ``db``; see the module docstring."""
    options = options or ImportOptions()
    try:
        entity_cls = ENTITIES[entity]
    except KeyError:
        known = ", ".join(ENTITIES)
        raise InvalidInput(f"cannot import {entity!r}", hint=f"one of: {known}") from None
    demand(db.principal, ENTITY_PERMISSIONS[entity][1])
    started = time.perf_counter()
    check_header_encoding(entity_cls, source, options)
    plan, unknown = plan_columns(entity_cls, source.headers, options)
    key = options.key or entity_cls.keys[0]
    if key not in entity_cls.keys:
        raise InvalidInput(f"--key {key}: {entity} can be matched by {', '.join(entity_cls.keys)}")
    report = ImportReport(
        entity=entity,
        source=source.name,
        unknown_columns=unknown,
        columns={header: column.name for header, column in plan},
        key=key if any(c.name == key for _, c in plan) else None,
        dry_run=options.dry_run,
    )
    run: ImportRun | None = None
    principal = db.principal  # who imports: asked now, before the import holds the database
    try:
        with _staged(db, dry_run=options.dry_run, turn_rows=options.batch_size) as (
            session,
            stage,
        ):
            run = ImportRun(
                session,
                entity_name=entity,
                source=source,
                options=options,
                report=report,
                plan=plan,
                on_error=on_error,
            )
            _process(run, entity_cls(run), plan, options)
            if options.dry_run or (report.rejected and not options.skip_invalid):
                raise _Rollback
            stage.publish()
            _record(session, report, principal=principal, command=options.command)
            session.commit()
            stage.committed()
            report.committed = True
            _index_published(session, db)
    except _Rollback:
        pass
    if not report.committed:
        report.checked += report.inserted + report.updated
        if not options.dry_run:
            report.inserted = report.updated = 0
    if options.rejects is not None and run is not None:
        _write_rejects(run, source, str(options.rejects))
        report.rejects_path = str(options.rejects)
    report.seconds = time.perf_counter() - started
    return report


def _record(
    session: Session, report: ImportReport, *, principal: Principal, command: str | None
) -> None:
    """The import's one row in the audit trail, in its transaction: what, from which
    file, how many rows of each outcome (not the rows themselves)."""
    from fsm_core import audit

    session.info[audit.COMMAND] = command
    audit.record(
        session,
        entity="import",
        key=report.entity,
        action="import",
        changes={
            "file": report.source,
            "key": report.key,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
            "created": report.created,
        },
        principal=principal,
    )


def _write_rejects(run: ImportRun, source: Source, target: str) -> None:
    """The rejected rows, with an ``error`` column, as the input was written: a CSV from a
    CSV in its encoding and with its delimiter (a cp1251 ``;`` file gets a cp1251 ``;``
    file, which Russian Excel opens as it opened the input); UTF-8 with a BOM, so Excel
    shows its Cyrillic right."""
    from fsm_core.tabular.writers import fmt_for_path, write_rows

    fmt = fmt_for_path(target) or "csv"
    encoding, delimiter = "utf-8", ","
    if fmt in ("csv", "tsv") and source.encoding is not None:
        encoding = source.encoding
        delimiter = source.delimiter or delimiter
    unicode = encoding.replace("_", "-").startswith(("utf-8", "utf8", "utf-16", "utf-32"))
    rows = run.rejected_rows()
    if not unicode:
        rows = (_encodable(row, encoding) for row in rows)
    write_rows(
        rows,
        headers=[*dict.fromkeys([*source.headers, *run.rejects_headers]), "error"],
        fmt=fmt,
        out=target,
        encoding="utf-8" if encoding == "utf-8-sig" else encoding,
        delimiter=delimiter,
        bom=fmt in ("csv", "tsv") and encoding.startswith(("utf-8", "utf8")),
    )


def _encodable(row: dict[str, Any], encoding: str) -> dict[str, Any]:
    """The row with what a code page cannot hold (in a message naming a record, say)
    replaced by ``?``; the input's own cells came in that code page and always fit."""
    return {
        k: v.encode(encoding, errors="replace").decode(encoding) if isinstance(v, str) else v
        for k, v in row.items()
    }


# Characters no text in a sheet has: C0 controls but tab, line feed and carriage return,
# DEL and the C1 controls. NUL cannot be stored by PostgreSQL at all and makes every later
# Excel export fail; ESC and friends are terminal commands. A row carrying one is refused
# with its line, like any other bad cell.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x9B: "CSI"}


def control_problem(cell: str) -> str | None:
    """What is wrong with ``cell`` if it carries a control character, else None."""
    found = _CONTROL.search(cell)
    if found is None:
        return None
    code = ord(found.group())
    name = _CONTROL_NAMES.get(code)
    return (
        f"contains the control character U+{code:04X}{f' ({name})' if name else ''} at "
        f"position {found.start() + 1}; text in a sheet cannot carry it"
    )


class RowChecker:
    """Reads a source row's cells into a :class:`Row`: typed values, required ones there."""

    def __init__(self, run: ImportRun, plan: list[tuple[str, Column]]) -> None:
        self.readers = [(header, column.name, column.read(run)) for header, column in plan]
        self.required = [(header, column.name) for header, column in plan if column.required]

    def check(self, source_row: SourceRow) -> tuple[Row, str | None]:
        """The row, and what is wrong with its cells (None when nothing is)."""
        raw = source_row.values
        values: dict[str, Any] = {}
        problems: list[str] = []
        try:  # one C-level scan of the whole record (a CSV row is all strings)
            suspicious = _CONTROL.search("".join(raw.values())) is not None
        except TypeError:  # Excel and JSON cells: numbers, dates, None
            suspicious = any(type(v) is str and _CONTROL.search(v) for v in raw.values())
        for header, name, read in self.readers:
            if header not in raw:  # a JSON line without the key: the field is not given
                continue
            if suspicious and type(raw[header]) is str:
                problem = control_problem(raw[header])
                if problem is not None:
                    problems.append(f"column {header!r}: {problem}")
                    continue
            try:
                values[name] = read(raw[header])
            except CellError as exc:
                problems.append(f"column {header!r}: {exc}")
        for header, name in self.required:
            if values.get(name) is None and not any(
                p.startswith(f"column {header!r}") for p in problems
            ):
                problems.append(f"column {header!r}: a value is required")
        row = Row(line=source_row.line, values=values, raw=raw)
        return row, "; ".join(problems) if problems else None


def _process(
    run: ImportRun, entity: Entity, plan: list[tuple[str, Column]], options: ImportOptions
) -> None:
    checker = RowChecker(run, plan)
    workers = parallel.workers_for(run, entity, options)
    if workers > 1 and isinstance(entity, CheckedInWorkers):
        parallel.run(run, entity, checker, workers, options.check_batch)
    else:
        _process_serially(run, entity, checker, options)
    if not run.stop_writing:
        entity.finish()


def _process_serially(
    run: ImportRun,
    entity: Entity,
    checker: RowChecker,
    options: ImportOptions,
) -> None:
    batch_size = 1 if isinstance(entity, RecordEntity) else max(1, options.check_batch)
    batch: list[Row] = []
    for source_row in run.source.rows():
        row, problem = checker.check(source_row)
        if problem is not None:
            run.reject(row, problem)
            continue
        if not run.claim_key(row):
            continue
        try:
            entity.resolve(row)
        except FsmError as exc:
            run.reject(row, exc)
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            entity.apply(batch)
            batch = []
    if batch:
        entity.apply(batch)
