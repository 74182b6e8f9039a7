"""order text index caught up after an import: its orders are indexed outside its lock

SQLite only, where migration 0008 built the FTS5 table ``order_search``. A table of id
ranges not yet indexed, ``order_search_pending (lo, hi)``, and the three triggers of 0008
made to leave those ids alone: a large import's publishing transaction notes the ids it
adds there and indexes them after its commit, in short transactions (see
fsm_core/search_index.py), so that other writers do not wait for the index. The search
reads the orders of pending ranges itself.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FOLD = "replace(replace(coalesce({0}, ''), 'ё', 'е'), 'Ё', 'Е')"
_COLUMNS = ("number", "description", "external_id")
_NAMES = "rowid, number, description, external_id"
_DELETE_NAMES = "order_search, rowid, number, description, external_id"


def _values(row: str) -> str:
    return ", ".join(_FOLD.format(f"{row}.{column}") for column in _COLUMNS)


def _indexed(row: str) -> str:
    return (
        f"NOT EXISTS (SELECT 1 FROM order_search_pending AS p WHERE {row}.id BETWEEN p.lo AND p.hi)"
    )


_DROP = [
    "DROP TRIGGER IF EXISTS order_search_update",
    "DROP TRIGGER IF EXISTS order_search_delete",
    "DROP TRIGGER IF EXISTS order_search_insert",
]

_UP = [
    "CREATE TABLE order_search_pending (lo INTEGER NOT NULL, hi INTEGER NOT NULL)",
    *_DROP,
    f"CREATE TRIGGER order_search_insert AFTER INSERT ON orders WHEN {_indexed('new')} BEGIN "
    f"INSERT INTO order_search ({_NAMES}) VALUES (new.id, {_values('new')}); END",
    f"CREATE TRIGGER order_search_delete AFTER DELETE ON orders WHEN {_indexed('old')} BEGIN "
    f"INSERT INTO order_search ({_DELETE_NAMES}) VALUES ('delete', old.id, {_values('old')}); END",
    "CREATE TRIGGER order_search_update AFTER UPDATE OF id, number, description, external_id "
    "ON orders BEGIN "
    f"INSERT INTO order_search ({_DELETE_NAMES}) SELECT 'delete', old.id, {_values('old')} "
    f"WHERE {_indexed('old')}; "
    f"INSERT INTO order_search ({_NAMES}) SELECT new.id, {_values('new')} "
    f"WHERE {_indexed('new')}; END",
]

# 0008's triggers, for the way down (the pending ids are indexed first)
_DOWN = [
    f"INSERT INTO order_search ({_NAMES}) SELECT o.id, {_values('o')} FROM orders AS o "
    "WHERE EXISTS (SELECT 1 FROM order_search_pending AS p WHERE o.id BETWEEN p.lo AND p.hi)",
    "DROP TABLE order_search_pending",
    *_DROP,
    f"CREATE TRIGGER order_search_insert AFTER INSERT ON orders BEGIN "
    f"INSERT INTO order_search ({_NAMES}) VALUES (new.id, {_values('new')}); END",
    f"CREATE TRIGGER order_search_delete AFTER DELETE ON orders BEGIN "
    f"INSERT INTO order_search ({_DELETE_NAMES}) VALUES ('delete', old.id, {_values('old')}); END",
    "CREATE TRIGGER order_search_update AFTER UPDATE OF id, number, description, external_id "
    "ON orders BEGIN "
    f"INSERT INTO order_search ({_DELETE_NAMES}) VALUES ('delete', old.id, {_values('old')}); "
    f"INSERT INTO order_search ({_NAMES}) VALUES (new.id, {_values('new')}); END",
]


def _has_index() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    return bool(
        bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'order_search'"
        ).scalar()
    )


def upgrade() -> None:
    if not _has_index():
        return  # PostgreSQL, or an SQLite without the trigram tokenizer: nothing to defer
    for statement in _UP:
        op.execute(statement)


def downgrade() -> None:
    if not _has_index():
        return
    for statement in _DOWN:
        op.execute(statement)
