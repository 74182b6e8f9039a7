"""Checking a large file's rows in worker processes while this one writes them.

A validated import spends most of its time in Python reading cells, resolving names and
applying the order rules; the database's part (and SQLite's is in this process) is a
minority. On a machine with more than one core, a large CSV/TSV or JSON-lines file is
therefore read by ``N`` forked workers at once: each reads the whole file (a quoted CSV
record may span lines, so the file cannot be cut by bytes; a JSON line is only counted)
but checks only its share, batch ``k`` being worker ``k % N``'s. A worker sends each
batch back as rows ready to store (times already in the database's text form) and the
import's own process takes the batches in file order, decides what only the database
can decide (which keys exist, which numbers are taken, the order numbers themselves) and
writes them in its one transaction. Rows that name an existing record, which are few,
are read again here and go the ordinary way.

The result is the same as a serial import's: the same rows written with the same
numbers, the same errors for the same lines, all or nothing. Workers hold no database
connection; they inherit what the checks consult (references, rules, settings), loaded
before the fork. Pipes are widened to 1 MB, since a batch handed over in 64 KB pieces
costs a scheduler round trip per piece.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from fsm_core.errors import FsmError, InvalidInput
from fsm_core.importing.base import CheckedInWorkers
from fsm_core.importing.readers import SourceRow

if TYPE_CHECKING:
    from fsm_core.importing.base import Entity, Row
    from fsm_core.importing.engine import ImportOptions, ImportRun, RowChecker

# a file smaller than this is checked in this process: forking and reading it twice
# would cost more than they save
PARALLEL_MIN_BYTES = 2_000_000
MAX_WORKERS = 4
WORKER_NICENESS = 10
_PIPE_SIZE = 1 << 20

# what a worker found in a row (the entry's ``kind``)
CELLS = 0  # a cell could not be read: rejected, the key not claimed
RESOLVE = 1  # a reference could not be resolved: rejected after the key check
READY = 2  # passed; the entity's ``prepare`` result is the payload


class Checked(NamedTuple):
    """One row as a worker left it: where it came from, its key, and what was found.
    (Sent as a plain tuple: unpickling a class instance per row costs the writing
    process more than writing the row.)"""

    line: int
    cells: str | tuple[Any, ...] | dict[str, Any]  # see _packed
    key: str | None
    kind: int
    payload: Any

    def raw(self, headers: list[str]) -> dict[str, Any]:
        """The row's header -> value mapping, as the source gave it."""
        return _raw(headers, self.cells)


def _one_process(wanted: int | None) -> bool:
    return wanted is not None and wanted <= 1


def pipe_spool_limit(workers: int | None) -> int | None:
    """How long standard input may be before :func:`open_source` copies it to a file the
    workers can share (its ``spool_over``); None when the import is to run in one process
    (``workers`` as in :class:`ImportOptions`)."""
    return None if _one_process(workers) else PARALLEL_MIN_BYTES


def workers_for(run: ImportRun, entity: Entity, options: ImportOptions) -> int:
    """How many worker processes should check this import's rows (1: none, do it here)."""
    source = run.source
    wanted = options.workers
    if _one_process(wanted):
        return 1
    eligible = (
        isinstance(entity, CheckedInWorkers)
        and hasattr(os, "fork")
        and source.path is not None
        and source.total_bytes is not None  # a regular file, which workers can open again
        and source.shareable
        and not options.create_missing  # creating a customer mid-file needs the database
        and options.check_batch > 1
    )
    if not eligible:
        return 1
    if wanted is not None:
        return wanted
    # a workbook is zipped XML: a quarter of the bytes hold as many rows as a CSV's
    smallest = PARALLEL_MIN_BYTES // 4 if source.format == "xlsx" else PARALLEL_MIN_BYTES
    if (source.total_bytes or 0) < smallest:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    if cores < 2:
        return 1
    # this process writes while they check: on two or three cores, two workers
    return min(MAX_WORKERS, max(2, cores - 1))


def run(
    run: ImportRun,
    entity: CheckedInWorkers,
    checker: RowChecker,
    workers: int,
    batch_size: int,
) -> None:
    """Import ``run.source`` with ``workers`` checking processes (see the module doc)."""
    entity.prepare_for_workers()
    headers = run.source.headers
    pool = _Pool(run, entity, checker, workers, batch_size)
    claim, reject = run.claim, run.reject_line
    with pool:
        for batch in pool.batches():
            ready: list[Checked] = []
            for item in batch:
                line, cells, key, kind, payload = item
                if kind != CELLS and key is not None:
                    problem = claim(line, key)
                    if problem is not None:
                        reject(line, _raw(headers, cells), problem)
                        continue
                if kind != READY:
                    reject(line, _raw(headers, cells), payload)
                    continue
                ready.append(Checked._make(item))
            if ready:
                entity.apply_checked(ready, lambda item: _recheck(run, entity, checker, item))


# A row's cells travel as one string joined by the unit separator (one object to unpickle
# instead of ten), or as a tuple when a cell holds that character itself.
_SEPARATOR = "\x1f"


def _packed(raw: dict[str, str]) -> str | tuple[str, ...]:
    cells = list(raw.values())
    joined = _SEPARATOR.join(cells)
    return joined if joined.count(_SEPARATOR) == len(cells) - 1 else tuple(cells)


def _cells(raw: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(raw.values())


def _raw(headers: list[str], cells: str | tuple[Any, ...] | dict[str, Any]) -> dict[str, Any]:
    """A worker's cells as the row's header -> value mapping."""
    if isinstance(cells, dict):
        return cells
    values = cells.split(_SEPARATOR) if isinstance(cells, str) else cells
    return dict(zip(headers, values, strict=True))


def _recheck(run: ImportRun, entity: CheckedInWorkers, checker: RowChecker, item: Checked) -> Row:
    """A worker's row read again here, as the serial path reads it (for existing keys)."""
    row, problem = checker.check(SourceRow(item.line, item.raw(run.source.headers)))
    if problem is not None:  # the same reading as the worker's: it passed there
        raise RuntimeError(f"line {item.line}: read differently here: {problem}")
    row.key = item.key
    entity.resolve(row)
    return row


# --- the workers --------------------------------------------------------------------


class _Pool:
    """The forked workers and their pipes; leaving it stops and reaps them all."""

    def __init__(
        self,
        run: ImportRun,
        entity: CheckedInWorkers,
        checker: RowChecker,
        workers: int,
        size: int,
    ) -> None:
        self.run = run
        self.entity = entity
        self.checker = checker
        self.workers = workers
        self.size = size
        self.pids: list[int] = []
        self.pipes: list[BinaryIO] = []

    def __enter__(self) -> _Pool:
        gc.collect()
        gc.freeze()  # the inherited objects stay shared: the collector never writes to them
        try:
            for part in range(self.workers):
                self._start(part)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        finally:
            gc.unfreeze()
        return self

    def _start(self, part: int) -> None:
        read_end, write_end = os.pipe()
        with contextlib.suppress(AttributeError, OSError):  # Linux only; a speed-up
            import fcntl

            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(read_end)
            for pipe in self.pipes:
                os.close(pipe.fileno())
            _worker_main(self, part, write_end)
        os.close(write_end)
        self.pids.append(pid)
        self.pipes.append(os.fdopen(read_end, "rb", buffering=_PIPE_SIZE))

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        """The checked batches in file order; raises what a worker ran into."""
        source = self.run.source
        return merge(self._receive, self.workers, source.progress, source.total_bytes)

    def _receive(self, part: int) -> tuple[Any, ...]:
        try:
            return pickle.load(self.pipes[part])
        except EOFError:
            _, status = os.waitpid(self.pids[part], 0)
            self.pids[part] = 0
            raise FsmError(
                f"an import worker stopped unexpectedly (status {status}); nothing was written",
                hint="run the import again, or with --workers 1",
            ) from None

    def __exit__(self, *exc_info: object) -> None:
        for pipe in self.pipes:
            pipe.close()  # a worker still writing gets EPIPE and exits
        for pid in self.pids:
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        self.pids = []
        self.pipes = []


def _worker_main(pool: _Pool, part: int, fd: int) -> None:
    """A worker's life: check its share of the rows, send them, exit. Never returns."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the import
        # checking is background work: a dispatcher's action, waiting for the CPU on a
        # busy machine, goes first (and with it the write lock it may hold)
        os.nice(WORKER_NICENESS)
        with os.fdopen(fd, "wb", buffering=_PIPE_SIZE) as out:
            try:
                _check_share(pool, part, out)
            except BrokenPipeError:
                status = 1
            except BaseException as exc:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                place = f"{Path(where.filename).name}:{where.lineno} in {where.name}"
                pickle.dump(("crash", f"{type(exc).__name__}: {exc}", place), out)
                status = 1
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _check_share(pool: _Pool, part: int, out: BinaryIO) -> None:
    run, entity, checker = pool.run, pool.entity, pool.checker
    source = run.source
    reached = 0

    def note(position: int) -> None:
        nonlocal reached
        reached = position

    mine = source.for_worker(note if source.progress is not None else None)
    key = run.report.key
    describe = run.describe
    prepare = entity.prepare
    resolve = entity.resolve

    # a CSV row's cells are strings under the file's headers; a JSON object is sent whole,
    # a workbook's row as its cells (of Excel's types)
    pack: Callable[[dict[str, Any]], Any] = (
        dict if source.format == "nl" else _cells if source.format == "xlsx" else _packed
    )

    def check(source_row: SourceRow) -> tuple[Any, ...]:
        row, problem = checker.check(source_row)
        cells = pack(source_row.values)
        if problem is not None:
            return (row.line, cells, None, CELLS, problem)
        value = row.values.get(key) if key is not None else None
        row.key = None if value is None else str(value)
        try:
            resolve(row)
        except FsmError as exc:
            return (row.line, cells, row.key, RESOLVE, describe(exc))
        return (row.line, cells, row.key, READY, prepare(row))

    with mine:
        shares = mine.shared_rows(part, pool.workers, pool.size)
        for message in frames(shares, check, lambda: reached):
            pickle.dump(message, out, protocol=5)


# --- the conversation between the workers and the writing process ------------------------


def frames(
    shares: Iterator[tuple[int, SourceRow]],
    check: Callable[[SourceRow], Any],
    reached: Callable[[], int],
) -> Iterator[tuple[Any, ...]]:
    """A worker's messages for its share of the rows: ``("batch", number, items, bytes
    read)`` for each batch, then ``("end", bytes read)`` -- or, if the file breaks off
    (bad bytes, a broken quote, too many cells), ``("fail", message, hint, number, items,
    batch)``: the rows of the batch in hand travel with the failure, and ``batch`` says in
    which batch the file broke off (another worker's, maybe)."""
    items: list[Any] = []
    current = -1
    try:
        for number, source_row in shares:
            if number != current:
                if items:
                    yield ("batch", current, items, reached())
                items, current = [], number
            items.append(check(source_row))
    except FsmError as exc:
        yield ("fail", exc.message, exc.hint, current, items, getattr(exc, "batch", None))
        return
    if items:
        yield ("batch", current, items, reached())
    yield ("end", reached())


def merge(
    receive: Callable[[int], tuple[Any, ...]],
    workers: int,
    progress: Callable[[int], None] | None = None,
    total: int | None = None,
) -> Iterator[list[Any]]:
    """The workers' batches in file order (batch ``k`` is worker ``k % workers``'s), up to
    where the file breaks off, if it does: then the rows before that point are given and
    the failure raised, as a one-process import would."""
    number = position = 0
    broken: dict[int, tuple[str, str | None]] = {}
    while True:
        part = number % workers
        if part in broken:  # its share goes on past where the file broke off
            text, hint = broken[part]
            raise InvalidInput(text, hint=hint)
        message = receive(part)
        kind = message[0]
        if kind == "batch":
            _, got, items, reached = message
            if got != number:
                raise RuntimeError(f"import worker sent batch {got}, expected {number}")
            if progress is not None and reached > position:
                position = reached
                progress(position)
            yield items
            number += 1
        elif kind == "end":
            if progress is not None and total:
                progress(total)
            return
        elif kind == "fail":
            _, text, hint, got, items, failed = message
            if got == number and items:
                yield items  # the rows before the point where the file broke off
                number += 1
            if failed is None or failed < number:
                raise InvalidInput(text, hint=hint)
            # it broke off in a later batch, another worker's: the rows up to there first
            broken[part] = (text, hint)
        else:
            raise FsmError(
                f"an import worker failed: {message[1]} (at {message[2]}); nothing was written",
                hint="run the import again with --workers 1 to check it in one process",
            )
