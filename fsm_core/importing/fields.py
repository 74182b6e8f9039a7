"""Reading one cell: text, numbers, dates, flags and codes as sheets carry them.

Each reader takes the raw cell (a string from CSV, a JSON value, or an Excel-typed value)
and returns the typed value, or raises :class:`CellError` with a message that the engine
prefixes with ``FILE:LINE: column 'Срок': ``. Dates go through :mod:`fsm_core.timeparse`,
the parser every front end uses, which reads a value completely or refuses it; the shapes
sheets repeat are cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from fsm_core.errors import InvalidInput
from fsm_core.timeparse import OutOfWindow, check_window, date_years, read_local
from fsm_core.values import (
    normalize_email,
    normalize_inn,
    normalize_phone,
    parse_decimal,
    parse_money,
)


class CellError(ValueError):
    """A cell that cannot be read; the message says why (not where)."""


Reader = Callable[[Any], Any]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(max_length: int, *, single_line: bool = True) -> Reader:
    def read(value: Any) -> str | None:
        if value is None:
            return None
        result = (value if type(value) is str else str(value)).strip()
        if not result:
            return None
        if single_line and ("  " in result or "\n" in result or "\t" in result):
            result = " ".join(result.split())
        if len(result) > max_length:
            raise CellError(f"text is longer than {max_length} characters")
        return result

    return read


def integer(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"cannot read whole number {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip().replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        raise CellError(f"cannot read whole number {value!r}") from None


def _wrap(reader: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the shared value readers' InvalidInput into a CellError without their prefix."""

    def read(value: Any, **kwargs: Any) -> Any:
        try:
            return reader(value, **kwargs)
        except InvalidInput as exc:
            message = exc.message
            if exc.field and message.startswith(f"{exc.field}: "):
                message = message[len(exc.field) + 2 :]
            raise CellError(message) from None

    return read


_decimal = _wrap(parse_decimal)
_money = _wrap(parse_money)
phone = _wrap(normalize_phone)
email = _wrap(normalize_email)
inn = _wrap(normalize_inn)


def decimal(value: Any) -> Decimal | None:
    if _blank(value):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return _decimal(value if isinstance(value, Decimal | int) else str(value), field="value")


def money(value: Any) -> Decimal | None:
    if _blank(value):
        return None
    if isinstance(value, float):
        value = Decimal(repr(value))
    return _money(value if isinstance(value, Decimal | int) else str(value), field="value")


def number(value: Any) -> float | None:
    result = decimal(value)
    return float(result) if result is not None else None


_TRUE = {"1", "да", "д", "yes", "y", "true", "t", "+", "истина", "активен", "да."}
_FALSE = {"0", "нет", "н", "no", "n", "false", "f", "-", "ложь", "неактивен", "уволен"}


def boolean(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    key = str(value).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(f"cannot read yes/no {value!r} (да/нет, yes/no, 1/0)")


def word_list(value: Any) -> list[str] | None:
    if _blank(value):
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in re.split(r"[;,\n]", str(value)) if part.strip()]


# --- dates -----------------------------------------------------------------------------


def _excel_serial(value: float) -> datetime:
    """An Excel date serial number (a date cell that lost its format) as a datetime."""
    from fsm_core.importing.readers import excel_serial_to_datetime

    try:
        return excel_serial_to_datetime(value)
    except InvalidInput as exc:
        raise CellError(f"cannot read date {value!r}: {exc.message}") from None


def datetime_reader(tz: tzinfo, *, end_of_day: bool = False) -> Reader:
    """A reader of moments in the company's zone, returned as UTC-aware datetimes.

    ``end_of_day``: a date without a time means its last minute (a deadline "до 14.04").
    A moment outside the ``date_window`` years is refused, whatever shape it came in.
    """
    years = date_years()

    def read_any(value: Any) -> datetime | None:
        try:
            return read_moment(value)
        except OutOfWindow as exc:
            raise CellError(exc.one_line()) from None

    def read_moment(value: Any) -> datetime | None:
        if _blank(value):
            return None
        if isinstance(value, datetime):
            local = value
        elif isinstance(value, date):
            local = datetime.combine(value, time(23, 59) if end_of_day else time(0))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            local = _excel_serial(float(value))
            if end_of_day and local.time() == time(0):
                local = local.replace(hour=23, minute=59)
        else:
            raw = str(value).strip()
            # the one strict parser: no "today" in a file, no date without its year
            parsed = read_local(raw, tz=tz, end_of_day=end_of_day, words=False)
            if parsed is None:
                raise CellError(f"cannot read date {raw!r}")
            local = parsed
        check_window(local, shown=str(value).strip(), years=years)
        if local.tzinfo is None:
            local = local.replace(tzinfo=tz)
        return local.astimezone(UTC)

    # A sheet's dates repeat their day and hour thousands of times, and turning a local
    # time into UTC through the zone database is most of reading one. The two shapes
    # files nearly always carry, "14.04.2022 16:40" and "2022-04-14 16:40", and a
    # workbook's date cells (naive datetimes) at a whole minute are read as the UTC start
    # of their hour (found once, by read_any) plus their minutes; a plain date is looked
    # up whole. An hour whose UTC offset changes inside it is not cached.
    hours: dict[str | int, datetime | None] = {}  # the text's hour, or the cell's hour number
    days: dict[str, datetime | None] = {}

    def hour_start(key: str | int, first: Any) -> datetime | None:
        """The UTC start of the hour whose minute 0 is ``first``, remembered under ``key``
        (None: not a plain hour — the zone's offset changes within it — or not a readable
        one). Its minute 59 is not read as well (that was half of reading a file's new
        hours): the clock shows it 59 minutes later when the offset stays the same."""
        if len(hours) > _CACHE_SIZE:
            hours.clear()
        try:
            start = read_any(first)
        except CellError:
            start = None
        if start is not None:
            # on the clock from there: minute 0, and minute 59 59 minutes later (else the
            # hour began or ends in a change of the zone's offset)
            shown = start.astimezone(tz).replace(tzinfo=None)
            then = (start + _MINUTES[59]).astimezone(tz).replace(tzinfo=None)
            if shown.minute or then - shown != _MINUTES[59]:
                start = None
        hours[key] = start
        return start

    def read(value: Any) -> datetime | None:
        if (
            type(value) is datetime
            and value.tzinfo is None
            and not value.second
            and not value.microsecond
        ):
            key = value.toordinal() * 24 + value.hour
            start = hours.get(key, _UNSEEN)
            if start is _UNSEEN:
                start = hour_start(key, value.replace(minute=0))
            if start is not None:
                return start + _MINUTES[value.minute]
            return read_any(value)
        if type(value) is str:
            n = len(value)
            if (
                n == 16
                and value[13] == ":"
                and value[14] in "012345"
                and value[15] in _DIGITS
                and (value[2] == value[5] == "." or value[4] == value[7] == "-")
                and value[10] in " T"
            ):
                prefix = value[:13]
                start = hours.get(prefix, _UNSEEN)
                if start is _UNSEEN:
                    start = hour_start(prefix, prefix + ":00")
                if start is not None:
                    return start + _MINUTES[int(value[14:16])]
            elif n == 10 and value[2] == value[5] == ".":
                moment = days.get(value, _UNSEEN)
                if moment is _UNSEEN:
                    if len(days) > _CACHE_SIZE:
                        days.clear()
                    try:
                        moment = days[value] = read_any(value)
                    except CellError:
                        days[value] = None
                        raise
                if moment is not None:
                    return moment
        return read_any(value)

    return read


_UNSEEN: Any = object()
_DIGITS = "0123456789"
_MINUTES = [timedelta(minutes=m) for m in range(60)]
_CACHE_SIZE = 10_000


def choice(options: dict[str, str], what: str) -> Reader:
    """A code given by itself or by one of its names (case- and ё-insensitive)."""
    table = {k.lower().replace("ё", "е"): v for k, v in options.items()}
    known = ", ".join(sorted(set(options.values())))

    def read(value: Any) -> str | None:
        if _blank(value):
            return None
        key = str(value).strip().lower().replace("ё", "е")
        if key in table:
            return table[key]
        raise CellError(f"unknown {what} {str(value).strip()!r}; known: {known}")

    return read
