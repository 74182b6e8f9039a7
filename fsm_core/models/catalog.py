"""Work types (виды работ), their prices and how each is charged."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Text
from sqlmodel import Field

from fsm_core.errors import InvalidInput
from fsm_core.models.base import Table, created_at_field, external_id_field, money_field


class Charge(StrEnum):
    """How a work type is charged on the act (тарификация).

    fixed: the work type's price × quantity; hours: the executors' hours × their rates;
    both: the two lines, as the reference product's own act shows them (the default).
    """

    FIXED = "fixed"
    HOURS = "hours"
    BOTH = "both"


CHARGE_CHECK = "charge IN ('fixed', 'hours', 'both')"

CHARGE_NAMES: dict[Charge, dict[str, str]] = {
    Charge.FIXED: {"en": "fixed price", "ru": "по цене"},
    Charge.HOURS: {"en": "by hours", "ru": "по часам"},
    Charge.BOTH: {"en": "price and hours", "ru": "цена и часы"},
}
CHARGE_WORDS: dict[str, Charge] = {
    **{c.value: c for c in Charge},
    **{n[lang]: c for c, n in CHARGE_NAMES.items() for lang in ("en", "ru")},
    "fix": Charge.FIXED,
    "price": Charge.FIXED,
    "цена": Charge.FIXED,
    "фиксированная": Charge.FIXED,
    "фикс": Charge.FIXED,
    "hourly": Charge.HOURS,
    "часы": Charge.HOURS,
    "почасовая": Charge.HOURS,
    "оба": Charge.BOTH,
}


def parse_charge(value: object, *, field: str = "charge") -> Charge:
    """How a work type is charged, by its code or an English or Russian name."""
    if isinstance(value, Charge):
        return value
    text = " ".join(str(value).strip().lower().replace("ё", "е").split())
    found = CHARGE_WORDS.get(text)
    if found is None:
        known = ", ".join(f"{c.value} ({n['ru']})" for c, n in CHARGE_NAMES.items())
        raise InvalidInput(f"{field}: unknown charge {value!r}; known: {known}", field=field)
    return found


class WorkType(Table, table=True):
    __tablename__ = "work_type"
    __table_args__ = (CheckConstraint(CHARGE_CHECK, name="charge"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300, unique=True)
    price: Decimal = money_field(default=Decimal("0.00"), nullable=False)
    unit: str = Field(default="усл.", max_length=20)
    charge: str = Field(default=Charge.BOTH.value, max_length=10)
    description: str | None = Field(default=None, sa_column=Column(Text))
    active: bool = Field(default=True)
    external_id: str | None = external_id_field()
    created_at: datetime = created_at_field()
