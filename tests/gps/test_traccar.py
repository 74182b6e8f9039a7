"""``fsm gps pull``: a Traccar server's positions, against a stand-in that answers as
traccar/traccar's openapi.yaml documents (tests/gps/traccar_standin.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from fsm_core.errors import InvalidInput
from fsm_core.services import gps
from fsm_core.services.gps import traccar
from tests.cli_runner import invoke
from tests.conftest import NOW
from tests.gps.traccar_standin import Server, StandIn

# Wednesday 25.11.2026, 10:00 in Moscow: inside the company's hours
WED = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


class Sleeps(list[float]):
    """Records the pauses between tries instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def standin() -> StandIn:
    return StandIn()


@pytest.fixture
def server(standin: StandIn) -> Iterator[Server]:
    with standin.serve() as running:
        yield running


def bind(world, identifier: str, who: int | None = None) -> None:
    with world.db.transaction() as s:
        gps.bind_device(session=s, identifier=identifier, employee=who or world.ivanov.id)


def client(
    server: Server, sleeps: Sleeps | None = None, **options: object
) -> traccar.TraccarClient:
    credentials = options.pop("credentials", None) or traccar.Credentials(
        user="admin@example.ru", password="s3cret"
    )
    return traccar.TraccarClient(
        server.url,
        credentials,  # type: ignore[arg-type]
        sleep=sleeps if sleeps is not None else Sleeps(),
        **options,  # type: ignore[arg-type]
    )


def run(world, server: Server, **options: object) -> traccar.PullReport:
    pull_options = {k: options.pop(k) for k in ("since", "only", "window") if k in options}
    with client(server, **options) as c:
        return traccar.pull(database=world.db, client=c, **pull_options)  # type: ignore[arg-type]


def stored_times(world) -> list[datetime]:
    with world.db.reader() as s:
        found = gps.read_fixes(session=s, start=NOW - timedelta(days=400), end=NOW + timedelta(1))
    return [p.at for points in found.values() for p in points]


def pulled_until(world, identifier: str) -> datetime | None:
    with world.db.reader() as s:
        from sqlmodel import select

        from fsm_core.models import GpsDevice

        device = s.exec(select(GpsDevice).where(GpsDevice.identifier == identifier)).one()
        return device.pulled_until


def test_a_second_pull_fetches_only_the_new_fixes(world, standin, server) -> None:
    bind(world, "860000000000001")
    tid = standin.add_device("860000000000001", "Иванов, Redmi")
    for minutes in (0, 5, 10):
        standin.add_position(tid, WED + timedelta(minutes=minutes), speed=10.0)
    first = run(world, server)
    (device,) = first.devices
    assert (device.fetched, device.stored, device.duplicate) == (3, 3, 0)
    assert device.pulled_until == WED + timedelta(minutes=10)
    assert pulled_until(world, "860000000000001") == WED + timedelta(minutes=10)
    with world.db.reader() as s:
        (point,) = gps.read_fixes(
            session=s, start=WED + timedelta(minutes=5), end=WED + timedelta(minutes=6)
        )[world.ivanov.id]
    assert point.speed_kmh == pytest.approx(18.52)  # 10 knots
    assert point.accuracy_m == 8.0

    standin.log.clear()
    for minutes in (15, 20):
        standin.add_position(tid, WED + timedelta(minutes=minutes))
    second = run(world, server)
    (device,) = second.devices
    assert (device.fetched, device.stored, device.duplicate) == (2, 2, 0)
    # it asked from the newest fix it had, not from the retention start
    assert next(p["from"] for p in standin.position_requests()) == "2026-11-25T07:10:00.000Z"
    assert len(stored_times(world)) == 5

    standin.log.clear()
    third = run(world, server)  # nothing new: Traccar last heard the device before that fix
    assert third.devices[0].fetched == 0
    assert standin.position_requests() == []


def test_a_first_pull_pages_by_day_from_since_and_each_window_is_asked_once(
    world, standin, server
) -> None:
    bind(world, "imei-2")
    tid = standin.add_device("imei-2")
    days = [WED - timedelta(days=d) for d in (3, 2, 1, 0)]  # Sun..Wed 10:00 Moscow
    for day in days:
        for minutes in range(0, 60, 10):
            standin.add_position(tid, day + timedelta(minutes=minutes))
    report = run(world, server, since=WED - timedelta(days=3, hours=1))
    (device,) = report.devices
    requests = standin.position_requests()
    starts = [datetime.fromisoformat(r["from"]) for r in requests]
    ends = [datetime.fromisoformat(r["to"]) for r in requests]
    assert starts[0] == WED - timedelta(days=3, hours=1)
    assert ends[-1] == NOW
    assert all(b - a <= timedelta(days=1) for a, b in zip(starts, ends, strict=True))
    assert starts[1:] == ends[:-1]  # contiguous: no gap, no window twice
    assert device.windows == len(requests) == 5
    # Sunday is off hours (company hours mon-fri): fetched, counted, not kept
    assert (device.fetched, device.stored, device.off_hours, device.duplicate) == (24, 18, 6, 0)


def test_a_huge_answer_is_abandoned_and_the_window_halved(world, standin, server) -> None:
    bind(world, "imei-3")
    tid = standin.add_device("imei-3")
    for seconds in range(0, 4 * 3600, 30):  # 480 fixes in four hours
        standin.add_position(tid, WED + timedelta(seconds=seconds))
    standin.padding = 200  # each position ~0.7 KB: four hours ~330 KB
    report = run(world, server, max_bytes=100_000, since=WED)
    (device,) = report.devices
    assert (device.fetched, device.stored, device.duplicate) == (480, 480, 0)
    spans = [
        datetime.fromisoformat(r["to"]) - datetime.fromisoformat(r["from"])
        for r in standin.position_requests()
    ]
    assert max(spans) == timedelta(days=1)
    assert min(spans) < timedelta(hours=1)

    standin.padding = 200_000  # one position is larger than the limit: even a minute is
    with pytest.raises(traccar.TraccarError, match=r"imei-3's positions over 60 s .* pass"):
        run(world, server, max_bytes=100_000, since=WED)


def test_a_503_burst_is_retried_with_backoff(world, standin, server) -> None:
    bind(world, "imei-4")
    tid = standin.add_device("imei-4")
    standin.add_position(tid, WED)
    standin.fail = 2
    sleeps = Sleeps()
    report = run(world, server, sleeps=sleeps)
    assert report.devices[0].stored == 1
    assert sleeps == [0.5, 1.0]


def test_an_interrupted_pull_resumes_without_loss_or_duplicates(world, standin, server) -> None:
    bind(world, "imei-5")
    tid = standin.add_device("imei-5")
    for d in (3, 2, 1, 0):
        standin.add_position(tid, WED - timedelta(days=d, hours=-1))
    standin.fail, standin.fail_from = 100, 2  # the third window never answers
    sleeps = Sleeps()
    with pytest.raises(traccar.TraccarError) as failure:
        run(world, server, sleeps=sleeps, since=WED - timedelta(days=3))
    message = failure.value.one_line()
    assert "\n" not in message
    assert "GET /api/positions (device 1): answered 503, 4 tries" in message
    assert sleeps == [0.5, 1.0, 2.0]
    kept = stored_times(world)
    assert len(kept) == 1  # Sunday's was off hours; Monday's is in
    assert pulled_until(world, "imei-5") == WED - timedelta(days=2, hours=-1)

    standin.fail = 0
    report = run(world, server)
    (device,) = report.devices
    assert (device.fetched, device.stored, device.duplicate) == (2, 2, 0)
    assert len(stored_times(world)) == 3


def test_a_slow_answer_is_retried_and_a_dead_one_named(world, standin, server) -> None:
    bind(world, "imei-6")
    tid = standin.add_device("imei-6")
    standin.add_position(tid, WED)
    # a time-out far from both a quick answer (a busy CI host once took over 0.3 s) and
    # the slow one
    standin.slow, standin.delay = 1, 4.0
    sleeps = Sleeps()
    report = run(world, server, sleeps=sleeps, timeout=1.0)
    assert report.devices[0].stored == 1
    assert sleeps == [0.5]

    standin.slow = 10
    with pytest.raises(traccar.TraccarError, match=r"no answer within 1 s, 4 tries"):
        run(world, server, timeout=1.0, since=WED - timedelta(hours=1))


def test_invalid_outdated_and_impossible_positions_are_skipped_and_counted(
    world, standin, server
) -> None:
    bind(world, "imei-7")
    tid = standin.add_device("imei-7")
    standin.add_position(tid, WED)
    standin.add_position(tid, WED + timedelta(minutes=1), valid=False)
    standin.add_position(tid, WED + timedelta(minutes=2), outdated=True)
    standin.add_position(tid, WED + timedelta(minutes=3), latitude=95.0)
    standin.add_position(tid, WED + timedelta(minutes=4), battery=250.0)
    standin.add_position(tid, WED - timedelta(days=200))  # older than the retention
    (device,) = run(world, server, since=WED - timedelta(days=300)).devices
    assert (device.stored, device.invalid, device.outdated, device.refused) == (1, 1, 1, 2)
    assert (
        device.first_refusal
        == "2026-11-25T07:03:00.000+00:00: lat 95.0 is out of range (-90 to 90)"
    )
    # the newest fix read (even a refused one) is where the next pull starts
    assert device.pulled_until == WED + timedelta(minutes=4)


def test_wrong_password_wrong_token_and_basic_auth(world, standin, server) -> None:
    bind(world, "imei-8")
    tid = standin.add_device("imei-8")
    standin.add_position(tid, WED)
    wrong = traccar.Credentials(user="admin@example.ru", password="nope")
    with pytest.raises(traccar.TraccarError) as failure:
        run(world, server, credentials=wrong)
    assert failure.value.one_line() == (
        f"Traccar at {server.url} refused user 'admin@example.ru': wrong email or password "
        "(check --user and the password)"
    )
    with pytest.raises(traccar.TraccarError, match=r"wrong user or password \(401\)"):
        run(
            world,
            server,
            credentials=traccar.Credentials(user="admin@example.ru", password="x", basic=True),
        )
    assert (
        run(
            world,
            server,
            credentials=traccar.Credentials(user="admin@example.ru", password="s3cret", basic=True),
        )
        .devices[0]
        .stored
        == 1
    )
    assert standin.logins == 0  # basic auth opens no session

    with pytest.raises(
        traccar.TraccarError, match=r"refused the token: the token is wrong or expired"
    ):
        run(world, server, credentials=traccar.Credentials(token="WRONG"))
    assert (
        run(world, server, credentials=traccar.Credentials(token="TOKEN-1")).devices[0].fetched == 0
    )
    with pytest.raises(InvalidInput, match="needs a token, or a user and a password"):
        traccar.Credentials(user="admin@example.ru")
    assert "s3cret" not in repr(traccar.Credentials(user="a", password="s3cret"))


def test_a_server_without_bearer_tokens_gets_a_session_opened_with_the_token(
    world, standin, server
) -> None:
    bind(world, "imei-9")
    tid = standin.add_device("imei-9")
    standin.add_position(tid, WED)
    standin.bearer = False
    report = run(world, server, credentials=traccar.Credentials(token="TOKEN-1"))
    assert report.devices[0].stored == 1
    assert standin.logins == 1


def test_an_expired_session_is_opened_again_once(world, standin, server) -> None:
    bind(world, "imei-10")
    tid = standin.add_device("imei-10")
    for d in (2, 1, 0):
        standin.add_position(tid, WED - timedelta(days=d, hours=-2))
    standin.session_requests = 2  # a session serves two requests, then 401
    report = run(world, server, since=WED - timedelta(days=2))
    assert report.devices[0].stored == 3
    assert standin.logins >= 2

    standin.session_requests = 0  # every new session is already expired
    with pytest.raises(traccar.TraccarError) as failure:
        run(world, server)
    assert failure.value.one_line().startswith(
        f"Traccar at {server.url}: GET /api/devices: refused (401) right after logging in again"
    )


def test_a_wrong_address_is_one_line(world, standin, server) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    credentials = traccar.Credentials(token="TOKEN-1")
    for url, expected in (
        (
            f"http://127.0.0.1:{port}",
            f"cannot connect to Traccar at http://127.0.0.1:{port}: connection refused",
        ),
        (
            "http://no-such-host.invalid:8082/api/",
            "cannot connect to Traccar at http://no-such-host.invalid:8082: unknown host",
        ),
    ):
        sleeps = Sleeps()
        with (
            traccar.TraccarClient(url, credentials, sleep=sleeps) as c,
            pytest.raises(traccar.TraccarError) as failure,
        ):
            traccar.pull(database=world.db, client=c)
        assert failure.value.one_line().startswith(expected)
        assert sleeps == []  # not retried: it will not get better in two seconds
    standin.not_traccar = True
    with pytest.raises(traccar.TraccarError, match="does not answer as a Traccar server"):
        run(world, server, credentials=credentials)
    with pytest.raises(InvalidInput, match="is not a web address"):
        traccar.TraccarClient("traccar.example.ru", credentials)


def test_an_unbound_traccar_device_is_listed_as_unknown_and_nothing_fetched(
    world, db_url, standin, server
) -> None:
    bind(world, "imei-11")
    ours = standin.add_device("imei-11")
    theirs = standin.add_device("356938035643809", "Петров, Samsung")
    standin.add_position(ours, WED)
    standin.add_position(theirs, WED)
    env = {"FSM_TRACCAR_TOKEN": "TOKEN-1"}
    result = invoke(db_url, "gps", "pull", "--url", server.url, "--json", env=env)
    import json

    report = json.loads(result.stdout)
    by_device = {d["device"]: d for d in report["devices"]}
    assert by_device["imei-11"]["stored"] == 1
    assert by_device["356938035643809"]["unknown"] is True
    assert by_device["356938035643809"]["fetched"] == 0
    assert {r["deviceId"] for r in standin.position_requests()} == {str(ours)}
    listed = json.loads(invoke(db_url, "gps", "devices", "list", "--unknown", "--json").stdout)
    assert [d["device"] for d in listed] == ["356938035643809"]
    assert stored_times(world) == [WED]

    # bound now: the next pull takes its positions from the retention start
    bind(world, "356938035643809", world.petrov.id)
    result = invoke(db_url, "gps", "pull", "--url", server.url, "--json", env=env)
    by_device = {d["device"]: d for d in json.loads(result.stdout)["devices"]}
    assert by_device["356938035643809"]["stored"] == 1
    assert by_device["imei-11"]["fetched"] == 0


def test_the_command_line_reads_the_password_from_stdin_and_fails_in_one_line(
    world, db_url, standin, server
) -> None:
    bind(world, "imei-12")
    tid = standin.add_device("imei-12")
    standin.add_position(tid, WED)
    invoke(db_url, "settings", "set", "traccar_url", server.url + "/api/")
    invoke(db_url, "settings", "set", "traccar_user", "admin@example.ru")
    result = invoke(db_url, "gps", "pull", "--password-stdin", stdin="s3cret\n")
    assert "1 positions stored from 1 devices" in result.stderr
    assert "imei-12" in result.stdout

    result = invoke(db_url, "gps", "pull", env={"FSM_TRACCAR_PASSWORD": "wrong"}, code=1)
    assert result.stderr.strip().splitlines() == [
        f"Error: Traccar at {server.url} refused user 'admin@example.ru': wrong email or "
        "password (check --user and the password)"
    ]
    result = invoke(db_url, "gps", "pull", "--url", "http://127.0.0.1:1", "--token", "T", code=1)
    assert result.stderr.strip().splitlines() == [
        "Error: cannot connect to Traccar at http://127.0.0.1:1: connection refused (check the "
        "address and port (the web interface's, e.g. :8082))"
    ]
    result = invoke(db_url, "settings", "set", "traccar_url", "traccar.example.ru", code=1)
    assert "is not a web address" in result.stderr
