"""The OsmAnd protocol as Traccar's server reads it, and the JSON of Traccar Client 9.

What the phones send (read from traccar/traccar's ``OsmAndProtocolDecoder`` and the
clients' sources):

- **The query form** — Traccar Client up to 8 and from 10 (``traccar-client-sdk``),
  OsmAnd's online tracking, GPSLogger's custom URL: ``id`` (or ``deviceid``), ``lat``,
  ``lon`` (or ``location=LAT,LON``), ``timestamp``, ``speed`` in knots, ``bearing`` (or
  ``heading``), ``altitude``, ``accuracy``, ``batt`` (%), in the URL's query (GET or POST)
  or, when the URL has none, in an ``application/x-www-form-urlencoded`` body. The
  timestamp is Unix seconds, Unix milliseconds (Traccar: anything from 2^31 up; OsmAnd
  sends milliseconds), ISO 8601, or ``yyyy-MM-dd HH:mm:ss`` (read as UTC). Without one the
  fix is taken as of now, as Traccar does. ``valid=false`` marks a fix the phone itself
  does not trust. Traccar Client 10 also posts ``id=…&notificationToken=…`` alone (its
  push token): nothing to store, answered as ignored.
- **The JSON** of Traccar Client 9 (built on transistorsoft's background geolocation),
  sent with ``Content-Type: application/json``, one location per request::

    {"location": {"timestamp": "2025-06-15T13:45:12.862Z",
                  "coords": {"latitude": …, "longitude": …, "accuracy": 5,
                             "speed": 0, "heading": -1, "altitude": 5},
                  "is_moving": false, "odometer": 0, "event": "motionchange",
                  "battery": {"level": 0.79, "is_charging": false},
                  "activity": {"type": "still"}, "extras": {}, "_": "…"},
     "device_id": "48241179"}

  Speed in m/s, and -1 for "unknown" in speed, heading, accuracy and battery level
  (a fraction of one). Traccar's decoder takes one object, never an array; so does this.

Everything else a client may add (``hdop``, ``charge``, ``is_moving``, ``odometer``,
``extras``, cell towers) is ignored: the product keeps what :class:`~fsm_core.services.gps.Fix`
holds. A value that is there but unreadable is refused in one line, never guessed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fsm_core.errors import InvalidInput
from fsm_core.services.gps import KNOT_KMH, Fix, check_identifier

MAX_FIELDS = 100
"""More parameters than any client sends: a request with more is refused, unread."""

SECONDS_UNTIL = 2**31 - 1
"""Traccar's rule: a whole-number timestamp below this is seconds, from it milliseconds."""

MPS_KMH = 3.6


@dataclass(frozen=True)
class Ignored:
    """A well-formed request that carries no fix to keep; answered 200 so that the phone
    does not send it again."""

    device: str
    reason: str


def _quote(value: str, limit: int = 40) -> str:
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)


def parse_form(text: str) -> dict[str, str]:
    """``a=1&b=2`` as a dict (the last of repeated names wins, as in Traccar)."""
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except UnicodeDecodeError:  # a ValueError too: caught first for its own message
        raise InvalidInput("the request's parameters are not UTF-8", field="request") from None
    except ValueError:
        raise InvalidInput(
            f"more than {MAX_FIELDS} parameters in the request", field="request"
        ) from None
    return dict(pairs)


def _number(params: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        raw = params.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            return float(raw)
        except ValueError:
            raise InvalidInput(f"{name} {_quote(raw)} is not a number", field=name) from None
    return None


def parse_timestamp(raw: str) -> datetime:
    """A timestamp as OsmAnd-protocol clients write it (see the module's docstring)."""
    text = raw.strip()
    try:
        try:
            number = float(text)
        except ValueError:
            moment = datetime.fromisoformat(text)
        else:
            seconds = number if number < SECONDS_UNTIL else number / 1000
            return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(
            f"timestamp {_quote(raw)} is neither Unix seconds or milliseconds nor ISO 8601",
            field="timestamp",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def decode_query(params: Mapping[str, str], *, now: datetime) -> Fix | Ignored:
    """A fix from the query form's parameters."""
    raw_id = params.get("id", params.get("deviceid"))
    if raw_id is None:
        raise InvalidInput("no device identifier: the request needs id=…", field="id")
    device = check_identifier(raw_id)
    if "location" in params and "lat" not in params and "lon" not in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise InvalidInput(
                f"location {_quote(params['location'])} is not LATITUDE,LONGITUDE",
                field="location",
            )
        params = {**params, "lat": parts[0], "lon": parts[1]}
    latitude = _number(params, "lat")
    longitude = _number(params, "lon")
    if latitude is None or longitude is None:
        if "notificationToken" in params:
            return Ignored(device, "a push token, not a position: nothing to store")
        raise InvalidInput("no position: the request needs lat=… and lon=…", field="lat")
    if params.get("valid", "").strip().lower() in ("false", "0"):
        return Ignored(device, "the device marked this fix as not valid (valid=false)")
    stamp = params.get("timestamp", "")
    speed = _number(params, "speed")
    return Fix(
        at=parse_timestamp(stamp) if stamp.strip() else now,
        latitude=latitude,
        longitude=longitude,
        device=device,
        accuracy_m=_number(params, "accuracy"),
        speed_kmh=None if speed is None else speed * KNOT_KMH,
        heading=_number(params, "bearing", "heading"),
        altitude_m=_number(params, "altitude"),
        battery=_number(params, "batt"),
        source="osmand",
    )


def _json_number(obj: Mapping[str, object], name: str, where: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"{where}.{name} {_quote(json.dumps(value))} is not a number", field=name
        )
    return float(value)


def _known(value: float | None) -> float | None:
    """Transistorsoft's -1 means "not known"."""
    return None if value is None or (math.isfinite(value) and value < 0) else value


def _object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be a JSON object", field=where)
    return value


def decode_json(body: bytes) -> Fix:
    """A fix from Traccar Client 9's JSON body."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("the JSON body is not UTF-8", field="request") from None
    except RecursionError:
        raise InvalidInput("the JSON body is nested too deeply", field="request") from None
    except ValueError as exc:
        reason = str(exc).split(":")[0]
        raise InvalidInput(f"the body is not valid JSON ({reason})", field="request") from None
    root = _object(data, "the body")
    raw_id = root.get("device_id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str):
        raise InvalidInput('no device identifier: the JSON needs "device_id"', field="id")
    device = check_identifier(raw_id)
    if "location" not in root:
        raise InvalidInput('no position: the JSON needs "location"', field="location")
    location = _object(root["location"], "location")
    stamp = location.get("timestamp")
    if not isinstance(stamp, str):
        raise InvalidInput(
            "no time: location.timestamp must be an ISO 8601 text", field="timestamp"
        )
    if "coords" not in location:
        raise InvalidInput("no position: the JSON needs location.coords", field="lat")
    coords = _object(location["coords"], "location.coords")
    latitude = _json_number(coords, "latitude", "location.coords")
    longitude = _json_number(coords, "longitude", "location.coords")
    if latitude is None or longitude is None:
        raise InvalidInput("no position: location.coords needs latitude and longitude", field="lat")
    speed = _known(_json_number(coords, "speed", "location.coords"))
    level: float | None = None
    if isinstance(location.get("battery"), dict):
        level = _known(_json_number(_object(location["battery"], "battery"), "level", "battery"))
    return Fix(
        at=parse_timestamp(stamp),
        latitude=latitude,
        longitude=longitude,
        device=device,
        accuracy_m=_known(_json_number(coords, "accuracy", "location.coords")),
        speed_kmh=None if speed is None else speed * MPS_KMH,
        heading=_known(_json_number(coords, "heading", "location.coords")),
        altitude_m=_json_number(coords, "altitude", "location.coords"),
        battery=None if level is None else round(level * 100, 1),
        source="osmand",
    )


def decode(*, query: str, content_type: str | None, body: bytes, now: datetime) -> Fix | Ignored:
    """The fix a request carries, as Traccar decides which form it is in: JSON when the
    body says so, else the URL's query, else a form body. :class:`InvalidInput` says what
    is wrong with it, in one line."""
    if content_type is not None and content_type.strip().lower().startswith("application/json"):
        return decode_json(body)
    params = parse_form(query) if query else {}
    if not params and body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the request's body is not UTF-8 text", field="request") from None
        params = parse_form(text.strip())
    if not params:
        raise InvalidInput(
            "an empty request: send id, lat, lon and timestamp (the OsmAnd protocol)",
            field="request",
        )
    return decode_query(params, now=now)
