"""The sender: delivers the outbox's due rows, at least once, never at night.

One pass (:func:`deliver`):

1. **claims** a batch of due rows in one short transaction — pending, due, and not
   claimed by another sender (``claimed_until`` in the past): it sets their lease. On
   PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, so two senders never wait on
   each other; on SQLite the claim is one short write transaction. A sender killed
   mid-batch leaves its rows claimed until the lease ends; then they come back;
2. **sends** them outside any transaction, several at once (a thread each), through
   SMTP, a ``json://`` gateway (over a connection each thread keeps alive) or Apprise;
3. **confirms** them as their channels answer — what answers within ``CONFIRM_WAIT``
   (20 ms) of the first in one short transaction: sent; or another attempt after 1 min,
   5 min, 30 min, 2 h, 12 h; after the last, "failed" (the dead letters
   ``fsm notify list --failed`` shows and ``fsm notify retry`` sends again). A
   confirmation that fails stops the pass: nothing more is sent that could not be recorded.

A message confirmed is never sent again; one sent but not yet confirmed when the sender
died (in flight, or answered in its last 20 ms) is sent again, with the same idempotency
key, for its receiver to drop.

Quiet hours (``notify_quiet_hours``, in the company's time zone): nothing is claimed in
them; rows due meanwhile wait until they end.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, or_, select, update
from sqlmodel import Session

from fsm_core import clock
from fsm_core.access import requires
from fsm_core.models.customer import Notification, NotificationState
from fsm_core.services import settings as company_settings
from fsm_core.services.notify import channels
from fsm_core.services.notify.channels import Outgoing, Permanent, Transient
from fsm_core.services.notify.outbox import APPRISE, EMAIL
from fsm_core.services.notify.templates import render

log = logging.getLogger("fsm_core.notify")

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
"""The waits after each failed attempt; the attempt after the last is the final one."""
ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=5)
"""How long a claimed row is the claiming sender's; then another sender may take it."""
BATCH = 500
WORKERS = 16
CONFIRM_WAIT = 0.02
"""Seconds a message answered waits for others to be confirmed with it (one transaction)."""
CONFIRM_MOST = 200


# --- quiet hours -------------------------------------------------------------------------


def _hm(text: str) -> clock_time:
    h, m = text.split(":")
    return clock_time(int(h), int(m))


def quiet_until(now: datetime, span: str, tz: tzinfo) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (UTC), or None if it falls in none.
    ``span`` is ``HH:MM-HH:MM`` in the zone ``tz``, across midnight when the start is
    later than the end (21:00-09:00); empty means no quiet hours."""
    if not span:
        return None
    first, last = (_hm(part) for part in span.split("-"))
    if first == last:
        return None
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if first < last:
        inside = first <= t < last
        end_day = local.date()
    else:
        inside = t >= first or t < last
        end_day = local.date() + timedelta(days=1) if t >= first else local.date()
    if not inside:
        return None
    end = datetime.combine(end_day, last, tzinfo=tz)
    return end.astimezone(UTC)


# --- claim and confirm -------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    event: str
    channel: str
    recipient: str
    locale: str
    payload: dict[str, Any]
    attempts: int


@requires("notify.send")
def claim(
    *, session: Session, now: datetime, limit: int = BATCH, lease: timedelta = LEASE
) -> list[Claimed]:
    """Take up to ``limit`` due rows for this sender until ``now + lease``."""
    due = (
        select(Notification.id)
        .where(
            Notification.state == NotificationState.PENDING.value,
            Notification.next_attempt_at <= now,
            or_(
                Notification.claimed_until.is_(None),
                Notification.claimed_until < now,
            ),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.execute(due).scalars())
    if not ids:
        return []
    session.execute(
        update(Notification).where(Notification.id.in_(ids)).values(claimed_until=now + lease)
    )
    n = Notification
    rows = session.execute(
        select(n.id, n.key, n.event, n.channel, n.recipient, n.locale, n.payload, n.attempts)
        .where(n.id.in_(ids))
        .order_by(n.next_attempt_at, n.id)
    )
    return [
        Claimed(
            id=row.id or 0,
            key=row.key,
            event=row.event,
            channel=row.channel,
            recipient=row.recipient,
            locale=row.locale,
            payload=json.loads(row.payload or "{}"),
            attempts=row.attempts,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Outcome:
    item: Claimed
    error: str | None = None
    permanent: bool = False
    skipped: bool = False
    """not tried: the claim ran out before its turn came; released for the next pass"""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped


@requires("notify.send")
def confirm(*, session: Session, outcomes: Iterable[Outcome], now: datetime) -> tuple[int, int]:
    """Record what the channels answered; returns (retries scheduled, given up)."""
    sent: list[int] = []
    released: list[int] = []
    changes: list[dict[str, Any]] = []
    retried = failed = 0
    for outcome in outcomes:
        item = outcome.item
        if outcome.skipped:
            released.append(item.id)
            continue
        if outcome.ok:
            sent.append(item.id)
            continue
        attempts = item.attempts + 1
        row: dict[str, Any] = {
            "id": item.id,
            "attempts": attempts,
            "claimed_until": None,
            "last_error": (outcome.error or "")[:1000],
        }
        if outcome.permanent or attempts >= ATTEMPTS:
            row["state"] = NotificationState.FAILED.value
            failed += 1
        else:
            row["next_attempt_at"] = now + BACKOFF[attempts - 1]
            retried += 1
        changes.append(row)
    if sent:
        session.execute(
            update(Notification)
            .where(
                Notification.id.in_(sent),
                Notification.state == NotificationState.PENDING.value,
            )
            .values(
                state=NotificationState.SENT.value,
                sent_at=now,
                attempts=Notification.attempts + 1,
                claimed_until=None,
                last_error=None,
            )
        )
    if released:
        session.execute(
            update(Notification).where(Notification.id.in_(released)).values(claimed_until=None)
        )
    table = Notification.__table__  # type: ignore[attr-defined]
    for final in (True, False):  # one statement for each shape of row, run for all its rows
        rows = [row for row in changes if ("state" in row) is final]
        if not rows:
            continue
        values: dict[str, Any] = {n: bindparam(f"v_{n}") for n in rows[0] if n != "id"}
        session.execute(
            update(table)
            .where(
                table.c.id == bindparam("v_id"),
                table.c.state == NotificationState.PENDING.value,
            )
            .values(values),
            [{f"v_{name}": value for name, value in row.items()} for row in rows],
        )
    return retried, failed


# --- one pass ----------------------------------------------------------------------------


@dataclass
class Report:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    quiet_until: datetime | None = None
    errors: list[str] = field(default_factory=list)

    def add(self, other: Report) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.quiet_until = other.quiet_until or self.quiet_until

    def as_json(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "quiet_until": self.quiet_until.isoformat() if self.quiet_until else None,
        }


Send = Callable[[Outgoing], None]


def _senders(values: company_settings.CompanySettings, closing: ExitStack) -> dict[str, Send]:
    """The pass's channels; what they keep open (a gateway's connections) ``closing`` ends."""
    smtp_url, sender = values["smtp_url"], values["notify_from"]
    apprise_url, company = values["notify_apprise_url"], values["company_name"]

    def email(item: Outgoing) -> None:
        if not smtp_url:
            raise Transient("no mail server: set smtp_url")
        channels.send_email(smtp_url, sender, item, company=company)

    def apprise(item: Outgoing) -> None:
        if not apprise_url:
            raise Transient("no Apprise URL: set notify_apprise_url")
        channels.send_apprise(apprise_url, item)

    if urlsplit(apprise_url).scheme.lower() in channels.JSON_SCHEMES:
        gateway = channels.JsonGateway(apprise_url)
        closing.callback(gateway.close)
        return {EMAIL: email, APPRISE: gateway.send}
    return {EMAIL: email, APPRISE: apprise}


def _attempt(
    send: Send | None, item: Claimed, outgoing: Outgoing | str, deadline: float
) -> Outcome:
    if time.monotonic() > deadline:  # another sender may have this row by now
        return Outcome(item, skipped=True)
    if isinstance(outgoing, str):  # the template could not be rendered
        return Outcome(item, outgoing, permanent=False)
    if send is None:
        return Outcome(item, f"unknown channel {item.channel!r}", permanent=True)
    try:
        send(outgoing)
    except Permanent as exc:
        return Outcome(item, str(exc), permanent=True)
    except Transient as exc:
        return Outcome(item, str(exc) or "failed")
    except Exception as exc:  # a channel's bug is one message's failure, not the pass's
        log.exception("notification %s", item.key)
        return Outcome(item, f"{type(exc).__name__}: {exc}")
    return Outcome(item)


def _outgoing(item: Claimed, folder: str, cache: dict[Path, str]) -> Outgoing | str:
    from fsm_core.errors import FsmError

    try:
        text = render(item.event, item.locale, item.payload, folder=folder or None, cache=cache)
    except FsmError as exc:
        return exc.one_line("en")
    return Outgoing(item.id, item.key, item.channel, item.recipient, text.subject, text.body)


def _confirm_as_answered(
    database: Any,
    answered: queue.SimpleQueue[Outcome],
    left: int,
    at: datetime,
    report: Report,
    on_confirmed: Callable[[list[Outcome]], None] | None,
    confirm_wait: float,
) -> None:
    """Confirm the ``left`` outcomes as the channels give them: what answers within
    ``confirm_wait`` of the first is confirmed with it, in one transaction — fewer commits,
    and a sender killed meanwhile sends again only those and what was in flight."""
    while left:
        outcomes = [answered.get()]
        until = time.monotonic() + confirm_wait
        while len(outcomes) < min(left, CONFIRM_MOST):
            try:
                outcomes.append(answered.get(timeout=max(0.0, until - time.monotonic())))
            except queue.Empty:
                break
        left -= len(outcomes)
        with database.transaction() as session:
            retried, failed = confirm(session=session, outcomes=outcomes, now=at)
        report.sent += sum(1 for o in outcomes if o.ok)
        report.retried += retried
        report.failed += failed
        report.errors.extend(f"{o.item.key}: {o.error}" for o in outcomes if o.error)
        if on_confirmed is not None:
            on_confirmed(outcomes)


def deliver(
    database: Any,
    *,
    now: datetime | None = None,
    limit: int = BATCH,
    workers: int = WORKERS,
    lease: timedelta = LEASE,
    on_confirmed: Callable[[list[Outcome]], None] | None = None,
    confirm_wait: float = CONFIRM_WAIT,
) -> Report:
    """One pass of the sender over ``database`` (a :class:`fsm_core.db.Database`): claim
    up to ``limit`` due rows, send them with ``workers`` threads, confirm each as its
    channel answers. ``now`` (default: the clock) is when the pass happens: what is due,
    the quiet hours, when the next attempts fall."""
    from fsm_core.access import demand

    demand(database.principal, "notify.send")  # in quiet hours too: refused, not idle
    at = now or clock.now()
    report = Report()
    with database.reader() as session:
        values = company_settings.load(session=session)
    report.quiet_until = quiet_until(at, values["notify_quiet_hours"], values.tz)
    if report.quiet_until is not None:
        return report
    with database.transaction() as session:
        batch = claim(session=session, now=at, limit=limit, lease=lease)
    report.claimed = len(batch)
    if not batch:
        return report
    closing = ExitStack()
    senders = _senders(values, closing)
    # a message is begun only well within the claim, so that no other sender can have
    # taken it meanwhile (a slow mail server: 30 s a step); the rest go back to the queue
    deadline = time.monotonic() + lease.total_seconds() * 0.8
    cache: dict[Path, str] = {}
    folder = values["notify_templates"]
    answered: queue.SimpleQueue[Outcome] = queue.SimpleQueue()

    def attempt(send: Send | None, item: Claimed, outgoing: Outgoing | str) -> None:
        answered.put(_attempt(send, item, outgoing, deadline))

    with closing, ThreadPoolExecutor(max_workers=max(1, min(workers, len(batch)))) as pool:
        for item in batch:
            pool.submit(attempt, senders.get(item.channel), item, _outgoing(item, folder, cache))
        try:
            _confirm_as_answered(
                database, answered, len(batch), at, report, on_confirmed, confirm_wait
            )
        except BaseException:
            # what cannot be recorded as sent would be sent again: send no more, the
            # rows not begun stay claimed until the lease ends, as a killed sender's
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return report


def deliver_all(database: Any, *, now: datetime | None = None, **kw: Any) -> Report:
    """Passes until nothing due is left (what ``fsm notify run --once`` does)."""
    total = Report()
    while True:
        report = deliver(database, now=now, **kw)
        total.add(report)
        if report.claimed == 0 or report.quiet_until is not None:
            return total
