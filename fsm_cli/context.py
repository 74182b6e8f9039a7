"""What every command shares: the database, the acting user, the language."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from fsm_core.db import Database
    from fsm_core.services.settings import CompanySettings


@dataclass
class CliState:
    db_url: str | None = None
    user: str | None = None
    lang: str | None = None
    _db: "Database | None" = field(default=None, repr=False)

    def database(self) -> "Database":
        if self._db is None:
            from fsm_core.db import open_database

            self._db = open_database(self.db_url)
        return self._db

    @property
    def actor(self) -> str:
        if self.user:
            return self.user
        from fsm_core.config import get_settings

        return get_settings().user

    @property
    def language(self) -> str:
        if self.lang:
            return self.lang
        from fsm_core.config import get_settings

        return get_settings().lang

    @contextmanager
    def transaction(self) -> Iterator["Session"]:
        with self.database().transaction() as session:
            yield session

    @contextmanager
    def reader(self) -> Iterator["Session"]:
        with self.database().reader() as session:
            yield session

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


STATE = CliState()


def company(session: "Session") -> "CompanySettings":
    from fsm_core.services import settings

    return settings.load(session)


def reset(**values: Any) -> CliState:
    """Start a command afresh (the CLI runner reuses the process between test invocations)."""
    STATE.close()
    for name in ("db_url", "user", "lang"):
        setattr(STATE, name, values.get(name))
    return STATE
