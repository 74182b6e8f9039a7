"""order text index: the board's search finds a rare term without reading every order

The search matches a term anywhere in an order's number, description and external id
(case- and ё-insensitive), or in its customer's and object's names and address, which are
looked up in their own small tables. Until now that read all the orders: 190-255 ms at
100,000. This index finds them by trigrams, on the folded text (ё as е, case folded).

SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34 or later) that keeps only the
index (``content=''``), its row id the order's id, kept in step by triggers on ``orders``
written in plain SQL (ё and Ё replaced; the tokenizer folds case), so that any program
writing the file keeps it right. A later migration that rebuilds ``orders`` in batch mode
drops these triggers with the old table and must create them again (a test checks that
the newest schema has them).

PostgreSQL: GIN trigram indexes (pg_trgm) on ``translate(lower(column), 'ё', 'е')``, the
expression the search compares. Where the server does not offer pg_trgm the indexes are
left out: the search gives the same results, by reading the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# ё and Ё as е and Е; the trigram tokenizer folds the case
_SQLITE_FOLD = "replace(replace(coalesce({0}, ''), 'ё', 'е'), 'Ё', 'Е')"
_COLUMNS = ("number", "description", "external_id")


def _values(row: str) -> str:
    return ", ".join(_SQLITE_FOLD.format(f"{row}.{column}") for column in _COLUMNS)


_SQLITE_UP = [
    "CREATE VIRTUAL TABLE order_search USING fts5("
    "number, description, external_id, content='', tokenize='trigram')",
    "INSERT INTO order_search (rowid, number, description, external_id) "
    f"SELECT o.id, {_values('o')} FROM orders AS o",
    "CREATE TRIGGER order_search_insert AFTER INSERT ON orders BEGIN "
    "INSERT INTO order_search (rowid, number, description, external_id) "
    f"VALUES (new.id, {_values('new')}); END",
    "CREATE TRIGGER order_search_delete AFTER DELETE ON orders BEGIN "
    "INSERT INTO order_search (order_search, rowid, number, description, external_id) "
    f"VALUES ('delete', old.id, {_values('old')}); END",
    "CREATE TRIGGER order_search_update AFTER UPDATE OF id, number, description, external_id "
    "ON orders BEGIN "
    "INSERT INTO order_search (order_search, rowid, number, description, external_id) "
    f"VALUES ('delete', old.id, {_values('old')}); "
    "INSERT INTO order_search (rowid, number, description, external_id) "
    f"VALUES (new.id, {_values('new')}); END",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS order_search_update",
    "DROP TRIGGER IF EXISTS order_search_delete",
    "DROP TRIGGER IF EXISTS order_search_insert",
    "DROP TABLE IF EXISTS order_search",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        version = bind.exec_driver_sql("SELECT sqlite_version()").scalar() or "0"
        fts5 = bind.exec_driver_sql("SELECT sqlite_compileoption_used('ENABLE_FTS5')").scalar()
        if not fts5 or tuple(int(p) for p in version.split(".")[:2]) < (3, 34):
            return  # no trigram tokenizer in this SQLite: the search reads the table
        for statement in _SQLITE_UP:
            op.execute(statement)
        return
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
    ).scalar()
    if not available:
        return  # the search reads the table, as before
    try:
        with bind.begin_nested():  # a role that may not create it: go on without
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        return
    for column in _COLUMNS:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_orders_{column}_trgm ON orders "
            f"USING gin (translate(lower({column}), 'ё', 'е') gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
        return
    # the extension stays: other databases' objects, or the administrator's, may use it
    for column in _COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_orders_{column}_trgm")
