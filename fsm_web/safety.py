"""What every answer of ``fsm serve`` shares: security headers, bounded request bodies,
one-line plain-text errors.

The customer's pages (next) reuse all three: their routes set a stricter or looser
``Content-Security-Policy`` of their own where they need one; the headers here are
only added where a route did not set them.
"""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
)


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP answer (a plain ASGI
    wrapper: Starlette's ``BaseHTTPMiddleware`` costs a task per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Refused(Exception):
    """A request answered with ``status`` and a one-line ``reason`` (no traceback)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def plain(status: int, text: str, **headers: str) -> PlainTextResponse:
    """A one-line plain-text answer; never cached (they are about one request)."""
    line = " ".join(text.split())
    return PlainTextResponse(
        line + "\n", status_code=status, headers={"cache-control": "no-store", **headers}
    )


async def read_body(request: Request, *, limit: int, timeout: float) -> bytes:
    """The request's body, at most ``limit`` bytes, read within ``timeout`` seconds.

    Content-Length is only a first, cheap refusal: the body is counted as it arrives (a
    chunked body has no length, and a lying one is cut off at the limit)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Refused(400, f"Content-Length {declared[:20]!r} is not a number")
        if int(declared) > limit:
            raise Refused(413, f"the body is {int(declared)} bytes; at most {limit} are taken")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, f"the body is over {limit} bytes; at most {limit} are taken")
                chunks.append(chunk)
    except TimeoutError:
        raise Refused(408, f"the body did not arrive within {timeout:g} s") from None
    except ClientDisconnect:
        raise Refused(400, "the client went away before sending the whole body") from None
    return b"".join(chunks)
