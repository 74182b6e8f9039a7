"""Positions from technicians' phones: the OsmAnd protocol (Traccar Client, OsmAnd,
GPSLogger) at ``/gps/osmand``, and at ``/`` too — Traccar Client's default address has no
path, and a phone pointed at the bare server address would otherwise lose a day of
positions without a word.

Every answer is one line of plain text, with ``X-Fsm-Outcome`` saying what became of
the fix for programs. 200 means "do not send it again": stored, a duplicate of one
stored, outside working hours (not kept, by design — a phone that got an error would
send it again forever), or ignored. 4xx: the request is wrong and will be wrong next
time too. 503: the database could not be written; send it again later.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fsm_core import clock
from fsm_core.errors import InvalidInput
from fsm_core.services.gps import Outcome
from fsm_web.osmand import Ignored, decode
from fsm_web.safety import Refused, plain, read_body
from fsm_web.writer import FixWriter, WriteFailed

BODY_LIMIT = 64 * 1024
"""Bytes a request body may have: one fix is a few hundred; Traccar Client 9's JSON
about 600."""

BODY_TIMEOUT = 10.0
"""Seconds a client has to send its body (a connection that trickles is dropped)."""

RETRY_AFTER = "5"


def _refused(status: int, reason: str, outcome: str) -> Response:
    return plain(status, reason, **{"x-fsm-outcome": outcome})


async def osmand(request: Request) -> Response:
    """One fix in the OsmAnd protocol, GET or POST."""
    writer: FixWriter = request.app.state.writer
    try:
        body = await read_body(request, limit=BODY_LIMIT, timeout=BODY_TIMEOUT)
        decoded = decode(
            query=request.url.query,
            content_type=request.headers.get("content-type"),
            body=body,
            now=clock.now(),
        )
    except Refused as exc:
        return _refused(exc.status, exc.reason, "refused")
    except InvalidInput as exc:
        return _refused(400, exc.one_line(), "invalid")
    if isinstance(decoded, Ignored):
        return plain(200, f"ignored: {decoded.reason}", **{"x-fsm-outcome": "ignored"})
    result = await writer.submit(decoded)
    device = decoded.device or ""
    if isinstance(result, WriteFailed):
        return plain(
            503,
            f"not stored, send it again later: {result.reason}",
            **{"x-fsm-outcome": "failed", "retry-after": RETRY_AFTER},
        )
    if isinstance(result, InvalidInput):
        return _refused(400, result.one_line(), "invalid")
    if result is Outcome.STORED:
        return plain(200, "stored", **{"x-fsm-outcome": result.value})
    if result is Outcome.DUPLICATE:
        return plain(
            200,
            f"duplicate: a position of device {device} at this time is stored already",
            **{"x-fsm-outcome": result.value},
        )
    if result is Outcome.OFF_HOURS:
        return plain(
            200,
            "not stored: outside the employee's working hours "
            "(positions are kept in working hours only: setting gps_working_hours_only)",
            **{"x-fsm-outcome": result.value},
        )
    if result is Outcome.UNKNOWN_DEVICE:
        return _refused(
            403,
            f"device {device} is not bound to an employee: fsm gps devices bind {device} EMPLOYEE",
            result.value,
        )
    return _refused(  # Outcome.INACTIVE
        403,
        f"device {device} belongs to an employee who is no longer active: "
        f"fsm gps devices bind {device} EMPLOYEE",
        result.value,
    )


ROUTES = [
    Route("/gps/osmand", osmand, methods=["GET", "POST"]),
    Route("/", osmand, methods=["GET", "POST"]),
]
