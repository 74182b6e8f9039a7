"""Reading and normalising the values people type: phones, e-mails, INNs, names, money.

Each reader returns the clean value or raises :class:`InvalidInput` naming the field.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from fsm_core.errors import InvalidInput

KOPECK = Decimal("0.01")  # the one rounding unit of money, everywhere


def line_amount(quantity: Decimal, price: Decimal) -> Decimal:
    """The one rounding rule of every amount: quantity × price, half-up to the kopeck
    (acts, stock values, reports alike)."""
    return (quantity * price).quantize(KOPECK, rounding=ROUND_HALF_UP)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_EXTENSION = re.compile(r"\s*(?:доб\.?|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f']")


# What a terminal must never receive from data: C0 controls but tab and newline, DEL and the
# C1 controls (0x9b is a CSI on its own). C0 and DEL show as their Unicode control pictures
# (ESC as ␛), C1 as the escape a programmer reads (\x9b). Stored text keeps what was sent.
_TERMINAL_SAFE = {
    **{code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: "\u2421",
    **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)},
}
_UNSAFE_FOR_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


_SHEET_SAFE = {code: sign for code, sign in _TERMINAL_SAFE.items() if code != 0x0D}
_UNSAFE_FOR_SHEET = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def sheet_safe(value: str) -> str:
    """``value`` as a workbook for people shows it: like :func:`terminal_safe`, but a
    carriage return stays (``\r\n`` is a line break a cell holds, and an import takes it
    back as it was)."""
    if not _UNSAFE_FOR_SHEET.search(value):
        return value
    return value.translate(_SHEET_SAFE)


def only_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits 0-9 and nothing else. ``str.isdigit`` also takes
    ``²`` (which ``int`` refuses: a traceback) and ``٣`` (which it reads): neither is
    a number people mean here."""
    return text.isascii() and text.isdigit()


#: the largest id a record can have (a PostgreSQL integer column)
MAX_ID = 2**31 - 1


def record_id(text: str) -> int | None:
    """``text`` (``17``) as the id of a record when it can be one, else None: an id
    beyond the column's range matches nothing, and is never sent to the database (where
    SQLite raised OverflowError)."""
    if only_digits(text) and len(text) <= len(str(MAX_ID)):
        value = int(text)
        if 0 < value <= MAX_ID:
            return value
    return None


def terminal_safe(value: str) -> str:
    """``value`` with every control character a terminal would act on made visible.

    Every text that came from data (descriptions, names, chat messages, file names) goes
    through this before a terminal shows it: the CLI's console and the dashboard."""
    if not _UNSAFE_FOR_TERMINAL.search(value):
        return value
    return value.translate(_TERMINAL_SAFE)


def clean_text(value: str | None) -> str | None:
    """Strip a free-text value; blank becomes None."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def single_line(value: str | None) -> str | None:
    """Collapse runs of white space (names, addresses) into single spaces."""
    value = clean_text(value)
    return _SPACES.sub(" ", value) if value else None


def normalize_phone(value: str | None, *, field: str = "phone") -> str | None:
    """A phone number as ``+7`` and ten digits (Russian numbers) or ``+<digits>``.

    Accepts what people write: ``8 (812) 555-12-34``, ``+7 911 123 45 67 доб. 12``.
    An extension is kept after ``;ext=``.
    """
    value = clean_text(value)
    if value is None:
        return None
    extension = None
    match = _EXTENSION.search(value)
    if match:
        extension = match.group(1)
        value = value[: match.start()]
    international = value.lstrip().startswith("+")
    digits = "".join(ch for ch in value if "0" <= ch <= "9")
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in value):
        raise InvalidInput(f"{field}: cannot read phone number {value!r}", field=field)
    if not 5 <= len(digits) <= 15 or any(ch.isalpha() for ch in value):
        raise InvalidInput(f"{field}: cannot read phone number {value!r}", field=field)
    if len(digits) == 11 and digits[0] in "78" and not (international and digits[0] == "8"):
        digits = "7" + digits[1:]
    elif len(digits) == 10 and not international and digits[0] in "3489":
        digits = "7" + digits
    phone = "+" + digits if (international or len(digits) == 11) else digits
    return f"{phone};ext={extension}" if extension else phone


def format_phone(value: str | None) -> str:
    """``+79111234567`` → ``+7 911 123-45-67``; anything else as stored."""
    if not value:
        return ""
    main, _, ext = value.partition(";ext=")
    if len(main) == 12 and main.startswith("+7"):
        d = main[2:]
        main = f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
    return f"{main} доб. {ext}" if ext else main


def normalize_email(value: str | None, *, field: str = "email") -> str | None:
    value = clean_text(value)
    if value is None:
        return None
    if not _EMAIL.match(value):
        raise InvalidInput(f"{field}: {value!r} is not an e-mail address", field=field)
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """True when ``inn`` is a Russian tax id (ИНН) with correct control digits."""
    if not only_digits(inn) or len(inn) not in (10, 12):
        return False
    d = [int(c) for c in inn]
    if len(d) == 10:
        return _inn_digit(d, _INN10) == d[9]
    return _inn_digit(d, _INN11) == d[10] and _inn_digit(d, _INN12) == d[11]


def normalize_inn(value: str | None, *, field: str = "inn") -> str | None:
    value = clean_text(value)
    if value is None:
        return None
    value = value.replace(" ", "")
    if not only_digits(value) or len(value) not in (10, 12):
        raise InvalidInput(f"{field}: INN {value!r} must have 10 or 12 digits", field=field)
    if not inn_is_valid(value):
        raise InvalidInput(f"{field}: INN {value!r} has a wrong control digit", field=field)
    return value


def short_name(full_name: str) -> str:
    """``Иванов Кирилл Петрович`` → ``Иванов К. П.`` (surname first, as Russians write).

    A name already in short form, or a single word, is returned as is.
    """
    parts = _SPACES.split(full_name.strip())
    if len(parts) < 2:
        return full_name.strip()
    initials = []
    for part in parts[1:]:
        if part.endswith(".") and len(part.rstrip(".")) <= 2:
            initials.append(part)
        else:
            initials.append("-".join(p[:1].upper() + "." for p in part.split("-") if p))
    return f"{parts[0]} {' '.join(initials)}"


def parse_decimal(value: str | int | float | Decimal | None, *, field: str) -> Decimal | None:
    """Read a number as people write it: ``1 750,00``, ``1750.5``, ``1,750.50``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        text = _NUMBER_SPACES.sub("", value.strip()).replace("₽", "").replace("руб.", "")
        text = text.removesuffix("р.").strip()
        if not text:
            return None
        if "," in text and "." in text:
            # the right-most mark is the decimal one: 1,750.50 or 1.750,50
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"{field}: cannot read number {value!r}", field=field) from None
    if not result.is_finite():
        raise InvalidInput(f"{field}: cannot read number {value!r}", field=field)
    return result


def parse_money(value: str | int | float | Decimal | None, *, field: str) -> Decimal | None:
    amount = parse_decimal(value, field=field)
    if amount is None:
        return None
    if amount < 0:
        raise InvalidInput(f"{field}: amount {value!r} is negative", field=field)
    if amount >= Decimal("1e13"):
        raise InvalidInput(f"{field}: amount {value!r} is too large", field=field)
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


MILLI = Decimal("0.001")
MAX_QUANTITY = Decimal("1e9")

# units counted in whole numbers: "2,5 шт" is a typing mistake, not a quantity
WHOLE_UNITS = frozenset(
    {"шт", "штук", "компл", "комплект", "упак", "уп", "пара", "пар", "ед", "рул", "pcs", "pc", "ea"}
)


def is_whole_unit(unit: str | None) -> bool:
    if not unit:
        return False
    return unit.strip().lower().rstrip(".") in WHOLE_UNITS


def parse_quantity(
    value: str | int | float | Decimal | None,
    *,
    field: str = "quantity",
    unit: str | None = None,
    allow_zero: bool = False,
    allow_negative: bool = False,
) -> Decimal | None:
    """A stock quantity: ``2,5``, ``1 250``, ``0.125``; positive (or zero/negative when
    allowed), at most three decimals, whole for units such as шт."""
    amount = parse_decimal(value, field=field)
    if amount is None:
        return None
    shown = value.strip() if isinstance(value, str) else f"{amount.normalize():f}"
    if abs(amount) >= MAX_QUANTITY:  # first: 1e30 cannot even be rounded to 3 decimals
        raise InvalidInput(f"{field}: {shown!r} is too large", field=field)
    if amount != amount.quantize(MILLI, rounding=ROUND_HALF_UP):
        raise InvalidInput(f"{field}: {shown!r} has more than 3 decimals", field=field)
    if amount < 0 and not allow_negative:
        raise InvalidInput(f"{field}: {shown!r} is negative", field=field)
    if amount == 0 and not (allow_zero or allow_negative):
        raise InvalidInput(f"{field}: must be more than 0", field=field)
    if unit and is_whole_unit(unit) and amount != amount.to_integral_value():
        raise InvalidInput(f"{field}: {shown!r} is not a whole number of {unit}", field=field)
    return amount.quantize(MILLI)
