"""Importing a GPX file as one employee's positions (``fsm gps import FILE.gpx``).

The file is read as a stream (the standard library's expat parser, 64 KB at a time), not
built into a document: gpxpy, the library the field uses for GPX, holds the whole file in
memory (a 21 MB track took 350 MB and 4.6 s here) and cannot say on which line a point
is. Expat gives every point's line, so an error reads ``drive.gpx:42: track 1 «Утро»,
segment 1, point 3: no time``. gpxpy still reads the times (its parser takes the forms
real files carry: fractions, offsets, no zone).

What is taken: every track's segments' points; waypoints and route points that have a
time (without one they are places or a plan, not fixes: counted, not taken). A track
point without a time is an error. As ``fsm import`` does, the import is all or nothing:
every bad point is listed, and nothing is written unless ``skip_invalid``.

Readings: ``<ele>`` is the altitude; the speed is GPX 1.0's ``<speed>`` or an extension's
(Garmin's TrackPointExtension, OsmAnd's), in m/s; the heading is ``<course>`` (or an
extension's course/bearing/heading). The accuracy is ``<hdop>`` × 5 m — a rough guess
(horizontal dilution of precision times a typical 5 m range error of a phone's receiver),
but the same order as what phones report; OsmAnd writes its accuracy in metres into
``<hdop>``, so a file whose creator is OsmAnd has it taken as it is. A time without a
zone is UTC, as the GPX schema says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING
from xml.parsers import expat

from fsm_core import clock
from fsm_core.errors import FsmError, InvalidInput
from fsm_core.services.gps.fixes import Fix, check_fix
from fsm_core.services.gps.store import Outcome, record_fixes, retention_start
from fsm_core.services.lookup import resolve_employee

if TYPE_CHECKING:
    from fsm_core.db import Database

CHUNK = 64 * 1024
BATCH = 5_000
HDOP_METRES = 5.0
KEPT_ERRORS = 100  # the report keeps this many error lines (every one is told to on_error)

_READINGS = {"time", "ele", "hdop", "speed", "course"}
_EXTENSION_READINGS = {
    "speed": "speed",
    "course": "course",
    "bearing": "course",
    "heading": "course",
}


class GpxError(FsmError):
    """The file as a whole cannot be read as GPX (empty, not XML, not GPX)."""


@dataclass
class GpxPoint:
    """One point as the file has it (texts, unchecked), with where it is."""

    line: int
    kind: str  # "track", "route" or "waypoint"
    where: str
    lat: str | None
    lon: str | None
    readings: dict[str, str] = field(default_factory=dict)
    osmand: bool = False  # the file's creator is OsmAnd: <hdop> is its accuracy in metres


class _Reader:
    """Expat callbacks turning the file into :class:`GpxPoint` values as it is read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.parser.EntityDeclHandler = self.entity
        self.ready: list[GpxPoint] = []
        self.root: str | None = None
        self.osmand = False
        self.depth = 0
        self.tracks = self.segments = self.track_points = 0
        self.routes = self.route_points = self.waypoints = 0
        self.track_name: str | None = None
        self.route_name: str | None = None
        self.in_track = self.in_route = False
        self.point: GpxPoint | None = None
        self.point_depth = 0
        self.reading: str | None = None  # the reading whose text is being collected
        self.buffer: list[str] = []

    def entity(self, *args: object) -> None:
        raise GpxError(
            f"{self.name}:{self.parser.CurrentLineNumber}: a GPX file declares no entities"
        )

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(" ", 1)[-1]
        self.depth += 1
        if self.root is None:
            self.root = local
            if local != "gpx":
                raise GpxError(
                    f"{self.name}:{self.parser.CurrentLineNumber}: not a GPX file (the root "
                    f"element is <{local}>, not <gpx>)",
                    ru=f"{self.name}:{self.parser.CurrentLineNumber}: это не файл GPX "
                    f"(корневой элемент <{local}>, а не <gpx>)",
                )
            self.osmand = "osmand" in attrs.get("creator", "").lower()
            return
        if self.point is not None:
            if self.depth == self.point_depth + 1 and local in _READINGS:
                self.reading = local
            elif self.depth > self.point_depth + 1 and local in _EXTENSION_READINGS:
                self.reading = "ext:" + _EXTENSION_READINGS[local]
            else:
                self.reading = None
            self.buffer = []
            return
        line = self.parser.CurrentLineNumber
        if local == "trk" and self.depth == 2:
            self.tracks += 1
            self.segments = 0
            self.track_name = None
            self.in_track = True
        elif local == "trkseg" and self.in_track:
            self.segments += 1
            self.track_points = 0
        elif local == "rte" and self.depth == 2:
            self.routes += 1
            self.route_points = 0
            self.route_name = None
            self.in_route = True
        elif local == "name" and self.depth == 3 and (self.in_track or self.in_route):
            self.reading = "name"
            self.buffer = []
        elif local in ("trkpt", "rtept", "wpt"):
            if local == "trkpt":
                self.track_points += 1
                named = f" «{self.track_name}»" if self.track_name else ""
                kind = "track"
                where = (
                    f"track {self.tracks}{named}, segment {max(self.segments, 1)}, "
                    f"point {self.track_points}"
                )
            elif local == "rtept":
                self.route_points += 1
                named = f" «{self.route_name}»" if self.route_name else ""
                kind = "route"
                where = f"route {self.routes}{named}, point {self.route_points}"
            else:
                self.waypoints += 1
                kind = "waypoint"
                where = f"waypoint {self.waypoints}"
            self.point = GpxPoint(
                line, kind, where, attrs.get("lat"), attrs.get("lon"), osmand=self.osmand
            )
            self.point_depth = self.depth

    def text(self, data: str) -> None:
        if self.reading is not None:
            self.buffer.append(data)

    def end(self, tag: str) -> None:
        local = tag.rsplit(" ", 1)[-1]
        if self.reading is not None:
            value = "".join(self.buffer).strip()
            if self.reading == "name":
                name = " ".join(value.split())[:60]
                if self.in_track:
                    self.track_name = name or None
                else:
                    self.route_name = name or None
            elif self.point is not None and value:
                self.point.readings.setdefault(self.reading, value)
            self.reading = None
        if self.point is not None and self.depth == self.point_depth:
            self.ready.append(self.point)
            self.point = None
        elif local == "trk" and self.depth == 2:
            self.in_track = False
        elif local == "rte" and self.depth == 2:
            self.in_route = False
        self.depth -= 1


def read_points(stream: IO[bytes], name: str) -> Iterator[GpxPoint]:
    """The file's points in file order, read ``CHUNK`` bytes at a time; :class:`GpxError`
    (with the line) for a file that is empty, not well-formed XML or not GPX."""
    reader = _Reader(name)
    blank = True  # nothing but white space (and a BOM) so far
    while True:
        chunk = stream.read(CHUNK)
        if blank and chunk.strip(b" \t\r\n\xef\xbb\xbf"):
            blank = False
        try:
            reader.parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            if blank:
                raise GpxError(f"{name}: the file is empty", ru=f"{name}: файл пуст") from None
            raise GpxError(
                f"{name}:{exc.lineno}: not well-formed XML ({expat.ErrorString(exc.code)}, "
                f"column {exc.offset + 1})",
                ru=f"{name}:{exc.lineno}: ошибка в XML ({expat.ErrorString(exc.code)}, "
                f"столбец {exc.offset + 1})",
            ) from None
        yield from reader.ready
        reader.ready.clear()
        if not chunk:
            return


def _number(value: str | None, what: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not a number", field=what) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what} {value!r} is not a number", field=what)
    return number


def _time(value: str) -> datetime:
    from gpxpy.gpx import GPXException
    from gpxpy.gpxfield import parse_time

    try:
        moment = parse_time(value)
    except (GPXException, ValueError):
        moment = None
    if moment is None:
        raise InvalidInput(f"time {value!r} is not a time", field="time")
    if moment.tzinfo is None:  # GPX times are UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_fix(point: GpxPoint, *, employee_id: int) -> Fix:
    """The point as a fix of the employee; :class:`InvalidInput` saying what is wrong."""
    readings = point.readings
    if point.lat is None or point.lon is None:
        raise InvalidInput("no lat or lon attribute", field="lat")
    latitude = _number(point.lat, "lat")
    longitude = _number(point.lon, "lon")
    assert latitude is not None
    assert longitude is not None
    if "time" not in readings:
        raise InvalidInput("no time", field="time")
    hdop = _number(readings.get("hdop"), "hdop")
    speed = _number(readings.get("speed") or readings.get("ext:speed"), "speed")
    return Fix(
        at=_time(readings["time"]),
        latitude=latitude,
        longitude=longitude,
        employee_id=employee_id,
        accuracy_m=None if hdop is None else hdop if point.osmand else hdop * HDOP_METRES,
        speed_kmh=None if speed is None else speed * 3.6,
        heading=_number(readings.get("course") or readings.get("ext:course"), "course"),
        altitude_m=_number(readings.get("ele"), "ele"),
        source="gpx",
    )


@dataclass
class GpxReport:
    file: str
    employee: str = ""
    points: int = 0
    stored: int = 0
    duplicate: int = 0
    off_hours: int = 0
    untimed: int = 0  # waypoints and route points without a time: not taken
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    committed: bool = False
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.committed and not self.rejected else 1


class _Abort(Exception):
    """Roll the import's transaction back (errors, or a dry run)."""


def import_gpx(
    *,
    database: Database,
    stream: IO[bytes],
    name: str,
    employee: str | int,
    skip_invalid: bool = False,
    dry_run: bool = False,
    on_error: Callable[[str], None] | None = None,
    batch: int = BATCH,
) -> GpxReport:
    """Read a GPX file's points as ``employee``'s positions, in one transaction. Every bad
    point is reported (to ``on_error`` as found, and the first ones in the report) and
    then nothing is written, unless ``skip_invalid``; ``dry_run`` writes nothing either."""
    report = GpxReport(file=name, dry_run=dry_run)
    now = clock.now()

    def refuse(line: str) -> None:
        report.rejected += 1
        if len(report.errors) < KEPT_ERRORS:
            report.errors.append(line)
        if on_error:
            on_error(line)

    try:
        with database.transaction() as session:
            person = resolve_employee(session=session, ref=employee)
            if not person.active:
                raise InvalidInput(
                    f"employee {person.short_name!r} is not active", field="employee"
                )
            assert person.id is not None
            report.employee = person.short_name
            oldest = retention_start(session=session, now=now)
            pending: list[Fix] = []

            def flush() -> None:
                if not pending:
                    return
                outcomes = record_fixes(session=session, fixes=pending).outcomes
                report.stored += outcomes.count(Outcome.STORED)
                report.duplicate += outcomes.count(Outcome.DUPLICATE)
                report.off_hours += outcomes.count(Outcome.OFF_HOURS)
                pending.clear()

            for point in read_points(stream, name):
                report.points += 1
                if point.kind != "track" and "time" not in point.readings:
                    report.untimed += 1
                    continue
                try:
                    fix = check_fix(to_fix(point, employee_id=person.id), now=now, oldest=oldest)
                except InvalidInput as exc:
                    refuse(f"{name}:{point.line}: {point.where}: {exc.message}")
                    continue
                pending.append(fix)
                if len(pending) >= batch:
                    flush()
            flush()
            if report.points == 0:
                raise GpxError(f"{name}: the file has no track point, route point or waypoint")
            if dry_run or (report.rejected and not skip_invalid):
                raise _Abort
            report.committed = True
    except _Abort:
        report.committed = False
    return report
