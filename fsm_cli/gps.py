"""``fsm gps``: technicians' devices and positions."""

from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import Json

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


import fsm_cli.gps_days  # noqa: E402,F401  (registers `fsm gps visits` and `fsm gps day` on app)
