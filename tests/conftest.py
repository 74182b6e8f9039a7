"""Shared fixtures: a fresh, migrated database per test on every back-end.

Every test that takes ``db`` runs on SQLite and, when ``FSM_TEST_DATABASE_URL`` points at
a PostgreSQL server, again on PostgreSQL. Each run gets its own database: a copy of a
template file (SQLite) or ``CREATE DATABASE ... TEMPLATE`` (PostgreSQL), both migrated once
per session with Alembic, and dropped afterwards.

A test that asks for ``with_demo`` (itself, or through a fixture that does) gets the demo
company in that database the same way: loaded into a template once per session and
back-end, copied for the test, which takes a fraction of the seconds loading it takes.

``FSM_TEST_REQUIRE_POSTGRES=1`` (set by CI) turns a missing server into an error, so the
PostgreSQL tests can never be skipped silently there.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fsm_core import clock
from fsm_core.db import Database

PG_URL = os.environ.get("FSM_TEST_DATABASE_URL") or None
REQUIRE_PG = os.environ.get("FSM_TEST_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# Thursday 26.11.2026 12:00 in Moscow: the tests' "now" unless a test moves it.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError(
            "FSM_TEST_REQUIRE_POSTGRES=1 but FSM_TEST_DATABASE_URL is not set: "
            "the PostgreSQL tests must run"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="FSM_TEST_DATABASE_URL is not set (no PostgreSQL server)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if "postgres" in getattr(report, "keywords", {}) and report.when in (
                "call",
                "setup",
            ):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] = counts.get(outcome, 0) + 1
    text = ", ".join(f"{n} {k}" for k, n in counts.items()) or "none ran"
    terminalreporter.write_line(f"PostgreSQL tests: {text}")


# --- SQLite ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


# --- PostgreSQL ------------------------------------------------------------------------


def _unsynced(url: Any) -> Any:
    """``url`` whose sessions commit without waiting for the server to flush its log to
    the disk (``synchronous_commit=off``, libpq's ``options``): a commit waited ~1 ms for
    the disk, and the PostgreSQL tests commit tens of thousands of times. Nothing a test
    can see changes: a commit is as atomic and as visible as before; only a crash of the
    server itself could lose the last ones, and no test crashes the server."""
    given = url.query.get("options", "")
    if "synchronous_commit" in given:
        return url
    return url.update_query_dict({"options": f"{given} -c synchronous_commit=off".strip()})


class PgServer:
    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = _unsynced(make_url(url).set(drivername="postgresql+psycopg"))
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.prefix = f"fsm_t{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def create(self, name: str, *, template: str | None = None) -> str:
        # the server's default way of copying: from PostgreSQL 15, WAL_LOG, which copies
        # the template's few MB through the write-ahead log. (STRATEGY FILE_COPY, asked for
        # until now, first checkpoints the whole server, flushing what every other test
        # wrote meanwhile: the tests' setup took ~12% longer with it.)
        suffix = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url_of(name)

    def drop(self, name: str) -> None:
        """Drop the database, then its group roles (roles are the server's, not the
        database's: the migrations create ``fsm_<database>_<role>``)."""
        from fsm_core.pg_access import drop_group_roles

        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with self.admin.connect() as conn:
            drop_group_roles(conn.connection.driver_connection, name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if not PG_URL:
        pytest.skip("FSM_TEST_DATABASE_URL is not set (no PostgreSQL server)")
    server = PgServer(PG_URL)
    url = server.create(server.template)
    database = Database(url)
    database.upgrade()
    database.dispose()
    try:
        yield server
    finally:
        server.drop(server.template)
        server.admin.dispose()


def fresh_pg(server: PgServer, template: str | None = None) -> tuple[str, str]:
    """A new database cloned from ``template`` (the migrated one by default): name, URL."""
    name = f"{server.prefix}_{uuid.uuid4().hex[:8]}"
    return name, server.create(name, template=template or server.template)


# --- the demo company, loaded once ----------------------------------------------------


def load_demo_into(url: str) -> None:
    """The demo company as ``fsm demo`` loads it, at the tests' frozen "now"."""
    from fsm_core.demo import load_demo

    database = Database(url)
    try:
        with clock.frozen(NOW), database.transaction() as session:
            load_demo(session=session)
        if database.is_sqlite:
            with database.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company in an SQLite file; tests get copies of it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    load_demo_into(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_demo_template(pg_server: PgServer) -> Iterator[str]:
    """The demo company in a PostgreSQL database that tests clone."""
    name = f"{pg_server.prefix}_demo"
    load_demo_into(pg_server.create(name, template=pg_server.template))
    try:
        yield name
    finally:
        pg_server.drop(name)


@pytest.fixture
def with_demo() -> None:
    """Ask for it and ``db_url`` (so ``db`` too) holds the demo company."""


# --- the fixture tests use -------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database, on each back-end in turn; with the demo
    company in it when the test asks for ``with_demo``."""
    demo = "with_demo" in request.fixturenames
    if request.param == "sqlite":
        target = tmp_path / "fsm.db"
        template = "demo_template" if demo else "sqlite_template"
        shutil.copyfile(request.getfixturevalue(template), target)
        yield f"sqlite:///{target}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name, url = fresh_pg(server, request.getfixturevalue("pg_demo_template") if demo else None)
    try:
        yield url
    finally:
        server.drop(name)


@pytest.fixture
def twin_url(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second database on ``db_url``'s back-end, with the demo company as ``db_url``
    has it (for tests that do the same thing two ways and compare)."""
    if db_url.startswith("sqlite"):
        target = tmp_path / "twin.db"
        shutil.copyfile(request.getfixturevalue("demo_template"), target)
        yield f"sqlite:///{target}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name, url = fresh_pg(server, request.getfixturevalue("pg_demo_template"))
    try:
        yield url
    finally:
        server.drop(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def pg_db(pg_server: PgServer) -> Iterator[Database]:
    """A fresh PostgreSQL database only (concurrency tests)."""
    name, url = fresh_pg(pg_server)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        pg_server.drop(name)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


# --- small factories -------------------------------------------------------------------


class World:
    """A customer with an object, two technicians and a crew: enough for most tests."""

    def __init__(self, db: Database) -> None:
        from fsm_core.services import objects, parties

        with db.transaction() as s:
            self.customer = parties.create_company(
                session=s, data={"name": "ООО «СМ-Трейд»", "inn": "7801234564"}
            )
            self.other_customer = parties.create_company(
                session=s, data={"name": "АО «Петербургская топливная компания»"}
            )
            self.site = objects.create_object(
                session=s,
                data={
                    "customer_id": self.customer.id,
                    "name": "Магазин на Невском",
                    "kind": "site",
                    "address": "Санкт-Петербург, Невский пр., 114",
                    "latitude": 59.931172,
                    "longitude": 30.360891,
                },
            )
            self.ac = objects.create_object(
                session=s,
                data={
                    "customer_id": self.customer.id,
                    "parent_id": self.site.id,
                    "name": "Кондиционер Daikin FTXB35C",
                    "kind": "air conditioner",
                    "inventory_number": "СМТ-000114",
                },
            )
            self.foreign_object = objects.create_object(
                session=s,
                data={"customer_id": self.other_customer.id, "name": "АЗС № 12"},
            )
            self.contact = parties.create_contact(
                session=s,
                data={
                    "company_id": self.customer.id,
                    "full_name": "Смирнова Ольга Викторовна",
                    "phone": "+7 921 345-67-01",
                },
            )
            self.ivanov = parties.create_employee(
                session=s,
                data={"full_name": "Иванов Кирилл Петрович", "hourly_rate": "1 750"},
            )
            self.petrov = parties.create_employee(
                session=s, data={"full_name": "Петров Алексей Сергеевич"}
            )
            self.crew = parties.create_crew(
                session=s, data={"name": "Бригада «Холод»", "member_ids": [self.ivanov.id]}
            )
        self.db = db

    def order(self, **fields: Any) -> Any:
        from fsm_core.services import orders

        data = {"customer_id": self.customer.id, "description": "Течёт вода из блока"}
        data.update(fields)
        with self.db.transaction() as s:
            return orders.create_order(session=s, data=data, actor="tester")


@pytest.fixture
def world(db: Database) -> World:
    return World(db)
