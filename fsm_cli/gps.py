"""``fsm gps``: technicians' devices and positions."""

from typing import TYPE_CHECKING, Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import Json

if TYPE_CHECKING:
    from fsm_core.services.gps import gpx

app = typer.Typer(
    no_args_is_help=True,
    help="Where the technicians are (GPS): devices, positions, stays at objects.",
)
devices_app = typer.Typer(
    no_args_is_help=True, help="Technicians' phones and trackers, each bound to an employee."
)
app.add_typer(devices_app, name="devices")


@devices_app.command("bind")
def bind(
    device_id: Annotated[
        str, typer.Argument(help="The device's identifier (Traccar Client: Device identifier).")
    ],
    employee: Annotated[str, typer.Argument(help="The employee who carries it.")],
    name: Annotated[str | None, typer.Option("--name", help="What to call the device.")] = None,
    json_: Json = False,
) -> None:
    """Bind a device to an employee: its positions are kept from now on."""
    from fsm_core.services import gps, lookup

    with STATE.transaction() as session:
        device = gps.bind_device(
            session=session, identifier=device_id, employee=employee, name=name
        )
        person = lookup.resolve_employee(session=session, ref=device.employee_id or 0)
        value = {"device": device.identifier, "employee": person.short_name}
    output.result(
        json_,
        value,
        _t(
            f"Device {device.identifier} is {person.short_name}'s",
            f"Устройство {device.identifier} привязано к сотруднику {person.short_name}",
        ),
    )


@devices_app.command("unbind")
def unbind(
    device_id: Annotated[str, typer.Argument(help="The device's identifier.")],
) -> None:
    """The device belongs to nobody: its next positions are refused."""
    from fsm_core.services import gps

    with STATE.transaction() as session:
        device = gps.unbind_device(session=session, identifier=device_id)
    output.done(
        _t(
            f"Device {device.identifier} is bound to nobody",
            f"Устройство {device.identifier} ни к кому не привязано",
        )
    )


@devices_app.command("list")
def list_(
    unknown: Annotated[
        bool,
        typer.Option("--unknown", help="Only devices that sent positions while bound to nobody."),
    ] = False,
    json_: Json = False,
) -> None:
    """Devices, whose they are, when they were last heard and how many positions they gave."""
    from fsm_core.formatting import moment
    from fsm_core.services import gps

    with STATE.reader() as session:
        rows = gps.list_devices(session=session, unknown=unknown)
        tz = company(session).tz
    if json_:
        output.emit_json(
            [
                {
                    "device": r.identifier,
                    "employee": r.employee,
                    "name": r.name,
                    "first_seen_at": r.first_seen_at,
                    "last_seen_at": r.last_seen_at,
                    "refused": r.refused,
                    "positions": r.positions,
                    "last_fix_at": r.last_fix_at,
                }
                for r in rows
            ]
        )
        return
    lang = STATE.language
    output.table(
        [
            _t("Device", "Устройство"),
            _t("Employee", "Сотрудник"),
            _t("Last heard", "Последний сигнал"),
            _t("Positions", "Позиций"),
            _t("Refused", "Отклонено"),
        ],
        [
            [
                r.identifier + (f" ({r.name})" if r.name else ""),
                r.employee or _t("— nobody —", "— никто —"),
                moment(r.last_seen_at, tz, lang=lang),
                str(r.positions),
                str(r.refused),
            ]
            for r in rows
        ],
        caption=_t(
            "bind a device: fsm gps devices bind DEVICE_ID EMPLOYEE",
            "привязать: fsm gps devices bind УСТРОЙСТВО СОТРУДНИК",
        )
        if any(r.employee is None for r in rows)
        else None,
    )


@app.command("prune")
def prune(json_: Json = False) -> None:
    """Delete positions older than the gps_retention_days setting (default 180)."""
    from fsm_core.services import gps

    deleted = gps.prune(database=STATE.database())
    output.result(
        json_,
        {"deleted": deleted},
        _t(f"Deleted {deleted} old positions", f"Удалено старых позиций: {deleted}"),
    )


# --- fsm gps pull: from the company's own Traccar server --------------------------------


@app.command("pull")
def pull(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="FSM_TRACCAR_URL",
            help="The Traccar server's address, e.g. http://traccar.example.ru:8082 "
            "(default: the traccar_url setting).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="FSM_TRACCAR_TOKEN",
            show_envvar=True,
            help="A Traccar token (Settings → Preferences → Token); better in the environment.",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            envvar="FSM_TRACCAR_USER",
            help="The Traccar user's email (default: the traccar_user setting); the password "
            "comes from FSM_TRACCAR_PASSWORD or --password-stdin.",
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    basic: Annotated[
        bool,
        typer.Option(
            "--basic", help="Send the email and password with every request (no session)."
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Take positions from this moment (DD.MM.YYYY [HH:MM]) instead of where the "
            "last pull stopped; default for a first pull: the retention start.",
        ),
    ] = None,
    device: Annotated[
        list[str] | None,
        typer.Option("--device", help="Only this Traccar device (uniqueId); may be repeated."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, max=600, help="Seconds to wait for an answer.")
    ] = 30.0,
    json_: Json = False,
) -> None:
    """Take new positions from the company's Traccar server (its REST API).

    Each Traccar device is matched to ours by its identifier (uniqueId); one bound to no
    employee is listed by `fsm gps devices list --unknown` and its positions are left in
    Traccar until it is bound. The next pull continues after the newest fix taken."""
    import os
    import sys

    from fsm_core.services.gps import traccar
    from fsm_core.timeparse import parse_datetime

    with STATE.reader() as session:
        values = company(session)
        start = parse_datetime(since, tz=values.tz, field="--since") if since else None
        url = url or values.traccar_url
        user = user or (None if token else values.traccar_user)
    if not url:
        raise typer.BadParameter(
            "give the Traccar server's address (or set it once: fsm settings set traccar_url "
            "http://host:8082)",
            param_hint="--url",
        )
    password = os.environ.get("FSM_TRACCAR_PASSWORD")
    if password_stdin:
        if sys.stdin.isatty():
            raise typer.BadParameter(
                "standard input is a terminal: pipe the password in", param_hint="--password-stdin"
            )
        password = sys.stdin.readline().rstrip("\r\n")
    credentials = traccar.Credentials(
        token=token or None, user=user, password=None if token else password, basic=basic
    )
    lang = STATE.language

    def tell(entry: traccar.DevicePull) -> None:
        if not json_ and sys.stderr.isatty():
            output.plain(
                f"{entry.unique_id}: {entry.fetched} " + _t("fetched", "получено"), err=True
            )

    with traccar.TraccarClient(url, credentials, timeout=timeout) as client:
        report = traccar.pull(
            database=STATE.database(), client=client, since=start, only=device, progress=tell
        )
    rows = report.devices
    if json_:
        output.emit_json(
            {
                "url": report.url,
                "requests": report.requests,
                "devices": [
                    {
                        "device": d.unique_id,
                        "name": d.name,
                        "unknown": d.unknown,
                        "fetched": d.fetched,
                        "stored": d.stored,
                        "duplicate": d.duplicate,
                        "off_hours": d.off_hours,
                        "inactive": d.inactive,
                        "invalid": d.invalid,
                        "outdated": d.outdated,
                        "refused": d.refused,
                        "first_refusal": d.first_refusal,
                        "windows": d.windows,
                        "pulled_until": d.pulled_until,
                        "note": d.note,
                    }
                    for d in rows
                ],
            }
        )
        return
    from fsm_core.formatting import moment

    output.table(
        [
            _t("Device", "Устройство"),
            _t("Fetched", "Получено"),
            _t("Stored", "Сохранено"),
            _t("Duplicate", "Повторы"),
            _t("Off hours", "Вне работы"),
            _t("Skipped", "Пропущено"),
            _t("Refused", "Отклонено"),
            _t("Up to", "По"),
        ],
        [
            [
                d.unique_id + (f" ({d.name})" if d.name else ""),
                str(d.fetched),
                str(d.stored),
                str(d.duplicate),
                str(d.off_hours + d.inactive),
                str(d.invalid + d.outdated),
                str(d.refused),
                _t("unknown: bind it", "неизвестно: привяжите")
                if d.unknown
                else moment(d.pulled_until, values.tz, lang=lang)
                if d.pulled_until
                else (d.note or ""),
            ]
            for d in rows
        ],
        caption=_t(
            "bind a device: fsm gps devices bind DEVICE_ID EMPLOYEE",
            "привязать: fsm gps devices bind УСТРОЙСТВО СОТРУДНИК",
        )
        if any(d.unknown for d in rows)
        else None,
    )
    for d in rows:
        if d.first_refusal:
            output.plain(f"{d.unique_id}: {d.first_refusal}", err=True)
    output.done(
        _t(
            f"{report.total('stored')} positions stored from {len(rows)} devices "
            f"({report.requests} requests to {report.url})",
            f"Сохранено позиций: {report.total('stored')} с устройств: {len(rows)} "
            f"(запросов к {report.url}: {report.requests})",
        )
    )


# --- fsm gps import FILE.gpx ------------------------------------------------------------


@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="A GPX file, or - for standard input.")],
    employee: Annotated[str, typer.Option("--employee", "-e", help="Whose track it is.")],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Write the good points, leave out the bad ones."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    json_: Json = False,
) -> None:
    """Import a GPX file's tracks (and timed waypoints) as an employee's positions.

    All or nothing, as `fsm import`: every bad point is listed with its line, and nothing
    is written unless --skip-invalid. Exit status: 0 when every point is in, 1 when a point
    was refused or nothing was written."""
    import sys

    from fsm_core.services.gps import gpx

    if file == "-":
        if sys.stdin.isatty():
            raise typer.BadParameter(
                "standard input is a terminal: pipe a file in or give its path",
                param_hint="FILE",
            )
        report = gpx.import_gpx(
            database=STATE.database(),
            stream=sys.stdin.buffer,
            name="<stdin>",
            employee=employee,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            on_error=_print_error,
        )
    else:
        try:
            stream = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise output.fail(f"{file}: {exc.strerror or exc}") from None
        with stream:
            report = gpx.import_gpx(
                database=STATE.database(),
                stream=stream,
                name=file,
                employee=employee,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                on_error=_print_error,
            )
    if json_:
        output.emit_json(
            {
                "file": report.file,
                "employee": report.employee,
                "points": report.points,
                "stored": report.stored,
                "duplicate": report.duplicate,
                "off_hours": report.off_hours,
                "untimed": report.untimed,
                "rejected": report.rejected,
                "committed": report.committed,
                "dry_run": report.dry_run,
                "errors": report.errors,
            }
        )
    else:
        output.plain(_gpx_summary(report), err=True)
    raise typer.Exit(report.exit_code)


def _print_error(line: str) -> None:
    """A refused point's line: it quotes the file, which may carry escapes."""
    output.plain(line, err=True)


def _gpx_summary(report: "gpx.GpxReport") -> str:
    counts = _t(
        f"{report.points} points: {report.stored} new, {report.duplicate} already stored, "
        f"{report.off_hours} off hours",
        f"точек: {report.points}; новых: {report.stored}, уже было: {report.duplicate}, "
        f"вне рабочего времени: {report.off_hours}",
    )
    if report.untimed:
        counts += _t(
            f"; {report.untimed} waypoints or route points without a time not taken",
            f"; точек маршрута и путевых точек без времени (не взяты): {report.untimed}",
        )
    if report.rejected:
        counts += _t(f"; {report.rejected} refused", f"; отклонено: {report.rejected}")
    if report.committed:
        verdict = _t("written", "записано")
    elif report.dry_run:
        verdict = _t("dry run, nothing written", "проверка, ничего не записано")
    else:
        verdict = _t(
            "nothing was written (--skip-invalid writes the good points)",
            "ничего не записано (--skip-invalid запишет хорошие точки)",
        )
    return f"{report.file}: {counts}; {verdict}"


import fsm_cli.gps_days  # noqa: E402,F401  (registers `fsm gps visits` and `fsm gps day` on app)
