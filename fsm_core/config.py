"""Process settings, read from the environment (prefix ``FSM_``).

Company-wide settings that every dispatcher must share (order number pattern, time zone,
company name) live in the database instead: see :mod:`fsm_core.services.settings`.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Lang = Literal["ru", "en"]
_LANGS: dict[str, Lang] = {"ru": "ru", "en": "en"}


def _default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("fsm", appauthor=False)


def _default_lang() -> Lang:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ru" if value.lower().startswith("ru") else "en"
    return "en"


def explicit_lang() -> Lang | None:
    """The language the user chose for this process (FSM_LANG), or None: then the
    company's ``company_language`` setting decides, and the locale only after it."""
    value = os.environ.get("FSM_LANG", "").strip().lower()
    return _LANGS.get(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FSM_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: an SQLite file in data_dir"
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    lang: Lang = Field(default_factory=_default_lang)
    user: str | None = Field(
        default=None,
        description="the user an admin acts on behalf of: a login, name or short name "
        "(default: the user the account or database login is bound to)",
    )
    date_window: str = Field(
        default="1970-2100",
        description="the years a date may fall in, first and last included "
        "(e.g. 1970-2100); a date outside them is refused wherever it is read",
    )
    write_wait: float = Field(
        default=60.0,
        gt=0,
        description="seconds an action waits for its turn to write to an SQLite database "
        "that another process is writing to, before it gives up (changing nothing)",
    )

    @field_validator("lang", mode="before")
    @classmethod
    def _blank_lang_is_the_locale(cls, value: object) -> object:
        """``FSM_LANG=`` (set but empty) means no choice, as if it were unset."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return _default_lang()
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("date_window")
    @classmethod
    def _a_window_of_years(cls, value: str) -> str:
        read_window(value)
        return value

    def date_years(self) -> tuple[int, int]:
        """The first and the last year a date may fall in (``date_window``)."""
        return read_window(self.date_window)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'fsm.db'}"


_WINDOW = re.compile(r"\s*(\d{1,4})\s*[-–]\s*(\d{1,4})\s*")
#: a window must leave a day of room on both sides of the calendar's ends, so that
#: moving a moment into UTC or to the next day can never overflow
_FIRST_YEAR, _LAST_YEAR = 2, 9998


@lru_cache(maxsize=16)  # every date read asks: an import reads hundreds of thousands
def read_window(value: str) -> tuple[int, int]:
    """``1970-2100`` as (1970, 2100); anything else raises ValueError saying why."""
    match = _WINDOW.fullmatch(value)
    if match is None:
        raise ValueError("give two years joined by '-', e.g. 1970-2100")
    first, last = int(match[1]), int(match[2])
    if first > last:
        raise ValueError("the first year is after the last")
    if first < _FIRST_YEAR or last > _LAST_YEAR:
        raise ValueError(f"the years must be from {_FIRST_YEAR} to {_LAST_YEAR}")
    return first, last


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; a value that cannot be read is refused in one
    line naming its variable (never pydantic's report)."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        from fsm_core.errors import InvalidInput

        problem = exc.errors()[0]
        name = f"FSM_{str(problem['loc'][0]).upper()}" if problem["loc"] else "FSM_*"
        reason = str(problem["msg"]).removeprefix("Value error, ")
        shown = problem.get("input")
        raise InvalidInput(
            f"{name}={str(shown)!r}: {reason}" if isinstance(shown, str) else f"{name}: {reason}",
            field=name,
        ) from None
