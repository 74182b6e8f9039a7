"""Stand-ins for what notifications go to, started by the tests and the benchmark.

- :class:`Gateway`: a real HTTP server in a thread standing in for an SMS or messenger
  gateway behind Apprise's ``json://`` (``jsons://`` given a certificate). Like a real
  one it keeps a client's connection alive between requests (HTTP/1.1). It keeps every
  payload it accepted (with the ``key`` field and ``X-Idempotency-Key`` header the sender
  adds, and the request's method and headers) and counts the connections; it fails on purpose:
  ``fail_share`` of the calls answer 500, ``hang_share`` of them hang for ``hang`` seconds
  (longer than the client waits: a time-out) and then answer 504, or ``down`` fails every
  call. Which call fails is drawn from a seeded random generator, so a run repeats.
- :class:`MailServer`: aiosmtpd's SMTP server on a free port, keeping what arrived.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    """the listen backlog, read once when the socket starts listening (in the constructor):
    set after it, it was the default 5, and sixteen senders connecting at once overflowed it —
    a connection refused now and then under load, a failure no real gateway would cause"""


@dataclass
class Accepted:
    path: str
    payload: dict[str, Any]
    header_key: str | None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    """by lower-case name"""

    @property
    def key(self) -> str:
        return str(self.payload.get("key"))


@dataclass
class Gateway:
    fail_share: float = 0.0
    hang_share: float = 0.0
    hang: float = 1.5
    delay: float = 0.0
    """seconds every accepted call takes"""
    down: bool = False
    give_up_after: int = 3
    """a message that failed this often goes through (a transient failure ends), so that a
    run's outcome does not hang on the draws; 0: no limit"""
    seed: int = 19
    tls: tuple[str, str] | None = None
    """a certificate and its key: the gateway speaks HTTPS (``jsons://``)"""
    accepted: list[Accepted] = field(default_factory=list)
    connections: int = 0
    """TCP connections accepted: a client that keeps its connection alive opens few"""
    calls: int = 0
    failures: int = 0
    hangs: int = 0
    plain: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)
        self._failed: dict[str, int] = {}
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # the answer in one write (headers apart from the body would
            # wait out the client's delayed ACK: 40 ms a call that no real gateway costs)

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with gateway._lock:
                    gateway.connections += 1

            def _answer(self, status: int, body: bytes = b"{}") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # the reference: a plain request, no work
                with gateway._lock:
                    gateway.plain += 1
                self._answer(200, b"ok")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                payload = json.loads(body or b"{}")
                key = str(payload.get("key"))
                with gateway._lock:
                    gateway.calls += 1
                    draw = gateway._random.random()
                    tries = gateway._failed.get(key, 0)
                    if (
                        not gateway.down
                        and gateway.give_up_after
                        and tries >= gateway.give_up_after
                    ):
                        draw = 1.0
                    if draw < gateway.fail_share + gateway.hang_share or gateway.down:
                        gateway._failed[key] = tries + 1
                    if gateway.down or draw < gateway.fail_share:
                        gateway.failures += 1
                        verdict = "fail"
                    elif draw < gateway.fail_share + gateway.hang_share:
                        gateway.hangs += 1
                        verdict = "hang"
                    else:
                        verdict = "ok"
                        gateway.accepted.append(
                            Accepted(
                                self.path,
                                payload,
                                self.headers.get("X-Idempotency-Key"),
                                self.command,
                                {k.lower(): v for k, v in self.headers.items()},
                            )
                        )
                if verdict == "fail":
                    self._answer(500, b'{"error": "on purpose"}')
                elif verdict == "hang":
                    time.sleep(gateway.hang)
                    with contextlib.suppress(OSError):  # the client gave up long ago
                        self._answer(504)
                else:
                    if gateway.delay:
                        time.sleep(gateway.delay)
                    with contextlib.suppress(OSError):  # a sender killed meanwhile
                        self._answer(200)

            do_PUT = do_POST  # json://…?method=PUT

        self._server = _Server(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/sms/{phone}", **params: str) -> str:
        """The Apprise URL of this gateway (``rto``: seconds the client waits for an answer)."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        scheme = "jsons" if self.tls else "json"
        return f"{scheme}://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")

    def keys(self) -> list[str]:
        with self._lock:
            return [a.key for a in self.accepted]

    def __enter__(self) -> Gateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


class MailServer:
    """aiosmtpd on a free local port; ``messages`` are what arrived, parsed."""

    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        """``login``: the server asks for this user and password (AUTH PLAIN/LOGIN)."""
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[Message] = []
        self.logins: list[str] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                server.messages.append(
                    message_from_bytes(envelope.original_content, policy=default_policy)
                )
                return "250 OK"

        with socket.socket() as probe:  # a free port (the controller checks it by connecting)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

        def authenticate(
            server_: Any, session: Any, envelope: Any, mechanism: str, auth: Any
        ) -> Any:
            user, password = auth.login.decode(), auth.password.decode()
            ok = login is not None and (user, password) == login
            if ok:
                self.logins.append(user)
            return AuthResult(success=ok, handled=False)

        extra: dict[str, Any] = {}
        if login is not None:
            extra = {"authenticator": authenticate, "auth_required": True}
            extra["auth_require_tls"] = False  # a local test server has no certificate
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **extra)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()
