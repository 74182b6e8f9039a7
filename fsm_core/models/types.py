"""Column types shared by every table: UTC timestamps and money in kopecks."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from fsm_core.values import KOPECK


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite as naive UTC text, which sorts and
    compares correctly as long as every value goes through this type.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given where UTC time is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw text from SQLite expressions
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """A Decimal amount of roubles stored exactly as integer kopecks."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        amount = Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)
        return int(amount * 100)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(KOPECK)


MILLI = Decimal("0.001")


class Quantity(TypeDecorator[Decimal]):
    """A Decimal quantity of stock (шт, кг, м, л) stored exactly as integer thousandths.

    Not ``Numeric``: SQLite has no decimal type and would keep such a column as a float,
    so sums of 0,1 кг would drift; integers add up exactly on both back-ends, and the
    atomic ``on_hand - :q`` updates and CHECK constraints compare integers. Three decimals
    are enough for grams, millilitres and millimetres; a value with more is refused, never
    rounded silently.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * 1000
        if scaled != scaled.to_integral_value():
            raise ValueError(f"quantity {value} has more than 3 decimals")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 1000).quantize(MILLI)
