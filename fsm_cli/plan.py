"""``fsm plan``: the planner (планировщик заявок) — visits, schedules, conflicts, queue."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import MAX_INT, Json, Limit
from fsm_cli.plan_views import (
    KIND_NAMES,
    SEVERITY_STYLE,
    conflict_json,
    conflict_line,
    day_name,
    hm,
    hours_text,
    print_day,
    print_week,
    schedule_json,
)

if TYPE_CHECKING:
    from sqlmodel import Session


app = typer.Typer(
    no_args_is_help=True,
    help="The planner (планировщик): visits, working hours, conflicts, free slots, the queue.",
)
time_off_app = typer.Typer(
    no_args_is_help=True, help="Days off, leave and sick days (отгул, отпуск, больничный)."
)
holiday_app = typer.Typer(no_args_is_help=True, help="Company holidays (nobody works).")
app.add_typer(time_off_app, name="time-off")
app.add_typer(holiday_app, name="holiday")

Day = Annotated[
    str | None,
    typer.Argument(
        help="Day: 27.11.2026, 27.11, today, завтра (default: today).", show_default=False
    ),
]
Employees = Annotated[
    list[str] | None,
    typer.Option("--employee", "-e", help="Only this employee (short name...); repeatable."),
]
IfVersion = Annotated[
    int | None,
    typer.Option(
        "--if-version", min=1, max=MAX_INT, help="Refuse unless the visit is at this version."
    ),
]
AllowPast = Annotated[
    bool,
    typer.Option(
        "--allow-past", help="Plan the visit even though it starts in the past (a late entry)."
    ),
]


def _lang() -> str:
    return STATE.language


def _employee_ids(session: "Session", refs: list[str] | None) -> list[int] | None:
    from fsm_core.services import lookup

    if not refs:
        return None
    return [lookup.resolve_employee(session=session, ref=r).id for r in refs]


# --- day ---------------------------------------------------------------------------------


def _stage_names(session: "Session") -> dict[str, str]:
    from fsm_core.services.stages import load_workflow

    return {code: s.name(_lang()) for code, s in load_workflow(session=session).stages.items()}


@app.command("day")
def day_(when: Day = None, employee: Employees = None, json_: Json = False) -> None:
    """One day's timeline: each person's hours, visits and conflicts."""
    from fsm_core.services import planning

    with STATE.reader() as session:
        tz = company(session).tz
        day = planning.read_day(when, tz, field="day")
        schedule = planning.schedule(
            session=session,
            first_day=day,
            last_day=day,
            employee_ids=_employee_ids(session, employee),
        )
        stages = _stage_names(session)
    if json_:
        output.emit_json(schedule_json(schedule))
        return
    print_day(schedule, stages)


@app.command("week")
def week(when: Day = None, employee: Employees = None, json_: Json = False) -> None:
    """The week (Monday to Sunday) around a day: visits and booked hours per person and day."""
    from fsm_core.services import planning

    with STATE.reader() as session:
        tz = company(session).tz
        monday, sunday = planning.week_of(planning.read_day(when, tz, field="day"))
        schedule = planning.schedule(
            session=session,
            first_day=monday,
            last_day=sunday,
            employee_ids=_employee_ids(session, employee),
        )
    if json_:
        output.emit_json(schedule_json(schedule))
        return
    print_week(schedule)


# --- changing visits ----------------------------------------------------------------------


def _report(session: "Session", visit_id: int, verb: str) -> None:
    from rich.text import Text

    from fsm_core.services import planning

    tz = company(session).tz
    view = planning.visit_view(session=session, visit_id=visit_id)
    day = view.start.astimezone(tz).date()
    found = [
        c
        for c in planning.conflicts(
            session=session,
            start=view.start - timedelta(hours=12),
            end=view.end + timedelta(hours=12),
        )
        if visit_id in c.visit_ids
    ]
    output.done(
        f"{verb} #{view.id}: {view.number} {view.who} {day:%d.%m.%Y} "
        f"{hm(view.start, tz)}–{hm(view.end, tz)}"
    )
    console = output.console(stderr=True)
    for conflict in found:
        console.print(conflict_line(conflict, tz), no_wrap=True, overflow="ellipsis", crop=True)
    if not found:
        console.print(Text(_t("  no conflicts", "  конфликтов нет"), style="green"))


@contextmanager
def _past_refused() -> Iterator[None]:
    """A start in the past, refused by the core, as one line that says how to insist."""
    from fsm_core.services.planning import VisitInThePast

    try:
        yield
    except VisitInThePast as exc:
        tz = company_tz()
        when = f"{exc.start.astimezone(tz):%d.%m.%Y %H:%M}"
        raise output.fail(
            _t(
                f"start: {when} is in the past; nothing planned (add --allow-past to plan it)",
                f"начало: {when} уже прошло; визит не запланирован (добавьте --allow-past)",
            )
        ) from None


def company_tz() -> Any:
    with STATE.reader() as session:
        return company(session).tz


@app.command("add")
def add(
    order: Annotated[str, typer.Argument(help="Order number, e.g. 26-0012.")],
    who: Annotated[str, typer.Argument(help="Employee (short name...) or crew.")],
    start: Annotated[str, typer.Argument(help="Start: '27.11.2026 10:00', '27.11 10:00', 10:00.")],
    end: Annotated[
        str | None,
        typer.Argument(
            help="End: 12:00, a length (90m, 2h) or a date and time.", show_default=False
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for the technician.")] = None,
    allow_past: AllowPast = False,
    json_: Json = False,
) -> None:
    """Plan a visit; the order is assigned to that employee or crew (with history). A start
    in the past is refused unless --allow-past."""
    from fsm_core.services import lookup, planning

    with _past_refused(), STATE.transaction() as session:
        found = lookup.resolve_order(session=session, ref=order)
        employee_id, crew_id = lookup.resolve_assignee(session=session, ref=who)
        begin, finish = planning.read_window(start, end, company(session).tz)
        visit = planning.add_visit(
            session=session,
            order_id=found.id,
            employee_id=employee_id,
            crew_id=crew_id,
            start=begin,
            end=finish,
            note=note,
            actor=STATE.actor,
            allow_past=allow_past,
        )
        visit_id = visit.id
    with STATE.reader() as session:
        if json_:
            output.emit_json(planning.visit_view(session=session, visit_id=visit_id).as_dict())
            return
        _report(session, visit_id, _t("Planned visit", "Запланирован визит"))


@app.command("move")
def move(
    visit: Annotated[str, typer.Argument(help="Visit #id (or the order number if it has one).")],
    start: Annotated[
        str | None, typer.Argument(help="New start (the length stays).", show_default=False)
    ] = None,
    end: Annotated[
        str | None, typer.Argument(help="New end: a time, a length or a date and time.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Give the visit to another employee or crew.")
    ] = None,
    if_version: IfVersion = None,
    allow_past: AllowPast = False,
    json_: Json = False,
) -> None:
    """Move a visit in time and/or to another person (the order follows). A new start in
    the past is refused unless --allow-past."""
    from fsm_core.services import lookup, planning

    if start is None and to is None:
        raise typer.BadParameter("give a new start or --to", param_hint="START")
    with _past_refused(), STATE.transaction() as session:
        visit_id = planning.resolve_visit(session=session, ref=visit)
        tz = company(session).tz
        begin, finish = planning.read_window(start, end, tz) if start else (None, None)
        # no --to: both None, the visit keeps its technician or crew
        employee_id, crew_id = (
            lookup.resolve_assignee(session=session, ref=to) if to else (None, None)
        )
        planning.move_visit(
            session=session,
            visit_id=visit_id,
            start=begin,
            end=finish,
            employee_id=employee_id,
            crew_id=crew_id,
            expected_version=if_version,
            actor=STATE.actor,
            allow_past=allow_past,
        )
    with STATE.reader() as session:
        if json_:
            output.emit_json(planning.visit_view(session=session, visit_id=visit_id).as_dict())
            return
        _report(session, visit_id, _t("Moved visit", "Визит перенесён"))


@app.command("remove")
def remove(
    visit: Annotated[str, typer.Argument(help="Visit #id (or the order number if it has one).")],
    if_version: IfVersion = None,
    json_: Json = False,
) -> None:
    """Take a visit off the plan (the order keeps its assignee)."""
    from fsm_core.services import planning

    with STATE.transaction() as session:
        visit_id = planning.resolve_visit(session=session, ref=visit)
        view = planning.visit_view(session=session, visit_id=visit_id)
        planning.remove_visit(
            session=session, visit_id=visit_id, expected_version=if_version, actor=STATE.actor
        )
    output.result(
        json_,
        {"removed": visit_id, "order": view.number},
        _t(
            f"Removed visit #{visit_id} ({view.number}).",
            f"Визит #{visit_id} ({view.number}) удалён.",
        ),
    )


# --- queries -------------------------------------------------------------------------------


@app.command("conflicts")
def conflicts_(
    when: Day = None,
    days: Annotated[int, typer.Option("--days", min=1, max=62, help="How many days.")] = 7,
    employee: Employees = None,
    json_: Json = False,
) -> None:
    """Conflicts from a day on (default: this day and the six after it)."""
    from fsm_core.services import planning
    from fsm_core.timeparse import local_day_bounds

    with STATE.reader() as session:
        tz = company(session).tz
        first = planning.read_day(when, tz, field="day")
        last = first + timedelta(days=days - 1)
        found = planning.conflicts(
            session=session,
            start=local_day_bounds(first, tz)[0],
            end=local_day_bounds(last, tz)[1],
            employee_ids=_employee_ids(session, employee),
        )
    if json_:
        output.emit_json(conflict_json(found, tz))
        return
    from rich.text import Text

    from fsm_core.services.planning import describe

    rows = []
    for c in found:
        en, ru = KIND_NAMES[c.kind]
        rows.append(
            [
                c.start.astimezone(tz).strftime("%d.%m %H:%M"),
                c.employee or "",
                Text(_t(en, ru), style=SEVERITY_STYLE[c.severity]),
                describe(c, lang=_lang(), tz=tz),
            ]
        )
    problems = sum(c.severity != "note" for c in found)
    title = f"{_t('Conflicts', 'Конфликты')} {first:%d.%m}–{last:%d.%m.%Y}"
    output.table(
        [
            (_t("When", "Когда"), {"no_wrap": True}),
            (_t("Who", "Кто"), {"no_wrap": True}),
            (_t("Kind", "Вид"), {"no_wrap": True}),
            _t("What", "Что"),
        ],
        rows,
        title=title,
        caption=_t(
            f"{problems} conflict(s), {len(found) - problems} note(s)",
            f"конфликтов: {problems}, замечаний: {len(found) - problems}",
        ),
    )


@app.command("queue")
def queue(limit: Limit = 30, json_: Json = False) -> None:
    """Open orders with no visit ahead, most urgent SLA first (the unscheduled queue)."""
    from rich.text import Text

    from fsm_core import clock
    from fsm_core.formatting import duration
    from fsm_core.i18n import criticality_name
    from fsm_core.services import planning

    now = clock.now()
    with STATE.reader() as session:
        rows = planning.unscheduled(session=session, now=now, limit=limit or None)
        stages = _stage_names(session)
    if json_:
        output.emit_json(rows)
        return
    styles = {"ok": "green", "at_risk": "yellow", "violated": "bold red", "none": "dim"}
    body = []
    for i, r in enumerate(rows, 1):
        if r["next_due"] is None:
            left = Text("—", style="dim")
        else:
            delta = r["next_due"] - now
            shown = duration(abs(delta), lang=_lang())
            which = _t("reaction", "реакция") if r["next_due_kind"] == "reaction" else ""
            left = Text(
                ("−" if delta.total_seconds() < 0 else "") + shown, style=styles[r["sla_status"]]
            )
            if which:
                left.append(f" ({which})", style="dim")
        body.append(
            [
                str(i),
                r["number"],
                left,
                criticality_name(r["criticality"], _lang()),
                stages.get(r["stage_code"], r["stage_code"]),
                r["customer"],
                r["object"] or "",
                r["assignee"] or r["crew"] or "",
                " ".join(r["description"].split()),
            ]
        )
    squeeze = {"squeeze": True}
    output.table(
        [
            ("#", {"justify": "right"}),
            (_t("Number", "Номер"), {"no_wrap": True, "style": "bold"}),
            (_t("SLA left", "До срока"), {"no_wrap": True}),
            (_t("Crit.", "Крит."), {**squeeze, "max_width": 9}),
            (_t("Stage", "Стадия"), {**squeeze, "max_width": 12}),
            (_t("Customer", "Заказчик"), {**squeeze, "max_width": 18}),
            (_t("Object", "Объект"), {**squeeze, "max_width": 22}),
            (_t("Assignee", "Исполнитель"), {**squeeze, "max_width": 14}),
            (_t("Description", "Описание"), squeeze),
        ],
        body,
        title=_t("Unscheduled orders", "Заявки без визита"),
        caption=_t(
            f"{len(rows)} shown, most urgent first", f"показано {len(rows)}, самые срочные сверху"
        ),
    )


@app.command("free")
def free(
    when: Day = None,
    length: Annotated[
        str, typer.Option("--length", "-l", help="Slot length: 30m, 1h, 2h 30m.")
    ] = "1h",
    employee: Employees = None,
    near: Annotated[
        str | None,
        typer.Option("--near", help="Leave time to drive to this order's object (or an object)."),
    ] = None,
    json_: Json = False,
) -> None:
    """Free slots of a given length on a day, for everyone or some people."""
    from fsm_core.services import planning
    from fsm_core.timeparse import parse_minutes

    minutes = parse_minutes(length, field="length")
    with STATE.reader() as session:
        tz = company(session).tz
        day = planning.read_day(when, tz, field="day")
        object_id = _target(session, near)[0] if near else None
        slots = planning.free_slots(
            session=session,
            day=day,
            minutes=minutes,
            employee_ids=_employee_ids(session, employee),
            object_id=object_id,
        )
    if json_:
        output.emit_json([s.as_dict() for s in slots])
        return
    by_person: dict[str, list[Any]] = {}
    for slot in slots:
        by_person.setdefault(slot.employee, []).append(slot)
    rows = [
        [
            name,
            ", ".join(
                f"{hm(s.start, tz)}–{hm(s.end, tz)} ({hours_text(s.end - s.start)})" for s in found
            ),
        ]
        for name, found in sorted(by_person.items())
    ]
    output.table(
        [(_t("Employee", "Сотрудник"), {"no_wrap": True, "style": "bold"}), _t("Free", "Свободно")],
        rows,
        title=f"{_t('Free slots of', 'Свободные окна от')} "
        f"{hours_text(timedelta(minutes=minutes))} · {day_name(day)}",
        caption=_t(
            "nobody is free" if not rows else f"{len(slots)} slot(s)",
            "свободных нет" if not rows else f"окон: {len(slots)}",
        ),
    )


def _target(session: "Session", ref: str) -> tuple[int, int | None]:
    """An order's object and its assignee (by order number), or an object by its name or
    number and nobody."""
    from fsm_core.errors import InvalidInput, NotFound
    from fsm_core.services import lookup

    try:
        order = lookup.resolve_order(session=session, ref=ref)
    except NotFound:
        return lookup.resolve_object(session=session, ref=ref).id, None
    if order.object_id is None:
        raise InvalidInput(f"order {order.number} has no object")
    return order.object_id, order.assignee_id


@app.command("nearest")
def nearest_(
    target: Annotated[str, typer.Argument(help="Order number or object.")],
    start: Annotated[str, typer.Argument(help="When: '27.11.2026 14:00', 14:00 (today).")],
    length: Annotated[str, typer.Option("--length", "-l", help="How long the visit takes.")] = "2h",
    employee: Employees = None,
    json_: Json = False,
) -> None:
    """The nearest free technicians for a visit (from their previous visit, or home)."""
    from rich.text import Text

    from fsm_core.services import planning
    from fsm_core.timeparse import parse_minutes

    minutes = parse_minutes(length, field="length")
    with STATE.reader() as session:
        tz = company(session).tz
        moment = planning.read_moment(start, tz, field="start")
        object_id, assignee = _target(session, target)
        found = planning.nearest(
            session=session,
            object_id=object_id,
            start=moment,
            minutes=minutes,
            employee_ids=_employee_ids(session, employee),
            preferred=assignee,
        )
    if json_:
        output.emit_json([c.as_dict() for c in found])
        return
    decimal = "," if _lang() == "ru" else "."
    rows = []
    for c in found:
        km = "—" if c.distance_km is None else f"{c.distance_km:.1f}".replace(".", decimal)
        drive = "—" if c.travel_minutes is None else hours_text(timedelta(minutes=c.travel_minutes))
        if c.origin == "home":
            origin = _t("home base", "от дома")
        elif c.origin:
            origin = _t("after ", "после ") + c.origin.removeprefix("visit ")
        else:
            origin = _t("unknown", "неизвестно")
        if c.free:
            status = Text(_t("free", "свободен"), style="green")
        elif c.busy_reason == "not working":
            status = Text(_t("not working", "не работает"), style="dim")
        else:
            reason = (c.busy_reason or "").replace("visit ", _t("visit ", "визит "))
            status = Text(reason, style="dim")
        name = ("● " if assignee is not None and c.employee_id == assignee else "") + c.employee
        rows.append([name, status, km, drive, origin])
    output.table(
        [
            (_t("Employee", "Сотрудник"), {"no_wrap": True, "style": "bold"}),
            _t("Status", "Статус"),
            (_t("Distance, km", "Расстояние, км"), {"justify": "right"}),
            (_t("Drive", "В пути"), {"justify": "right"}),
            _t("From", "Откуда"),
        ],
        rows,
        title=f"{_t('Nearest for', 'Ближайшие на')} {moment.astimezone(tz):%d.%m.%Y %H:%M}",
    )


# --- working time --------------------------------------------------------------------------


@app.command("hours")
def hours(
    who: Annotated[str | None, typer.Argument(help="Employee (default: everyone).")] = None,
    patterns: Annotated[
        list[str] | None,
        typer.Argument(
            help="New working hours, e.g. 'Mon-Fri 09:00-18:00', 'пн-пт 9-18', 'sat 10-15', "
            "'2/2 08:00-20:00 from 01.12.2026'; '-' for none. Omit to show.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="New hours apply from this day (default: today).")
    ] = None,
    json_: Json = False,
) -> None:
    """Show working hours, or set an employee's (from a day on; earlier days keep theirs)."""
    from fsm_core.services import lookup, planning, working_time

    if patterns:
        if who is None:
            raise typer.BadParameter("name the employee", param_hint="EMPLOYEE")
        with STATE.transaction() as session:
            tz = company(session).tz
            employee = lookup.resolve_employee(session=session, ref=who)
            first = planning.read_day(since, tz, field="since")
            wanted = [p for p in patterns if p.strip() not in ("-", "none", "нет")]
            rows = working_time.set_patterns(
                session=session, employee_id=employee.id, patterns=wanted, valid_from=first
            )
            shown = "; ".join(working_time.describe_pattern(rows, lang=_lang())) or _t(
                "none", "нет"
            )
            output.done(f"{employee.short_name}: {shown} ({_t('from', 'с')} {first:%d.%m.%Y})")
        return
    with STATE.reader() as session:
        tz = company(session).tz
        ids = [lookup.resolve_employee(session=session, ref=who).id] if who else None
        today = planning.read_day(None, tz)
        found = working_time.patterns_of(session=session, employee_ids=ids, on=today)
        from sqlmodel import col, select

        from fsm_core.models import Employee

        query = select(Employee).order_by(col(Employee.short_name))
        if ids:
            query = query.where(col(Employee.id).in_(ids))
        else:
            query = query.where(col(Employee.active).is_(True))
        employees = list(session.exec(query))
    records: list[dict[str, Any]] = []
    for e in employees:
        rows = found.get(e.id or 0, [])
        records.append(
            {
                "employee_id": e.id,
                "employee": e.short_name,
                "hours": working_time.describe_pattern(rows, lang=_lang()),
                "rules": [
                    {
                        "rule": r.rule,
                        "anchor": r.anchor,
                        "start": r.start_time.strftime("%H:%M"),
                        "end": r.end_time.strftime("%H:%M"),
                        "valid_from": r.valid_from,
                        "valid_to": r.valid_to,
                    }
                    for r in rows
                ],
                "home": [e.home_latitude, e.home_longitude]
                if e.home_latitude is not None
                else None,
            }
        )
    if json_:
        output.emit_json(records)
        return
    output.table(
        [
            (_t("Employee", "Сотрудник"), {"no_wrap": True, "style": "bold"}),
            _t("Working hours", "Рабочее время"),
            _t("Since", "С"),
            _t("Home base", "Дом"),
        ],
        [
            [
                r["employee"],
                "; ".join(r["hours"]) or _t("not set", "не задано"),
                ", ".join(sorted({f"{x['valid_from']:%d.%m.%Y}" for x in r["rules"]})),
                f"{r['home'][0]:.5f}, {r['home'][1]:.5f}" if r["home"] else "",
            ]
            for r in records
        ],
    )


@app.command("home")
def home(
    who: Annotated[str, typer.Argument(help="Employee.")],
    latitude: Annotated[str, typer.Argument(help="Latitude (59.93), or '-' to clear.")],
    longitude: Annotated[str | None, typer.Argument(help="Longitude (30.36).")] = None,
) -> None:
    """Set where an employee starts the day (for the nearest technician)."""
    from fsm_core.errors import InvalidInput
    from fsm_core.services import lookup, planning

    def number(text: str | None, what: str) -> float | None:
        if text is None or text.strip() in ("-", ""):
            return None
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise InvalidInput(f"{what}: {text!r} is not a number") from None

    with STATE.transaction() as session:
        employee = lookup.resolve_employee(session=session, ref=who)
        planning.set_home_base(
            session=session,
            employee_id=employee.id,
            latitude=number(latitude, "latitude"),
            longitude=number(longitude, "longitude"),
        )
        name = employee.short_name
    output.done(_t(f"Home base of {name} saved.", f"Дом {name} сохранён."))


@time_off_app.command("add")
def time_off_add(
    who: Annotated[str, typer.Argument(help="Employee.")],
    first: Annotated[str, typer.Argument(help="First day (or a date and time).")],
    last: Annotated[
        str | None, typer.Argument(help="Last day, included (default: the first).")
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", "-k", help="day_off (отгул), leave (отпуск), sick.")
    ] = "day_off",
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Record a day off, leave or sick days (whole days, or from a time to a time)."""
    from fsm_core.services import lookup, working_time

    with STATE.transaction() as session:
        tz = company(session).tz
        employee = lookup.resolve_employee(session=session, ref=who)
        start, end = _span(first, last, tz)
        row = working_time.add_time_off(
            session=session,
            employee_id=employee.id,
            kind=kind,
            start=start,
            end=end,
            note=note,
            actor=STATE.actor,
        )
        shown = f"#{row.id} {employee.short_name} {kind}: {start.astimezone(tz):%d.%m.%Y %H:%M} – "
        shown += f"{end.astimezone(tz):%d.%m.%Y %H:%M}"
    output.done(shown)


def _span(first: str, last: str | None, tz: Any) -> tuple[datetime, datetime]:
    """Whole days ``first``..``last``, or exact moments when times are given."""
    from fsm_core.services import planning
    from fsm_core.timeparse import local_day_bounds

    def has_time(text: str) -> bool:
        return ":" in text

    start = (
        planning.read_moment(first, tz, field="first")
        if has_time(first)
        else local_day_bounds(planning.read_day(first, tz, field="first"), tz)[0]
    )
    if last is None:
        end = local_day_bounds(start.astimezone(tz).date(), tz)[1]
    elif has_time(last):
        end = planning.read_moment(last, tz, day=start.astimezone(tz).date(), field="last")
    else:
        end = local_day_bounds(planning.read_day(last, tz, field="last"), tz)[1]
    return start, end


@time_off_app.command("list")
def time_off_list(employee: Employees = None, json_: Json = False) -> None:
    """Time off from today on."""
    from fsm_core import clock
    from fsm_core.models import TimeOffKind
    from fsm_core.models.planning import TIME_OFF_NAMES
    from fsm_core.services import working_time

    with STATE.reader() as session:
        tz = company(session).tz
        rows = working_time.list_time_off(
            session=session, employee_ids=_employee_ids(session, employee), since=clock.now()
        )
    if json_:
        output.emit_json(rows)
        return
    output.table(
        [
            "#",
            _t("Employee", "Сотрудник"),
            _t("Kind", "Вид"),
            _t("From", "С"),
            _t("To", "По"),
            _t("Note", "Примечание"),
        ],
        [
            [
                str(r["id"]),
                r["employee"],
                TIME_OFF_NAMES[TimeOffKind(r["kind"])][_lang()],
                r["start"].astimezone(tz).strftime("%d.%m.%Y %H:%M"),
                r["end"].astimezone(tz).strftime("%d.%m.%Y %H:%M"),
                r["note"] or "",
            ]
            for r in rows
        ],
    )


@time_off_app.command("remove")
def time_off_remove(
    time_off: Annotated[
        int, typer.Argument(min=1, max=MAX_INT, help="The #id from `fsm plan time-off list`.")
    ],
) -> None:
    """Delete a time-off record."""
    from fsm_core.services import working_time

    with STATE.transaction() as session:
        working_time.remove_time_off(session=session, time_off_id=time_off)
    output.done(_t(f"Removed time off #{time_off}.", f"Отсутствие #{time_off} удалено."))


@holiday_app.command("add")
def holiday_add(
    day: Annotated[str, typer.Argument(help="The day: 31.12.2026.")],
    name: Annotated[str, typer.Argument(help="Its name.")],
) -> None:
    """Add (or rename) a company holiday."""
    from fsm_core.services import planning, working_time

    with STATE.transaction() as session:
        found = planning.read_day(day, company(session).tz, field="day")
        working_time.add_holiday(session=session, day=found, name=name)
    output.done(f"{found:%d.%m.%Y}: {name}")


@holiday_app.command("list")
def holiday_list(
    all_: Annotated[bool, typer.Option("--all", help="Past holidays too.")] = False,
    json_: Json = False,
) -> None:
    """Company holidays from today on."""
    from fsm_core.services import planning, working_time

    with STATE.reader() as session:
        today = planning.read_day(None, company(session).tz)
        rows = working_time.list_holidays(session=session, since=None if all_ else today)
    if json_:
        output.emit_json([{"day": h.day, "name": h.name} for h in rows])
        return
    output.table(
        [_t("Day", "День"), _t("Holiday", "Праздник")],
        [[f"{day_name(h.day)}.{h.day:%Y}", h.name] for h in rows],
    )


@holiday_app.command("remove")
def holiday_remove(day: Annotated[str, typer.Argument(help="The day.")]) -> None:
    """Remove a company holiday."""
    from fsm_core.services import planning, working_time

    with STATE.transaction() as session:
        found = planning.read_day(day, company(session).tz, field="day")
        working_time.remove_holiday(session=session, day=found)
    output.done(
        _t(f"{found:%d.%m.%Y} is a working day again.", f"{found:%d.%m.%Y} снова рабочий день.")
    )
