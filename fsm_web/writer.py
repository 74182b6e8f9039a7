"""One writer for the fixes of many requests at once.

Each request hands its fix to :meth:`FixWriter.submit` and waits. A single task takes
whatever has arrived (at most ``max_batch`` fixes), checks and stores it in one
transaction (:func:`~fsm_core.services.gps.record_fixes`, one INSERT of many rows) in a
worker thread, so that the event loop keeps taking requests meanwhile, and then answers
each request with its own fix's outcome. What arrives while a batch is being written
waits for the next one (a group commit): the busier the server, the bigger the batches,
and SQLite's one writer is taken a few dozen times a second instead of once per fix.

``window`` makes the writer wait that long after the first fix of a batch for others. It
is 0 by default, measured (bench/gps_ingest.py): 50 phones that each send their next fix
once the last is answered can send no more than 50 / window fixes a second, and the
write itself already gathers the next batch: 50 ms gave 675 fixes/s, 10 ms 1,500, none
2,000-3,000 on the same two cores.

A fix is answered only once it is committed. When the database cannot be written (busy
for longer than ``FSM_WRITE_WAIT``, a PostgreSQL server gone), every request of the batch
is told so (:class:`WriteFailed`, answered 503) and the phones send their fixes again
later: nothing is lost and nothing is answered as stored that is not.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TypeAlias

from sqlalchemy.exc import SQLAlchemyError

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.errors import DatabaseUnavailable, FsmError, InvalidInput
from fsm_core.services.gps import Fix, Outcome, check_fix, record_fixes, retention_start

log = logging.getLogger("fsm_web.writer")


@dataclass(frozen=True)
class WriteFailed:
    """The fix was not stored because the database could not be written: try again."""

    reason: str


Result: TypeAlias = Outcome | InvalidInput | WriteFailed
_Item: TypeAlias = tuple[Fix, "asyncio.Future[Result]"]


class FixWriter:
    """The single writer of ``fsm serve``: :meth:`start` it inside the event loop,
    :meth:`submit` fixes, :meth:`stop` it to store what is waiting and finish."""

    def __init__(self, database: Database, *, window: float = 0.0, max_batch: int = 2000):
        self.database = database
        self.window = window
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.fixes = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fsm-fix-writer")

    async def stop(self) -> None:
        """Write what was submitted, then end the writer."""
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    async def submit(self, fix: Fix) -> Result:
        """The outcome of storing ``fix``, once the batch it joined is committed."""
        if self._task is None or self._task.done():
            return WriteFailed("the server is stopping")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        await self._queue.put((fix, future))
        return await future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            await asyncio.sleep(self.window)  # 0: let the requests that are ready queue up
            while len(batch) < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True  # write what came before the stop, then end
                    break
                batch.append(item)
            fixes = [fix for fix, _ in batch]
            try:
                results = await asyncio.to_thread(self._write, fixes)
            except BaseException as exc:  # cancelled, or a bug: never leave a request hanging
                log.exception("the fix writer failed")
                results = [WriteFailed(f"internal error: {type(exc).__name__}")] * len(fixes)
                if not isinstance(exc, Exception):
                    self._resolve(batch, results)
                    raise
            self._resolve(batch, results)
            self.batches += 1
            self.fixes += len(fixes)

    @staticmethod
    def _resolve(batch: list[_Item], results: list[Result]) -> None:
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the client may have gone away
                future.set_result(result)

    def _write(self, fixes: list[Fix]) -> list[Result]:
        """Check and store ``fixes`` in one transaction; a batch that fails for a reason
        other than the database is written again fix by fix, so that one bad fix fails
        alone."""
        try:
            return self._write_batch(fixes)
        except (DatabaseUnavailable, SQLAlchemyError) as exc:
            return [WriteFailed(_describe(exc))] * len(fixes)
        except Exception as exc:
            if len(fixes) == 1:
                log.exception("a fix could not be stored")
                if isinstance(exc, FsmError):
                    return [InvalidInput(exc.one_line())]
                return [WriteFailed(f"internal error: {type(exc).__name__}")]
        return [result for fix in fixes for result in self._write([fix])]

    def _write_batch(self, fixes: list[Fix]) -> list[Result]:
        results: list[Result | None] = [None] * len(fixes)
        with self.database.transaction() as session:
            now = clock.now()
            oldest = retention_start(session=session, now=now)
            checked: list[Fix] = []
            where: list[int] = []
            for index, fix in enumerate(fixes):
                try:
                    checked.append(check_fix(fix, now=now, oldest=oldest))
                    where.append(index)
                except InvalidInput as exc:
                    results[index] = exc
            if checked:
                recorded = record_fixes(session=session, fixes=checked)
                for index, outcome in zip(where, recorded.outcomes, strict=True):
                    results[index] = outcome
        return [r if r is not None else WriteFailed("not written") for r in results]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FsmError):
        return exc.one_line()
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return "database error: " + (text.splitlines()[0] if text else type(exc).__name__)
