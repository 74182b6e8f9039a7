"""Pulling positions from a company's own Traccar server (``fsm gps pull``).

A company that already runs Traccar keeps it: we read its REST API (the shapes are
traccar/traccar's ``openapi.yaml``): ``GET /api/devices`` lists the devices, each matched
to ours by ``uniqueId`` (= our device identifier), and ``GET /api/positions?deviceId&from&to``
gives one device's fixes over a time window (both ends included, ISO 8601 UTC).

- **Incremental.** ``gps_device.pulled_until`` is the newest fix taken from Traccar for a
  device; the next pull asks from there (a first pull from the retention start or
  ``since``). Each window is written in its own transaction together with the new
  ``pulled_until``, so an interrupted pull resumes without loss and without duplicates.
  It is the newest *fix*, not the moment of the pull: a phone that was offline uploads its
  buffered fixes later, with their own older times, and they are still after it.
- **Paged by time.** Windows of a day; an answer over ``max_bytes`` is abandoned while it
  is read and the window halved (down to a minute), then grown back.
- **Patient, not forever.** Time-outs, a dropped connection and 5xx answers are retried
  (4 tries, 0.5 / 1 / 2 s apart); a refused connection, an unknown host, a wrong password
  and an answer that is not Traccar's fail at once, each in one line.
- **Never stored against nobody.** A Traccar device whose uniqueId no employee's device
  has is recorded as an unknown device (``fsm gps devices list --unknown``), and its
  positions are not fetched at all: Traccar keeps them, so once an admin binds it the next
  pull takes them from the retention start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import update
from sqlmodel import col, select

from fsm_core import clock
from fsm_core.errors import FsmError, InvalidInput
from fsm_core.models import GpsDevice
from fsm_core.services.gps.devices import check_identifier, note_unknown
from fsm_core.services.gps.fixes import KNOT_KMH, Fix, check_fix
from fsm_core.services.gps.store import Outcome, record_fixes, retention_start

if TYPE_CHECKING:
    from fsm_core.db import Database

WINDOW = timedelta(days=1)
MIN_WINDOW = timedelta(minutes=1)
MAX_BYTES = 32 * 1024 * 1024  # ~80,000 positions: a day of 1-second fixes
TRIES = 4
BACKOFF = 0.5  # seconds before the 2nd try; doubled before each next one
TIMEOUT = 30.0


class TraccarError(FsmError):
    """The Traccar server cannot be reached, refuses us, or does not answer as Traccar."""


class _TooLarge(Exception):
    """An answer grew over the byte limit while it was read."""


def check_url(value: str) -> str:
    """A Traccar server's address as the web interface has it (``http://host:8082``);
    a trailing ``/api`` or ``/`` is taken off."""
    url = value.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(
            f"traccar_url: {value.strip()!r} is not a web address",
            field="traccar_url",
            hint="e.g. http://traccar.example.ru:8082",
        )
    return url


@dataclass(frozen=True, repr=False)
class Credentials:
    """How to log in: a token (Traccar 5+: *Settings → Preferences → Token*), or a user's
    email and password — opening a session (the default) or, with ``basic``, sent with
    every request (HTTP basic auth). Never stored: they come from options or the
    environment each time."""

    token: str | None = None
    user: str | None = None
    password: str | None = None
    basic: bool = False

    def __post_init__(self) -> None:
        if self.token:
            return
        if not self.user or self.password is None:
            raise InvalidInput(
                "Traccar needs a token, or a user and a password",
                hint="--token or FSM_TRACCAR_TOKEN; or --user with --password-stdin or "
                "FSM_TRACCAR_PASSWORD",
            )

    def __repr__(self) -> str:  # never a password in a log or a traceback
        return f"Credentials(user={self.user!r}, token={'***' if self.token else None})"


@dataclass(frozen=True)
class TraccarDevice:
    id: int
    unique_id: str
    name: str
    last_update: datetime | None


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.strip().split("\n", 1)[0].split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class TraccarClient:
    """The few calls of Traccar's REST API a pull needs, with retries and one-line errors.

    ``sleep`` is how the client waits between tries (tests pass one that only records);
    ``transport`` lets a test route requests elsewhere."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        timeout: float = TIMEOUT,
        tries: int = TRIES,
        backoff: float = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int = MAX_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = check_url(url)
        self.credentials = credentials
        self.tries = max(1, tries)
        self.backoff = backoff
        self.sleep = sleep
        self.max_bytes = max_bytes
        self.timeout = timeout
        headers = {"Accept": "application/json"}
        auth: httpx.Auth | None = None
        if credentials.token:
            headers["Authorization"] = f"Bearer {credentials.token}"
        elif credentials.basic:
            auth = httpx.BasicAuth(credentials.user or "", credentials.password or "")
        self._http = httpx.Client(
            base_url=self.url + "/api",
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )
        # a user and a password open a session (a cookie); a token is sent with every
        # request, and opens a session only where the server takes no bearer token
        self._session_mode = not credentials.token and not credentials.basic
        self._logged_in = False
        self.requests = 0  # how many HTTP requests were sent (the report shows it)

    def __enter__(self) -> TraccarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- transport ----------------------------------------------------------------------

    def _where(self, path: str) -> str:
        return f"Traccar at {self.url}: {path}"

    def _send(
        self, method: str, path: str, params: dict[str, Any] | None, data: dict[str, str] | None
    ) -> tuple[int, str, bytes]:
        """One request, the body read up to ``max_bytes``: (status, content type, body)."""
        self.requests += 1
        with self._http.stream(method, path, params=params, data=data) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise _TooLarge
            return response.status_code, response.headers.get("content-type", ""), bytes(body)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        what: str | None = None,
    ) -> tuple[int, str, bytes]:
        """A request, retried on time-outs, dropped connections and 5xx answers."""
        what = what or f"{method} /api{path}"
        reason = ""
        for attempt in range(self.tries):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                status, kind, body = self._send(method, path, params, data)
            except httpx.TimeoutException:
                reason = f"no answer within {self.timeout:g} s"
                continue
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                reason = f"the connection broke ({_first_line(str(exc)) or type(exc).__name__})"
                continue
            except httpx.ConnectError as exc:
                raise TraccarError(
                    f"cannot connect to Traccar at {self.url}: {_connect_reason(exc)}",
                    hint="check the address and port (the web interface's, e.g. :8082)",
                    ru=f"нет связи с Traccar по адресу {self.url}: {_connect_reason(exc)}",
                    hint_ru="проверьте адрес и порт (как у веб-интерфейса, например :8082)",
                ) from None
            except httpx.TransportError as exc:
                raise TraccarError(
                    f"{self._where(what)}: {_first_line(str(exc)) or type(exc).__name__}"
                ) from None
            if status >= 500:
                reason = f"answered {status}"
                continue
            return status, kind, body
        raise TraccarError(
            f"{self._where(what)}: {reason}, {self.tries} tries",
            hint="the server is down or overloaded; try again later, the pull resumes "
            "where it stopped",
            ru=f"{self._where(what)}: {reason}, попыток: {self.tries}",
            hint_ru="сервер не работает или перегружен; повторите позже, загрузка продолжится "
            "с того места, где остановилась",
        )

    def _json(
        self, path: str, *, params: dict[str, Any] | None = None, what: str | None = None
    ) -> Any:
        """GET a JSON answer, logging in (again, once) where the server asks for it."""
        what = what or f"GET /api{path}"
        if self._session_mode and not self._logged_in:
            self.login()
        status, kind, body = self._request("GET", path, params=params, what=what)
        if status == 401 and (self._session_mode or self.credentials.token):
            # a session expired (or a server that takes a token only to open a session)
            self.login(again=self._logged_in)
            status, kind, body = self._request("GET", path, params=params, what=what)
            if status == 401:
                raise TraccarError(
                    f"{self._where(what)}: refused (401) right after logging in again",
                    hint="the session keeps expiring; check the user's rights in Traccar",
                )
        if status == 401:
            raise TraccarError(
                f"{self._where(what)}: wrong user or password (401)",
                hint="check --user and the password",
                ru=f"{self._where(what)}: неверный пользователь или пароль (401)",
                hint_ru="проверьте --user и пароль",
            )
        if status in (403, 400) and body:
            raise TraccarError(
                f"{self._where(what)}: refused ({status}): "
                f"{_first_line(body.decode('utf-8', 'replace'))}"
            )
        if status != 200 or "json" not in kind:
            raise TraccarError(
                f"{self.url} does not answer as a Traccar server ({what}: {status}"
                f"{', ' + kind.split(';')[0] if kind else ''})",
                hint="give the address of Traccar's web interface, e.g. http://host:8082",
                ru=f"по адресу {self.url} отвечает не сервер Traccar ({what}: {status})",
                hint_ru="укажите адрес веб-интерфейса Traccar, например http://host:8082",
            )
        try:
            return json.loads(body)
        except ValueError:
            raise TraccarError(
                f"{self.url} does not answer as a Traccar server ({what}: not JSON)"
            ) from None

    def login(self, *, again: bool = False) -> None:
        """Open a session: ``POST /api/session`` with the email and password, or
        ``GET /api/session?token=`` with a token."""
        if self.credentials.token:
            status, kind, _ = self._request(
                "GET", "/session", params={"token": self.credentials.token}, what="GET /api/session"
            )
        else:
            status, kind, _ = self._request(
                "POST",
                "/session",
                data={
                    "email": self.credentials.user or "",
                    "password": self.credentials.password or "",
                },
                what="POST /api/session",
            )
        if status in (401, 403) or (self.credentials.token and status == 404):
            who = "the token" if self.credentials.token else f"user {self.credentials.user!r}"
            raise TraccarError(
                f"Traccar at {self.url} refused {who}: "
                + (
                    "the token is wrong or expired"
                    if self.credentials.token
                    else "wrong email or password"
                )
                + (" (logging in again after the session expired)" if again else ""),
                hint="check the token in Traccar: Settings → Preferences → Token"
                if self.credentials.token
                else "check --user and the password",
                ru=f"Traccar по адресу {self.url} не принял "
                + (
                    "токен: токен неверен или истёк"
                    if self.credentials.token
                    else f"пользователя {self.credentials.user!r}: неверный email или пароль"
                ),
                hint_ru="проверьте токен в Traccar: Настройки → Параметры → Токен"
                if self.credentials.token
                else "проверьте --user и пароль",
            )
        if status != 200 or "json" not in kind:
            raise TraccarError(
                f"{self.url} does not answer as a Traccar server (POST /api/session: {status})",
                hint="give the address of Traccar's web interface, e.g. http://host:8082",
            )
        self._logged_in = True
        if self.credentials.token:  # the session carries us now
            self._http.headers.pop("Authorization", None)
            self._session_mode = True

    # --- the API ------------------------------------------------------------------------

    def devices(self) -> list[TraccarDevice]:
        answer = self._json("/devices")
        if not isinstance(answer, list) or not all(
            isinstance(d, dict) and "uniqueId" in d and "id" in d for d in answer
        ):
            raise TraccarError(
                f"{self.url} does not answer as a Traccar server (GET /api/devices is not a "
                "list of devices)"
            )
        return [
            TraccarDevice(
                id=int(d["id"]),
                unique_id=str(d["uniqueId"]),
                name=str(d.get("name") or ""),
                last_update=_parse_time(d.get("lastUpdate")),
            )
            for d in answer
        ]

    def positions(self, device_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The device's positions with ``start <= fixTime <= end``; :class:`_TooLarge`
        when the answer passes ``max_bytes``."""
        answer = self._json(
            "/positions",
            params={"deviceId": device_id, "from": _iso(start), "to": _iso(end)},
            what=f"GET /api/positions (device {device_id})",
        )
        if not isinstance(answer, list):
            raise TraccarError(
                f"{self.url} does not answer as a Traccar server (GET /api/positions is not a list)"
            )
        return [p for p in answer if isinstance(p, dict)]


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if (
        "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or ("name resolution" in lowered)
        or "getaddrinfo" in lowered
        or "no address associated" in lowered
    ):
        return "unknown host"
    if "certificate" in lowered or "ssl" in lowered:
        return f"TLS failed ({_first_line(text)})"
    return _first_line(text) or "cannot connect"


# --- the pull ---------------------------------------------------------------------------


@dataclass
class DevicePull:
    """What one Traccar device gave."""

    unique_id: str
    name: str
    employee_id: int | None = None
    unknown: bool = False  # bound to no employee here: recorded, nothing fetched
    fetched: int = 0
    stored: int = 0
    duplicate: int = 0
    off_hours: int = 0
    inactive: int = 0
    invalid: int = 0  # Traccar says the fix is not valid (no satellite fix)
    outdated: int = 0  # Traccar repeats the last known position
    refused: int = 0  # failed our checks (out of range, older than the retention...)
    first_refusal: str | None = None
    windows: int = 0
    pulled_until: datetime | None = None
    note: str | None = None


@dataclass
class PullReport:
    url: str
    devices: list[DevicePull] = field(default_factory=list)
    requests: int = 0

    def total(self, name: str) -> int:
        return sum(int(getattr(d, name)) for d in self.devices)


def _to_fix(raw: dict[str, Any], unique_id: str) -> Fix:
    """A Traccar position as our fix (speed in knots → km/h; an accuracy of 0 is Traccar's
    "unknown"). Raises InvalidInput for a position that lacks what a fix must have."""
    at = _parse_time(raw.get("fixTime"))
    if at is None:
        raise InvalidInput(f"fixTime {raw.get('fixTime')!r} is not a time", field="timestamp")

    def number(name: str, value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{name} {value!r} is not a number", field=name)
        return float(value)

    lat = number("lat", raw.get("latitude"))
    lon = number("lon", raw.get("longitude"))
    if lat is None or lon is None:
        raise InvalidInput("a position without latitude or longitude", field="lat")
    speed = number("speed", raw.get("speed"))
    accuracy = number("accuracy", raw.get("accuracy"))
    attributes = raw.get("attributes") if isinstance(raw.get("attributes"), dict) else {}
    assert isinstance(attributes, dict)
    battery = attributes.get("batteryLevel")
    return Fix(
        at=at,
        latitude=lat,
        longitude=lon,
        device=unique_id,
        accuracy_m=accuracy or None,
        speed_kmh=None if speed is None else speed * KNOT_KMH,
        heading=number("bearing", raw.get("course")),
        altitude_m=number("altitude", raw.get("altitude")),
        battery=number("batt", battery) if battery is not None else None,
        source="traccar",
    )


def _windows(
    start: datetime, end: datetime, size: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    cursor = start
    while cursor < end:
        yield cursor, min(cursor + size, end)
        cursor = min(cursor + size, end)


def pull(
    *,
    database: Database,
    client: TraccarClient,
    since: datetime | None = None,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
    window: timedelta = WINDOW,
    progress: Callable[[DevicePull], None] | None = None,
) -> PullReport:
    """Take every bound device's new positions from the Traccar server behind ``client``.

    ``since``: from this moment instead of where the last pull stopped (a re-pull; what is
    already stored counts as duplicate). ``only``: these uniqueIds. ``progress`` is told
    after each window. On a failure the windows already written stay written (the next
    pull continues after them) and :class:`TraccarError` says what failed."""
    now = now or clock.now()
    wanted = {check_identifier(u) for u in only} if only is not None else None
    report = PullReport(url=client.url)
    remote = client.devices()
    with database.reader() as session:
        oldest = retention_start(session=session, now=now)
        ours = {
            d.identifier: (d.employee_id, d.pulled_until)
            for d in session.exec(select(GpsDevice)).all()
        }
    unknown: dict[str, int] = {}
    for device in remote:
        if wanted is not None and device.unique_id not in wanted:
            continue
        entry = DevicePull(unique_id=device.unique_id, name=device.name)
        report.devices.append(entry)
        try:
            ident = check_identifier(device.unique_id)
        except InvalidInput as exc:
            entry.note = exc.message
            continue
        employee_id, pulled_until = ours.get(ident, (None, None))
        entry.employee_id = employee_id
        entry.pulled_until = pulled_until
        if employee_id is None:
            entry.unknown = True
            unknown[ident] = 0
            continue
        _pull_device(
            database=database,
            client=client,
            device=device,
            entry=entry,
            start=max(since or pulled_until or oldest, oldest),
            floor=None if since else pulled_until,
            now=now,
            oldest=oldest,
            window=window,
            progress=progress,
        )
    if unknown:
        with database.transaction() as session:
            note_unknown(session=session, identifiers=unknown)
    report.requests = client.requests
    return report


def _pull_device(
    *,
    database: Database,
    client: TraccarClient,
    device: TraccarDevice,
    entry: DevicePull,
    start: datetime,
    floor: datetime | None,
    now: datetime,
    oldest: datetime,
    window: timedelta,
    progress: Callable[[DevicePull], None] | None,
) -> None:
    if device.last_update is None or (floor is not None and device.last_update <= floor):
        entry.note = "nothing new" if device.last_update else "never reported"
        return
    size = window
    cursor = start
    while cursor < now:
        end = min(cursor + size, now)
        try:
            raw = client.positions(device.id, cursor, end)
        except _TooLarge:
            if size <= MIN_WINDOW:
                raise TraccarError(
                    f"Traccar at {client.url}: device {device.unique_id}'s positions over "
                    f"{int(MIN_WINDOW.total_seconds())} s from {_iso(cursor)} pass "
                    f"{client.max_bytes} bytes"
                ) from None
            size = max(size / 2, MIN_WINDOW)
            continue
        entry.windows += 1
        # both ends are included: a fix at a window's edge comes twice, the last pull's
        # newest fix once more
        fresh = [p for p in raw if _newer(p, floor)]
        _write_window(database=database, entry=entry, raw=fresh, now=now, oldest=oldest)
        floor = end
        cursor = end
        size = min(size * 2, window)
        if progress:
            progress(entry)


def _newer(raw: dict[str, Any], floor: datetime | None) -> bool:
    if floor is None:
        return True
    at = _parse_time(raw.get("fixTime"))
    return at is None or at > floor


def _write_window(
    *,
    database: Database,
    entry: DevicePull,
    raw: list[dict[str, Any]],
    now: datetime,
    oldest: datetime,
) -> None:
    """One window's positions in one transaction, with the device's new ``pulled_until``."""
    entry.fetched += len(raw)
    fixes: list[Fix] = []
    newest = entry.pulled_until
    for position in raw:
        at = _parse_time(position.get("fixTime"))
        if at is not None and at <= now and (newest is None or at > newest):
            newest = at
        if position.get("valid") is False:
            entry.invalid += 1
        elif position.get("outdated") is True:
            entry.outdated += 1
        else:
            try:
                fix = check_fix(_to_fix(position, entry.unique_id), now=now, oldest=oldest)
            except InvalidInput as exc:
                entry.refused += 1
                if entry.first_refusal is None:
                    entry.first_refusal = f"{position.get('fixTime')}: {exc.message}"
                continue
            fixes.append(fix)
    if not fixes and newest == entry.pulled_until:
        return
    with database.transaction() as session:
        if fixes:
            outcomes = record_fixes(session=session, fixes=fixes).outcomes
            entry.stored += outcomes.count(Outcome.STORED)
            entry.duplicate += outcomes.count(Outcome.DUPLICATE)
            entry.off_hours += outcomes.count(Outcome.OFF_HOURS)
            entry.inactive += outcomes.count(Outcome.INACTIVE)
        if newest != entry.pulled_until:
            session.execute(
                update(GpsDevice)
                .where(col(GpsDevice.identifier) == entry.unique_id)
                .values(pulled_until=newest)
            )
    entry.pulled_until = newest
