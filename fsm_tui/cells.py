"""How an order's values read on screen: SLA time left, local times, one-line text.

The SLA wording is fsm_core.formatting's, the same as ``fsm orders list``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from rich.cells import cell_len, set_cell_size

from fsm_core.formatting import local_time
from fsm_core.i18n import criticality_name

SLA_CLASSES = ("ok", "at_risk", "violated", "none")


def when(value: datetime | None, tz: tzinfo, lang: str, now: datetime | None = None) -> str:
    """A local time, without the year when it is this year (as a board shows it)."""
    year = now.astimezone(tz).year if now is not None else None
    return local_time(value, tz, lang=lang, compact_year=year)


def full_time(value: datetime | None, tz: tzinfo, lang: str) -> str:
    return local_time(value, tz, lang=lang)


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def crit(code: str, lang: str) -> str:
    return criticality_name(code, lang)


def assignee(row: Mapping[str, Any]) -> str:
    return row.get("assignee") or row.get("crew") or ""
