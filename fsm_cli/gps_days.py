"""``fsm gps visits`` and ``fsm gps day``: a technician's stays at objects and their day,
read from the positions (registered on :data:`fsm_cli.gps.app`)."""

from datetime import datetime, tzinfo
from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.gps import app
from fsm_cli.options import Json

Employee = Annotated[
    str | None,
    typer.Option("--employee", "-e", help="The technician (name, phone or id)."),
]
Day = Annotated[
    str | None,
    typer.Option("--date", "-d", help="The day: 27.11.2026, 27.11, today, вчера (default today)."),
]

_HOW_RU = {
    "detected": "по GPS",
    "manual near": "отметка рядом",
    "manual far": "отметка далеко",
    "no fix": "отметка без позиции",
    "manual unverified": "отметка, не проверить",
}


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def _clock(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%H:%M") if value is not None else "—"


@app.command("visits")
def visits(employee: Employee = None, when: Day = None, json_: Json = False) -> None:
    """A day's stays at objects: arrived, left, minutes on site, the order, how established.

    How: detected from the positions, or a manual check-in (manual near / manual far / no
    fix / manual unverified). A stay with no object is a long stop elsewhere."""
    from fsm_core.services import gps, lookup
    from fsm_core.timeparse import read_day

    with STATE.reader() as session:
        tz = company(session).tz
        day = read_day(when, tz)
        ids = [lookup.resolve_employee(session=session, ref=employee).id] if employee else None
        read = gps.day_stays(session=session, day=day, employee_ids=ids)
        unverifiable = read.unverifiable
    stays = [
        s for e in sorted(read.stays, key=lambda e: read.names.get(e, "")) for s in read.stays[e]
    ]
    if json_:
        output.emit_json(
            [
                {
                    "employee": s.employee,
                    "object_id": s.object_id,
                    "object": s.object_name,
                    "order": s.order,
                    "arrived_at": _iso(s.arrived_at, tz),
                    "left_at": _iso(s.left_at, tz),
                    "minutes": s.minutes,
                    "how": s.how,
                }
                for s in stays
            ]
        )
        return
    ru = STATE.language == "ru"
    missing = sorted({n for per in unverifiable.values() for n in per.values()})
    output.table(
        [
            _t("Employee", "Сотрудник"),
            _t("Arrived", "Прибыл"),
            _t("Left", "Убыл"),
            _t("Minutes", "Минут"),
            _t("Object", "Объект"),
            _t("Order", "Заявка"),
            _t("How", "Как"),
        ],
        [
            [
                s.employee,
                _clock(s.arrived_at, tz),
                _clock(s.left_at, tz) if s.left_at or s.minutes is None else _t("there", "там"),
                "" if s.minutes is None else str(s.minutes),
                s.object_name or _t("(stop)", "(остановка)"),
                s.order or "",
                _HOW_RU.get(s.how, s.how) if ru else s.how,
            ]
            for s in stays
        ],
        title=_t(f"Stays on {day:%d.%m.%Y}", f"Пребывание {day:%d.%m.%Y}"),
        caption=_t(
            "not verifiable, no coordinates: " + ", ".join(missing),
            "не проверить, нет координат: " + ", ".join(missing),
        )
        if missing
        else None,
    )


@app.command("day")
def day_(employee: Employee = None, when: Day = None, json_: Json = False) -> None:
    """A technician's day: km driven, minutes on site and on the road, orders done, gaps.

    Everyone's without --employee. Kilometres are counted with the parking jitter and
    glitches taken out."""
    from fsm_core.services import gps, lookup
    from fsm_core.timeparse import read_day

    with STATE.reader() as session:
        tz = company(session).tz
        day = read_day(when, tz)
        ids = [lookup.resolve_employee(session=session, ref=employee).id] if employee else None
        reports = gps.day_report(session=session, day=day, employee_ids=ids)
    if json_:
        value: list[dict[str, Any]] = [
            {
                "employee": r.employee,
                "date": day.isoformat(),
                "km": r.km,
                "on_site_minutes": r.on_site_minutes,
                "travel_minutes": r.travel_minutes,
                "orders_done": len(r.orders_done),
                "orders": r.orders_done,
                "first_at": _iso(r.first_at, tz),
                "last_at": _iso(r.last_at, tz),
                "largest_gap_minutes": r.largest_gap_minutes,
            }
            for r in reports
        ]
        output.emit_json(value)
        return
    lang = STATE.language
    output.table(
        [
            _t("Employee", "Сотрудник"),
            (_t("km", "км"), {"justify": "right"}),
            (_t("On site, min", "На объектах, мин"), {"justify": "right"}),
            (_t("Driving, min", "В пути, мин"), {"justify": "right"}),
            _t("Orders done", "Выполнено"),
            _t("First", "Начало"),
            _t("Last", "Конец"),
            (_t("Longest gap, min", "Пропуск, мин"), {"justify": "right"}),
        ],
        [
            [
                r.employee,
                f"{r.km:.1f}".replace(".", ",") if lang == "ru" else f"{r.km:.1f}",
                str(r.on_site_minutes),
                str(r.travel_minutes),
                ", ".join(r.orders_done) or "—",
                _clock(r.first_at, tz),
                _clock(r.last_at, tz),
                str(r.largest_gap_minutes),
            ]
            for r in reports
        ],
        title=_t(f"Day {day:%d.%m.%Y}", f"День {day:%d.%m.%Y}"),
        caption=None if reports else _t("no positions that day", "позиций за этот день нет"),
    )
