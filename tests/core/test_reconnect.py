"""The server drops every connection (a restart, ``pg_terminate_backend``): the next
action of a process that was working on it reconnects and succeeds."""

from __future__ import annotations

import psycopg
import pytest
from sqlmodel import func, select

from fsm_core.db import Database
from fsm_core.models import Order
from fsm_core.services import orders
from tests.conftest import World


def drop_every_connection(db: Database) -> int:
    """Terminate every connection to ``db``'s database (but the one that does it)."""
    args, params = db.engine.dialect.create_connect_args(db.engine.url)
    with psycopg.connect(*args, **params, autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


@pytest.mark.postgres
def test_the_first_action_after_the_connections_were_dropped_succeeds(pg_db):
    world = World(pg_db)
    with pg_db.reader() as s:  # the pool now holds a connection
        before = s.exec(select(func.count()).select_from(Order)).one()
    assert drop_every_connection(pg_db) >= 1
    with pg_db.transaction() as s:  # a dispatcher's next action
        order = orders.create_order(
            session=s,
            data={"customer_id": world.customer.id, "description": "После перезапуска"},
            actor="dispatcher",
        )
    assert drop_every_connection(pg_db) >= 1
    with pg_db.reader() as s:  # and a read
        assert s.exec(select(func.count()).select_from(Order)).one() == before + 1
        assert s.get(Order, order.id).description == "После перезапуска"
