"""`fsm notify` end to end on the demo company, on both back-ends: an order created by the
command line is queued for its contact, `run --once` sends it to a local mail server and
an HTTP stand-in gateway, `list` shows it, a gateway that is down leads to the dead
letters and `retry`, and a contact's opt-out stops everything."""

from datetime import timedelta

import pytest

from fsm_core import clock
from tests.cli_runner import Fsm
from tests.conftest import NOW
from tests.notify_standin import Gateway, MailServer


@pytest.fixture
def demo(with_demo, db_url):
    return Fsm(db_url, columns=160, stderr=True)


def _create(demo, contact="K-001"):
    return demo.json("orders", "create", "-d", "Не холодит", "-c", "C-SMT", "--contact", contact)[
        "number"
    ]


def test_run_once_sends_list_shows_and_a_dead_letter_is_retried(demo):
    with MailServer() as mail, Gateway(down=True) as gateway:
        demo("settings", "set", "smtp_url", mail.url)
        demo("settings", "set", "notify_from", "noreply@svc.example.ru")
        demo("settings", "set", "notify_apprise_url", gateway.url(rto="2"))
        demo("settings", "set", "notify_quiet_hours", "")  # the retries fall in the night
        number = _create(demo)
        queued = demo.json("notify", "list", "--order", number)
        assert [(n["event"], n["channel"], n["state"]) for n in queued] == [
            ("received", "apprise", "pending"),
            ("received", "email", "pending"),
        ]
        report = demo.json("notify", "run", "--once")
        assert (report["sent"], report["retried"]) == (1, 1)
        assert mail.messages[0]["Subject"] == f"Заявка {number} принята"
        text = demo("notify", "list", "--order", number)
        assert "received" in text
        assert "sent" in text
        assert "Failed to send JSON POST notification" in text
        # the gateway stays down: after the last retry the message fails for good
        at = NOW
        for minutes in (1, 5, 30, 120, 720):
            at += timedelta(minutes=minutes)
            with clock.frozen(at):
                demo("notify", "run", "--once")
        (dead,) = demo.json("notify", "list", "--failed")
        assert (dead["channel"], dead["attempts"], dead["number"]) == ("apprise", 6, number)
        assert gateway.calls == 6
        gateway.down = False
        assert demo.json("notify", "retry", str(dead["id"])) == {"retried": 1}
        with clock.frozen(at + timedelta(minutes=1)):
            assert demo.json("notify", "run", "--once")["sent"] == 1
        assert demo.json("notify", "list", "--failed") == []
        assert gateway.keys() == [dead["key"]]
        assert "is sent, not failed" in demo.error("notify", "retry", str(dead["id"]))
        assert "one of the two" in demo.error("notify", "retry")
        assert demo.json("notify", "retry", "--all-failed") == {"retried": 0}


def test_an_opted_out_contact_gets_nothing_and_a_technician_may_not_look(demo):
    with MailServer() as mail:
        demo("settings", "set", "smtp_url", mail.url)
        _create(demo)
        assert len(demo.json("notify", "list")) == 1
        out = demo("notify", "opt-out", "K-001")
        assert "gets no notifications" in out
        assert demo.json("notify", "list") == []  # the queued one went with it
        _create(demo)
        assert demo.json("notify", "list") == []
        assert demo.json("notify", "opt-in", "K-001")["notify"] is True
        _create(demo)
        assert len(demo.json("notify", "list")) == 1
        assert "may not see notifications" in demo.error("notify", "list", user="ivanov")
        assert "may not send" in demo.error("notify", "run", "--once", user="ivanov")
        assert "may not" in demo.error("notify", "opt-out", "K-001", user="ivanov")
        assert demo.json("notify", "run", "--once")["sent"] == 1
        assert len(mail.messages) == 1


def test_quiet_hours_are_reported_and_nothing_goes_out(demo):
    with MailServer() as mail:
        demo("settings", "set", "smtp_url", mail.url)
        _create(demo)
        with clock.frozen(NOW.replace(hour=20)):  # 23:00 in Moscow
            out = demo("notify", "run", "--once")
        assert "quiet hours until 2026-11-27 09:00" in out
        assert mail.messages == []
