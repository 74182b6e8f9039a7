"""The errors a user can cause. Each says what went wrong and where, in one line.

Front ends print ``str(error)`` and exit 1 (CLI) or show a notification (TUI);
nothing here is meant to be shown with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class FsmError(Exception):
    """Base of every error a user can cause or fix."""

    hint: str | None = None
    #: the message and hint in Russian, where the raiser gave them (else English is shown)
    message_ru: str | None = None
    hint_ru: str | None = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        ru: str | None = None,
        hint_ru: str | None = None,
    ) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint
        if ru is not None:
            self.message_ru = ru
        if hint_ru is not None:
            self.hint_ru = hint_ru

    @property
    def message(self) -> str:
        return str(self.args[0])

    def one_line(self, lang: str = "en") -> str:
        """The message and its hint, as the CLI prints them, in ``lang`` where the
        raiser said it in that language."""
        message, hint = self.message, self.hint
        if lang == "ru" and self.message_ru:
            message, hint = self.message_ru, self.hint_ru or self.hint
        text = " ".join(message.split())
        return f"{text} ({hint})" if hint else text


class InvalidInput(FsmError, ValueError):
    """A value the user typed or imported cannot be accepted.

    It is a ValueError too, so that pydantic validators that raise it report it against
    the field being validated.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        ru: str | None = None,
        hint_ru: str | None = None,
    ):
        super().__init__(message, hint=hint, ru=ru, hint_ru=hint_ru)
        self.field = field


class NotFound(FsmError):
    """A reference (customer, object, order, ...) matches nothing."""

    def __init__(self, kind: str, ref: object, *, hint: str | None = None) -> None:
        super().__init__(f"no {kind} matches {str(ref)!r}", hint=hint)
        self.kind = kind
        self.ref = ref


class Ambiguous(FsmError):
    """A reference matches several records; the message names them, and ``ids`` (when the
    caller knows them) lets a front end offer them as a choice."""

    def __init__(
        self,
        kind: str,
        ref: object,
        candidates: Iterable[str],
        *,
        ids: Iterable[int] = (),
    ) -> None:
        names = list(candidates)
        shown = "; ".join(names[:5]) + (f"; and {len(names) - 5} more" if len(names) > 5 else "")
        super().__init__(
            f"{kind} {str(ref)!r} is ambiguous: it matches {shown}",
            hint="use the external id or a more precise name",
        )
        self.kind = kind
        self.ref = ref
        self.candidates = names
        self.ids = list(ids)


class Duplicate(FsmError):
    """A record with the same unique key already exists."""


class TransitionNotAllowed(FsmError):
    """An order cannot move to the requested stage, or a guard refuses the move."""


class Conflict(FsmError):
    """The record changed since the user read it (optimistic locking)."""

    def __init__(
        self,
        what: str,
        *,
        expected_version: int | None,
        current_version: int,
        current: Mapping[str, Any] | None = None,
    ) -> None:
        seen = f"version {expected_version}" if expected_version is not None else "an older version"
        super().__init__(
            f"{what} was changed by someone else (you edited {seen}, it is now at version "
            f"{current_version}); nothing was saved",
            hint="reload it and apply your change again",
        )
        self.expected_version = expected_version
        self.current_version = current_version
        self.current = dict(current or {})


class SchemaOutOfDate(FsmError):
    """The database schema is behind (or ahead of) this version of the program."""


class DatabaseUnavailable(FsmError):
    """The database cannot be opened or reached."""


class InsufficientStock(FsmError):
    """A transfer, write-off or reservation would take more than a warehouse has free."""

    def __init__(
        self,
        message: str,
        *,
        item: str,
        warehouse: str,
        available: Any,
        requested: Any,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.item = item
        self.warehouse = warehouse
        self.available = available
        self.requested = requested
