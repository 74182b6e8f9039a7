"""The one source of "now" in the core, timezone-aware and in UTC.

Tests and data loaders freeze it with :func:`frozen`; services never call
``datetime.now()`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("fsm_frozen_now", default=None)


def now() -> datetime:
    """The current time in UTC (or the frozen time inside :func:`frozen`)."""
    value = _frozen.get()
    return value if value is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Make :func:`now` return ``at`` (must be timezone-aware) inside the block."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    token = _frozen.set(at.astimezone(UTC))
    try:
        yield at
    finally:
        _frozen.reset(token)
