"""The channels a notification goes out through: e-mail over SMTP (the standard
library's smtplib) and anything Apprise speaks (SMS gateways, Telegram, a JSON webhook).

Each carries the notification's idempotency key, so that whoever receives a message twice
(the sender delivers at least once) can drop the double: an e-mail's ``Message-ID`` is made
of it, and a ``json://`` gateway gets it as the payload's ``key`` field and the
``X-Idempotency-Key`` header.

A ``json://`` or ``jsons://`` gateway (the SMS gateway of most companies) is spoken to by
:class:`JsonGateway`: the request Apprise's JSON plugin makes, over connections kept alive
from one message to the next. Apprise itself opens a new connection per message, which
made the connection, not the gateway, the sender's limit.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import urllib3

SMTP_TIMEOUT = 30.0
"""Seconds for the mail server to answer each step."""


class Transient(Exception):
    """The channel failed this time; the sender tries again later."""


class Permanent(Exception):
    """The channel refused the message for good (a recipient that does not exist, a URL
    no channel speaks): no retry will help."""


@dataclass(frozen=True)
class Outgoing:
    id: int
    key: str
    channel: str
    recipient: str
    subject: str
    body: str


# --- e-mail ------------------------------------------------------------------------------


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "fsm.invalid"


def email_message(item: Outgoing, sender: str, company: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((company, sender)) if company else sender
    message["To"] = item.recipient
    message["Subject"] = item.subject
    message["Date"] = formatdate(localtime=False)
    # the same notification, however often it is sent, is the same message
    message["Message-ID"] = f"<{item.key}@{_domain(sender)}>"
    message["X-Idempotency-Key"] = item.key
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(item.body)
    return message


def _on_this_machine(address: str) -> bool:
    """Whether ``address`` (an IP the socket is connected to) is this machine's loopback."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def send_email(smtp_url: str, sender: str, item: Outgoing, *, company: str = "") -> None:
    """Send one e-mail. ``smtp://host[:port]`` talks STARTTLS when the server offers it;
    ``smtps://`` is TLS from the start; ``user:password@`` logs in — over TLS, or in clear
    only to a relay on this machine (a server elsewhere that offers no STARTTLS, or whose
    offer someone on the way removed, gets no password). The server's certificate is
    checked against the system's authorities (``SSL_CERT_FILE`` names others)."""
    parts = urlsplit(smtp_url)
    host = parts.hostname or ""
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if parts.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif (
                parts.scheme == "smtp"
                and parts.username
                and client.sock is not None
                and not _on_this_machine(client.sock.getpeername()[0])
            ):
                raise Transient(
                    f"mail server {host} offers no STARTTLS: the password is not sent "
                    "in clear (use smtps:// or a server with STARTTLS)"
                )
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(email_message(item, sender or f"fsm@{host}", company))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise Permanent(f"the mail server refused {item.recipient}: {codes[0]}") from None
        raise Transient(f"the mail server refused {item.recipient} for now") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise Transient(f"the mail server refused the login: {exc.smtp_code}") from None
    except smtplib.SMTPResponseException as exc:
        reason = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        raise Transient(f"the mail server answered {exc.smtp_code} {reason}".strip()) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Transient(f"mail server {host}: {exc or type(exc).__name__}") from None


# --- Apprise -----------------------------------------------------------------------------

_captured = threading.local()


class _ThreadCapture(logging.Handler):
    """What Apprise logs while this thread sends (it reports a failure only so)."""

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(_captured, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())


_handler_lock = threading.Lock()
_handler: _ThreadCapture | None = None


def _capture() -> None:
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = _ThreadCapture(level=logging.WARNING)
            logging.getLogger("apprise").addHandler(_handler)


JSON_SCHEMES = ("json", "jsons")


def apprise_url(template: str, item: Outgoing) -> str:
    """The company's Apprise URL for one message: ``{phone}`` replaced by the recipient's
    phone, and for a JSON gateway the key added to the payload and the headers."""
    url = template.replace("{phone}", quote(item.recipient, safe="+"))
    parts = urlsplit(url)
    if parts.scheme.lower() in JSON_SCHEMES:
        extra = urlencode({":key": item.key, "+X-Idempotency-Key": item.key})
        query = f"{parts.query}&{extra}" if parts.query else extra
        url = urlunsplit(parts._replace(query=query))
    return url


def send_apprise(template: str, item: Outgoing) -> None:
    import apprise

    _capture()
    plugin: Any = apprise.Apprise.instantiate(apprise_url(template, item))
    if plugin is None:
        raise Permanent("notify_apprise_url is not a URL Apprise speaks")
    _captured.lines = []
    try:
        ok = plugin.notify(body=item.body, title=item.subject)
    except Exception as exc:  # a plugin's own failure is this message's, not the batch's
        raise Transient(f"{type(exc).__name__}: {exc}") from None
    finally:
        lines, _captured.lines = _captured.lines, None
    if not ok:
        reason = lines[-1] if lines else "the gateway did not accept the message"
        raise Transient(reason[:500])


_tls_lock = threading.Lock()


def _tls(verify: bool) -> ssl.SSLContext:
    """One TLS context a process for every gateway connection (making one reads the
    system's certificates: 50 ms, as long as a hundred messages take)."""
    with _tls_lock:  # the sending threads start together: one of them makes it
        return _tls_context(verify)


@functools.cache
def _tls_context(verify: bool) -> ssl.SSLContext:
    if verify:  # the certificates Apprise's requests trusts: its bundle unless told another
        import certifi

        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        return ssl.create_default_context(cafile=bundle or certifi.where())
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class JsonGateway:
    """Apprise's ``json://`` and ``jsons://`` for many messages: each message's URL read by
    Apprise's JSON plugin (host, port, path, ``user:password@``, ``+header``, ``:field``,
    ``-param``, ``method``, ``cto``/``rto``, ``verify``), its title and body prepared by
    Apprise (its overflow rules), and the request the plugin would make — the same method,
    URL, headers and JSON body, the same verdict (any 2xx is delivered), the same words for
    a failure — sent by urllib3, the library under the plugin's ``requests``, over a
    connection each sending thread keeps alive between messages. (The plugin's
    ``requests.request`` makes a session, reads ``~/.netrc`` and opens a new connection for
    every message: 0.9 ms of CPU a call against 0.3 here, and the gateway's accept.)

    :meth:`close` when the batch is done."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._local = threading.local()
        self._pools: list[urllib3.PoolManager] = []
        self._lock = threading.Lock()

    def _pool(self, verify: bool) -> urllib3.PoolManager:
        import urllib3

        pools: dict[bool, urllib3.PoolManager] | None = getattr(self._local, "pools", None)
        if pools is None:
            pools = self._local.pools = {}
        pool = pools.get(verify)
        if pool is None:  # one connection a host: this thread sends one message at a time
            pool = pools[verify] = urllib3.PoolManager(
                maxsize=1,
                ssl_context=_tls(verify),
                cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE,
            )
            with self._lock:
                self._pools.append(pool)
        return pool

    def send(self, item: Outgoing) -> None:
        from apprise.plugins.custom_json import NotifyJSON as plugin_class

        NotifyJSON: Any = plugin_class  # Apprise's plugins are not typed
        url = apprise_url(self.template, item)
        arguments = NotifyJSON.parse_url(url)
        if not arguments:
            raise Permanent("notify_apprise_url is not a URL Apprise speaks")
        try:
            plugin = NotifyJSON(**arguments)
            # Apprise's own preparation of what is sent: the title and body tidied and,
            # if the URL asks for it (overflow=split|truncate), cut to the gateway's sizes
            calls = list(plugin._build_send_calls(body=item.body, title=item.subject))
        except Exception as exc:  # Apprise refuses the URL or the message
            raise Permanent(f"Apprise refused the message: {exc}") from None
        for call in calls:
            self._post(plugin, call)

    def _post(self, plugin: Any, call: dict[str, Any]) -> None:
        import urllib3

        # what NotifyJSON.send builds (no attachments: notifications carry none)
        payload: dict[str, Any] = {
            "version": plugin.json_version,
            "title": call["title"],
            "message": call["body"],
            "attachments": [],
            "type": call["notify_type"].value,
        }
        for key, value in plugin.payload_extras.items():
            if key in payload:
                if value:
                    payload[value] = payload[key]
                del payload[key]
            else:
                payload[key] = value
        headers = {"User-Agent": plugin.app_id, "Content-Type": "application/json"}
        headers.update(plugin.headers)
        if plugin.user:  # requests' basic authentication
            basic = urllib3.util.make_headers(basic_auth=f"{plugin.user}:{plugin.password or ''}")
            headers["Authorization"] = basic["authorization"]
        url = f"{'https' if plugin.secure else 'http'}://{plugin.host}"
        if isinstance(plugin.port, int):
            url += f":{plugin.port}"
        url += plugin.fullpath
        if plugin.params:
            url += "?" + urlencode(plugin.params, doseq=True)
        connect, read = plugin.request_timeout
        try:
            response = self._pool(bool(plugin.verify_certificate)).request(
                plugin.method,
                url,
                body=json.dumps(payload).encode(),
                headers=headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                # no second try (requests' default): a retry is the sender's, with backoff
                retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0),
                redirect=bool(plugin.redirects),
            )
        except urllib3.exceptions.HTTPError as exc:  # the words Apprise logs, and the cause
            cause = getattr(exc, "reason", None) or exc
            raise Transient(
                f"A Connection error occurred sending JSON notification to {plugin.host}: "
                f"{type(cause).__name__} {cause}".strip()[:500]
            ) from None
        if not 200 <= response.status < 300:
            status = plugin.http_response_code_lookup(response.status)
            raise Transient(
                f"Failed to send JSON {plugin.method} notification: "
                f"{status}{', ' if status else ''}error={response.status}."
            )

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for pool in pools:
            pool.clear()
