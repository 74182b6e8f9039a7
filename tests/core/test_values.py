"""Reading what people type: phones, INNs, names, numbers, dates, durations."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fsm_core import clock
from fsm_core.errors import InvalidInput
from fsm_core.formatting import duration, local_time, money
from fsm_core.timeparse import parse_datetime, parse_minutes, zone
from fsm_core.values import (
    format_phone,
    inn_is_valid,
    normalize_email,
    normalize_inn,
    normalize_phone,
    parse_decimal,
    parse_money,
    short_name,
)

MSK = zone("Europe/Moscow")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("8 (812) 555-12-34", "+78125551234"),
        ("+7 911 123 45 67", "+79111234567"),
        ("9111234567", "+79111234567"),
        ("7-921-000-11-22", "+79210001122"),
        ("+7 (812) 332-44-10 доб. 12", "+78123324410;ext=12"),
        ("+375 29 123-45-67", "+375291234567"),
        ("  ", None),
    ],
)
def test_phones_are_normalised(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("bad", ["call me", "12", "+7 911 CALL NOW"])
def test_unreadable_phones_are_refused(bad):
    with pytest.raises(InvalidInput, match="cannot read phone number"):
        normalize_phone(bad)


def test_phones_are_shown_grouped():
    assert format_phone("+79111234567") == "+7 911 123-45-67"
    assert format_phone("+78123324410;ext=12") == "+7 812 332-44-10 доб. 12"


def test_inn_control_digits():
    assert inn_is_valid("7707083893")  # Sberbank's, a known valid 10-digit INN
    assert inn_is_valid("500100732259")  # a valid 12-digit one
    assert not inn_is_valid("7707083894")
    assert normalize_inn(" 7707083893 ") == "7707083893"
    with pytest.raises(InvalidInput, match="10 or 12 digits"):
        normalize_inn("12345")
    with pytest.raises(InvalidInput, match="wrong control digit"):
        normalize_inn("500100732258")


def test_email():
    assert normalize_email("Anna@Romashka.EXAMPLE") == "Anna@romashka.example"
    with pytest.raises(InvalidInput, match="is not an e-mail"):
        normalize_email("anna at romashka")


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("Иванов Кирилл Петрович", "Иванов К. П."),
        ("Иванов  Кирилл", "Иванов К."),
        ("Иванов К. П.", "Иванов К. П."),
        ("Салтыков-Щедрин Михаил Евграфович", "Салтыков-Щедрин М. Е."),
        ("Петрова Анна-Мария Ивановна", "Петрова А.-М. И."),
        ("Охрана", "Охрана"),
    ],
)
def test_short_names(full, short):
    assert short_name(full) == short


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1 750,00", Decimal("1750.00")),
        ("1\u00a0750,5", Decimal("1750.5")),
        ("1,750.50", Decimal("1750.50")),
        ("1.750,50", Decimal("1750.50")),
        ("3500 ₽", Decimal("3500")),
        (1750, Decimal("1750")),
        (0.1, Decimal("0.1")),
    ],
)
def test_numbers_as_people_write_them(typed, value):
    assert parse_decimal(typed, field="price") == value


def test_money_is_rounded_half_up_to_the_kopeck():
    assert parse_money("10,005", field="price") == Decimal("10.01")
    with pytest.raises(InvalidInput, match="price: amount '-5' is negative"):
        parse_money("-5", field="price")
    with pytest.raises(InvalidInput, match="price: cannot read number 'abc'"):
        parse_money("abc", field="price")


@pytest.mark.parametrize(
    ("typed", "utc"),
    [
        ("14.04.2022 16:40", datetime(2022, 4, 14, 13, 40, tzinfo=UTC)),
        ("14.04.2022", datetime(2022, 4, 13, 21, 0, tzinfo=UTC)),
        ("14/04/22 9.05", datetime(2022, 4, 14, 6, 5, tzinfo=UTC)),
        ("2022-04-14T16:40", datetime(2022, 4, 14, 13, 40, tzinfo=UTC)),
        ("2022-04-14 16:40:00+00:00", datetime(2022, 4, 14, 16, 40, tzinfo=UTC)),
        ("14 апреля 2022".replace("апреля", "April"), datetime(2022, 4, 13, 21, 0, tzinfo=UTC)),
    ],
)
def test_dates_day_first_in_the_company_zone(typed, utc):
    assert parse_datetime(typed, tz=MSK) == utc


def test_a_date_alone_as_a_deadline_means_the_end_of_that_day():
    assert parse_datetime("14.04.2022", tz=MSK, end_of_day=True) == datetime(
        2022, 4, 14, 20, 59, tzinfo=UTC
    )


def test_words_and_offsets_for_the_command_line():
    with clock.frozen(datetime(2026, 11, 26, 9, 0, tzinfo=UTC)):  # 12:00 in Moscow
        assert parse_datetime("завтра 10:00", tz=MSK) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
        assert parse_datetime("today", tz=MSK) == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
        assert parse_datetime("+2h", tz=MSK) == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
        assert parse_datetime("-30m", tz=MSK) == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["31.02.2024", "32.01.2024 10:00", "завтра 25:00", "скоро"])
def test_impossible_dates_are_refused_with_the_field(bad):
    with pytest.raises(InvalidInput, match=f"Срок: cannot read date '{bad}'"):
        parse_datetime(bad, tz=MSK, field="Срок")


def test_durations():
    assert parse_minutes("4h") == 240
    assert parse_minutes("1d 4h") == 1680
    assert parse_minutes("1,5ч") == 90
    assert parse_minutes("45") == 45
    with pytest.raises(InvalidInput, match="cannot read duration"):
        parse_minutes("4 hours-ish")


def test_formatting_for_people():
    assert money(Decimal("13414")) == "13\u00a0414,00\u00a0₽"
    assert money(Decimal("13414"), lang="en") == "13,414.00\u00a0RUB"
    assert duration(timedelta_minutes(1565)) == "1 д 2 ч"
    assert duration(timedelta_minutes(200), lang="en") == "3 h 20 min"
    assert duration(timedelta_minutes(-65)) == "-1 ч 5 мин"
    moment = datetime(2022, 4, 14, 13, 40, tzinfo=UTC)
    assert local_time(moment, MSK) == "14.04.2022 16:40"
    assert local_time(moment, MSK, lang="en") == "2022-04-14 16:40"


def timedelta_minutes(minutes: int):
    from datetime import timedelta

    return timedelta(minutes=minutes)
