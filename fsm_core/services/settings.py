"""Company-wide settings every dispatcher shares, stored in the database."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, select

from fsm_core.errors import InvalidInput
from fsm_core.models import Setting
from fsm_core.timeparse import zone

NUMBER_FIELDS = {"yy", "yyyy", "mm", "seq"}


def _check_pattern(value: str) -> str:
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise InvalidInput(f"order number pattern {value!r}: {exc}") from None
    unknown = fields - NUMBER_FIELDS
    if unknown:
        raise InvalidInput(
            f"order number pattern {value!r} uses unknown field(s) {', '.join(sorted(unknown))}",
            hint="use {yy}, {yyyy}, {mm} and {seq}, e.g. {yy}-{seq:04d}",
        )
    if "seq" not in fields:
        raise InvalidInput(f"order number pattern {value!r} has no {{seq}}")
    try:
        value.format(yy="26", yyyy="2026", mm="01", seq=1)
    except (ValueError, KeyError) as exc:
        raise InvalidInput(f"order number pattern {value!r}: {exc}") from None
    return value


def _check_zone(value: str) -> str:
    zone(value)
    return value


def _check_share(value: str) -> str:
    try:
        share = Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"sla_risk_share: {value!r} is not a number") from None
    if not Decimal(0) < share < Decimal(1):
        raise InvalidInput(f"sla_risk_share: {value!r} must be between 0 and 1")
    return str(share)


def _any(value: str) -> str:
    return value.strip()


PLACEHOLDER_PASSPORT_URL = "https://fsm.example/p"


def _check_url(value: str) -> str:
    from urllib.parse import urlsplit

    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(
            f"passport_base_url: {value!r} is not a web address",
            hint="e.g. https://service.example.ru/p",
        )
    return url


def _check_speed(value: str) -> str:
    try:
        speed = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"travel_speed_kmh: {value!r} is not a number") from None
    if not Decimal(1) <= speed <= Decimal(200):
        raise InvalidInput(f"travel_speed_kmh: {value!r} must be between 1 and 200 km/h")
    return str(speed)


def _check_minutes(value: str) -> str:
    from fsm_core.timeparse import parse_minutes

    minutes = parse_minutes(value, field="visit_minutes")
    if minutes > 24 * 60:
        raise InvalidInput(f"visit_minutes: {value!r} is longer than a day")
    return str(minutes)


def _check_hours(value: str) -> str:
    from fsm_core.services.sla import parse_hours

    text = " ".join(value.split())
    parse_hours(text)
    return text


def _check_login(value: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput("default_user: give a user's login", hint="see fsm users list")
    return text


@dataclass(frozen=True)
class SettingSpec:
    default: str
    check: Callable[[str], str]
    description: str


SPECS: dict[str, SettingSpec] = {
    "company_name": SettingSpec("", _any, "the service company's name on documents"),
    "company_phone": SettingSpec("", _any, "the service company's phone on documents"),
    "company_address": SettingSpec("", _any, "the service company's address (business cards)"),
    "passport_base_url": SettingSpec(
        PLACEHOLDER_PASSPORT_URL,
        _check_url,
        "where an object's QR code leads: {passport_base_url}/{token}",
    ),
    "timezone": SettingSpec("Europe/Moscow", _check_zone, "the company's time zone"),
    "currency": SettingSpec("RUB", _any, "currency of prices (ISO 4217)"),
    "order_number_pattern": SettingSpec(
        "{yy}-{seq:04d}", _check_pattern, "order numbers; {yy} {yyyy} {mm} {seq}"
    ),
    "sla_risk_share": SettingSpec(
        "0.25", _check_share, "an order is at risk when this share of its SLA time is left"
    ),
    "company_hours": SettingSpec(
        "mon-fri 09:00-18:00",
        _check_hours,
        "the company's working hours: SLA policies with the 'company' calendar count in them "
        "(less holidays); e.g. 'mon-fri 09:00-18:00; sat 10:00-14:00'",
    ),
    "default_user": SettingSpec(
        "dispatcher", _check_login, "who acts when neither --as nor FSM_USER names a user"
    ),
    "travel_speed_kmh": SettingSpec(
        "30", _check_speed, "average travel speed between objects (planner), km/h"
    ),
    "visit_minutes": SettingSpec("120", _check_minutes, "length of a visit planned without end"),
}


@dataclass(frozen=True)
class CompanySettings:
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    @property
    def tz(self) -> tzinfo:
        return zone(self.values["timezone"])

    @property
    def order_number_pattern(self) -> str:
        return self.values["order_number_pattern"]

    @property
    def sla_risk_share(self) -> Decimal:
        return Decimal(self.values["sla_risk_share"])

    @property
    def company_hours(self) -> str:
        return self.values["company_hours"]

    @property
    def travel_speed_kmh(self) -> float:
        return float(self.values["travel_speed_kmh"])

    @property
    def visit_minutes(self) -> int:
        return int(self.values["visit_minutes"])


def load(session: Session) -> CompanySettings:
    values = {key: spec.default for key, spec in SPECS.items()}
    for row in session.exec(select(Setting)):
        if row.key in values:
            values[row.key] = row.value
    return CompanySettings(values)


def set_value(*, session: Session, key: str, value: str) -> str:
    spec = SPECS.get(key)
    if spec is None:
        raise InvalidInput(f"unknown setting {key!r}", hint="known: " + ", ".join(sorted(SPECS)))
    checked = spec.check(value)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=checked))
    else:
        row.value = checked
    session.flush()
    return checked
