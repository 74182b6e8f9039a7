"""``fsm serve`` as a process, spoken to over HTTP: the OsmAnd protocol as Traccar Client,
OsmAnd and GPSLogger send it, bad requests, and many phones at once.

The server runs in its own process, on the real clock (the tests' frozen "now" is this
process's alone): fixes are stamped with the real time.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select

from fsm_core.models import GpsDevice, Position
from fsm_core.services import gps, settings
from tests.cli_runner import invoke
from tests.gps.conftest import FsmServer, start_fsm_server

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


def prepare(world, *, hours_only: bool = False, **devices: int) -> None:
    with world.db.transaction() as s:
        settings.set_value(
            session=s, key="gps_working_hours_only", value="yes" if hours_only else "no"
        )
        for identifier, employee_id in devices.items():
            gps.bind_device(session=s, identifier=identifier, employee=employee_id)


def positions(world) -> list[Position]:
    with world.db.reader() as s:
        return list(s.exec(select(Position).order_by(Position.fix_at)).all())


def count(world) -> int:
    with world.db.reader() as s:
        return gps.count_positions(session=s)


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso(seconds: float) -> str:
    return utc(seconds).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def traccar9_json(device: str, at: float, lat: float, lon: float) -> str:
    """The body Traccar Client 9 posts (its location template, one location)."""
    return json.dumps(
        {
            "location": {
                "timestamp": iso(at),
                "coords": {
                    "latitude": lat,
                    "longitude": lon,
                    "accuracy": 4.5,
                    "speed": 12.5,
                    "heading": -1,
                    "altitude": 35.7,
                },
                "is_moving": True,
                "odometer": 1520,
                "event": "motionchange",
                "battery": {"level": 0.79, "is_charging": False},
                "activity": {"type": "in_vehicle"},
                "extras": {},
                "_": f"&id={device}&lat={lat}&lon={lon}&timestamp={iso(at)}&",
            },
            "device_id": device,
        },
        separators=(",", ":"),
    )


def test_each_client_s_requests_are_stored_once(world, fsm_server: FsmServer) -> None:
    prepare(world, **{"48241179": world.ivanov.id, "osmand-7": world.petrov.id})
    base = fsm_server.url
    t = int(time.time()) - 600
    with httpx.Client(base_url=base, timeout=10) as http:
        # Traccar Client up to 8 (Android): POST, everything in the URL's query
        old = http.post(
            f"/gps/osmand?id=48241179&timestamp={t}&lat=59.931172&lon=30.360891"
            "&speed=10.0&bearing=90.5&altitude=12.0&accuracy=5.0&batt=87.0&charge=true"
        )
        # Traccar Client 10 (traccar-client-sdk): a form body
        sdk = http.post(
            "/gps/osmand",
            content=f"id=48241179&lat=59.9312&lon=30.3609&timestamp={t + 30}&accuracy=3.2"
            "&altitude=11.5&speed=0.0&bearing=0.0&batt=86&charge=false",
            headers=FORM,
        )
        # Traccar Client 9: JSON, to the bare server address (the app adds the slash)
        nine = http.post("/", content=traccar9_json("48241179", t + 60, 59.93, 30.36), headers=JSON)
        # OsmAnd's online tracking: GET, timestamp in milliseconds, hdop
        osmand = http.get(
            f"/gps/osmand?id=osmand-7&lat=59.94&lon=30.31&timestamp={(t + 90) * 1000}"
            "&hdop=6.0&altitude=224.0&speed=1.5"
        )
        # GPSLogger's custom URL as a form POST: deviceid, ISO 8601 time, blanks
        logger = http.post(
            "/gps/osmand",
            content=f"deviceid=osmand-7&lat=59.95&lon=30.32&timestamp={iso(t + 120)}"
            "&accuracy=8&speed=&bearing=&batt=55",
            headers=FORM,
        )
        # the same fixes again (a phone that did not hear the answer): idempotent
        again = http.post(
            "/", content=traccar9_json("48241179", t + 60, 59.93, 30.36), headers=JSON
        )
        old_again = http.get(f"/gps/osmand?id=48241179&timestamp={t}&lat=59.931172&lon=30.360891")
        # Traccar Client 10 sends its push token the same way: nothing to store
        token = http.post("/gps/osmand", content="id=48241179&notificationToken=abc", headers=FORM)
    for answer in (old, sdk, nine, osmand, logger):
        assert (answer.status_code, answer.text, answer.headers["x-fsm-outcome"]) == (
            200,
            "stored\n",
            "stored",
        )
    for answer in (again, old_again):
        assert answer.status_code == 200
        assert answer.headers["x-fsm-outcome"] == "duplicate"
        assert answer.text.startswith("duplicate: a position of device 48241179 at this time")
    assert (token.status_code, token.headers["x-fsm-outcome"]) == (200, "ignored")
    rows = positions(world)
    got = [
        (
            r.employee_id,
            r.fix_at,
            r.latitude,
            r.longitude,
            r.speed_kmh and round(r.speed_kmh, 3),
            r.heading,
            r.altitude_m,
            r.accuracy_m,
            r.battery,
            r.source,
        )
        for r in rows
    ]
    ivanov, petrov = world.ivanov.id, world.petrov.id
    assert got == [
        (ivanov, utc(t), 59.931172, 30.360891, 18.52, 90.5, 12.0, 5.0, 87.0, "osmand"),
        (ivanov, utc(t + 30), 59.9312, 30.3609, 0.0, 0.0, 11.5, 3.2, 86.0, "osmand"),
        # 12.5 m/s; heading -1 is "not known"; battery 0.79 of a full one
        (ivanov, utc(t + 60), 59.93, 30.36, 45.0, None, 35.7, 4.5, 79.0, "osmand"),
        (petrov, utc(t + 90), 59.94, 30.31, 2.778, None, 224.0, None, None, "osmand"),
        (petrov, utc(t + 120), 59.95, 30.32, None, None, None, 8.0, 55.0, "osmand"),
    ]
    with world.db.reader() as s:
        device = s.exec(select(GpsDevice).where(GpsDevice.identifier == "48241179")).one()
    assert device.last_seen_at is not None


def test_outside_working_hours_a_fix_is_answered_but_not_kept(world, fsm_server) -> None:
    prepare(world, hours_only=True, p1=world.ivanov.id)
    # the latest Sunday, 03:00 in Moscow: no one's working time (the company's hours are
    # mon-fri 09:00-18:00), within the retention period
    moscow = datetime.now(ZoneInfo("Europe/Moscow"))
    sunday = (moscow - timedelta(days=(moscow.weekday() + 1) % 7 or 7)).replace(
        hour=3, minute=0, second=0, microsecond=0
    )
    answer = httpx.get(
        f"{fsm_server.url}/gps/osmand",
        params={
            "id": "p1",
            "lat": "59.93",
            "lon": "30.36",
            "timestamp": str(int(sunday.timestamp())),
        },
    )
    assert answer.status_code == 200
    assert answer.headers["x-fsm-outcome"] == "off_hours"
    assert "gps_working_hours_only" in answer.text
    assert count(world) == 0


BAD: list[tuple[str, dict[str, object], int, str]] = [
    (
        "lat out of range",
        {"params": {"id": "p1", "lat": "91", "lon": "30"}},
        400,
        "lat 91.0 is out of range",
    ),
    (
        "lon out of range",
        {"params": {"id": "p1", "lat": "59", "lon": "-180.5"}},
        400,
        "lon -180.5 is out of range",
    ),
    (
        "lat not a number",
        {"params": {"id": "p1", "lat": "north", "lon": "30"}},
        400,
        "lat 'north' is not a number",
    ),
    (
        "lat NaN",
        {"params": {"id": "p1", "lat": "nan", "lon": "30"}},
        400,
        "lat nan is out of range",
    ),
    ("no position", {"params": {"id": "p1", "timestamp": "1"}}, 400, "no position"),
    ("no device", {"params": {"lat": "59", "lon": "30"}}, 400, "no device identifier"),
    (
        "future",
        {"params": {"id": "p1", "lat": "59", "lon": "30", "timestamp": "FUTURE"}},
        400,
        "minutes in the future",
    ),
    (
        "too old",
        {"params": {"id": "p1", "lat": "59", "lon": "30", "timestamp": "1000000000"}},
        400,
        "older than the retention period",
    ),
    (
        "bad time",
        {"params": {"id": "p1", "lat": "59", "lon": "30", "timestamp": "yesterday"}},
        400,
        "timestamp 'yesterday' is neither",
    ),
    (
        "battery 300 %",
        {"params": {"id": "p1", "lat": "59", "lon": "30", "batt": "300"}},
        400,
        "batt 300.0 is out of range",
    ),
    (
        "negative speed",
        {"params": {"id": "p1", "lat": "59", "lon": "30", "speed": "-3"}},
        400,
        "speed",
    ),
    ("empty GET", {}, 400, "an empty request"),
    ("empty POST", {"method": "POST", "content": b""}, 400, "an empty request"),
    ("garbage body", {"method": "POST", "content": b"\xff\xfe\x00garbage"}, 400, "not UTF-8"),
    (
        "bad percent",
        {"method": "POST", "content": b"id=%FF&lat=1", "headers": FORM},
        400,
        "not UTF-8",
    ),
    (
        "too many fields",
        {
            "method": "POST",
            "content": "&".join(f"k{i}=1" for i in range(200)).encode(),
            "headers": FORM,
        },
        400,
        "more than 100 parameters",
    ),
    (
        "control characters",
        {"params": {"id": "p\x01", "lat": "59", "lon": "30"}},
        400,
        "control characters",
    ),
    ("long id", {"params": {"id": "x" * 101, "lat": "59", "lon": "30"}}, 400, "at most 100"),
    (
        "JSON broken",
        {"method": "POST", "content": b'{"location": ', "headers": JSON},
        400,
        "not valid JSON",
    ),
    (
        "JSON array",
        {"method": "POST", "content": b"[1, 2]", "headers": JSON},
        400,
        "the body must be a JSON object",
    ),
    ("JSON deep", {"method": "POST", "content": b"[" * 60000, "headers": JSON}, 400, "JSON"),
    (
        "JSON no device",
        {"method": "POST", "content": b'{"location": {}}', "headers": JSON},
        400,
        "device_id",
    ),
    (
        "JSON no coords",
        {
            "method": "POST",
            "content": b'{"device_id": "p1", "location": {"timestamp": "2026-01-01T00:00:00Z"}}',
            "headers": JSON,
        },
        400,
        "location.coords",
    ),
    (
        "JSON text lat",
        {
            "method": "POST",
            "content": b'{"device_id": "p1", "location": {"timestamp": "NOW", "coords": {"latitude": "59", "longitude": 30}}}',
            "headers": JSON,
        },
        400,
        "location.coords.latitude '\"59\"' is not a number",
    ),
    (
        "JSON no time",
        {
            "method": "POST",
            "content": b'{"device_id": "p1", "location": {"coords": {"latitude": 59, "longitude": 30}}}',
            "headers": JSON,
        },
        400,
        "location.timestamp",
    ),
    (
        "huge body",
        {"method": "POST", "content": b"id=p1&lat=59&lon=30&x=" + b"9" * 70_000, "headers": FORM},
        413,
        "at most 65536",
    ),
    (
        "huge chunked body",
        {"method": "POST", "content": "CHUNKS", "headers": FORM},
        413,
        "over 65536 bytes",
    ),
    ("wrong method", {"method": "PUT", "content": b"id=p1"}, 405, "method PUT is not taken here"),
    ("no such page", {"path": "/gps/nothing"}, 404, "no such address: /gps/nothing"),
]


def _chunks():
    for _ in range(100):
        yield b"x" * 1000


def test_bad_requests_get_a_reason_nothing_is_stored_and_the_server_goes_on(
    world, fsm_server: FsmServer
) -> None:
    path = "/gps/osmand"
    prepare(world, p1=world.ivanov.id)
    now = int(time.time())
    with httpx.Client(base_url=fsm_server.url, timeout=10) as http:
        for name, spec, status, reason in BAD:
            kwargs = dict(spec)
            method = str(kwargs.pop("method", "GET"))
            url = str(kwargs.pop("path", path))
            params = kwargs.get("params")
            if isinstance(params, dict):
                params.setdefault("timestamp", str(now))
                if params["timestamp"] == "FUTURE":
                    params["timestamp"] = str(now + 3600)
                elif params["timestamp"] == "1":
                    params["timestamp"] = str(now)
            content = kwargs.get("content")
            if content == "CHUNKS":
                kwargs["content"] = _chunks()
            elif isinstance(content, bytes) and b'"NOW"' in content:
                kwargs["content"] = content.replace(b'"NOW"', f'"{iso(now)}"'.encode())
            answer = http.request(method, url, **kwargs)  # type: ignore[arg-type]
            assert answer.status_code == status, (name, answer.text)
            assert reason in answer.text, (name, answer.text)
            assert answer.text.count("\n") == 1, (name, answer.text)  # one line
            assert answer.headers["x-content-type-options"] == "nosniff", name
            assert answer.headers["referrer-policy"] == "no-referrer", name
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], name
        assert count(world) == 0
        good = http.get(
            path, params={"id": "p1", "lat": "59.93", "lon": "30.36", "timestamp": str(now)}
        )
        assert (good.status_code, good.text) == (200, "stored\n")
    assert count(world) == 1


def test_an_unknown_device_is_refused_then_listed_for_binding(world, fsm_server) -> None:
    prepare(world)
    now = int(time.time())
    fix = {"id": "stranger-5", "lat": "59.93", "lon": "30.36", "timestamp": str(now)}
    answer = httpx.get(f"{fsm_server.url}/gps/osmand", params=fix)
    assert answer.status_code == 403
    assert answer.text == (
        "device stranger-5 is not bound to an employee: fsm gps devices bind stranger-5 EMPLOYEE\n"
    )
    assert count(world) == 0
    listed = json.loads(
        invoke(world.db.url, "gps", "devices", "list", "--unknown", "--json").stdout
    )
    assert [(d["device"], d["employee"], d["refused"]) for d in listed] == [("stranger-5", None, 1)]
    # bound, the phone's next attempt (it keeps unsent fixes) is stored
    invoke(world.db.url, "gps", "devices", "bind", "stranger-5", world.ivanov.short_name)
    assert httpx.get(f"{fsm_server.url}/gps/osmand", params=fix).text == "stored\n"
    assert count(world) == 1


def test_many_phones_at_once_lose_nothing_even_while_another_program_writes(
    world, fsm_server: FsmServer
) -> None:
    senders, each = 20, 50
    devices = {f"phone-{n}": (world.ivanov.id, world.petrov.id)[n % 2] for n in range(senders)}
    prepare(world, **devices)
    start = int(time.time()) - 3000
    answers: dict[str, list[str]] = {}

    def send(n: int) -> None:
        got = answers.setdefault(f"phone-{n}", [])
        with httpx.Client(base_url=fsm_server.url, timeout=60) as http:
            for i in range(each):
                at = start + n * each + i  # distinct for every fix of both employees
                answer = http.post(
                    "/gps/osmand",
                    content=f"id=phone-{n}&lat=59.9{i:02d}&lon=30.3&timestamp={at}",
                    headers=FORM,
                )
                got.append(f"{answer.status_code} {answer.text.strip()}")

    def hold_the_devices() -> None:
        # another program's transaction on the rows every batch updates, for a while
        with world.db.transaction() as s:
            for device in s.exec(select(GpsDevice)).all():
                device.name = "busy"
                s.add(device)
            s.flush()
            time.sleep(0.5)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    hold_the_devices()
    for thread in threads:
        thread.join()
    assert {a for got in answers.values() for a in got} == {"200 stored"}
    assert sum(len(got) for got in answers.values()) == senders * each
    assert count(world) == senders * each
    stored = positions(world)
    assert len({(p.employee_id, p.fix_at) for p in stored}) == senders * each


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's write lock
def test_a_database_busy_too_long_answers_503_and_the_phone_s_next_try_is_stored(
    world, tmp_path
) -> None:
    prepare(world, p1=world.ivanov.id)
    fix = {"id": "p1", "lat": "59.93", "lon": "30.36", "timestamp": str(int(time.time()))}
    with start_fsm_server(
        world.db.url, tmp_path / "serve.log", env={"FSM_WRITE_WAIT": "0.3"}
    ) as server:
        with world.db.transaction() as s:  # holds SQLite's write lock (BEGIN IMMEDIATE)
            s.exec(select(GpsDevice)).all()
            busy = httpx.get(f"{server.url}/gps/osmand", params=fix, timeout=30)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "5"
        assert busy.text.startswith("not stored, send it again later: the database is busy")
        assert count(world) == 0
        again = httpx.get(f"{server.url}/gps/osmand", params=fix, timeout=30)
        assert (again.status_code, again.text) == (200, "stored\n")
    assert count(world) == 1
