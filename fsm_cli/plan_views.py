"""How ``fsm plan`` draws a schedule for a person: the day's bars and visits, the week's
grid, conflict lines in their severity's colour; and the JSON a script reads instead."""

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fsm_cli import output
from fsm_cli.context import STATE
from fsm_cli.context import say as _t

if TYPE_CHECKING:
    from fsm_core.services.planning import Conflict, PersonDay, Schedule


def _lang() -> str:
    return STATE.language


KIND_NAMES = {
    "overlap": ("overlap", "пересечение"),
    "outside_hours": ("outside hours", "вне графика"),
    "day_off": ("time off", "нерабочий день"),
    "after_deadline": ("after deadline", "после срока"),
    "travel": ("travel", "дорога"),
    "no_coordinates": ("no coordinates", "нет координат"),
}


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "dim"}


def day_name(day: date) -> str:
    from fsm_core.i18n import weekday_name

    return f"{weekday_name(day.weekday(), _lang(), title=True)} {day:%d.%m}"


def hm(value: datetime, tz: Any) -> str:
    return value.astimezone(tz).strftime("%H:%M")


def hours_text(delta: timedelta) -> str:
    from fsm_core.formatting import duration

    return duration(delta, lang=_lang())


def conflict_line(conflict: "Conflict", tz: Any) -> Any:
    from rich.text import Text

    from fsm_core.services.planning import describe

    en, ru = KIND_NAMES[conflict.kind]
    mark = "!" if conflict.severity != "note" else "i"
    text = Text(f"  {mark} {_t(en, ru)}: ", style=SEVERITY_STYLE[conflict.severity])
    text.append(describe(conflict, lang=_lang(), tz=tz))
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def conflict_json(conflicts: list["Conflict"], tz: Any) -> list[dict[str, Any]]:
    return [c.as_dict(lang=_lang(), tz=tz) for c in conflicts]


def schedule_json(schedule: "Schedule") -> dict[str, Any]:
    tz = schedule.tz
    return {
        "first_day": schedule.first_day,
        "last_day": schedule.last_day,
        "timezone": str(tz),
        "people": [
            {
                "employee_id": p.employee_id,
                "employee": p.name,
                "has_hours": p.has_hours,
                "days": [
                    {
                        "day": d.day,
                        "shifts": [list(s) for s in d.shifts],
                        "working": [list(s) for s in d.working],
                        "holiday": d.holiday,
                        "time_off": d.time_off,
                        "work_minutes": int(d.work.total_seconds() // 60),
                        "booked_minutes": int(d.booked.total_seconds() // 60),
                        "visits": [v.as_dict() for v in d.visits],
                        "conflicts": conflict_json(d.conflicts, tz),
                    }
                    for d in p.days
                ],
            }
            for p in schedule.people
        ],
        "conflicts": conflict_json(schedule.conflicts, tz),
    }


def bar(d: "PersonDay", tz: Any, first: int, last: int) -> Any:
    from rich.text import Text

    from fsm_core.services.working_time import subtract

    bar = Text()
    step = timedelta(minutes=15)
    base = datetime.combine(d.day, datetime.min.time()).replace(tzinfo=tz)
    offs = [(t["start"], t["end"]) for t in d.time_off]
    for i in range((last - first) * 4):
        start = base + timedelta(hours=first) + i * step
        end = start + step
        here = [v for v in d.visits if v.start < end and v.end > start]
        busy = [v for v in here if not v.done]  # a done order's visit holds no time
        working = not subtract([(start, end)], d.working)
        if not busy and here:
            bar.append("✓", style="green")
        elif len(busy) > 1:
            bar.append("█", style="bold red")
        elif busy:
            bar.append("█", style="cyan" if working else "yellow")
        elif any(a < end and b > start for a, b in offs) or (d.holiday and d.shifts):
            bar.append("×", style="magenta")
        elif working:
            bar.append("░", style="green")
        else:
            bar.append("·", style="dim")
    return bar


def print_day(schedule: "Schedule", stage_names: dict[str, str]) -> None:
    from rich.text import Text

    from fsm_core.formatting import moment

    console = output.console()
    tz = schedule.tz
    day = schedule.first_day
    from fsm_core.i18n import weekday_name

    weekday = weekday_name(day.weekday(), _lang(), title=True)
    console.print(
        Text(f"{_t('Plan for', 'План на')} {weekday} {day:%d.%m.%Y}", style="bold"),
        Text(f" ({tz})", style="dim"),
        sep="",
    )
    if not schedule.people:
        console.print(
            _t(
                "Nobody to show: set working hours (fsm plan hours) or plan a visit.",
                "Некого показать: задайте рабочее время (fsm plan hours) или визит.",
            )
        )
        return
    first, last = schedule.hour_range()
    width = 18
    ruler = " " * width + "".join(f"{h:02d}  " for h in range(first, last))
    console.print(Text(ruler, style="dim"), no_wrap=True, overflow="crop")
    for person in schedule.people:
        d = person.days[0]
        line = Text(person.name[: width - 1].ljust(width), style="bold")
        line.append_text(bar(d, tz, first, last))
        line.append("  ")
        summary = []
        if d.holiday:
            summary.append(_t("holiday", "праздник") + f" «{d.holiday}»")
        for t in d.time_off:
            from fsm_core.models import TimeOffKind
            from fsm_core.models.planning import TIME_OFF_NAMES

            summary.append(TIME_OFF_NAMES[TimeOffKind(t["kind"])][_lang()])
        if not person.has_hours:
            summary.append(_t("no working hours set", "рабочее время не задано"))
        elif d.shifts:
            summary.append(", ".join(f"{hm(a, tz)}–{hm(b, tz)}" for a, b in d.shifts))
        else:
            summary.append(_t("day off", "выходной"))
        if d.visits:
            booked = hours_text(d.booked)
            summary.append(
                _t(f"{len(d.visits)} visit(s), {booked}", f"визитов: {len(d.visits)}, {booked}")
            )
        line.append(" · ".join(summary), style="dim")
        console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
        for v in d.visits:
            text = Text(f"  #{v.id:<4} ", style="dim")
            if v.done:  # the day's record, no longer a booking
                text.append("✓ ", style="green")
            text.append(f"{hm(v.start, tz)}–{hm(v.end, tz)}", style="dim" if v.done else "bold")
            text.append(f"  {v.number}", style="bold cyan")
            text.append(f"  {stage_names.get(v.stage_code, v.stage_code)}", style="dim")
            where = " — ".join(x for x in (v.object, v.address) if x)
            text.append(f"  {v.customer}" + (f" · {where}" if where else ""))
            if v.crew:
                text.append(f"  ({v.crew})", style="dim")
            if v.resolution_due:
                due = moment(v.resolution_due, tz, lang=_lang())
                text.append(f"  {_t('due', 'срок')} {due}", style="dim")
            console.print(text, no_wrap=True, overflow="ellipsis", crop=True)
        for conflict in d.conflicts:
            console.print(conflict_line(conflict, tz), no_wrap=True, overflow="ellipsis", crop=True)
    legend = Text("\n")
    for mark, style, en, ru in (
        ("█", "cyan", "visit", "визит"),
        ("✓", "green", "done", "выполнен"),
        ("█", "bold red", "overlap", "пересечение"),
        ("█", "yellow", "outside hours", "вне графика"),
        ("░", "green", "free", "свободно"),
        ("×", "magenta", "time off", "отсутствие"),
        ("·", "dim", "off duty", "не рабочее время"),
    ):
        legend.append(mark, style=style)
        legend.append(f" {_t(en, ru)}   ", style="dim")
    problems = [c for c in schedule.conflicts if c.severity != "note"]
    legend.append(
        _t(f"conflicts: {len(problems)}", f"конфликтов: {len(problems)}"),
        style="bold red" if problems else "green",
    )
    console.print(legend)


def print_week(schedule: "Schedule") -> None:
    from rich.text import Text

    from fsm_core.models import TimeOffKind
    from fsm_core.models.planning import TIME_OFF_NAMES

    def h(delta: timedelta) -> str:
        value = delta.total_seconds() / 3600
        return (
            f"{value:.0f}"
            if value == int(value)
            else f"{value:.1f}".replace(".", "," if _lang() == "ru" else ".")
        )

    columns: list[Any] = [(_t("Employee", "Сотрудник"), {"no_wrap": True, "style": "bold"})]
    days = [schedule.first_day + timedelta(days=i) for i in range(7)]
    columns += [(day_name(d), {"no_wrap": True, "justify": "center"}) for d in days]
    columns.append((_t("Total", "Итого"), {"no_wrap": True, "justify": "right"}))
    rows = []
    for person in schedule.people:
        cells: list[Any] = [person.name]
        booked_total, work_total = timedelta(0), timedelta(0)
        for d in person.days:
            booked_total += d.booked
            work_total += d.work
            problems = [c for c in d.conflicts if c.severity != "note"]
            if d.visits:
                cell = Text(f"{len(d.visits)}·{h(d.booked)}/{h(d.work)}")
                cell.stylize("cyan")
            elif d.time_off:
                kind = TimeOffKind(d.time_off[0]["kind"])
                cell = Text(TIME_OFF_NAMES[kind][_lang()], style="magenta")
            elif d.holiday:
                cell = Text(_t("holiday", "праздник"), style="magenta")
            elif d.shifts:
                cell = Text(f"–/{h(d.work)}", style="green")
            else:
                cell = Text("·", style="dim")
            if problems:
                cell.append(f" !{len(problems)}", style="bold red")
            cells.append(cell)
        cells.append(f"{h(booked_total)}/{h(work_total)}")
        rows.append(cells)
    problems = [c for c in schedule.conflicts if c.severity != "note"]
    caption = _t(
        "visits·booked/working hours; !N conflicts (fsm plan conflicts)",
        "визиты·занято/рабочих часов; !N конфликты (fsm plan conflicts)",
    )
    title = (
        f"{_t('Week', 'Неделя')} {schedule.first_day:%d.%m}–{schedule.last_day:%d.%m.%Y} · "
        + _t(f"conflicts: {len(problems)}", f"конфликтов: {len(problems)}")
    )
    output.table(columns, rows, title=title, caption=caption)
