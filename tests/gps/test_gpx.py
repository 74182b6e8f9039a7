"""``fsm gps import FILE.gpx``: tracks, segments, waypoints; bad points named by line."""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gpxpy.gpx
import pytest

from fsm_core.services import gps
from fsm_core.services.gps import gpx
from tests.cli_runner import invoke
from tests.conftest import NOW

# Wednesday 25.11.2026 10:00 in Moscow: inside the company's hours
WED = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def iso(minutes: float, base: datetime = WED) -> str:
    return (base + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
GPX11 = '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">\n'

SEVERAL = (
    HEAD
    + GPX11
    + f"""<wpt lat="59.9300" lon="30.3600"><time>{iso(-30)}</time><name>Склад</name></wpt>
<wpt lat="59.9400" lon="30.3700"><name>Офис (no time: a place)</name></wpt>
<trk><name>Утро</name>
<trkseg>
<trkpt lat="59.9311" lon="30.3609"><ele>12.5</ele><time>{iso(0)}</time><hdop>2</hdop></trkpt>
<trkpt lat="59.9312" lon="30.3610"><time>{iso(1)}</time>
  <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>5</gpxtpx:speed><gpxtpx:course>270</gpxtpx:course></gpxtpx:TrackPointExtension></extensions>
</trkpt>
</trkseg>
<trkseg>
<trkpt lat="59.9313" lon="30.3611"><time>{iso(2)}</time></trkpt>
</trkseg>
</trk>
<trk><name>День</name><trkseg>
<trkpt lat="59.9314" lon="30.3612"><time>{iso(60)}</time></trkpt>
<trkpt lat="59.9315" lon="30.3613"><time>{iso(61)}</time></trkpt>
</trkseg></trk>
<rte><name>План</name>
<rtept lat="59.95" lon="30.30"><name>no time: a plan</name></rtept>
<rtept lat="59.95" lon="30.31"><time>{iso(90)}</time></rtept>
</rte>
</gpx>
"""
)


def write(tmp_path: Path, text: str | bytes, name: str = "drive.gpx") -> str:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return str(path)


def stored(world) -> list[gps.Point]:
    with world.db.reader() as s:
        found = gps.read_fixes(session=s, start=NOW - timedelta(days=400), end=NOW + timedelta(1))
    return found.get(world.ivanov.id, [])


def run(world, text: str | bytes, **options: object) -> gpx.GpxReport:
    data = text.encode() if isinstance(text, str) else text
    return gpx.import_gpx(
        database=world.db,
        stream=io.BytesIO(data),
        name="drive.gpx",
        employee=world.ivanov.id,
        **options,  # type: ignore[arg-type]
    )


def test_several_tracks_segments_and_timed_waypoints_are_taken(world, db_url, tmp_path) -> None:
    path = write(tmp_path, SEVERAL)
    result = invoke(db_url, "gps", "import", path, "--employee", "Иванов", "--json")
    report = json.loads(result.stdout)
    assert report | {"file": None, "errors": None} == {
        "file": None,
        "employee": "Иванов К. П.",
        "points": 9,
        "stored": 7,
        "duplicate": 0,
        "off_hours": 0,
        "untimed": 2,
        "rejected": 0,
        "committed": True,
        "dry_run": False,
        "errors": None,
    }
    points = stored(world)
    assert [p.at for p in points] == sorted(
        WED + timedelta(minutes=m) for m in (-30, 0, 1, 2, 60, 61, 90)
    )
    second = next(p for p in points if p.at == WED + timedelta(minutes=1))
    assert second.speed_kmh == pytest.approx(18.0)  # 5 m/s from Garmin's extension
    first = next(p for p in points if p.at == WED)
    assert first.accuracy_m == 10.0  # hdop 2 × 5 m

    again = invoke(db_url, "gps", "import", path, "--employee", "Иванов")
    assert (
        "9 points: 0 new, 7 already stored, 0 off hours; 2 waypoints or route points without a "
        "time not taken; written"
    ) in again.stderr


def test_a_track_point_without_a_time_is_named_by_line_and_nothing_is_written(
    world, db_url, tmp_path
) -> None:
    text = (
        HEAD
        + GPX11
        + f"""<trk><name>Утро</name><trkseg>
<trkpt lat="59.9311" lon="30.3609"><time>{iso(0)}</time></trkpt>
<trkpt lat="59.9312" lon="30.3610"><ele>3</ele></trkpt>
<trkpt lat="91.5" lon="30.3610"><time>{iso(2)}</time></trkpt>
<trkpt lat="59.9" lon="30.3"><time>вчера</time></trkpt>
<trkpt lat="59.9" lon="30.3"><time>{iso(4)}</time></trkpt>
</trkseg></trk></gpx>
"""
    )
    path = write(tmp_path, text)
    result = invoke(db_url, "gps", "import", path, "-e", "Иванов", code=1)
    assert result.stderr.splitlines() == [
        f"{path}:5: track 1 «Утро», segment 1, point 2: no time",
        f"{path}:6: track 1 «Утро», segment 1, point 3: lat 91.5 is out of range (-90 to 90)",
        f"{path}:7: track 1 «Утро», segment 1, point 4: time 'вчера' is not a time",
        f"{path}: 5 points: 2 new, 0 already stored, 0 off hours; 3 refused; nothing was "
        "written (--skip-invalid writes the good points)",
    ]
    assert stored(world) == []

    result = invoke(db_url, "gps", "import", path, "-e", "Иванов", "--skip-invalid", code=1)
    assert result.stderr.splitlines()[-1].endswith("3 refused; written")
    assert len(stored(world)) == 2


def test_a_file_of_waypoints_only(world) -> None:
    text = (
        HEAD
        + '<gpx version="1.0" creator="GPSLogger" xmlns="http://www.topografix.com/GPX/1/0">\n'
        + "".join(
            f'<wpt lat="59.93{i}" lon="30.36{i}"><time>{iso(i)}</time><speed>2.5</speed>'
            f"<course>45</course></wpt>\n"
            for i in range(5)
        )
        + "</gpx>"
    )
    report = run(world, text)
    assert (report.points, report.stored, report.rejected, report.committed) == (5, 5, 0, True)
    assert stored(world)[0].speed_kmh == pytest.approx(9.0)  # GPX 1.0's <speed>, m/s


def test_windows_line_endings_and_a_bom_keep_the_lines_right(world) -> None:
    text = (
        HEAD
        + GPX11
        + f"<trk><trkseg>\n<trkpt lat='59.93' lon='30.36'><time>{iso(0)}</time></trkpt>\n"
        + "<trkpt lat='59.93' lon='30.36'></trkpt>\n</trkseg></trk></gpx>\n"
    )
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    report = run(world, data)
    assert report.errors == ["drive.gpx:5: track 1, segment 1, point 2: no time"]
    assert (report.stored, report.committed) == (1, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "drive.gpx: the file is empty"),
        (b"\xef\xbb\xbf \r\n", "drive.gpx: the file is empty"),
        (
            b'<?xml version="1.0"?>\n<gpx>\n<trk><trkseg><trkpt lat="1" lon="2"></trk></gpx>',
            "drive.gpx:3: not well-formed XML (mismatched tag, column 39)",
        ),
        (
            b'<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"></kml>',
            "drive.gpx:2: not a GPX file (the root element is <kml>, not <gpx>)",
        ),
        (b"lat,lon,time\n59.9,30.3,2026-11-25\n", "drive.gpx:1: not well-formed XML"),
        (b'<gpx version="1.1"></gpx>', "drive.gpx: the file has no track point"),
        (
            b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx></gpx>',
            "drive.gpx:1: a GPX file declares no entities",
        ),
    ],
)
def test_a_file_that_is_not_gpx_is_one_line(world, data: bytes, message: str) -> None:
    with pytest.raises(gpx.GpxError) as failure:
        run(world, data)
    assert failure.value.one_line().startswith(message)
    assert "\n" not in failure.value.one_line()
    assert stored(world) == []


def test_the_command_line_names_a_missing_file_and_a_broken_one(world, db_url, tmp_path) -> None:
    result = invoke(db_url, "gps", "import", str(tmp_path / "nope.gpx"), "-e", "1", code=1)
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope.gpx'}: No such file or directory"
    path = write(tmp_path, "<gpx><trk>")
    result = invoke(db_url, "gps", "import", path, "-e", "Иванов", code=1)
    assert result.stderr.strip() == (
        f"Error: {path}:1: not well-formed XML (no element found, column 11)"
    )


def test_off_hours_duplicates_and_a_dry_run_are_counted(world) -> None:
    sunday = WED - timedelta(days=3)
    text = (
        HEAD
        + GPX11
        + f"""<trk><trkseg>
<trkpt lat="59.93" lon="30.36"><time>{iso(0)}</time></trkpt>
<trkpt lat="59.93" lon="30.36"><time>{iso(0)}</time></trkpt>
<trkpt lat="59.93" lon="30.36"><time>{iso(0, sunday)}</time></trkpt>
</trkseg></trk></gpx>"""
    )
    dry = run(world, text, dry_run=True)
    assert (dry.stored, dry.duplicate, dry.off_hours, dry.committed) == (1, 1, 1, False)
    assert stored(world) == []
    report = run(world, text)
    assert (report.stored, report.duplicate, report.off_hours, report.committed) == (1, 1, 1, True)
    assert report.exit_code == 0


def test_osmand_writes_its_accuracy_in_metres_into_hdop(world) -> None:
    text = (
        HEAD
        + '<gpx version="1.1" creator="OsmAnd~ 4.8.6" xmlns="http://www.topografix.com/GPX/1/1">'
        + f'<trk><trkseg><trkpt lat="59.93" lon="30.36"><time>{iso(0)}</time><hdop>12</hdop>'
        + "</trkpt></trkseg></trk></gpx>"
    )
    run(world, text)
    assert stored(world)[0].accuracy_m == 12.0


def test_a_file_written_by_gpxpy_reads_back(world) -> None:
    document = gpxpy.gpx.GPX()
    for t in range(2):
        track = gpxpy.gpx.GPXTrack(name=f"Поездка {t}")
        document.tracks.append(track)
        segment = gpxpy.gpx.GPXTrackSegment()
        track.segments.append(segment)
        for i in range(10):
            segment.points.append(
                gpxpy.gpx.GPXTrackPoint(
                    59.93 + i / 1000,
                    30.36,
                    elevation=5,
                    time=WED + timedelta(minutes=t * 30 + i),
                    horizontal_dilution=1.5,
                )
            )
    report = run(world, document.to_xml())
    assert (report.points, report.stored, report.rejected) == (20, 20, 0)
    assert stored(world)[0].accuracy_m == 7.5


def _huge(points: int) -> bytes:
    rows = "".join(
        f'<trkpt lat="59.{i % 10000:04d}" lon="30.3"><ele>1</ele>'
        f"<time>{iso(i / 60)}</time><hdop>1</hdop></trkpt>\n"
        for i in range(points)
    )
    return (HEAD + GPX11 + "<trk><trkseg>\n" + rows + "</trkseg></trk></gpx>\n").encode()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the reading, not the database
def test_a_huge_file_is_read_as_a_stream(world) -> None:
    data = _huge(30_000)  # ~2.7 MB, eight hours of 1-second fixes
    tracemalloc.start()
    try:
        count = sum(1 for _ in gpx.read_points(io.BytesIO(data), "huge.gpx"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 30_000
    # a document of every point (gpxpy's way) takes some ten times the file; the stream
    # holds a chunk and the points of one chunk
    assert peak < len(data) / 4
    report = run(world, data)
    assert (report.points, report.stored, report.committed) == (30_000, 30_000, True)
    assert len(stored(world)) == 30_000
