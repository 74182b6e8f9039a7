"""Company-wide settings every dispatcher shares, stored in the database."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, select

from fsm_core.access import requires
from fsm_core.errors import InvalidInput
from fsm_core.models import Setting
from fsm_core.timeparse import zone
from fsm_core.values import only_digits

NUMBER_FIELDS = {"yy", "yyyy", "mm", "seq"}
ORDER_NUMBER_LENGTH = 40  # Order.number's column
PERCENT_STEP = Decimal("0.01")  # a VAT rate has at most two decimals: 10,5 %


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
    # A width is read before anything is rendered: {seq:0999999999d} would build a
    # gigabyte string here, and then on every order created.
    for _, _, spec, _ in string.Formatter().parse(value):
        width = re.match(r"^(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)", spec or "")
        if width and width.group(1) and int(width.group(1)) > ORDER_NUMBER_LENGTH:
            raise InvalidInput(
                f"order number pattern {value!r}: a field {width.group(1)} characters wide "
                f"cannot fit an order number (at most {ORDER_NUMBER_LENGTH} characters)"
            )
    try:
        # the longest number it will make: a sequence of six digits in a year's month
        longest = value.format(yy="26", yyyy="2026", mm="12", seq=999_999)
    except (ValueError, KeyError) as exc:
        raise InvalidInput(f"order number pattern {value!r}: {exc}") from None
    if len(longest) > ORDER_NUMBER_LENGTH:
        raise InvalidInput(
            f"order number pattern {value!r} makes numbers like {longest[:50]!r}, longer "
            f"than the {ORDER_NUMBER_LENGTH} characters an order number has"
        )
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


def _check_traccar_url(value: str) -> str:
    if not value.strip():
        return ""
    from fsm_core.services.gps.traccar import check_url

    return check_url(value)


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


def _check_language(value: str) -> str:
    text = value.strip().lower()
    aliases = {"russian": "ru", "русский": "ru", "english": "en", "английский": "en"}
    text = aliases.get(text, text)
    if text not in ("", "ru", "en"):
        raise InvalidInput(
            f"company_language: {value!r} is not a language fsm speaks",
            hint="ru or en; empty follows each user's locale",
        )
    return text


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


# --- the company's requisites on the act (реквизиты) -------------------------------------


def _check_company_inn(value: str) -> str:
    from fsm_core.values import normalize_inn

    return normalize_inn(value, field="company_inn") or ""


_KPP = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")


def _check_kpp(value: str) -> str:
    """КПП: nine characters, the tax office's four digits, the reason (two digits or
    capital Latin letters) and a three-digit number."""
    text = "".join(value.split()).upper()
    if text and not _KPP.fullmatch(text):
        raise InvalidInput(
            f"company_kpp: KPP {value.strip()!r} must have 9 characters (e.g. 780101001)",
            field="company_kpp",
        )
    return text


def ogrn_is_valid(ogrn: str) -> bool:
    """True for an ОГРН (13 digits) or ОГРНИП (15) whose last digit is the remainder of
    the rest divided by 11 (by 13 for an ОГРНИП), taken modulo 10."""
    if not only_digits(ogrn) or len(ogrn) not in (13, 15):
        return False
    divisor = 11 if len(ogrn) == 13 else 13
    return int(ogrn[:-1]) % divisor % 10 == int(ogrn[-1])


def _check_ogrn(value: str) -> str:
    text = "".join(value.split())
    if not text:
        return ""
    if not only_digits(text) or len(text) not in (13, 15):
        raise InvalidInput(
            f"company_ogrn: OGRN {value.strip()!r} must have 13 digits (15 for a sole trader)",
            field="company_ogrn",
        )
    if not ogrn_is_valid(text):
        raise InvalidInput(
            f"company_ogrn: OGRN {text!r} has a wrong control digit", field="company_ogrn"
        )
    return text


NO_VAT_WORDS = frozenset({"без ндс", "без ндс.", "no vat", "none", "нет", "-", "—"})


def _check_vat(value: str) -> str:
    """The VAT rate in percent (``20``, ``20%``, ``0``), or empty for «Без НДС»."""
    text = " ".join(value.strip().lower().split())
    if not text or text in NO_VAT_WORDS:
        return ""
    number = text.removesuffix("%").strip().replace(",", ".")
    try:
        rate = Decimal(number)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not Decimal(0) <= rate < Decimal(100):
        raise InvalidInput(
            f"vat_rate: {value.strip()!r} is not a VAT rate; give a percentage such as 20 or "
            "20%, 0, or leave it empty for «Без НДС»",
            field="vat_rate",
        )
    if rate != rate.quantize(PERCENT_STEP):
        raise InvalidInput(
            f"vat_rate: {value.strip()!r} has more than two decimals", field="vat_rate"
        )
    return format(rate.normalize(), "f")


def _text(value: str) -> str:
    """Free text kept as typed, its lines trimmed (bank details may take several)."""
    return "\n".join(line.strip() for line in value.strip().splitlines() if line.strip())


_YES = {"yes", "y", "true", "on", "1", "да", "д", "вкл"}
_NO = {"no", "n", "false", "off", "0", "нет", "н", "выкл"}


def _yes_no(key: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = value.strip().lower()
        if text in _YES:
            return "yes"
        if text in _NO:
            return "no"
        raise InvalidInput(f"{key}: {value!r} is neither yes nor no", field=key)

    return check


def _whole(key: str, lo: int, hi: int, unit: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = "".join(value.split())
        if not text.isdigit() or not lo <= int(text) <= hi:
            raise InvalidInput(
                f"{key}: {value.strip()!r} must be a whole number of {unit} from {lo} to {hi}",
                field=key,
            )
        return str(int(text))

    return check


def _decimal_between(key: str, lo: Decimal, hi: Decimal) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise InvalidInput(f"{key}: {value!r} is not a number", field=key) from None
        if not number.is_finite() or not lo <= number <= hi:
            raise InvalidInput(f"{key}: {value!r} must be between {lo} and {hi}", field=key)
        return str(number)

    return check


def _check_smtp_url(value: str) -> str:
    from urllib.parse import urlsplit

    text = value.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InvalidInput(
            f"smtp_url: {text!r} is not an SMTP address",
            hint="e.g. smtp://mail.example.ru:587 or smtps://user:password@mail.example.ru",
            field="smtp_url",
        )
    try:
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise InvalidInput(f"smtp_url: {text!r} has a bad port", field="smtp_url") from None
    return text


def _check_email(key: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = value.strip()
        if text and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", text):
            raise InvalidInput(f"{key}: {text!r} is not an e-mail address", field=key)
        return text

    return check


def _check_quiet_hours(value: str) -> str:
    text = "".join(value.split())
    if not text:
        return ""
    found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-3]):([0-5]\d)", text)
    if not found:
        raise InvalidInput(
            f"notify_quiet_hours: {value!r} is not a span of the clock",
            hint="e.g. 21:00-09:00; empty: send at any hour",
            field="notify_quiet_hours",
        )
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


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
    "company_language": SettingSpec(
        "",
        _check_language,
        "ru or en: documents and the dashboard use it unless --lang / FSM_LANG says "
        "otherwise; empty follows the locale",
    ),
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
        "dispatcher",
        _check_login,
        "the admin the first account to open a database no one is bound to yet is bound to",
    ),
    "travel_speed_kmh": SettingSpec(
        "30",
        _check_speed,
        "average travel speed between objects (planner, a customer's arrival estimate), km/h",
    ),
    "travel_detour_factor": SettingSpec(
        "1.4",
        _decimal_between("travel_detour_factor", Decimal(1), Decimal(3)),
        "roads are longer than the straight line by this factor (a customer's arrival estimate)",
    ),
    "visit_minutes": SettingSpec("120", _check_minutes, "length of a visit planned without end"),
    # analytics (fsm report): who is credited with what, and how ratings are ranked
    "first_time_fix_days": SettingSpec(
        "30",
        _whole("first_time_fix_days", 1, 365, "days"),
        "an order is fixed the first time when no other order on its object is created "
        "within this many days after its work was finished",
    ),
    "rating_prior_weight": SettingSpec(
        "5",
        _decimal_between("rating_prior_weight", Decimal(0), Decimal(1000)),
        "ranking by rating counts each employee as if they also had this many ratings at "
        "the company's mean (few ratings cannot top the board; 0: the plain mean)",
    ),
    # where the technicians are (GPS)
    "technician_prices": SettingSpec(
        "no",
        _yes_no("technician_prices"),
        "technicians see the prices of work and materials on their orders (and their acts)",
    ),
    "gps_working_hours_only": SettingSpec(
        "yes",
        _yes_no("gps_working_hours_only"),
        "keep technicians' positions only inside their working hours (an hour either side); "
        "no: around the clock",
    ),
    "gps_retention_days": SettingSpec(
        "180",
        _whole("gps_retention_days", 1, 3650, "days"),
        "how long positions are kept (fsm gps prune removes older ones)",
    ),
    "gps_radius_m": SettingSpec(
        "150",
        _whole("gps_radius_m", 10, 5000, "metres"),
        "how far from an object's point a technician counts as on site (an object may say its own)",
    ),
    # arrival and departure read from the fixes (fsm_core.services.gps.stays says why each
    # default is what it is)
    "gps_arrival_fixes": SettingSpec(
        "3",
        _whole("gps_arrival_fixes", 1, 100, "fixes"),
        "how many fixes inside an object's radius make an arrival (one fix may be a drive-by)",
    ),
    "gps_arrival_minutes": SettingSpec(
        "3",
        _whole("gps_arrival_minutes", 0, 120, "minutes"),
        "how long a technician must stay inside an object's radius to have arrived",
    ),
    "gps_departure_minutes": SettingSpec(
        "5",
        _whole("gps_departure_minutes", 1, 240, "minutes"),
        "how long a technician must be out of the radius to have left (Traccar waits 300 s)",
    ),
    "gps_max_accuracy_m": SettingSpec(
        "100",
        _whole("gps_max_accuracy_m", 5, 5000, "metres"),
        "fixes reporting a worse accuracy are ignored: they neither make nor break a visit",
    ),
    "gps_fresh_minutes": SettingSpec(
        "10",
        _whole("gps_fresh_minutes", 1, 1440, "minutes"),
        "a check-in is read against the technician's latest fix if it is this fresh",
    ),
    # the customer's side: the pages fsm serve answers and the notifications it sends
    "company_logo": SettingSpec(
        "", _any, "a PNG or JPEG file with the company's logo for the customer's pages"
    ),
    "passport_history": SettingSpec(
        "no",
        _yes_no("passport_history"),
        "the passport page shows the object's recent service history to whoever scans the label",
    ),
    "status_link_days": SettingSpec(
        "90",
        _whole("status_link_days", 1, 3650, "days"),
        "an order's status page stays open this many days after the order is closed",
    ),
    "smtp_url": SettingSpec(
        "",
        _check_smtp_url,
        "the mail server notifications go through, e.g. smtp://mail.example.ru:587 or "
        "smtps://user:password@mail.example.ru (empty: no e-mail)",
    ),
    "notify_from": SettingSpec(
        "", _check_email("notify_from"), "the sender address of notification e-mails"
    ),
    "notify_apprise_url": SettingSpec(
        "",
        _any,
        "an Apprise URL for SMS and messengers (smsc://, tgram://, json://...); {phone} stands "
        "for the contact's phone (empty: no SMS)",
    ),
    "notify_quiet_hours": SettingSpec(
        "21:00-09:00",
        _check_quiet_hours,
        "no notification is sent in these hours of the company's time zone (empty: any hour)",
    ),
    "notify_templates": SettingSpec(
        "",
        _any,
        "a folder whose templates (e.g. received.ru.txt) replace the built-in notification texts",
    ),
    # the act as a primary document: the company's requisites, VAT and who signs
    "company_legal_name": SettingSpec(
        "", _any, "full legal name on acts, e.g. Общество с ограниченной ответственностью …"
    ),
    "company_inn": SettingSpec("", _check_company_inn, "the company's INN (ИНН), 10 or 12 digits"),
    "company_kpp": SettingSpec("", _check_kpp, "the company's KPP (КПП), 9 characters"),
    "company_ogrn": SettingSpec(
        "", _check_ogrn, "the company's OGRN (ОГРН, 13 digits) or OGRNIP (ОГРНИП, 15)"
    ),
    "company_legal_address": SettingSpec("", _any, "the company's legal address on acts"),
    "company_bank_details": SettingSpec(
        "", _text, "bank account, bank, BIC, correspondent account (р/с, банк, БИК, к/с)"
    ),
    "vat_rate": SettingSpec(
        "", _check_vat, "VAT rate in percent, included in prices (20); empty: «Без НДС»"
    ),
    "act_signer_name": SettingSpec(
        "", _any, "who signs acts for the company, e.g. Соколов И. В. (not the technician)"
    ),
    "act_signer_position": SettingSpec(
        "", _any, "the position of who signs acts for the company, e.g. Генеральный директор"
    ),
    # fsm gps pull: the company's own Traccar server (its password is never stored here)
    "traccar_url": SettingSpec(
        "",
        _check_traccar_url,
        "the address of the company's Traccar server for fsm gps pull, e.g. "
        "http://traccar.example.ru:8082 (empty: give --url)",
    ),
    "traccar_user": SettingSpec(
        "",
        _any,
        "the Traccar user (email) fsm gps pull logs in as; the password comes from "
        "FSM_TRACCAR_PASSWORD or --password-stdin, a token from FSM_TRACCAR_TOKEN",
    ),
}

COMPANY_DETAILS = (
    "company_name",
    "company_phone",
    "company_legal_name",
    "company_inn",
    "company_kpp",
    "company_ogrn",
    "company_legal_address",
    "company_bank_details",
    "vat_rate",
    "act_signer_name",
    "act_signer_position",
)
"""The settings an admin fills once for the act (the dashboard's "Company details" form)."""


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

    @property
    def first_time_fix_days(self) -> int:
        return int(self.values["first_time_fix_days"])

    @property
    def rating_prior_weight(self) -> Decimal:
        return Decimal(self.values["rating_prior_weight"])

    @property
    def technician_prices(self) -> bool:
        return self.values["technician_prices"] == "yes"

    @property
    def gps_working_hours_only(self) -> bool:
        return self.values["gps_working_hours_only"] == "yes"

    @property
    def gps_retention_days(self) -> int:
        return int(self.values["gps_retention_days"])

    @property
    def gps_radius_m(self) -> int:
        return int(self.values["gps_radius_m"])

    @property
    def gps_arrival_fixes(self) -> int:
        return int(self.values["gps_arrival_fixes"])

    @property
    def gps_arrival_minutes(self) -> int:
        return int(self.values["gps_arrival_minutes"])

    @property
    def gps_departure_minutes(self) -> int:
        return int(self.values["gps_departure_minutes"])

    @property
    def gps_max_accuracy_m(self) -> int:
        return int(self.values["gps_max_accuracy_m"])

    @property
    def gps_fresh_minutes(self) -> int:
        return int(self.values["gps_fresh_minutes"])

    @property
    def vat_rate(self) -> Decimal | None:
        """The VAT rate in percent included in prices; None: the company works «Без НДС»."""
        value = self.values["vat_rate"]
        return Decimal(value) if value else None

    @property
    def traccar_url(self) -> str | None:
        return self.values["traccar_url"] or None

    @property
    def traccar_user(self) -> str | None:
        return self.values["traccar_user"].strip() or None


@requires("settings.read")
def load(*, session: Session) -> CompanySettings:
    values = {key: spec.default for key, spec in SPECS.items()}
    # the two columns, not the rows as objects: read on every page fsm serve answers
    for key, value in session.exec(select(Setting.key, Setting.value)):
        if key in values:
            values[key] = value
    return CompanySettings(values)


@requires("settings.read")
def language(*, session: Session, explicit: str | None = None) -> str:
    """The language to speak: the user's own choice (``--lang``, FSM_LANG), else the
    company's ``company_language``, else the locale. A server whose locale is C.UTF-8
    thus still writes a Russian company's acts in Russian."""
    from fsm_core.config import explicit_lang, get_settings

    chosen = explicit or explicit_lang()
    if chosen:
        return chosen
    row = session.get(Setting, "company_language")
    if row is not None and row.value in ("ru", "en"):
        return row.value
    return get_settings().lang


def _spec(key: str) -> SettingSpec:
    spec = SPECS.get(key)
    if spec is None:
        raise InvalidInput(f"unknown setting {key!r}", hint="known: " + ", ".join(sorted(SPECS)))
    return spec


def _store(session: Session, key: str, checked: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=checked))
    else:
        row.value = checked


@requires("settings.edit")
def set_value(*, session: Session, key: str, value: str) -> str:
    checked = _spec(key).check(value)
    _store(session, key, checked)
    session.flush()
    return checked


class SettingsInvalid(InvalidInput):
    """Several settings given at once, some of which cannot be taken: ``errors`` maps each
    such key to its message (the first names the field); nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(errors[first] + more, field=first)
        self.errors = errors


@requires("settings.edit")
def set_values(*, session: Session, values: dict[str, str]) -> dict[str, str]:
    """Change several settings together (a form): every value is checked first; if any is
    refused, :class:`SettingsInvalid` names each refused one and nothing changes. Returns
    the values as stored."""
    checked: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        try:
            checked[key] = _spec(key).check(value)
        except InvalidInput as exc:
            errors[key] = exc.one_line()
    if errors:
        raise SettingsInvalid(errors)
    for key, value in checked.items():
        _store(session, key, value)
    session.flush()
    return checked
