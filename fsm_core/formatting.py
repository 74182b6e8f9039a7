"""Showing values to people: local times, roubles, durations, in their language.

Babel does the locale work (grouping, currency signs, plural-free short units); it is
imported on first use so that commands which print JSON never pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsm_core.services.stages import StageView

_LOCALES = {"ru": "ru_RU", "en": "en_US"}


def local_time(
    value: datetime | None,
    tz: tzinfo,
    *,
    lang: str = "ru",
    seconds: bool = False,
) -> str:
    """``14.04.2022 16:40`` (ru) or ``2022-04-14 16:40`` (en), in the company's zone: the
    whole date, as a document prints it and as a form field takes it back. What a screen
    or a list shows is :func:`moment`."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    if lang == "ru":
        return local.strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date, *, lang: str = "ru", this_year: int | None = None) -> str:
    """A day as people read it on screen: ``06.12`` (ru), ``Dec 06`` (en), with the year
    when it is not ``this_year`` (``06.12.2025``, ``Dec 06 2025``; always when None).

    English spells the month: ``12/06`` is the 6th of December to one reader and the
    12th of June to another, ``Dec 06`` to everyone. The day keeps two digits and the
    month three letters (never the locale's), so a column of them lines up."""
    if lang == "ru":
        return f"{day:%d.%m}" if day.year == this_year else f"{day:%d.%m.%Y}"
    shown = f"{_MONTHS_EN[day.month - 1]} {day.day:02d}"
    return shown if day.year == this_year else f"{shown} {day.year}"


def moment(
    value: datetime | None,
    tz: tzinfo,
    *,
    lang: str = "ru",
    now: datetime | None = None,
    seconds: bool = False,
) -> str:
    """A moment as the dashboard and the command line's lists show it, in the company's
    zone: ``06.12 15:39`` (ru) or ``Dec 06 15:39`` (en); the year only when it is not the
    current one (``06.12.2025 15:39``, ``Dec 06 2025 15:39``). ``now`` says which year is
    current (default: :func:`fsm_core.clock.now`)."""
    if value is None:
        return ""
    from fsm_core import clock

    local = value.astimezone(tz)
    this_year = (now or clock.now()).astimezone(tz).year
    clock_time = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{day_text(local.date(), lang=lang, this_year=this_year)} {clock_time}"


def due_time(value: datetime | None, tz: tzinfo, *, now: datetime, lang: str = "ru") -> str:
    """A deadline as people read it: ``пн 10:00`` (``Mon 10:00``) when it falls within the
    coming week (today included), the date and time otherwise (``14.04 16:40``)."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    today = now.astimezone(tz).date()
    if 0 <= (local.date() - today).days < 7:
        from fsm_core.i18n import weekday_name

        return f"{weekday_name(local.weekday(), lang)} {local:%H:%M}"
    return moment(value, tz, lang=lang, now=now)


@lru_cache(maxsize=4)
def _locale(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(_LOCALES.get(lang, "en_US"))


def money(amount: Decimal | None, *, lang: str = "ru", currency: str = "RUB") -> str:
    """``13 414,00 ₽`` (ru) or ``13,414.00 RUB`` (en), grouped by Babel's locale rules."""
    if amount is None:
        return ""
    from babel.numbers import format_currency

    return format_currency(
        amount, currency, locale=_locale(lang), format="#,##0.00\u00a0¤", currency_digits=False
    )


def number(value: Decimal | float | int | None, *, lang: str = "ru", digits: int = 2) -> str:
    if value is None:
        return ""
    from babel.numbers import format_decimal

    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=_locale(lang))


def quantity(value: Decimal | int | None, unit: str | None = None, *, lang: str = "ru") -> str:
    """``2,5 кг``, ``1 250 шт`` (ru) or ``2.5 кг`` (en): no trailing zeros, at most the three
    decimals a stored quantity has."""
    if value is None:
        return ""
    from babel.numbers import format_decimal

    text = format_decimal(value, format="#,##0.###", locale=_locale(lang))
    return f"{text} {unit}" if unit else text


_UNITS = {
    "ru": ("д", "ч", "мин"),
    "en": ("d", "h", "min"),
}


def duration(delta: timedelta, *, lang: str = "ru", parts: int = 2) -> str:
    """``2 д 4 ч``, ``3 h 20 min``, ``-1 ч 5 мин`` (negative: overdue). Whole minutes."""
    total = (
        int(delta.total_seconds() // 60)
        if delta >= timedelta(0)
        else -int((-delta).total_seconds() // 60)
    )
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    day_u, hour_u, min_u = _UNITS.get(lang, _UNITS["en"])
    chunks = [(days, day_u), (hours, hour_u), (minutes, min_u)]
    shown = [f"{n} {u}" for n, u in chunks if n][:parts] or [f"0 {min_u}"]
    return sign + " ".join(shown)


def sla_text(
    row: Mapping[str, Any],
    now: datetime,
    lang: str,
    *,
    finished: bool = False,
    waiting: bool = False,
    parts: int = 2,
) -> tuple[str, str]:
    """(text, status) for an order's SLA: the time left to the deadline that runs now
    ("3 h 20 min", "−1 h 5 min" when late) — the reaction's while the order ``waiting`` in a
    new stage, else the resolution's — and the verdict once the work is done (``finished``:
    its stage is done, closed or cancelled). The status colours it either way."""
    from fsm_core.i18n import label, sla_name

    status = row.get("sla_status") or "none"
    due = row.get("resolution_due")
    if waiting:  # not reacted yet: the reaction deadline is the one running now
        due = row.get("reaction_due") or due
    if status == "none" or due is None:
        return sla_name("none", lang), "none"
    if finished or row.get("closed_at") is not None or row.get("resolved_at") is not None:
        text = sla_name(status, lang) if status == "violated" else label("done_in_time", lang)
        return text, status
    left = due - now
    if left.total_seconds() >= 0:
        return duration(left, lang=lang, parts=parts), status
    return "−" + duration(-left, lang=lang, parts=parts), status


def sla_for(
    row: Mapping[str, Any], stage: StageView | None, now: datetime, lang: str, *, parts: int = 2
) -> tuple[str, str]:
    """:func:`sla_text` for an order in ``stage`` (its category says which deadline runs)."""
    return sla_text(
        row,
        now,
        lang,
        finished=stage is not None and stage.finished,
        waiting=stage is not None and stage.category == "new",
        parts=parts,
    )
