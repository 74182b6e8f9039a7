"""``fsm serve`` sends notifications by itself: the sender's task in the server's process
delivers what was queued, to an HTTP stand-in gateway, and stops with the server."""

import time

from sqlmodel import select

from fsm_core.models.customer import Notification
from fsm_core.services import settings
from tests.gps.conftest import FsmServer
from tests.notify_standin import Gateway


def test_the_server_delivers_what_is_queued(world, db_url, tmp_path) -> None:
    from tests.gps.conftest import start_fsm_server

    with Gateway() as gateway:
        with world.db.transaction() as s:
            settings.set_values(
                session=s,
                values={"notify_apprise_url": gateway.url(rto="2"), "notify_quiet_hours": ""},
            )
        orders = [world.order(contact_id=world.contact.id) for _ in range(5)]
        server: FsmServer
        with start_fsm_server(db_url, tmp_path / "serve.log") as server:
            deadline = time.monotonic() + 60
            while len(set(gateway.keys())) < 5 and time.monotonic() < deadline:
                time.sleep(0.1)
        with world.db.reader() as s:
            rows = list(s.exec(select(Notification)))
        assert {r.order_id for r in rows} == {o.id for o in orders}
        assert {r.state for r in rows} == {"sent"}
        assert sorted(gateway.keys()) == sorted(r.key for r in rows)  # each once
        assert "Traceback" not in server.stderr()
