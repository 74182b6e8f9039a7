"""Rules and vocabularies that live once: a second copy is how two front ends come to
disagree (issue: every rule in the core, once)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for pkg in ("fsm_core", "fsm_cli", "fsm_tui") for p in (ROOT / pkg).rglob("*.py")]


def where(pattern: str) -> list[str]:
    found = re.compile(pattern)
    return sorted(
        str(p.relative_to(ROOT)) for p in SOURCES if found.search(p.read_text(encoding="utf-8"))
    )


@pytest.mark.parametrize(
    ("what", "pattern", "home"),
    [
        ("the kopeck", r'KOPECK\s*=|quantize\(Decimal\("0\.01"\)', ["fsm_core/values.py"]),
        (
            "the rounding of amounts",
            r"\* self\.unit_price\)\.quantize|def line_amount",
            ["fsm_core/values.py"],
        ),
        ("weekday names", r'"(?:пн|Пн)", "(?:вт|Вт)"', ["fsm_core/i18n.py"]),
        ("the CLI's English-or-Russian", r"def _t\(en", []),
    ],
)
def test_defined_once(what, pattern, home):
    assert where(pattern) == home, what


def test_weekday_names():
    from fsm_core.i18n import weekday_name

    assert [weekday_name(i, "ru") for i in (0, 6)] == ["пн", "вс"]
    assert weekday_name(2, "ru", title=True) == "Ср"
    assert weekday_name(4, "en", title=True) == "Fri"


def test_a_ledger_line_rounds_its_amount_as_the_act_does():
    """The stock ledger rounded 0.025 ₽ half-to-even (0.02), the act half-up (0.03)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from fsm_core.services.stock_queries import LedgerLine
    from fsm_core.values import line_amount

    line = LedgerLine(
        1, datetime(2026, 12, 1, tzinfo=UTC), "receipt", 1, "X", "Шайба", "шт", None, "Склад",
        Decimal("0.5"), Decimal("0.05"), None, None, None, "t",
    )  # fmt: skip
    assert line.amount == line_amount(Decimal("0.5"), Decimal("0.05")) == Decimal("0.03")
