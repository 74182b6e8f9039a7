"""The planner (планировщик): a day's timeline per technician, the unscheduled queue beside
it, the conflicts of what is selected, and the nearest free technicians for the queue's
order.

Keys: ``[`` / ``]`` the previous / next day (``t`` today), up/down a technician,
left/right their visits; ``p`` plans the queue's order (who is nearest and free first,
then everyone's free slots), ``m`` moves the selected visit, ``x`` (or delete) removes it,
enter opens the order. Tab goes between the timeline and the queue.

Everything is read in one worker per day (:func:`fsm_core.services.planning.schedule` and
:func:`~fsm_core.services.planning.unscheduled`) and re-read when orders or visits change,
here or, with live updates, anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fsm_core.formatting import day_text, duration, moment
from fsm_core.i18n import criticality_name, weekday_name
from fsm_core.models import TimeOffKind
from fsm_core.models.planning import TIME_OFF_NAMES
from fsm_core.services import gps, planning
from fsm_core.services import settings as company_settings
from fsm_core.services.gps import DayMarks
from fsm_core.services.planning import Candidate, PersonSchedule, Schedule, VisitView
from fsm_tui import cells
from fsm_tui.backend import Catalog
from fsm_tui.messages import OrdersChanged, PositionsArrived
from fsm_tui.screens.base import SectionScreen
from fsm_tui.screens.plan_visit import (
    Planned,
    Target,
    VisitScreen,
    busy_text,
    distance_text,
    visit_summary,
)
from fsm_tui.text import t
from fsm_tui.widgets.timeline import Timeline

Row = dict[str, Any]

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "dim"}


@dataclass
class _Nearest:
    order_id: int
    start: datetime | None
    minutes: int
    candidates: list[Candidate]
    preferred: int | None = None  # the order's assignee


class PlannerScreen(SectionScreen):
    SECTION = "planner"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "day(-1)", "Previous day", key_display="[",
                id="planner.prev_day"),
        Binding("right_square_bracket", "day(1)", "Next day", key_display="]",
                id="planner.next_day"),
        Binding("t", "today", "Today", show=False, id="planner.today"),
        Binding("p", "place", "Plan", id="planner.place"),
        Binding("m", "move", "Move", id="planner.move"),
        Binding("x,delete", "remove", "Remove", id="planner.remove"),
        Binding("r", "refresh", "Refresh", show=False, id="planner.refresh"),
    ]  # fmt: skip

    QUEUE_LIMIT: ClassVar[int] = 100
    NEAREST_SHOWN: ClassVar[int] = 6

    @dataclass
    class Loaded(Message):
        generation: int
        day: date
        schedule: Schedule
        queue: list[Row]
        visit_minutes: int
        marks: DayMarks | None = None

    @dataclass
    class NearestLoaded(Message):
        nearest: _Nearest

    @dataclass
    class Removed(Message):
        visit: VisitView

    def __init__(self) -> None:
        super().__init__(id="planner")
        self.day: date | None = None
        self.schedule: Schedule | None = None
        self.queue: list[Row] = []
        self.visit_minutes = 120
        self.nearest: _Nearest | None = None
        self._generation = 0
        self._focus_visit_id: int | None = None
        self._queue_id: int | None = None
        self._queue_width = 0  # the width the queue's lines were cut to

    # --- layout --------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static("", id="planner-header")
        with Horizontal(id="planner-body"):
            with Vertical(id="planner-main"):
                yield Timeline(lang=self.lang, id="timeline")
                yield Static(t("planner.legend", self.lang), id="planner-legend")
                yield Static("", id="planner-detail")
            with Vertical(id="planner-side"):
                yield Static("", id="queue-title")
                yield OptionList(id="queue")
                yield Static("", id="nearest")

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    @property
    def queue_list(self) -> OptionList:
        return self.query_one("#queue", OptionList)

    def on_mount(self) -> None:  # Textual calls FsmScreen.on_mount too, after this one
        self.timeline.focus()
        self.query_one("#planner-detail").border_title = t("planner.detail", self.lang)
        self.query_one("#nearest").border_title = t("planner.nearest", self.lang)

    def catalog_ready(self, catalog: Catalog) -> None:
        if self.day is None:
            self.day = self.fsm.backend.now().astimezone(catalog.tz).date()
        self.reload()

    def _moment(self, value: datetime) -> str:
        return moment(value, self.tz, lang=self.lang, now=self.fsm.backend.now())

    @property
    def tz(self) -> Any:
        catalog = self.fsm.catalog
        assert catalog is not None
        return catalog.tz

    # --- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        if self.day is None:
            return
        self._generation += 1
        self._show_header()
        self._load(self._generation, self.day)

    @work(thread=True, exclusive=True, exit_on_error=False, group="planner-load")
    def _load(self, generation: int, day: date) -> None:
        worker = get_current_worker()
        backend = self.fsm.backend
        with backend.reader() as session:
            schedule = planning.schedule(session=session, first_day=day, last_day=day)
            queue = planning.unscheduled(session=session, now=backend.now(), limit=self.QUEUE_LIMIT)
            minutes = company_settings.load(session=session).visit_minutes
            marks = gps.day_marks(session=session, day=day, now=backend.now())
        if not worker.is_cancelled:
            self.post_message(self.Loaded(generation, day, schedule, queue, minutes, marks))

    def on_planner_screen_loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return
        self.schedule = message.schedule
        self.visit_minutes = message.visit_minutes
        self.timeline.show(
            message.schedule,
            now=self.fsm.backend.now(),
            focus_visit_id=self._focus_visit_id,
            marks=message.marks,
        )
        legend = t("planner.legend", self.lang)
        if message.marks is not None and message.marks.stays:
            legend += t("planner.legend_gps", self.lang)
        self.query_one("#planner-legend", Static).update(legend)
        self._focus_visit_id = None
        self._show_header()
        self._show_queue(message.queue)
        self._show_detail()
        self.call_after_refresh(self._rewrap)  # the side may only now be laid out

    def orders_changed(self, message: OrdersChanged) -> None:
        if self.fsm.catalog is not None:
            self.reload()

    GPS_EVERY: ClassVar[float] = 10.0
    """Seconds between two re-reads of the day for new positions, however fast they come."""

    def positions_arrived(self, message: PositionsArrived) -> None:
        if self.fsm.catalog is not None and self.schedule is not None:
            self.throttled("planner-gps", self.GPS_EVERY, self.reload)

    def on_screen_resume(self) -> None:
        # changes made here reach this screen wherever it is (FsmApp.broadcast), and with
        # live updates those made elsewhere too; without them, look again on coming back
        if self.schedule is not None and self.fsm.live_state != "on":
            self.reload()

    # --- the header and the detail -------------------------------------------------------

    def _show_header(self) -> None:
        lang = self.lang
        line = Text()
        if self.day is not None:
            weekday = weekday_name(self.day.weekday(), lang, title=True)
            this_year = self.fsm.backend.now().astimezone(self.tz).year
            shown = day_text(self.day, lang=lang, this_year=this_year)
            line.append(f"{weekday} {shown}", style="bold")
            if self.fsm.catalog is not None:
                today = self.fsm.backend.now().astimezone(self.tz).date()
                if self.day == today:
                    line.append(f" · {t('planner.is_today', lang)}")
        if self.schedule is not None and self.schedule.first_day == self.day:
            problems = [c for c in self.schedule.conflicts if c.severity != "note"]
            line.append("   ")
            line.append(
                t("planner.conflicts", lang, n=len(problems)),
                style="bold red" if problems else "green",
            )
            visits = {v.id for p in self.schedule.people for v in p.days[0].visits}
            line.append(f" · {t('planner.visits', lang, n=len(visits))}", style="dim")
        self.query_one("#planner-header", Static).update(line)

    def on_timeline_selected(self, message: Timeline.Selected) -> None:
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        detail = self.query_one("#planner-detail", Static)
        person = self.timeline.current_person
        visit = self.timeline.current_visit
        if self.schedule is None or person is None or self.fsm.catalog is None:
            detail.update("")
            return
        day = person.days[0]
        tz = self.tz
        lang = self.lang
        lines: list[Text] = []
        if visit is not None:
            lines.extend(self._visit_lines(visit))
            conflicts = [c for c in day.conflicts if visit.id in c.visit_ids]
        else:
            lines.append(self._person_line(person))
            conflicts = list(day.conflicts)
        for c in conflicts:
            text = Text("! " if c.severity != "note" else "· ", style=SEVERITY_STYLE[c.severity])
            text.append(planning.describe(c, lang=lang, tz=tz), style=SEVERITY_STYLE[c.severity])
            lines.append(text)
        if not conflicts:
            lines.append(Text(t("planner.no_conflicts", lang), style="green"))
        detail.update(Group(*lines))

    def _visit_lines(self, v: VisitView) -> list[Text]:
        lang = self.lang
        tz = self.tz
        catalog = self.fsm.catalog
        assert catalog is not None
        a, b = v.start.astimezone(tz), v.end.astimezone(tz)
        first = Text(f"#{v.id} ", style="dim")
        first.append(v.number, style="bold")
        first.append(f"  {a:%H:%M}–{b:%H:%M}", style="bold")
        first.append(f"  {v.who}")
        if v.crew and v.employee is None:
            first.append(f" ({t('planner.crew', lang)})", style="dim")
        first.append(f"  · {catalog.stage_name(v.stage_code, lang)}", style="dim")
        if v.resolution_due is not None:
            due = moment(v.resolution_due, tz, lang=lang, now=self.fsm.backend.now())
            first.append(f" · {t('planner.due', lang)} {due}", style="dim")
        second = Text(v.customer)
        where = " — ".join(x for x in (v.object, v.address) if x)
        if where:
            second.append(f" · {where}", style="dim")
        for line in (first, second):  # cut rather than split a time or a name
            line.no_wrap = True
            line.overflow = "ellipsis"
        third = Text(cells.one_line(v.description), style="italic")
        return [first, second, third]

    def _person_line(self, person: PersonSchedule) -> Text:
        lang = self.lang
        tz = self.tz
        d = person.days[0]
        text = Text(person.name, style="bold")
        parts = []
        if d.holiday:
            parts.append(f"{t('planner.holiday', lang)} «{d.holiday}»")
        for off in d.time_off:
            parts.append(TIME_OFF_NAMES[TimeOffKind(off["kind"])][lang])
        if not person.has_hours:
            parts.append(t("planner.no_hours", lang))
        elif d.shifts:
            parts.append(
                ", ".join(f"{s.astimezone(tz):%H:%M}–{e.astimezone(tz):%H:%M}" for s, e in d.shifts)
            )
        else:
            parts.append(t("planner.day_off", lang))
        if d.visits:
            booked = duration(d.booked, lang=lang)
            parts.append(t("planner.booked", lang, n=len(d.visits), hours=booked))
        text.append("  " + " · ".join(parts), style="dim")
        return text

    # --- the queue -------------------------------------------------------------------------

    def _show_queue(self, rows: list[Row]) -> None:
        self.queue = rows
        lang = self.lang
        title = Text(t("planner.queue", lang), style="bold")
        title.append(f"  {len(rows)}", style="dim")
        self.query_one("#queue-title", Static).update(title)
        options = self.queue_list
        keep = self._queue_id
        options.clear_options()
        if not rows:
            options.add_option(
                Option(Text(t("planner.queue_empty", lang), style="dim"), disabled=True)
            )
            self.nearest = None
            self._show_nearest()
            return
        self._queue_width = self._side_width()
        options.add_options([self._queue_option(r) for r in rows])
        ids = [r["id"] for r in rows]
        options.highlighted = ids.index(keep) if keep in ids else 0
        self.refresh_bindings()

    def on_resize(self) -> None:
        """A narrower side (80 columns) gets its queue's lines cut anew, not wrapped
        (once the new layout is there)."""
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        if self.queue and self._side_width() != self._queue_width:
            self._show_queue(self.queue)
            self._show_nearest()

    def _side_width(self) -> int:
        """The room a queue line has: the side's width in fsm.tcss (#planner-side: 42, or
        26 in a narrow terminal) less its border, a cell of padding each side of an option
        and the scrollbar (counted whether it shows or not). Taken from the layout's rule,
        not from a measured size, so lines are cut alike whenever the data arrives."""
        side = 26 if self.has_class("-narrow") else 42
        return side - 1 - 4

    def _queue_option(self, row: Row) -> Option:
        """``26-0067 −2 д 15 ч (реакция)        Новая`` over ``Балтийская пекарня · Сплит…``"""
        lang = self.lang
        width = self._side_width()
        now = self.fsm.backend.now()
        first = Text(row["number"], style="bold")
        if row["next_due"] is None:
            first.append(" —", style="dim")
        else:
            delta = row["next_due"] - now
            shown = ("−" if delta.total_seconds() < 0 else "") + duration(abs(delta), lang=lang)
            style = {"ok": "green", "at_risk": "yellow", "violated": "bold red"}.get(
                row["sla_status"], "dim"
            )
            first.append(" " + shown, style=style)
            if row["next_due_kind"] == "reaction":
                first.append(f" {t('planner.reaction', lang)}", style="dim")
        if row["criticality"] in ("high", "critical"):
            first.append(f" {criticality_name(row['criticality'], lang)}", style="bold yellow")
        catalog = self.fsm.catalog
        stage = catalog.stage_name(row["stage_code"], lang) if catalog else row["stage_code"]
        room = width - first.cell_len - 1
        if room > 4:
            first.append(" " + cells.fit(stage, room).rstrip().rjust(room), style="dim")
        first.truncate(width, overflow="ellipsis")
        where = f"{row['customer']} · {row['object'] or '—'}"
        second = Text(cells.fit(where, width).rstrip(), style="dim")
        prompt = Text("\n").join([first, second])
        prompt.no_wrap, prompt.overflow = True, "ellipsis"  # cut, never wrapped
        return Option(prompt, id=str(row["id"]))

    def queue_row(self) -> Row | None:
        option = self.queue_list.highlighted_option
        if option is None or option.id is None:
            return None
        for row in self.queue:
            if str(row["id"]) == option.id:
                return row
        return None

    @on(OptionList.OptionHighlighted, "#queue")
    def _queue_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        row = self.queue_row()
        self._queue_id = row["id"] if row else None
        if row is None or self.day is None:
            return
        self.nearest = None
        self._show_nearest(loading=True)
        self._load_nearest(row["id"], row["object_id"], self.day, self.visit_minutes)

    @on(OptionList.OptionSelected, "#queue")
    def _queue_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        row = self.queue_row()
        if row is not None:
            self.fsm.open_order(row["id"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="planner-nearest")
    def _load_nearest(self, order_id: int, object_id: int | None, day: date, minutes: int) -> None:
        """Who to send, at the first free moment of the day: the order's assignee first
        (at theirs), then the free and nearest (the core's offer, as the dialog makes it)."""
        worker = get_current_worker()
        backend = self.fsm.backend
        with backend.reader() as session:
            offer = planning.offer_visit(
                session=session, order_id=order_id, day=day, minutes=minutes, now=backend.now()
            )
        start = offer.start if offer.slots else None
        found = offer.candidates if offer.slots else []
        if not worker.is_cancelled:
            nearest = _Nearest(order_id, start, minutes, found, offer.preferred)
            self.post_message(self.NearestLoaded(nearest))

    def on_planner_screen_nearest_loaded(self, message: NearestLoaded) -> None:
        if message.nearest.order_id != self._queue_id:
            return
        self.nearest = message.nearest
        self._show_nearest()

    def _show_nearest(self, *, loading: bool = False) -> None:
        panel = self.query_one("#nearest", Static)
        lang = self.lang
        nearest = self.nearest
        if loading:
            panel.update(Text(t("loading", lang), style="dim"))
            return
        if nearest is None:
            panel.update("")
            return
        if nearest.start is None:
            panel.update(Text(t("planner.no_slots", lang), style="dim"))
            return
        head = Text(
            t(
                "planner.nearest_at",
                lang,
                when=self._moment(nearest.start),
                length=duration(timedelta(minutes=nearest.minutes), lang=lang),
            ),
            style="dim",
        )
        lines = [head]
        free = [c for c in nearest.candidates if c.free][: self.NEAREST_SHOWN]
        width = self._side_width()
        for c in free:
            line = Text(
                "● " if c.employee_id == nearest.preferred else "\u00a0\u00a0", style="bold"
            )
            line.append(cells.fit(c.employee, 14), style="bold")
            far = distance_text(c, lang, origin=False)
            line.append(" " + (far or busy_text(c, lang)), style="green")
            line.truncate(width, overflow="ellipsis")
            lines.append(line)
        if not free:
            lines.append(Text(t("planner.nobody_free", lang), style="dim"))
        panel.update(Group(*lines))

    # --- actions -------------------------------------------------------------------------

    def action_day(self, delta: int) -> None:
        if self.day is None:
            return
        self.day += timedelta(days=delta)
        self.schedule = None
        self.reload()
        if self._queue_id is not None:
            row = self.queue_row()
            if row is not None:
                self._show_nearest(loading=True)
                self._load_nearest(row["id"], row["object_id"], self.day, self.visit_minutes)

    def action_today(self) -> None:
        if self.day is None or self.fsm.catalog is None:
            return
        today = self.fsm.backend.now().astimezone(self.tz).date()
        self.action_day((today - self.day).days)

    def action_refresh(self) -> None:
        self.reload()

    def action_place(self) -> None:
        row = self.queue_row()
        if row is None or self.day is None or self.fsm.catalog is None:
            self.notify(t("planner.pick_queue", self.lang), severity="warning")
            return
        target = Target(
            order_id=row["id"],
            number=row["number"],
            summary=visit_summary(
                row["number"], row["customer"], row["object"], row["description"]
            ),
            object_id=row["object_id"],
            day=self.day,
            minutes=self.visit_minutes,
        )
        self.app.push_screen(VisitScreen(target, tz=self.tz), self._planned)

    def action_move(self) -> None:
        visit = self.timeline.current_visit
        if visit is None or self.day is None or self.fsm.catalog is None:
            self.notify(t("planner.pick_visit", self.lang), severity="warning")
            return
        target = Target(
            order_id=visit.order_id,
            number=visit.number,
            summary=visit_summary(visit.number, visit.customer, visit.object, visit.description),
            object_id=visit.object_id,
            day=self.day,
            minutes=int((visit.end - visit.start).total_seconds() // 60),
            start=visit.start,
            visit_id=visit.id,
            visit_version=visit.version,
            employee_id=visit.employee_id,
        )
        self.app.push_screen(VisitScreen(target, tz=self.tz), self._planned)

    def _planned(self, result: Planned | None) -> None:
        if result is None or self.fsm.catalog is None:
            return
        a, b = result.start.astimezone(self.tz), result.end.astimezone(self.tz)
        key = "planner.moved" if result.moved else "planner.planned"
        self.notify(
            t(
                key,
                self.lang,
                number=result.number,
                who=result.employee,
                when=f"{self._moment(result.start)}–{b:%H:%M}",
                stage=self.fsm.catalog.stage_name(result.stage_code, self.lang),
            )
        )
        self._focus_visit_id = result.visit_id
        local_day = a.date()
        if local_day != self.day:
            self.day = local_day
        self.timeline.focus()
        self.fsm.broadcast(OrdersChanged((result.order_id,)))

    def action_remove(self) -> None:
        from fsm_tui.screens.confirm import ConfirmScreen

        visit = self.timeline.current_visit
        if visit is None:
            self.notify(t("planner.pick_visit", self.lang), severity="warning")
            return
        b = visit.end.astimezone(self.tz)
        question = t(
            "planner.remove_question",
            self.lang,
            id=visit.id,
            number=visit.number,
            who=visit.who,
            when=f"{self._moment(visit.start)}–{b:%H:%M}",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(visit)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="planner-remove")
    def _remove(self, visit: VisitView) -> None:
        backend = self.fsm.backend
        with backend.transaction() as session:
            planning.remove_visit(
                session=session,
                visit_id=visit.id,
                actor=backend.user,
                expected_version=visit.version,
            )
        self.post_message(self.Removed(visit))

    def on_planner_screen_removed(self, message: Removed) -> None:
        self.notify(
            t("planner.removed", self.lang, id=message.visit.id, number=message.visit.number)
        )
        self.fsm.broadcast(OrdersChanged((message.visit.order_id,)))

    def on_timeline_opened(self, message: Timeline.Opened) -> None:
        self.fsm.open_order(message.visit.order_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move", "remove"):
            return self.timeline.current_visit is not None or None
        if action == "place":
            return bool(self.queue) or None
        return True
