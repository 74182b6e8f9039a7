"""``fsm notify``: notifications to customers' contacts — the sender, the list, retries,
and a contact's opt-out."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import MAX_INT, Json, Limit

app = typer.Typer(
    no_args_is_help=True,
    help="Notifications to customers' contacts (e-mail, SMS, messengers): send, list, retry.",
)


def _summary(report: Any) -> str:
    line = _t(
        f"sent {report.sent}, to retry {report.retried}, failed {report.failed}",
        f"отправлено {report.sent}, к повтору {report.retried}, не доставлено {report.failed}",
    )
    if report.quiet_until is not None:
        from fsm_core.formatting import local_time

        with STATE.reader() as session:
            tz = company(session).tz
        when = local_time(report.quiet_until, tz, lang=STATE.language)
        line += _t(f"; quiet hours until {when}", f"; тихие часы до {when}")
    return line


@app.command("run")
def run(
    once: Annotated[
        bool, typer.Option("--once", help="One pass over what is due now, then stop.")
    ] = False,
    interval: Annotated[
        float,
        typer.Option("--interval", min=1, max=3600, help="Seconds between passes (the loop)."),
    ] = 30,
    json_: Json = False,
) -> None:
    """Send the notifications that are due: with --once one pass, else until Ctrl-C."""
    import time

    from fsm_core.services import notify

    database = STATE.database()
    if once:
        report = notify.deliver_all(database)
        if json_:
            output.emit_json(report.as_json())
        else:
            output.done(_summary(report))
        return
    output.done(
        _t(
            f"fsm notify: sending every {interval:g} s; Ctrl-C stops",
            f"fsm notify: отправка каждые {interval:g} с; Ctrl-C — остановить",
        )
    )
    try:
        while True:
            report = notify.deliver_all(database)
            if report.claimed:
                if json_:
                    output.emit_lines([report.as_json()])
                else:
                    output.done(_summary(report))
            time.sleep(interval)
    except KeyboardInterrupt:
        return


_STATES = ("pending", "sent", "failed")


@app.command("list")
def list_(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only those that failed (the dead letters).")
    ] = False,
    state: Annotated[
        str | None, typer.Option("--state", help="Only in this state: pending, sent, failed.")
    ] = None,
    order: Annotated[str | None, typer.Option("--order", help="Only this order's.")] = None,
    limit: Limit = 0,
    json_: Json = False,
) -> None:
    """List notifications, newest first."""
    from fsm_core.formatting import local_time
    from fsm_core.services import lookup, notify
    from fsm_core.services.notify.queries import EVENT_NAMES, STATE_NAMES

    if failed:
        if state not in (None, "failed"):
            raise output.fail(_t("--failed and --state differ", "--failed и --state расходятся"))
        state = "failed"
    with STATE.reader() as session:
        order_id = lookup.resolve_order(session=session, ref=order).id if order else None
        rows = notify.list_notifications(
            session=session, order_id=order_id, state=state, limit=limit or None
        )
        tz = company(session).tz
    if json_:
        output.emit_json([r.as_json() for r in rows])
        return
    ru = STATE.language == "ru"
    lang = STATE.language

    def when(r: Any) -> str:
        if r.state == "sent":
            return local_time(r.sent_at, tz, lang=lang)
        if r.state == "pending":
            return _t("next ", "след. ") + local_time(r.next_attempt_at, tz, lang=lang)
        return ""

    output.table(
        [
            "#",
            _t("Order", "Заявка"),
            _t("Event", "Событие"),
            _t("Channel", "Канал"),
            _t("Recipient", "Получатель"),
            _t("State", "Состояние"),
            _t("Attempts", "Попыток"),
            _t("When", "Когда"),
            (_t("Last error", "Последняя ошибка"), {"squeeze": True}),
        ],
        [
            [
                r.id,
                r.number,
                EVENT_NAMES.get(r.event, (r.event, r.event))[1 if ru else 0],
                r.channel,
                r.recipient,
                STATE_NAMES.get(r.state, (r.state, r.state))[1 if ru else 0],
                r.attempts,
                when(r),
                r.last_error or "",
            ]
            for r in rows
        ],
    )


@app.command("retry")
def retry(
    notification: Annotated[
        int | None,
        typer.Argument(min=1, max=MAX_INT, help="The failed notification's number (#)."),
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed notification.")
    ] = False,
    json_: Json = False,
) -> None:
    """Send failed notifications again, from their first attempt, on the sender's next pass."""
    from fsm_core.services import notify

    if (notification is None) == (not all_failed):
        raise output.fail(
            _t(
                "give a notification's number or --all-failed (one of the two)",
                "укажите номер уведомления или --all-failed (одно из двух)",
            )
        )
    with STATE.transaction() as session:
        count = notify.retry(session=session, notification_id=notification, all_failed=all_failed)
    output.result(
        json_,
        {"retried": count},
        _t(f"{count} notification(s) queued again", f"снова в очереди: {count}"),
    )


Contact = Annotated[str, typer.Argument(help="The contact: name, phone, external id or #id.")]
Customer = Annotated[str | None, typer.Option("--customer", "-c", help="The contact's customer.")]


def _opt(ref: str, customer: str | None, opt_out: bool, json_: bool) -> None:
    from fsm_core.services import lookup, notify

    with STATE.transaction() as session:
        company_id = lookup.resolve_company(session=session, ref=customer).id if customer else None
        contact = lookup.resolve_contact(session=session, ref=ref, company_id=company_id)
        contact = notify.set_opt_out(session=session, contact_id=contact.id, opt_out=opt_out)
        name = contact.full_name
        value = {"contact": name, "id": contact.id, "notify": not contact.notify_opt_out}
    output.result(
        json_,
        value,
        _t(f"{name} gets no notifications", f"{name} не получает уведомлений")
        if opt_out
        else _t(f"{name} gets notifications again", f"{name} снова получает уведомления"),
    )


@app.command("opt-out")
def opt_out(ref: Contact, customer: Customer = None, json_: Json = False) -> None:
    """The contact asked for no notifications: none is queued for them from now on, and
    what is queued and not yet sent is dropped."""
    _opt(ref, customer, True, json_)


@app.command("opt-in")
def opt_in(ref: Contact, customer: Customer = None, json_: Json = False) -> None:
    """The contact gets notifications again."""
    _opt(ref, customer, False, json_)
