"""What every command shares: the database, the acting user, the language."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from fsm_core.access import Principal
    from fsm_core.db import Database
    from fsm_core.models import AppUser
    from fsm_core.services.settings import CompanySettings


@dataclass
class CliState:
    db_url: str | None = None
    user: str | None = None
    lang: str | None = None
    command: str | None = None
    """the command being run (``orders move``), recorded in the audit trail"""
    _db: "Database | None" = field(default=None, repr=False)
    _user: "AppUser | None" = field(default=None, repr=False)
    _lang: str | None = field(default=None, repr=False)

    def database(self) -> "Database":
        if self._db is None:
            from fsm_core.db import open_database

            self._db = open_database(self.db_url, on_behalf_of=self.user)
        return self._db

    def principal(self) -> "Principal":
        """Who is acting: the user the connection's login or account is bound to, or, for
        an admin, the user --as / FSM_USER names (established by the core)."""
        return self.database().principal

    def app_user(self) -> "AppUser":
        """The acting user's record."""
        if self._user is None:
            from fsm_core.models import AppUser

            principal = self.principal()  # always a user's: the CLI establishes who acts
            with self.reader() as session:
                found = session.get(AppUser, principal.user_id)
            assert found is not None
            self._user = found
        return self._user

    @property
    def actor(self) -> str:
        """The acting user's name as the history records it ("A on behalf of B" when an
        admin acts for someone)."""
        return self.principal().history_name

    @property
    def language(self) -> str:
        """--lang, else FSM_LANG, else the company's language setting, else the locale."""
        if self.lang:
            return self.lang
        if self._lang is None:
            self._lang = self._company_language()
        return self._lang

    def known_language(self) -> str:
        """The language without asking the database (for reporting its failures)."""
        from fsm_core.config import explicit_lang, get_settings
        from fsm_core.errors import FsmError

        chosen = self.lang or self._lang or explicit_lang()
        if chosen:
            return chosen
        try:
            return get_settings().lang
        except FsmError:  # a setting that cannot be read is the failure being reported
            return "en"

    def _company_language(self) -> str:
        from fsm_core.config import explicit_lang, get_settings
        from fsm_core.errors import FsmError

        chosen = explicit_lang()
        if chosen:
            return chosen
        from sqlalchemy.exc import SQLAlchemyError

        from fsm_core.services.settings import language

        try:  # before `fsm init`, or on a database fsm cannot read: the locale
            with self.reader() as session:
                return language(session=session)
        except (FsmError, SQLAlchemyError, OSError):
            return get_settings().lang

    def label(self, key: str) -> str:
        """A shared label (fsm_core.i18n) in the user's language."""
        from fsm_core.i18n import label

        return label(key, self.language)

    @contextmanager
    def transaction(self) -> Iterator["Session"]:
        from fsm_core.audit import COMMAND

        with self.database().transaction() as session:
            session.info[COMMAND] = self.command
            yield session

    @contextmanager
    def reader(self) -> Iterator["Session"]:
        with self.database().reader() as session:
            yield session

    def close(self) -> None:
        self._user = None
        self._lang = None
        if self._db is not None:
            self._db.dispose()
            self._db = None


STATE = CliState()


def say(en: str, ru: str, *, ask_database: bool = True) -> str:
    """The text in the user's language (English or Russian): for the CLI's own words;
    the shared vocabulary is fsm_core.i18n's. ``ask_database=False``: without reading the
    company's language setting (a command whose --db may not exist, e.g. a restore)."""
    lang = STATE.language if ask_database else STATE.known_language()
    return ru if lang == "ru" else en


def company(session: "Session") -> "CompanySettings":
    from fsm_core.services import settings

    return settings.load(session=session)


def reset(**values: Any) -> CliState:
    """Start a command afresh (the CLI runner reuses the process between test invocations)."""
    STATE.close()
    for name in ("db_url", "user", "lang", "command"):
        setattr(STATE, name, values.get(name))
    return STATE
