"""E-mail over TLS: STARTTLS on ``smtp://`` and TLS from the first byte on ``smtps://``, the
server's certificate checked, and a password never sent in clear to a server elsewhere.

A local aiosmtpd server gets a certificate from a throwaway certificate authority (trustme);
the sender trusts that authority the way a company with its own mail server's CA would, by
``SSL_CERT_FILE`` (OpenSSL reads it whenever a default context is made)."""

from __future__ import annotations

import socket
import ssl
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import trustme

from fsm_core.services.notify import channels
from fsm_core.services.notify.channels import Outgoing, Transient

LOGIN = ("notify@svc.example.ru", "p@ss:word")
ITEM = Outgoing(
    id=1,
    key="1.received.-.email.abc",
    channel="email",
    recipient="olga@customer.example.ru",
    subject="Заявка 26-0007 принята",
    body="Статус: https://svc.example.ru/s/abc",
)


def _over_tls(smtp: Any, session: Any) -> bool:
    """After STARTTLS aiosmtpd keeps the TLS state in the session; an SMTPS connection is
    TLS at the transport."""
    return session.ssl is not None or smtp.transport.get_extra_info("ssl_object") is not None


class TlsMailServer:
    """aiosmtpd with a certificate: ``implicit`` TLS (SMTPS) or STARTTLS, which it then
    requires before anything else; it asks for :data:`LOGIN` and records whether each
    message and login came over TLS."""

    def __init__(self, cert: Any, *, implicit: bool, starttls: bool = True) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.messages: list[tuple[Message, bool]] = []
        self.logins: list[tuple[str, bool]] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                parsed = message_from_bytes(envelope.original_content, policy=default_policy)
                server.messages.append((parsed, _over_tls(smtp, session)))
                return "250 OK"

        def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
            user, password = auth.login.decode(), auth.password.decode()
            ok = (user, password) == LOGIN
            if ok:
                server.logins.append((user, _over_tls(smtp, session)))
            return AuthResult(success=ok, handled=False)

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        kwargs: dict[str, Any] = {"authenticator": authenticate, "auth_required": True}
        if implicit:  # aiosmtpd offers AUTH after STARTTLS only, unless told otherwise
            kwargs.update(ssl_context=context, auth_require_tls=False)
        elif starttls:
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            kwargs["auth_require_tls"] = False
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> TlsMailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


@pytest.fixture
def ca() -> Any:
    return trustme.CA()


@pytest.fixture
def trusted(ca: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sender trusts ``ca`` (and only it: the system's authorities are not needed)."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return ca


def _url(scheme: str, port: int) -> str:
    return f"{scheme}://notify%40svc.example.ru:p%40ss%3Aword@127.0.0.1:{port}"


def test_smtp_talks_starttls_before_it_logs_in(trusted: Any) -> None:
    with TlsMailServer(trusted.issue_cert("127.0.0.1"), implicit=False) as mail:
        channels.send_email(_url("smtp", mail.port), "fsm@svc.example.ru", ITEM)
    assert mail.logins == [("notify@svc.example.ru", True)]
    [(message, over_tls)] = mail.messages
    assert over_tls
    assert message["Subject"] == ITEM.subject
    assert message["X-Idempotency-Key"] == ITEM.key


def test_smtps_is_tls_from_the_first_byte(trusted: Any) -> None:
    with TlsMailServer(trusted.issue_cert("127.0.0.1"), implicit=True) as mail:
        channels.send_email(_url("smtps", mail.port), "fsm@svc.example.ru", ITEM)
    assert mail.logins == [("notify@svc.example.ru", True)]
    assert [over_tls for _, over_tls in mail.messages] == [True]


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_a_certificate_nobody_vouches_for_is_refused(
    ca: Any, implicit: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's certificate is from an authority the sender does not trust: nothing is
    sent, no password leaves, and the error says why (a transient failure: retried, so that
    fixing the certificate lets the queue through)."""
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    scheme = "smtps" if implicit else "smtp"
    with (
        TlsMailServer(ca.issue_cert("127.0.0.1"), implicit=implicit) as mail,
        pytest.raises(Transient, match="certificate"),
    ):
        channels.send_email(_url(scheme, mail.port), "fsm@svc.example.ru", ITEM)
    assert mail.logins == []
    assert mail.messages == []


def test_a_certificate_for_another_name_is_refused(trusted: Any) -> None:
    with (
        TlsMailServer(trusted.issue_cert("mail.elsewhere.example"), implicit=True) as mail,
        pytest.raises(Transient, match="certificate"),
    ):
        channels.send_email(_url("smtps", mail.port), "fsm@svc.example.ru", ITEM)
    assert mail.messages == []


def test_no_password_in_clear_to_a_server_elsewhere(
    trusted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that offers no STARTTLS gets no login unless it is on this machine (a local
    relay): anyone on the way could strip the STARTTLS offer and read the password."""
    with TlsMailServer(trusted.issue_cert("127.0.0.1"), implicit=False, starttls=False) as mail:
        channels.send_email(_url("smtp", mail.port), "fsm@svc.example.ru", ITEM)  # local
        assert mail.logins == [("notify@svc.example.ru", False)]
        monkeypatch.setattr(channels, "_on_this_machine", lambda address: False)
        with pytest.raises(Transient, match="STARTTLS"):
            channels.send_email(_url("smtp", mail.port), "fsm@svc.example.ru", ITEM)
    assert len(mail.logins) == 1
    assert len(mail.messages) == 1


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.5", False),
        ("192.168.1.10", False),
        ("2001:db8::1", False),
    ],
)
def test_what_counts_as_this_machine(address: str, local: bool) -> None:
    assert channels._on_this_machine(address) is local
