"""The application ``fsm serve`` runs: routes, the fix writer, security headers, and
errors that are one line of text, never a traceback.

``make_app(database)`` builds it for any database; ``fsm serve`` runs it under uvicorn in
one process (SQLite has one writer at a time, and the fix writer batches within the
process; a second process would only queue behind the first for the write lock).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fsm_core.db import Database
from fsm_web.notify_task import NotifySender
from fsm_web.routes import customer, gps
from fsm_web.safety import SECURITY_HEADERS, SecurityHeaders, plain
from fsm_web.writer import FixWriter

log = logging.getLogger("fsm_web")


async def health(request: Request) -> Response:
    """Answers without touching the database: the server is up (and the benchmark's
    reference: what a request costs before any work is done)."""
    return plain(200, "ok")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = {404: "no such address", 405: f"method {request.method} is not taken here"}.get(
        exc.status_code, exc.detail
    )
    return plain(exc.status_code, f"{reason}: {request.url.path}"[:200])


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    # answered outside the middleware (by Starlette's outermost layer): headers by hand
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    return plain(500, "internal error: the server's log says more", **headers)


def make_app(
    database: Database,
    *,
    batch_window: float = 0.0,
    max_batch: int = 2000,
    secret: bytes | None = None,
    notify_interval: float = 30.0,
) -> Starlette:
    """The web application on ``database``; its fix writer and its notification sender
    (a pass every ``notify_interval`` seconds; 0: none) live as long as the app.
    ``secret`` signs the customer pages' CSRF tokens (default: the data folder's
    ``web-secret``)."""
    writer = FixWriter(database, window=batch_window, max_batch=max_batch)
    sender = NotifySender(database, interval=notify_interval)
    site = customer.Site(database, secret=secret)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await writer.start()
        await sender.start()
        try:
            yield
        finally:
            await sender.stop()
            await writer.stop()
            site.changes.close()

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET", "HEAD"]),
            *customer.ROUTES,
            *gps.ROUTES,
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _http_error, Exception: _crash},
        lifespan=lifespan,
    )
    app.state.writer = writer
    app.state.notify = sender
    app.state.database = database
    app.state.site = site
    return app
