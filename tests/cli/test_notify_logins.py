"""Notifications under each person's own PostgreSQL login: the outbox row is written by
whoever's change causes it, within what their grants and row-level security allow — a
technician's move to "on the way", a customer's own request — and a dispatcher's login
sends them."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_db_logins import (  # noqa: F401 - the fixtures
    CUSTOMER,
    POSTGRES,
    TECHNICIAN_ORDER,
    People,
    cluster,
    granted,
    people,
)
from tests.cli_runner import invoke
from tests.notify_standin import MailServer


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_each_login_queues_what_its_change_causes_and_a_dispatcher_sends(
    people: People,  # noqa: F811
) -> None:
    cluster = people.cluster  # noqa: F811
    with MailServer() as mail:
        invoke(cluster.url, "settings", "set", "smtp_url", mail.url)
        invoke(cluster.url, "settings", "set", "notify_quiet_hours", "")
        with cluster.superuser() as conn:
            conn.execute(
                "UPDATE contact SET email = 'polina@bakery.example'"
                " WHERE full_name = 'Пекарева Полина Петровна'"
            )
            conn.execute(
                "UPDATE orders SET contact_id = (SELECT id FROM contact"
                " WHERE full_name = 'Пекарева Полина Петровна') WHERE number = %s",
                (TECHNICIAN_ORDER,),
            )
        # the technician's move writes the row (without a status link: they may not make one)
        invoke(people.url("technician"), "orders", "move", TECHNICIAN_ORDER, "en_route")
        assert cluster.one("SELECT count(*) FROM notification WHERE event = 'en_route'") == 1
        # the customer's own request (as the passport page makes it): the row, and the
        # status link it carries
        from fsm_core.db import open_database
        from fsm_core.services import orders

        contact = cluster.one("SELECT id FROM contact WHERE full_name = 'Пекарева Полина Петровна'")
        customer_db = open_database(people.url("customer"))
        try:
            with customer_db.transaction() as s:
                number = orders.create_order(
                    session=s,
                    data={
                        "customer_id": people.company_id,
                        "contact_id": contact,
                        "description": "Не работает печь",
                    },
                    actor="customer",
                ).number
        finally:
            customer_db.dispose()
        payload = cluster.one(
            "SELECT payload FROM notification n JOIN orders o ON o.id = n.order_id"
            " WHERE o.number = %s AND n.event = 'received'",
            number,
        )
        assert "/s/" in json.loads(payload)["status_url"]
        # neither may send or list them; a dispatcher's login sends both
        for role in ("technician", "customer"):
            refused = invoke(people.url(role), "notify", "run", "--once", code=1)
            assert "may not send" in refused.stderr
        sent = invoke(people.url("dispatcher"), "notify", "run", "--once", "--json")
        assert json.loads(sent.stdout)["sent"] == 2
        assert sorted(m["To"] for m in mail.messages) == ["polina@bakery.example"] * 2
