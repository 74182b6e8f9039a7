"""``fsm audit``: the audit trail — who changed what, when, with which command (admins)."""

from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import Json, JsonLines, Limit, Offset, SinceDay, UntilDay

app = typer.Typer(
    no_args_is_help=True,
    help="The audit trail (журнал аудита): every change, who made it and when; "
    "append-only and hash-chained (admins).",
)


@app.command("list")
def list_(
    entity: Annotated[
        str | None,
        typer.Option(
            "--entity",
            "-e",
            help="order, customer, object, employee, crew, stock, setting, user, import... "
            "(order also lists its visits, work, materials; order.visit only those).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="The record: an order's number (26-0091), a setting's key, a user's login, "
            "else the id; an order's number finds what belongs to it too.",
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Who acted (or on whose behalf); part of it.")
    ] = None,
    since: SinceDay = None,
    until: UntilDay = None,
    limit: Limit = 50,
    offset: Offset = 0,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """The audit trail, newest first: when, who (on whose behalf), command, what changed."""
    from fsm_core.services import audit_log
    from fsm_core.timeparse import day_range

    with STATE.reader() as session:
        tz = company(session).tz
        start, end = day_range(since, until, tz=tz)
        rows = audit_log.list_entries(
            session=session,
            entity=entity,
            key=key,
            user=user,
            since=start,
            until=end,
            limit=limit or None,
            offset=offset,
        )
    if output.emit_records([row.as_dict() for row in rows], json_, nl):
        return
    from fsm_core.formatting import moment

    lang = STATE.language
    output.table(
        [
            (_t("When", "Когда"), {"no_wrap": True}),
            (_t("Who", "Кто"), {"squeeze": True, "max_width": 30}),
            (_t("Command", "Команда"), {"squeeze": True, "max_width": 22}),
            (_t("What", "Что"), {"no_wrap": True}),
            (_t("Record", "Запись"), {"no_wrap": True}),
            (_t("Action", "Действие"), {"no_wrap": True}),
            (_t("Changes", "Изменения"), {"ratio": 1, "overflow": "fold"}),
        ],
        [
            [
                moment(row.at, tz, lang=lang, seconds=True),
                row.who,
                row.command or "",
                audit_log.entity_name(row.entity, lang),
                row.key or "",
                audit_log.action_name(row.action, lang),
                audit_log.describe_changes(row.changes, tz=tz),
            ]
            for row in rows
        ],
    )


@app.command("verify")
def verify(json_: Json = False) -> None:
    """Recompute the trail's hash chain; name the first broken row (exit 1 if one is)."""
    from fsm_core.formatting import moment
    from fsm_core.services import audit_log

    with STATE.reader() as session:
        check = audit_log.verify_trail(session=session)
        tz = company(session).tz
    broken = check.broken
    if json_:
        output.emit_json(
            {
                "whole": check.whole,
                "checked": check.checked,
                "broken": None
                if broken is None
                else {"id": broken.id, "at": broken.at, "reason": broken.reason},
                "last_id": check.last_id,
                "last_hash": check.last_hash,
            }
        )
    elif broken is None:
        head = f"{check.last_id}, {check.last_hash}" if check.last_id is not None else "—"
        output.plain(
            _t(
                f"{check.checked} rows checked: the chain is whole (last row {head})",
                f"Проверено строк: {check.checked}; цепочка цела (последняя строка {head})",
            )
        )
    else:
        when = moment(broken.at, tz, lang=STATE.language, seconds=True)
        output.plain(
            _t(
                f"{check.checked} rows checked: the chain is broken at row {broken.id} "
                f"({when}): {broken.reason}",
                f"Проверено строк: {check.checked}; цепочка нарушена на строке {broken.id} "
                f"({when}): {broken.reason_ru}",
            )
        )
    if broken is not None:
        raise typer.Exit(1)
