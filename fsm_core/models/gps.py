"""Where the technicians are (GPS): their devices and the positions the devices report.

A device (a phone with Traccar Client, a tracker) belongs to one employee; a device that
reports before an admin bound it is remembered with no employee, so that the admin can
see it (``fsm gps devices list --unknown``) and bind it, but its positions are refused,
never stored against nobody.

A position is one fix: the moment in UTC, where, how exactly and how the device moved.
One employee cannot be in two places at one moment, so (employee, moment) is unique: the
same fix sent twice (a phone retrying after a lost answer) is stored once. That index is
also the one every reading takes: "this employee, this day" and "the latest of each".
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field, utc_field

SOURCES = ("osmand", "traccar", "gpx", "manual")


class GpsDevice(Table, table=True):
    __tablename__ = "gps_device"

    id: int | None = Field(default=None, primary_key=True)
    # what the device calls itself: Traccar Client's "device identifier", a tracker's IMEI
    identifier: str = Field(max_length=100, unique=True)
    employee_id: int | None = Field(
        default=None, foreign_key="employee.id", index=True, ondelete="SET NULL"
    )
    name: str | None = Field(default=None, max_length=200)
    first_seen_at: datetime | None = utc_field()
    last_seen_at: datetime | None = utc_field()
    # fixes refused while the device was bound to nobody (so the admin sees it is in use)
    refused: int = Field(default=0)
    # the newest fix taken from a Traccar server for this device (``fsm gps pull``
    # continues from here)
    pulled_until: datetime | None = utc_field()
    created_at: datetime = created_at_field()


class Position(Table, table=True):
    __tablename__ = "position"
    __table_args__ = (
        UniqueConstraint("employee_id", "fix_at"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
        CheckConstraint(f"source IN {SOURCES!r}", name="source"),
        Index("ix_position_fix_at", "fix_at"),
    )

    # a company's year of 5-second fixes passes 2**31 ids: BIGINT (SQLite's rowid already is)
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    employee_id: int = Field(foreign_key="employee.id", ondelete="CASCADE")
    device_id: int | None = Field(default=None, foreign_key="gps_device.id", ondelete="SET NULL")
    fix_at: datetime = utc_field(nullable=False)
    latitude: float
    longitude: float
    accuracy_m: float | None = Field(default=None)
    speed_kmh: float | None = Field(default=None)
    heading: float | None = Field(default=None)
    altitude_m: float | None = Field(default=None)
    battery: float | None = Field(default=None)  # percent
    source: str = Field(max_length=10)
    received_at: datetime = utc_field(default_now=True)


class MapBackground(Table, table=True):
    """The map's background (roads, water) as a company gave it in a GeoJSON file
    (``fsm map background FILE``), simplified and kept here so that every dashboard, on
    any machine, draws the same one. One row at most: loading another replaces it.

    ``data`` is compact JSON: ``[[style, [lon, lat, lon, lat, ...]], ...]``, one polyline
    (or polygon ring) per entry, coordinates rounded to 1e-5 degrees (about a metre)."""

    __tablename__ = "map_background"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    loaded_at: datetime = utc_field(nullable=False)
    loaded_by: str = Field(max_length=100)
    features: int
    lines: int
    points: int
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float
    data: str = Field(sa_column=Column(Text, nullable=False))
