"""Process settings, read from the environment (prefix ``FSM_``).

Company-wide settings that every dispatcher must share (order number pattern, time zone,
company name) live in the database instead: see :mod:`fsm_core.services.settings`.
"""

from __future__ import annotations

import os
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
        description="who is acting: a user's login, name or short name "
        "(default: the company's default_user setting)",
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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'fsm.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
