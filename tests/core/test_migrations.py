"""The schema is owned by the migrations: they build it, and they agree with the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from fsm_core import migrations
from fsm_core.db import Database
from fsm_core.errors import SchemaOutOfDate
from fsm_core.models import load_all, metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"{server.prefix}_empty"
    url = server.create(name)
    try:
        yield url
    finally:
        server.drop(name)


def test_upgrade_builds_the_schema_the_models_describe(empty_url):
    database = Database(empty_url)
    try:
        assert database.current_revision() is None
        before, after = database.upgrade()
        assert (before, after) == (None, migrations.HEAD)
        with database.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_name": migrations.include_name,
                },
            )
            load_all()
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        with database.engine.connect() as conn:
            stages = conn.execute(text("SELECT count(*) FROM stage")).scalar()
            transitions = conn.execute(text("SELECT count(*) FROM stage_transition")).scalar()
            policies = conn.execute(text("SELECT count(*) FROM sla_policy")).scalar()
        assert (stages, transitions, policies) == (8, 24, 4)
    finally:
        database.dispose()


def test_downgrade_to_base_and_back(empty_url):
    from alembic import command

    database = Database(empty_url)
    try:
        database.upgrade()
        with database.engine.connect() as conn:
            command.downgrade(migrations.alembic_config(conn), "base")
            conn.commit()
        with database.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        database.upgrade()
        assert database.current_revision() == migrations.HEAD
    finally:
        database.dispose()


def test_0006_splits_the_manual_flag_per_deadline_and_keeps_the_deadlines(empty_url):
    """An order that had one "manual" flag keeps every stored deadline; only a deadline it
    really had counts as typed in (an import that gave only Срок left the reaction empty,
    which is the policy's to fill)."""
    database = Database(empty_url)
    try:
        database.upgrade("0004")
        with database.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO company (id, name, created_at) VALUES (1, 'A', :t)"),
                {"t": "2026-11-26 09:00:00+00:00"},
            )
            for number, manual, reaction, resolution in (
                ("O-1", True, None, "2026-11-30 20:59:00+00:00"),
                ("O-2", True, "2026-11-26 10:00:00+00:00", "2026-11-30 20:59:00+00:00"),
                ("O-3", False, "2026-11-26 10:00:00+00:00", "2026-11-26 17:00:00+00:00"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO orders (number, customer_id, description, criticality, "
                        "stage_code, reaction_due, resolution_due, sla_manual, created_at, "
                        "updated_at, source, created_by, version) VALUES (:n, 1, 'x', 'high', "
                        "'new', :r, :d, :m, :t, :t, 'import', 't', 1)"
                    ),
                    {"n": number, "m": manual, "r": reaction, "d": resolution, "t": "2026-11-26"},
                )
        database.upgrade()
        with database.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT number, reaction_manual, resolution_manual, reaction_due IS NULL, "
                    "resolution_due IS NULL FROM orders ORDER BY number"
                )
            ).all()
            calendars = conn.execute(text("SELECT DISTINCT calendar FROM sla_policy")).all()
        assert [(n, bool(a), bool(b), bool(c), bool(d)) for n, a, b, c, d in rows] == [
            ("O-1", False, True, True, False),
            ("O-2", True, True, False, False),
            ("O-3", False, False, False, False),
        ]
        assert calendars == [("24/7",)]
    finally:
        database.dispose()


def test_the_newest_schema_keeps_the_order_text_index(empty_url):
    """Migration 0008's triggers live on ``orders``: a later migration that rebuilds the
    table (SQLite's batch mode) drops them, and must create them again."""
    database = Database(empty_url)
    try:
        database.upgrade()
        with database.engine.connect() as conn:
            if database.is_sqlite:
                found = conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE tbl_name = 'orders' "
                        "AND type = 'trigger' ORDER BY name"
                    )
                ).scalars()
                assert list(found) == [
                    "order_search_delete",
                    "order_search_insert",
                    "order_search_update",
                ]
            else:
                found = conn.execute(
                    text(
                        "SELECT indexname FROM pg_indexes WHERE tablename = 'orders' "
                        "AND indexname LIKE '%_trgm' ORDER BY indexname"
                    )
                ).scalars()
                assert list(found) == [
                    "ix_orders_description_trgm",
                    "ix_orders_external_id_trgm",
                    "ix_orders_number_trgm",
                ]
    finally:
        database.dispose()


def test_0017_counts_the_finished_orders_from_an_index_of_their_moment_and_stage(empty_url):
    """0017 replaces ``ix_orders_resolved_at`` with (resolved_at, stage_code), keeping the
    orders; its downgrade puts the old index back."""

    def indexes(database: Database) -> dict[str, list[str]]:
        with database.engine.connect() as conn:
            return {
                i["name"]: list(i["column_names"])
                for i in inspect(conn).get_indexes("orders")
                if i["name"] in ("ix_orders_resolved_at", "ix_orders_resolved_stage")
            }

    from alembic import command

    database = Database(empty_url)
    try:
        database.upgrade("0016")
        assert indexes(database) == {"ix_orders_resolved_at": ["resolved_at"]}
        with database.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO company (id, name, created_at) VALUES (1, 'A', :t)"),
                {"t": "2026-11-26 09:00:00+00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO orders (number, customer_id, description, criticality, "
                    "stage_code, resolved_at, created_at, updated_at, source, created_by, "
                    "version) VALUES ('O-1', 1, 'x', 'high', 'done', :t, :t, :t, 'manual', "
                    "'t', 1)"
                ),
                {"t": "2026-11-26 10:00:00+00:00"},
            )
        database.upgrade()
        assert indexes(database) == {"ix_orders_resolved_stage": ["resolved_at", "stage_code"]}
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT number FROM orders")).scalars().all() == ["O-1"]
            command.downgrade(migrations.alembic_config(conn), "0016")
            conn.commit()
        assert indexes(database) == {"ix_orders_resolved_at": ["resolved_at"]}
    finally:
        database.dispose()


def test_head_constant_matches_the_newest_migration():
    assert migrations.script_directory().get_current_head() == migrations.HEAD


def test_an_empty_database_is_created_on_first_use(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'fsm.db'}")
    with database.reader() as session:
        assert session.execute(text("SELECT count(*) FROM orders")).scalar() == 0
    assert (tmp_path / "sub" / "dir" / "fsm.db").exists()
    database.dispose()


def test_an_older_schema_is_refused_with_the_command_to_run(db, monkeypatch):
    db.upgrade()
    current = migrations.HEAD
    monkeypatch.setattr(migrations, "HEAD", "0999")
    fresh = Database(db.url)
    with pytest.raises(SchemaOutOfDate) as err, fresh.reader():
        pass
    fresh.dispose()
    assert err.value.one_line() == (
        f"the database is at schema revision {current}, this fsm needs 0999 "
        "(back it up, then run `fsm db upgrade`)"
    )


def test_a_schema_from_a_newer_fsm_is_refused(db):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutOfDate, match="newer version"), Database(db.url).reader():
        pass


def test_a_foreign_database_is_not_touched(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'other.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaOutOfDate, match="no fsm schema version"), database.reader():
        pass
    with database.engine.connect() as conn:
        assert inspect(conn).get_table_names() == ["invoices"]
    database.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'fsm.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    database.dispose()
