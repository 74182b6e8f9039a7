"""Alembic environment: runs on the connection the program hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import fsm_core.models
from fsm_core.migrations import include_name
from fsm_core.models.base import metadata

fsm_core.models.load_all()  # every table on the metadata, for autogenerate

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=False,
        include_name=include_name,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # the caller owns the transaction (and the schema lock taken in it): it commits
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Running `alembic` by hand: take the URL from the -x db=... argument.
    url = context.get_x_argument(as_dictionary=True).get("db")
    if not url:
        raise SystemExit("pass the database: alembic -x db=URL upgrade head, or use `fsm db`")
    engine = create_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; use `fsm db upgrade`")
run_migrations_online()
