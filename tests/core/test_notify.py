"""Notifications to a customer's contact: the outbox written with the change that caused
it, and the sender that delivers it — to a real SMTP server (aiosmtpd) and to an HTTP
stand-in for an Apprise ``json://`` gateway that fails on purpose."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import trustme
from sqlmodel import select

from fsm_core import clock
from fsm_core.models import Order
from fsm_core.models.customer import Notification
from fsm_core.services import notify, orders, parties, settings
from fsm_core.services.notify import channels, sender, templates
from fsm_core.services.notify.channels import Outgoing, Transient
from fsm_core.services.planning import commands as planning
from tests.conftest import NOW
from tests.notify_standin import Gateway, MailServer

ROOT = Path(__file__).resolve().parents[2]


def _configure(db, world, *, mail=None, gateway=None, rto="2", **more):
    values = {
        "passport_base_url": "https://svc.example.ru/p",
        "company_name": "ООО «Сервис»",
        "notify_from": "noreply@svc.example.ru",
        "smtp_url": mail.url if mail else "",
        "notify_apprise_url": gateway.url(rto=rto, cto="2") if gateway else "",
        **more,
    }
    with db.transaction() as s:
        settings.set_values(session=s, values=values)
        parties.update_contact(
            session=s, contact_id=world.contact.id, data={"email": "olga@example.ru"}
        )


def _rows(db, **where):
    query = select(Notification)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    with db.reader() as s:
        return list(s.exec(query.order_by(Notification.id)))


def _order(world, **fields):
    return world.order(contact_id=world.contact.id, **fields)


# --- the outbox ----------------------------------------------------------------------


def test_a_rolled_back_change_queues_nothing_a_committed_one_queues_its_rows(db, world):
    gateway = Gateway()
    _configure(db, world, gateway=gateway, mail=MailServer())

    def fail_after_writing():
        with db.transaction() as s:
            orders.create_order(
                session=s,
                data={
                    "customer_id": world.customer.id,
                    "contact_id": world.contact.id,
                    "description": "Не холодит",
                },
                actor="t",
            )
            assert len(s.exec(select(Notification)).all()) == 2  # written, in this transaction
            raise RuntimeError("the change fails after the order was written")

    with pytest.raises(RuntimeError):
        fail_after_writing()
    assert _rows(db) == []
    order = _order(world)
    rows = _rows(db)
    assert [(r.order_id, r.event, r.channel, r.state) for r in rows] == [
        (order.id, "received", "email", "pending"),
        (order.id, "received", "apprise", "pending"),
    ]
    by_channel = {r.channel: r for r in rows}
    assert by_channel["email"].recipient == "olga@example.ru"
    assert by_channel["apprise"].recipient.replace(" ", "").endswith("9213456701")
    payload = json.loads(by_channel["email"].payload)
    assert payload["number"] == order.number
    assert payload["status_url"].startswith("https://svc.example.ru/s/")


def test_queuing_a_notification_changes_the_order_once_per_move(db, world):
    """The outbox is written beside the move, not by flushing the order halfway through
    it: a second UPDATE would count as a second change (its version), and a dispatcher
    editing the order meanwhile would be told someone else changed it twice."""
    _configure(db, world, smtp_url="smtp://127.0.0.1:2525")  # queued, never sent here
    order = _order(world, assignee_id=world.ivanov.id)
    versions = [order.version]
    for minutes, stage in enumerate(("en_route", "in_progress", "done"), start=1):
        with clock.frozen(NOW + timedelta(minutes=minutes)), db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage=stage, actor="t")
        with db.reader() as s:
            versions.append(s.get(Order, order.id).version)
    assert versions == [1, 2, 3, 4]
    assert {r.event for r in _rows(db, order_id=order.id)} >= {"en_route", "done"}


def test_each_event_is_queued_once_per_occurrence(db, world):
    _configure(db, world, mail=MailServer())
    order = _order(world, assignee_id=world.ivanov.id)
    start = NOW + timedelta(hours=3)
    with db.transaction() as s:
        visit = planning.add_visit(
            session=s, order_id=order.id, start=start, employee_id=world.ivanov.id, actor="t"
        )
    with db.transaction() as s:  # to another technician at the same time: nothing new
        planning.move_visit(session=s, visit_id=visit.id, employee_id=world.petrov.id, actor="t")
    with db.transaction() as s:  # the same event written twice: one row
        again = s.get(type(visit), visit.id)
        assert notify.visit_planned(session=s, visit=again) == 0
    assert [r.event for r in _rows(db)] == ["received", "planned"]
    with db.transaction() as s:  # another time: the customer is told again
        planning.move_visit(
            session=s, visit_id=visit.id, start=start + timedelta(hours=1), actor="t"
        )
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
    with db.transaction() as s:  # back and on the way again to the same visit: once
        orders.move_order(session=s, order_id=order.id, stage="assigned", actor="t")
        orders.move_order(session=s, order_id=order.id, stage="en_route", actor="t")
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
        orders.move_order(session=s, order_id=order.id, stage="done", actor="t")
    rows = _rows(db)
    assert [r.event for r in rows] == ["received", "planned", "planned", "en_route", "done"]
    assert len({r.key for r in rows}) == len(rows)
    planned = json.loads(rows[2].payload)
    assert (planned["date"], planned["window"]) == ("26.11.2026", "16:00–18:00")  # Moscow
    en_route = json.loads(rows[3].payload)
    assert en_route["technician"] == "Петров А. С."
    assert en_route["eta_time"] == "16:00"


def test_an_opted_out_contact_or_no_contact_or_no_channel_gets_nothing(db, world):
    _order(world)
    assert _rows(db) == []  # no mail server, no gateway: nothing to send through
    _configure(db, world, mail=MailServer())
    world.order()  # no contact
    assert _rows(db) == []
    queued = _order(world)
    assert [r.order_id for r in _rows(db)] == [queued.id]
    with db.transaction() as s:
        contact = notify.set_opt_out(session=s, contact_id=world.contact.id)
        assert contact.notify_opt_out
    assert _rows(db) == []  # what was queued and not sent goes with the opt-out
    _order(world)
    assert _rows(db) == []
    with db.transaction() as s:
        notify.set_opt_out(session=s, contact_id=world.contact.id, opt_out=False)
    _order(world)
    assert len(_rows(db)) == 1


# --- quiet hours -------------------------------------------------------------------------


def test_quiet_hours_span_midnight_and_end_in_the_company_zone():
    from zoneinfo import ZoneInfo

    msk = ZoneInfo("Europe/Moscow")
    at = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # 22:30 in Moscow
    assert sender.quiet_until(at, "21:00-09:00", msk) == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    early = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 06:00 in Moscow
    assert sender.quiet_until(early, "21:00-09:00", msk) == datetime(2026, 11, 26, 6, tzinfo=UTC)
    assert sender.quiet_until(NOW, "21:00-09:00", msk) is None  # 12:00
    assert sender.quiet_until(NOW, "", msk) is None
    assert sender.quiet_until(NOW, "12:00-13:00", msk) == datetime(2026, 11, 26, 10, tzinfo=UTC)


def test_nothing_is_sent_in_quiet_hours_rows_wait_until_they_end(db, world):
    with Gateway() as gateway:
        _configure(db, world, gateway=gateway)
        _order(world)
        night = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # 22:30 in Moscow
        report = notify.deliver(db, now=night)
        assert report.claimed == 0
        assert report.quiet_until == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        assert gateway.calls == 0
        assert _rows(db)[0].state == "pending"
        report = notify.deliver(db, now=report.quiet_until)
        assert (report.claimed, report.sent) == (1, 1)
        assert gateway.keys() == [_rows(db)[0].key]


# --- retries and the dead letters ---------------------------------------------------------


def test_a_failing_gateway_is_retried_with_backoff_then_the_row_fails(db, world):
    with Gateway(down=True) as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        _order(world)
        at = NOW
        expected = [timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
        for wait in expected:
            report = notify.deliver(db, now=at)
            assert (report.claimed, report.retried) == (1, 1)
            (row,) = _rows(db)
            assert row.next_attempt_at == at + wait
            assert "500" in (row.last_error or "")
            assert notify.deliver(db, now=at + wait - timedelta(seconds=1)).claimed == 0
            at += wait
        report = notify.deliver(db, now=at)
        assert (report.claimed, report.failed) == (1, 1)
        (row,) = _rows(db)
        assert (row.state, row.attempts) == ("failed", 6)
        assert gateway.calls == 6
        with db.reader() as s:
            assert notify.failed_count(session=s) == 1
            assert [v.id for v in notify.list_notifications(session=s, state="failed")] == [row.id]
        assert notify.deliver(db, now=at + timedelta(days=3)).claimed == 0  # dead: not retried
        gateway.down = False
        with db.transaction() as s:
            assert notify.retry(session=s, notification_id=row.id) == 1
        report = notify.deliver(db, now=NOW + timedelta(days=3))
        assert report.sent == 1
        (row,) = _rows(db)
        assert row.state == "sent"
        assert gateway.keys() == [row.key]
        with db.reader() as s:
            assert notify.failed_count(session=s) == 0


def test_retry_refuses_a_notification_that_did_not_fail(db, world):
    _configure(db, world, mail=MailServer())
    _order(world)
    (row,) = _rows(db)
    from fsm_core.errors import InvalidInput, NotFound

    with db.transaction() as s, pytest.raises(InvalidInput, match="pending, not failed"):
        notify.retry(session=s, notification_id=row.id)
    with db.transaction() as s, pytest.raises(NotFound):
        notify.retry(session=s, notification_id=row.id + 100)
    with db.transaction() as s:
        assert notify.retry(session=s, all_failed=True) == 0


def _drain(db, *, start=NOW, passes=40, **kw):
    """Passes of the sender, each when the earliest retry falls due, until nothing is left."""
    at = start
    for _ in range(passes):
        notify.deliver_all(db, now=at, **kw)
        with db.reader() as s:
            waiting = s.exec(
                select(Notification.next_attempt_at)
                .where(Notification.state == "pending")
                .order_by(Notification.next_attempt_at)
            ).first()
        if waiting is None:
            return
        at = max(at, waiting)
    raise AssertionError("the outbox did not drain")


def test_thirty_percent_transient_failures_lose_nothing_and_double_nothing(db, world):
    # 20 % of the calls answer 500, 10 % hang past the client's patience
    with Gateway(fail_share=0.2, hang_share=0.1, hang=1.0) as gateway:
        _configure(db, world, gateway=gateway, rto="0.3", notify_quiet_hours="")
        for _ in range(40):
            _order(world)
        _drain(db, workers=8)
        rows = _rows(db)
        assert {r.state for r in rows} == {"sent"}, [
            (r.attempts, r.last_error) for r in rows if r.state != "sent"
        ]
        assert gateway.failures > 0
        assert gateway.hangs > 0
        assert any(r.attempts > 1 for r in rows)
        keys = gateway.keys()
        assert sorted(keys) == sorted(r.key for r in rows)  # each once: none lost or doubled
        assert all(a.header_key == a.key for a in gateway.accepted)
        assert all(a.path.startswith("/sms/+7") for a in gateway.accepted)


def test_two_senders_at_once_send_each_message_once(db, world):
    with Gateway(delay=0.01) as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        for _ in range(30):
            _order(world)
        reports = []

        def run():
            reports.append(notify.deliver_all(db, now=NOW, limit=5, workers=3))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r.sent for r in reports) == 30
        assert Counter(gateway.keys()).most_common(1)[0][1] == 1
        assert len(gateway.keys()) == 30


# --- e-mail ------------------------------------------------------------------------------


def test_an_email_arrives_with_its_key_as_message_id(db, world):
    with MailServer() as mail:
        _configure(db, world, mail=mail)
        order = _order(world, assignee_id=world.ivanov.id)
        with db.transaction() as s:
            orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
            orders.move_order(session=s, order_id=order.id, stage="done", actor="t")
        report = notify.deliver(db, now=NOW)
        assert report.sent == 2
        rows = _rows(db)
        assert len(mail.messages) == 2
        by_subject = {m["Subject"]: m for m in mail.messages}
        received = by_subject[f"Заявка {order.number} принята"]
        done = by_subject[f"Заявка {order.number} выполнена"]
        assert received["Message-ID"] == f"<{rows[0].key}@svc.example.ru>"
        assert done["X-Idempotency-Key"] == rows[1].key
        assert received["To"] == "olga@example.ru"
        assert "noreply@svc.example.ru" in received["From"]
        body = done.get_content()
        link = json.loads(rows[1].payload)["status_url"]
        assert link in body
        assert "оценка" in body.lower()
        assert "ООО «Сервис»" in body
        assert mail.envelopes[0] == ("noreply@svc.example.ru", ["olga@example.ru"])


def test_an_unreachable_mail_server_is_a_retry_not_a_crash(db, world):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens here once closed
    _configure(db, world, smtp_url=f"smtp://127.0.0.1:{port}", notify_quiet_hours="")
    _order(world)
    report = notify.deliver(db, now=NOW)
    assert (report.claimed, report.retried) == (1, 1)
    (row,) = _rows(db)
    assert row.state == "pending"
    assert "127.0.0.1" in row.last_error


def test_an_admin_template_replaces_the_built_in_one(db, world, tmp_path):
    (tmp_path / "received.ru.txt").write_text(
        "Приняли $number\nСпасибо, $name. Номер: ${number}. $unknown$status_url\n", "utf-8"
    )
    (tmp_path / "planned.ru.txt").write_text("Сломанный $\nшаблон\n", "utf-8")
    with MailServer() as mail:
        _configure(db, world, mail=mail, notify_templates=str(tmp_path), notify_quiet_hours="")
        order = _order(world, assignee_id=world.ivanov.id)
        with db.transaction() as s:
            planning.add_visit(
                session=s,
                order_id=order.id,
                start=NOW + timedelta(hours=2),
                employee_id=world.ivanov.id,
                actor="t",
            )
        report = notify.deliver(db, now=NOW)
        assert (report.sent, report.retried) == (1, 1)
        (message,) = mail.messages
        assert message["Subject"] == f"Приняли {order.number}"
        assert message.get_content().startswith(
            f"Спасибо, Смирнова Ольга Викторовна. Номер: {order.number}. https://"
        )
        broken = _rows(db, event="planned")[0]
        assert "planned.ru" in broken.last_error


def test_built_in_templates_speak_both_languages():
    payload = {"number": "26-0007", "name": "Ольга", "status_url": "https://x/s/t"}
    for event in ("received", "planned", "en_route", "done"):
        for locale in ("ru", "en"):
            text = templates.render(event, locale, payload)
            assert "26-0007" in text.subject
            assert "https://x/s/t" in text.body
            assert "$" not in text.subject + text.body
    assert templates.render("done", "en", payload).subject == "Request 26-0007 done"


# --- a sender killed mid-batch ------------------------------------------------------------

_SENDER = """
import sys
from datetime import datetime
sys.path.insert(0, {root!r})
from fsm_core.db import Database
from fsm_core.services.notify import sender
sender.deliver(Database({url!r}), now=datetime.fromisoformat({now!r}), workers=2)
"""


def test_a_sender_killed_mid_batch_resends_only_what_was_not_confirmed(db, db_url, world):
    with Gateway(delay=0.05) as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        for _ in range(60):
            _order(world)
        script = _SENDER.format(root=str(ROOT), url=db_url, now=NOW.isoformat())
        child = subprocess.Popen(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        deadline = time.monotonic() + 60
        while len(_rows(db, state="sent")) < 10:
            assert child.poll() is None, "the sender finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        confirmed = {r.key for r in _rows(db, state="sent")}
        assert 10 <= len(confirmed) < 60
        arrived_before = Counter(gateway.keys())
        # its rows are its own until the lease ends: another sender does not take them
        assert notify.deliver(db, now=NOW + timedelta(minutes=1)).claimed == 0
        time.sleep(0.2)  # what the gateway was answering when the sender died
        arrived_before = Counter(gateway.keys())
        report = notify.deliver_all(db, now=NOW + sender.LEASE + timedelta(seconds=1))
        assert report.sent == 60 - len(confirmed)
        rows = _rows(db)
        assert {r.state for r in rows} == {"sent"}
        arrived_after = Counter(gateway.keys()) - arrived_before
        assert not confirmed & set(arrived_after)  # confirmed: never again
        assert set(gateway.keys()) == {r.key for r in rows}  # none lost
        doubled = {k for k, n in Counter(gateway.keys()).items() if n > 1}
        assert not doubled & confirmed
        # only what was in flight (two workers) or answered in the last CONFIRM_WAIT (20 ms,
        # at 50 ms a message: at most one a worker) when it died
        assert len(doubled) <= 4


def test_what_a_sender_could_not_begin_within_its_claim_goes_back_untried(db, world):
    with Gateway(delay=1.0) as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        for _ in range(6):
            _order(world)
        # a claim of 1 s: messages are begun within 0.8 s of it, the first two (two
        # workers, a second each); the rest are not begun, and wait for the next pass
        report = notify.deliver(db, now=NOW, workers=2, lease=timedelta(seconds=1))
        assert report.sent == 2
        rows = _rows(db)
        untried = [r for r in rows if r.state == "pending"]
        assert len(untried) == 4
        assert all(r.attempts == 0 and r.claimed_until is None for r in untried)
        assert notify.deliver_all(db, now=NOW).sent == 4  # at once, not after a backoff
        assert sorted(gateway.keys()) == sorted(r.key for r in rows)


def test_the_mail_server_s_login_is_given_from_the_url(db, world):
    with MailServer(login=("notify@svc.example.ru", "p@ss:word")) as mail:
        _configure(db, world, notify_quiet_hours="")
        refused = f"smtp://notify%40svc.example.ru:wrong@127.0.0.1:{mail.port}"
        with db.transaction() as s:
            settings.set_value(session=s, key="smtp_url", value=refused)
        _order(world)
        report = notify.deliver(db, now=NOW)
        assert report.retried == 1
        assert "refused the login" in _rows(db)[0].last_error
        right = f"smtp://notify%40svc.example.ru:p%40ss%3Aword@127.0.0.1:{mail.port}"
        with db.transaction() as s:
            settings.set_value(session=s, key="smtp_url", value=right)
        assert notify.deliver(db, now=NOW + timedelta(minutes=1)).sent == 1
        assert mail.logins == ["notify@svc.example.ru"]
        assert len(mail.messages) == 1


# --- the json:// gateway over kept-alive connections ----------------------------------------


def test_a_json_gateway_gets_what_apprise_itself_would_send():
    """The sender speaks to a json:// gateway itself (to keep its connections); what the
    gateway gets must be what Apprise's plugin sends, whatever the URL asks for."""
    with Gateway() as gateway:
        template = (
            f"json://fsm:p%40ss@127.0.0.1:{gateway.port}/sms/{{phone}}?rto=2&cto=2"
            "&method=PUT&:to={phone}&:type=&:message=text&+X-Api-Key=k1&-sender=FSM"
        )
        item = Outgoing(
            1, "26-0001:received", "apprise", "+79213456701", "  Заявка 26-0001 принята ",
            "Здравствуйте, Ольга!\n\nСтатус: https://svc.example.ru/s/t\n\n",
        )  # fmt: skip
        channels.send_apprise(template, item)
        direct = channels.JsonGateway(template)
        try:
            direct.send(item)
            by_apprise, by_sender = gateway.accepted
            assert by_sender.method == by_apprise.method == "PUT"
            assert by_sender.path == by_apprise.path == "/sms/+79213456701?sender=FSM"
            assert by_sender.payload == by_apprise.payload
            assert by_sender.payload["text"].endswith("/s/t")  # Apprise's tidying
            assert by_sender.payload["key"] == "26-0001:received"
            assert "type" not in by_sender.payload
            same = ("content-type", "user-agent", "authorization", "x-api-key")
            assert {h: by_sender.headers.get(h) for h in same} == {
                h: by_apprise.headers.get(h) for h in same
            }
            assert by_sender.headers["authorization"].startswith("Basic ")
            assert by_sender.header_key == by_apprise.header_key == item.key
            gateway.down = True  # a failure reads the same whichever path sent it
            with pytest.raises(Transient) as apprise_says:
                channels.send_apprise(template, item)
            with pytest.raises(Transient) as sender_says:
                direct.send(item)
            assert str(sender_says.value) == str(apprise_says.value)
            assert "error=500" in str(sender_says.value)
        finally:
            direct.close()


def test_the_sender_keeps_its_connections_to_a_json_gateway(db, world):
    with Gateway() as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        for _ in range(20):
            _order(world)
        report = notify.deliver(db, now=NOW, workers=4)
        assert report.sent == 20
        assert sorted(gateway.keys()) == sorted(r.key for r in _rows(db))
        assert gateway.connections <= 4  # one a thread; Apprise's plugin opens one a message


def test_what_answers_within_the_wait_is_confirmed_in_one_transaction(db, world):
    with Gateway(delay=0.02, fail_share=0.3, give_up_after=0) as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        for _ in range(24):
            _order(world)
        groups: list[int] = []
        report = notify.deliver(
            db, now=NOW, workers=4, confirm_wait=30, on_confirmed=lambda o: groups.append(len(o))
        )
        assert groups == [24]  # everything answered within the wait: one transaction
        assert report.sent + report.retried == 24
        assert report.retried == gateway.failures > 0
        rows = _rows(db)
        assert sorted(r.key for r in rows if r.state == "sent") == sorted(gateway.keys())
        retried = [r for r in rows if r.state == "pending"]
        assert len(retried) == report.retried
        assert all(r.attempts == 1 and r.next_attempt_at == NOW + timedelta(minutes=1)
                   and "error=500" in r.last_error and r.claimed_until is None
                   for r in retried)  # fmt: skip


@pytest.fixture
def certificate(tmp_path):
    """A certificate for 127.0.0.1 from a throwaway authority (trustme): the gateway's
    chain and key (``.tls``) and the authority's own certificate (``.ca``)."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    cert, key, ca = tmp_path / "gateway.pem", tmp_path / "gateway.key", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    return SimpleNamespace(tls=(str(cert), str(key)), ca=str(ca))


def test_a_jsons_gateway_is_spoken_to_over_tls_its_certificate_checked(db, world, certificate):
    channels._tls_context.cache_clear()
    with Gateway(tls=certificate.tls) as gateway:
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        _order(world)
        _order(world)
        report = notify.deliver(db, now=NOW, workers=2)
        assert report.retried == 2  # a certificate nobody vouches for: refused
        assert all("CERTIFICATE_VERIFY_FAILED" in r.last_error for r in _rows(db))
        assert gateway.keys() == []
        with db.transaction() as s:  # the company says so: ?verify=no
            settings.set_value(
                session=s, key="notify_apprise_url", value=gateway.url(rto="2", verify="no")
            )
        report = notify.deliver(db, now=NOW + timedelta(minutes=1), workers=2)
        assert report.sent == 2
        assert sorted(gateway.keys()) == sorted(r.key for r in _rows(db))
        # one TLS context a process for each way of checking, shared by the threads
        assert channels._tls_context.cache_info().misses == 2


def test_a_pass_that_cannot_confirm_sends_no_more(db, world):
    """What the sender cannot record as sent it would send again: when a confirmation
    fails (the database gone), the pass stops sending and leaves the rest to its claim."""
    with Gateway(delay=0.2) as gateway:  # slow: what begins while it confirms is little
        _configure(db, world, gateway=gateway, notify_quiet_hours="")
        for _ in range(40):
            _order(world)

        def refuse(outcomes):
            raise RuntimeError("the database went away")

        with pytest.raises(RuntimeError, match="went away"):
            notify.deliver(db, now=NOW, workers=2, confirm_wait=0, on_confirmed=refuse)
        assert gateway.calls <= 6  # what was in flight when it failed, not the batch's 40
        assert len(_rows(db, state="pending")) >= 34


def test_a_jsons_gateway_s_certificate_is_trusted_as_apprise_trusts_it(
    db, world, certificate, monkeypatch
):
    """REQUESTS_CA_BUNDLE (what Apprise's requests reads) names the certificates to trust."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate.ca)
    channels._tls_context.cache_clear()
    try:
        with Gateway(tls=certificate.tls) as gateway:
            _configure(db, world, gateway=gateway, notify_quiet_hours="")
            _order(world)
            assert notify.deliver(db, now=NOW).sent == 1
            assert gateway.keys() == [r.key for r in _rows(db)]
    finally:
        channels._tls_context.cache_clear()  # the next test's own certificates
