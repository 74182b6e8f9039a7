"""The notification sender inside ``fsm serve``: a pass of the core's sender
(:func:`fsm_core.services.notify.deliver_all`) every ``interval`` seconds, in a worker
thread so that the event loop keeps answering requests meanwhile.

It runs only when the server's user may send notifications (``notify.send``); a failed
pass (the database away for a moment) is logged and the next one tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fsm_core.access import Forbidden
from fsm_core.db import Database
from fsm_core.errors import FsmError

log = logging.getLogger("fsm_web.notify")


class NotifySender:
    def __init__(self, database: Database, *, interval: float = 30.0) -> None:
        self.database = database
        self.interval = interval
        self.passes = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def allowed(self) -> bool:
        from fsm_core.access import demand

        try:
            demand(self.database.principal, "notify.send")
        except Forbidden:
            return False
        return True

    async def start(self) -> None:
        if self.interval <= 0:
            return
        if not self.allowed():
            log.warning("notifications are not sent: the server's user may not send them")
            return
        self._task = asyncio.create_task(self._loop(), name="fsm-notify")

    async def _loop(self) -> None:
        from fsm_core.services import notify

        while True:
            try:
                report: Any = await asyncio.to_thread(notify.deliver_all, self.database)
                if report.claimed:
                    log.info("notifications: %s", report.as_json())
            except FsmError as exc:
                log.warning("notifications: %s", exc.one_line("en"))
            except Exception:
                log.exception("notifications: the pass failed")
            self.passes += 1
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
                return
            except TimeoutError:
                continue

    async def stop(self, *, grace: float = 30.0) -> None:
        """Let the pass under way finish (its messages confirmed), then stop."""
        if self._task is None:
            return
        self._stop.set()
        # what it had not confirmed by then comes back when its lease ends
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout=grace)
        self._task = None
