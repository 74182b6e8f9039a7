"""A stand-in for a Traccar server: a real HTTP server in a thread that answers the few
calls ``fsm gps pull`` makes as traccar/traccar's ``openapi.yaml`` documents them.

- ``POST /api/session`` (form ``email``, ``password``) → the User as JSON and a
  ``JSESSIONID`` cookie; 401 for a wrong password. ``GET /api/session?token=`` opens a
  session with a token.
- Every other call takes the session cookie, HTTP basic auth (email:password) or
  ``Authorization: Bearer TOKEN`` (``bearer=False``: a server that takes the token only to
  open a session); 401 otherwise.
- ``GET /api/devices`` → the Device list (``id``, ``name``, ``uniqueId``, ``status``,
  ``disabled``, ``lastUpdate``, ``positionId``, ``groupId``, ``attributes``...).
- ``GET /api/positions?deviceId&from&to`` → the device's Positions with
  ``from <= fixTime <= to`` (Traccar's SQL BETWEEN), in time order; 400 without from/to.

Switches a test sets to make trouble: ``fail`` (the next n position requests answer
503; from the ``fail_from``-th on), ``slow`` (the next n position requests wait ``delay`` seconds before answering),
``session_requests`` (a session expires after that many requests), ``padding`` (bytes of
attributes each position carries: a "huge" answer), ``not_traccar`` (every answer is an
HTML page).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def traccar_time(moment: datetime) -> str:
    """As Traccar writes a time: ``2026-11-26T09:00:00.000+00:00``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


@dataclass
class StandIn:
    users: dict[str, str] = field(default_factory=lambda: {"admin@example.ru": "s3cret"})
    tokens: set[str] = field(default_factory=lambda: {"TOKEN-1"})
    bearer: bool = True
    devices: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    fail: int = 0
    fail_from: int = 0  # the position request (counted from 0) the failures start at
    position_calls: int = 0
    slow: int = 0
    delay: float = 0.0
    session_requests: int | None = None
    padding: int = 0
    not_traccar: bool = False
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)  # cookie: requests left
    logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the data ---------------------------------------------------------------------

    def add_device(self, unique_id: str, name: str = "") -> int:
        device_id = len(self.devices) + 1
        self.devices.append(
            {
                "id": device_id,
                "name": name or f"Device {unique_id}",
                "uniqueId": unique_id,
                "status": "online",
                "disabled": False,
                "lastUpdate": None,
                "positionId": 0,
                "groupId": 0,
                "phone": "",
                "model": "",
                "contact": "",
                "category": None,
                "attributes": {},
            }
        )
        self.positions[device_id] = []
        return device_id

    def add_position(
        self,
        device_id: int,
        at: datetime,
        *,
        latitude: float = 59.9311,
        longitude: float = 30.3609,
        speed: float = 0.0,
        valid: bool = True,
        outdated: bool = False,
        accuracy: float = 8.0,
        battery: float | None = 80.0,
        server_time: datetime | None = None,
    ) -> None:
        with self.lock:
            items = self.positions[device_id]
            position_id = sum(len(p) for p in self.positions.values()) + 1
            attributes: dict[str, Any] = {"distance": 0.0, "motion": speed > 0}
            if battery is not None:
                attributes["batteryLevel"] = battery
            items.append(
                {
                    "id": position_id,
                    "deviceId": device_id,
                    "protocol": "osmand",
                    "serverTime": traccar_time(server_time or at),
                    "deviceTime": traccar_time(at),
                    "fixTime": traccar_time(at),
                    "outdated": outdated,
                    "valid": valid,
                    "latitude": latitude,
                    "longitude": longitude,
                    "altitude": 12.0,
                    "speed": speed,
                    "course": 90.0,
                    "address": None,
                    "accuracy": accuracy,
                    "network": None,
                    "geofenceIds": None,
                    "attributes": attributes,
                    "_at": at,
                }
            )
            items.sort(key=lambda p: p["_at"])
            device = self.devices[device_id - 1]
            last = server_time or at
            if device["lastUpdate"] is None or last > _parse(device["lastUpdate"]):
                device["lastUpdate"] = traccar_time(last)
            device["positionId"] = position_id

    def position_requests(self) -> list[dict[str, str]]:
        return [params for _, path, params in self.log if path == "/api/positions"]

    # --- the server -------------------------------------------------------------------

    def serve(self) -> Server:
        return Server(self)


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Server:
    """``with StandIn(...).serve() as server:`` — ``server.url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, state: StandIn) -> None:
        self.state = state
        handler = type("Handler", (_Handler,), {"state": state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    state: StandIn
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits 40 ms for a delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _answer(
        self,
        status: int,
        body: Any = None,
        *,
        kind: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = (
            b""
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def _user(self) -> str | None:
        """Who is asking: by session cookie, basic auth or bearer token."""
        state = self.state
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            email, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return email if state.users.get(email) == password else None
        if auth.startswith("Bearer ") and state.bearer:
            return "token" if auth[7:] in state.tokens else None
        cookie = self.headers.get("Cookie", "")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "JSESSIONID":
                with state.lock:
                    left = state.sessions.get(value)
                    if left is None or left <= 0:
                        return None
                    state.sessions[value] = left - 1
                return "session"
        return None

    def _open_session(self, who: str) -> None:
        state = self.state
        cookie = secrets.token_hex(8)
        with state.lock:
            state.sessions[cookie] = (
                state.session_requests if state.session_requests is not None else 10**9
            )
            state.logins += 1
        self._answer(
            200,
            {"id": 1, "name": who, "email": who, "administrator": True, "attributes": {}},
            headers={"Set-Cookie": f"JSESSIONID={cookie}; Path=/; HttpOnly"},
        )

    def _route(self, method: str) -> None:
        state = self.state
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = b""
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state.log.append((method, parts.path, params))
        if state.not_traccar:
            self._answer(200, b"<html><body>Welcome to nginx!</body></html>", kind="text/html")
            return
        if parts.path == "/api/session":
            if method == "POST":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                email = form.get("email", "")
                if state.users.get(email) != form.get("password"):
                    self._answer(401, b"Unauthorized", kind="text/plain")
                    return
                self._open_session(email)
                return
            token = params.get("token")
            if token is not None:
                if token not in state.tokens:
                    self._answer(401, b"Unauthorized", kind="text/plain")
                    return
                self._open_session("token")
                return
        who = self._user()
        if who is None:
            self._answer(401, b"HTTP 401 Unauthorized", kind="text/plain")
            return
        if parts.path == "/api/devices" and method == "GET":
            self._answer(200, state.devices)
            return
        if parts.path == "/api/positions" and method == "GET":
            with state.lock:
                state.position_calls += 1
                failing = state.fail > 0 and state.position_calls > state.fail_from
                state.fail -= 1 if failing else 0
                slow = state.slow > 0
                state.slow -= 1 if slow else 0
            if failing:
                self._answer(503, b"Service Unavailable", kind="text/plain")
                return
            if slow:
                time.sleep(state.delay)
            if "from" not in params or "to" not in params:
                self._answer(400, b"from and to are required", kind="text/plain")
                return
            start, end = _parse(params["from"]), _parse(params["to"])
            found = [
                {k: v for k, v in p.items() if k != "_at"}
                | (
                    {"attributes": {**p["attributes"], "pad": "x" * state.padding}}
                    if state.padding
                    else {}
                )
                for p in state.positions.get(int(params.get("deviceId", 0)), [])
                if start <= p["_at"] <= end
            ]
            self._answer(200, found)
            return
        self._answer(404, b"Not Found", kind="text/plain")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")
