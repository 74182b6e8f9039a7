"""The product's plain vocabulary: codes that tables store and both front ends name, with
their English and Russian names. It knows no tables (the models import it, not the other
way round), so :mod:`fsm_core.i18n` and the documents can name things without a database.
"""

from __future__ import annotations

from enum import StrEnum

from fsm_core.errors import InvalidInput


class Criticality(StrEnum):
    """How urgent an order is (критичность); drives the SLA deadlines."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def names(self) -> dict[str, str]:
        return CRITICALITY_NAMES[self]


CRITICALITY_NAMES: dict[Criticality, dict[str, str]] = {
    Criticality.LOW: {"en": "low", "ru": "низкая"},
    Criticality.NORMAL: {"en": "normal", "ru": "обычная"},
    Criticality.HIGH: {"en": "high", "ru": "высокая"},
    Criticality.CRITICAL: {"en": "critical", "ru": "критическая"},
}


def parse_criticality(value: object, *, field: str = "criticality") -> Criticality:
    """A criticality by its code or its English or Russian name (``high``, ``Высокая``)."""
    if isinstance(value, Criticality):
        return value
    text = str(value).strip().lower().replace("ё", "е")
    for crit, names in CRITICALITY_NAMES.items():
        if text in (crit.value, names["en"], names["ru"]):
            return crit
    known = ", ".join(f"{c.value} ({n['ru']})" for c, n in CRITICALITY_NAMES.items())
    raise InvalidInput(f"{field}: unknown criticality {value!r}; known: {known}", field=field)


class SlaStatus(StrEnum):
    """Derived on the fly from the deadlines and the clock; never stored."""

    NONE = "none"
    OK = "ok"
    AT_RISK = "at_risk"
    VIOLATED = "violated"


class WarehouseKind(StrEnum):
    """Central and regional warehouses hold stock for everyone; a van (автомобиль)
    belongs to one technician, who takes parts to the job in it."""

    CENTRAL = "central"
    REGIONAL = "regional"
    VAN = "van"


WAREHOUSE_KIND_NAMES: dict[WarehouseKind, dict[str, str]] = {
    WarehouseKind.CENTRAL: {"en": "central", "ru": "центральный"},
    WarehouseKind.REGIONAL: {"en": "regional", "ru": "региональный"},
    WarehouseKind.VAN: {"en": "van", "ru": "автомобиль"},
}


class MovementKind(StrEnum):
    """What a ledger row records.

    receipt: stock arrives at a warehouse (приход); transfer: from one warehouse to
    another (перемещение); write_off: used on an order (списание); return: comes back
    from an order (возврат); adjustment: an inventory count found more or less than the
    books say (корректировка, with a reason).
    """

    RECEIPT = "receipt"
    TRANSFER = "transfer"
    WRITE_OFF = "write_off"
    RETURN = "return"
    ADJUSTMENT = "adjustment"


MOVEMENT_NAMES: dict[MovementKind, dict[str, str]] = {
    MovementKind.RECEIPT: {"en": "receipt", "ru": "приход"},
    MovementKind.TRANSFER: {"en": "transfer", "ru": "перемещение"},
    MovementKind.WRITE_OFF: {"en": "write-off", "ru": "списание"},
    MovementKind.RETURN: {"en": "return", "ru": "возврат"},
    MovementKind.ADJUSTMENT: {"en": "adjustment", "ru": "корректировка"},
}
