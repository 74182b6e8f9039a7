"""A day's timeline (планировщик): two lines per technician, hours across, visits as blocks.

Drawn line by line like the order table, not as a widget per visit: each line is the
person's name (and under it their hours), then one cell per slice of the day (a quarter or
a fifth of an hour, as the width allows) shaded by what the slice is for that person — off
duty, working hours, time off or a holiday — with the visits laid over it as blocks that
carry the order's number (and under it the object or the customer).
A visit with a conflict is coloured by its worst one (an error: overlap, after the SLA
deadline; a warning: outside hours, on time off, no time to drive) and starts with ``!``,
so the marks read without colour too; a slice where two visits meet is drawn as ``▓``.
A visit of an order that is done (or closed) is greyed and starts with ``✓``: it stays as
the day's record but holds no time (the core gives its slot to others); a cancelled
order's visit is not on the timeline at all.

The cursor is a person (up/down) and one of their visits (left/right). The conflicts of
the day come from the core (:func:`fsm_core.services.planning.schedule`, which asks
:func:`~fsm_core.services.planning.conflicts`), never computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fsm_core.models import TimeOffKind
from fsm_core.models.planning import TIME_OFF_NAMES
from fsm_core.services.gps.visits import DayMarks
from fsm_core.services.planning import Conflict, PersonDay, PersonSchedule, Schedule, VisitView
from fsm_tui import cells
from fsm_tui.text import localize_bindings, t

NAME_WIDTH = 18
NARROW_NAME_WIDTH = 15  # under 60 cells (an 80-column screen): more room for the hours
LINES = 2  # per person: the numbers, then what the visits are about
ERRORS = ("overlap", "after_deadline")
WARNINGS = ("outside_hours", "day_off", "travel")


def worst(conflicts: list[Conflict], visit_id: int) -> str | None:
    """``error``, ``warning`` or None: the worst conflict that names the visit (a note —
    an object without coordinates — does not mark it)."""
    kinds = {c.kind for c in conflicts if visit_id in c.visit_ids}
    if kinds & set(ERRORS):
        return "error"
    if kinds & set(WARNINGS):
        return "warning"
    return None


@dataclass(frozen=True)
class Grid:
    """Where the hours are on a line of a given width."""

    day: date
    tz: tzinfo
    first_hour: int
    last_hour: int
    per_hour: int  # cells per hour

    @property
    def cells(self) -> int:
        return (self.last_hour - self.first_hour) * self.per_hour

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, time(self.first_hour), tzinfo=self.tz)

    def slice(self, index: int) -> tuple[datetime, datetime]:
        step = timedelta(minutes=60 / self.per_hour)
        begin = self.start + index * step
        return begin, begin + step

    def cell_of(self, moment: datetime) -> float:
        minutes = (moment - self.start).total_seconds() / 60
        return minutes * self.per_hour / 60


class Timeline(ScrollView, can_focus=True):
    """The technicians' day: lines of slices, visits as blocks, a cursor on a visit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "row(-1)", "Previous person", show=False, id="timeline.up"),
        Binding("down", "row(1)", "Next person", show=False, id="timeline.down"),
        Binding("left", "visit(-1)", "Previous visit", show=False, id="timeline.left"),
        Binding("right", "visit(1)", "Next visit", show=False, id="timeline.right"),
        Binding("enter", "open", "Open order", id="timeline.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--header",
        "timeline--now",
        "timeline--name",
        "timeline--cursor",
        "timeline--cursor-blurred",
        "timeline--conflicts",
        "timeline--off",
        "timeline--free",
        "timeline--away",
        "timeline--visit",
        "timeline--visit-warning",
        "timeline--visit-error",
        "timeline--visit-done",
        "timeline--overlap",
        "timeline--selected",
        "timeline--empty",
        "timeline--stay",
        "timeline--stop",
        "timeline--late",
        "timeline--missed",
    }

    DEFAULT_CSS = """
    Timeline {
        height: auto;
        max-height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
    }
    """

    cursor_row: reactive[int] = reactive(0, init=False)
    cursor_visit: reactive[int] = reactive(-1, init=False)

    @dataclass
    class Selected(Message):
        """The cursor moved: to ``person``'s line, on ``visit`` (None: on the name)."""

        timeline: Timeline
        person: PersonSchedule | None
        visit: VisitView | None

    @dataclass
    class Opened(Message):
        timeline: Timeline
        visit: VisitView

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        localize_bindings(self, lang)
        self.lang = lang
        self.schedule: Schedule | None = None
        self.marks: DayMarks | None = None
        self.now: datetime | None = None
        self._grid: Grid | None = None
        self._grid_width = -1

    # --- data ----------------------------------------------------------------------------

    @property
    def people(self) -> list[PersonSchedule]:
        return self.schedule.people if self.schedule else []

    @property
    def lines(self) -> int:
        """Lines per person: a third for the actual stays when anyone has positions."""
        return LINES + 1 if self.marks is not None and self.marks.stays else LINES

    def show(
        self,
        schedule: Schedule,
        *,
        now: datetime,
        focus_visit_id: int | None = None,
        marks: DayMarks | None = None,
    ) -> None:
        """Draw ``schedule`` (one day), keeping the cursor on the same person and visit
        (or moving it to ``focus_visit_id``); ``marks``: the stays read from positions."""
        person = self.current_person
        visit = self.current_visit
        keep_id = focus_visit_id or (visit.id if visit else None)
        self.schedule = schedule
        self.marks = marks
        self.now = now
        self._grid_width = -1
        row, index = 0, -1
        found = False
        if keep_id is not None:
            for r, p in enumerate(self.people):
                ids = [v.id for v in p.days[0].visits]
                same = person is None or p.employee_id == person.employee_id
                if keep_id in ids and (focus_visit_id or same):  # a crew's visit: its member
                    row, index, found = r, ids.index(keep_id), True
                    break
        if not found and person is not None:
            for r, p in enumerate(self.people):
                if p.employee_id == person.employee_id:
                    row = r
                    visits = p.days[0].visits
                    index = min(self.cursor_visit, len(visits) - 1)
                    break
        self.set_reactive(Timeline.cursor_row, row)
        self.set_reactive(Timeline.cursor_visit, index)
        self._update_size()
        self._scroll_to_cursor()
        self.refresh()
        self._report()

    @property
    def current_person(self) -> PersonSchedule | None:
        people = self.people
        return people[self.cursor_row] if 0 <= self.cursor_row < len(people) else None

    @property
    def current_day(self) -> PersonDay | None:
        person = self.current_person
        return person.days[0] if person else None

    @property
    def current_visit(self) -> VisitView | None:
        day = self.current_day
        if day is None or not 0 <= self.cursor_visit < len(day.visits):
            return None
        return day.visits[self.cursor_visit]

    # --- cursor ----------------------------------------------------------------------------

    def _report(self) -> None:
        self.post_message(self.Selected(self, self.current_person, self.current_visit))

    def watch_cursor_row(self) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._report()

    def watch_cursor_visit(self) -> None:
        self.refresh()
        self._report()

    def _scroll_to_cursor(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_offset.y)
        first = self.cursor_row * self.lines
        if first < top:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif first + self.lines > top + visible:
            self.scroll_to(y=first + self.lines - visible, animate=False, immediate=True)

    def action_row(self, delta: int) -> None:
        if not self.people:
            return
        row = max(0, min(self.cursor_row + delta, len(self.people) - 1))
        if row == self.cursor_row:
            return
        # stay near the same time of day: the visit of the new line closest to the old one
        old = self.current_visit
        self.cursor_row = row
        visits = self.people[row].days[0].visits
        index = -1
        if old is not None and visits:
            index = min(
                range(len(visits)),
                key=lambda i: abs((visits[i].start - old.start).total_seconds()),
            )
        self.cursor_visit = index

    def action_visit(self, delta: int) -> None:
        day = self.current_day
        if day is None or not day.visits:
            return
        if self.cursor_visit < 0:
            index = 0 if delta > 0 else len(day.visits) - 1
        else:
            index = self.cursor_visit + delta
            if index < 0 or index >= len(day.visits):
                index = -1  # back on the name: the person's whole day
        self.cursor_visit = index

    def action_open(self) -> None:
        visit = self.current_visit
        if visit is not None:
            self.post_message(self.Opened(self, visit))

    def select_visit(self, visit_id: int) -> bool:
        for r, person in enumerate(self.people):
            ids = [v.id for v in person.days[0].visits]
            if visit_id in ids:
                self.cursor_row = r
                self.cursor_visit = ids.index(visit_id)
                return True
        return False

    def on_click(self, event: events.Click) -> None:
        if event.y < 1 or not self.people:
            return
        row = (int(self.scroll_offset.y) + event.y - 1) // self.lines
        if not 0 <= row < len(self.people):
            return
        self.cursor_row = row
        grid = self._layout(self.scrollable_content_region.width)
        index = -1
        if grid is not None and event.x >= self.name_width:
            for i, v in enumerate(self.people[row].days[0].visits):
                a, b = self._span_cells(grid, v)
                if a <= event.x - self.name_width < b:
                    index = i
        self.cursor_visit = index
        if event.chain >= 2:
            self.action_open()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- geometry --------------------------------------------------------------------------

    @property
    def name_width(self) -> int:
        """The names' column: narrower when the timeline is (an 80-column screen)."""
        return NARROW_NAME_WIDTH if self.scrollable_content_region.width < 60 else NAME_WIDTH

    def _update_size(self) -> None:
        lines = len(self.people) * self.lines or 1
        self.virtual_size = Size(self.scrollable_content_region.width, lines + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._grid_width = -1
        self._update_size()

    def _layout(self, width: int) -> Grid | None:
        if self.schedule is None:
            return None
        if width != self._grid_width or self._grid is None:
            first, last = self.schedule.hour_range()
            per_hour = max(2, min(8, (width - self.name_width) // max(last - first, 1)))
            self._grid = Grid(self.schedule.first_day, self.schedule.tz, first, last, per_hour)
            self._grid_width = width
        return self._grid

    @staticmethod
    def _span_cells(grid: Grid, visit: VisitView) -> tuple[int, int]:
        a = max(0, int(grid.cell_of(visit.start)))
        b = min(grid.cells, max(a + 1, round(grid.cell_of(visit.end))))
        return a, b

    # --- drawing ---------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"timeline--{name}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        grid = self._layout(width)
        if grid is None:
            return Strip.blank(width, base)
        if y == 0:
            return self._ruler(grid, width, base)
        line = int(self.scroll_offset.y) + y - 1
        row, second = divmod(line, self.lines)
        people = self.people
        if not people:
            if line == 0:
                text = cells.fit("  " + t("planner.nobody", self.lang), width)
                return Strip([Segment(text, base + self._style("empty"))], width)
            return Strip.blank(width, base)
        if row >= len(people):
            return Strip.blank(width, base)
        if second == 2:
            return Strip(self._actual_line(people[row], row, grid, width, base), width)
        return Strip(self._person_line(people[row], row, bool(second), grid, width, base), width)

    def _ruler(self, grid: Grid, width: int, base: Style) -> Strip:
        header = base + self._style("header")
        chars = [" "] * grid.cells
        # an hour's label takes two cells and wants a blank after it: on a narrow screen
        # (two cells an hour) every second hour is labelled, so the labels never run on
        every = next(k for k in range(1, 25) if k * grid.per_hour >= 3)
        for hour in range(grid.first_hour, grid.last_hour):
            if (hour - grid.first_hour) % every:
                continue
            label = f"{hour:02d}"
            at = (hour - grid.first_hour) * grid.per_hour
            for i, ch in enumerate(label):
                if at + i < grid.cells:
                    chars[at + i] = ch
        segments = [Segment(cells.fit(t("planner.ruler", self.lang), self.name_width), header)]
        now_cell = self._now_cell(grid)
        for i, ch in enumerate(chars):
            now = i == now_cell  # the cell of "now" stands out, its label still readable
            segments.append(Segment(ch, header + self._style("now") if now else header))
        used = self.name_width + grid.cells
        if used < width:
            segments.append(Segment(" " * (width - used), header))
        return Strip(segments, width).crop(0, width)

    def _now_cell(self, grid: Grid) -> int | None:
        if self.now is None:
            return None
        if self.now.astimezone(grid.tz).date() != grid.day:
            return None
        cell = int(grid.cell_of(self.now))
        return cell if 0 <= cell < grid.cells else None

    def _summary(self, person: PersonSchedule) -> str:
        """Under the name: the day's hours, or why there are none."""
        day = person.days[0]
        tz = self.schedule.tz if self.schedule else None
        if day.time_off:
            return TIME_OFF_NAMES[TimeOffKind(day.time_off[0]["kind"])][self.lang]
        if day.holiday:
            return day.holiday
        if not person.has_hours:
            return t("planner.no_hours_short", self.lang)
        if not day.shifts:
            return t("planner.day_off", self.lang)
        return ", ".join(f"{a.astimezone(tz):%H}–{b.astimezone(tz):%H}" for a, b in day.shifts)

    def _person_line(
        self,
        person: PersonSchedule,
        row: int,
        second: bool,
        grid: Grid,
        width: int,
        base: Style,
    ) -> list[Segment]:
        day = person.days[0]
        cursor = row == self.cursor_row
        name_style = base + self._style("name")
        if cursor:
            name_style = base + self._style("cursor" if self.has_focus else "cursor-blurred")
        if second:
            text = cells.fit("  " + self._summary(person), self.name_width - 1) + " "
            segments = [Segment(text, name_style + Style(bold=False, dim=not cursor))]
        else:
            problems = [c for c in day.conflicts if c.severity != "note"]
            mark = f"!{len(problems)}" if problems else ""
            name = cells.fit(person.name, self.name_width - len(mark) - 1)
            segments = [Segment(name, name_style)]
            if mark:
                segments.append(Segment(mark, name_style + self._style("conflicts")))
            segments.append(Segment(" ", name_style))
        # the shading of each slice: off duty, working, away
        shades: list[tuple[str, Style]] = []
        offs = [(o["start"], o["end"]) for o in day.time_off]
        for i in range(grid.cells):
            since, until = grid.slice(i)
            working = any(s < until and e > since for s, e in day.working)
            away = any(s < until and e > since for s, e in offs) or (day.holiday and day.shifts)
            if away:
                shades.append(("×", base + self._style("away")))
            elif working:
                shades.append((" ", base + self._style("free")))
            else:
                shades.append(("·", base + self._style("off")))
        # the visits over it
        covered = [0] * grid.cells
        selected = self.current_visit if cursor else None
        booked = [v for v in day.visits if not v.done]
        for visit in booked:  # a done order's visit holds no time: it never overlaps
            a, b = self._span_cells(grid, visit)
            for i in range(a, b):
                covered[i] += 1
        # done ones first, so that a visit booked over a done one is drawn on top
        for visit in sorted(day.visits, key=lambda v: not v.done):
            a, b = self._span_cells(grid, visit)
            if a >= grid.cells or b <= 0:
                continue
            level = None if visit.done else worst(day.conflicts, visit.id)
            kind = "visit-done" if visit.done else f"visit-{level}" if level else "visit"
            style = base + self._style(kind)
            if selected is not None and visit.id == selected.id:
                style += self._style("selected")
            # the number goes where this visit is alone; where two meet, ▓
            alone = [i for i in range(a, b) if visit.done or covered[i] == 1]
            room = len(alone)
            if second:
                label = " " + (visit.object or visit.customer)
            else:
                mark = "✓" if visit.done else "!" if level else " "
                label = mark + visit.number
                if cell_len(label) > room:  # narrow: the number within the year, 26-0050 → 0050
                    label = mark + visit.number.rsplit("-", 1)[-1]
            text = cells.fit(label, room) if cell_len(label) > room else label.ljust(room)
            for i in range(a, b):
                if covered[i] > 1 and not visit.done:
                    shades[i] = ("▓", style + self._style("overlap"))
            for ch, i in zip(text, alone, strict=False):
                shades[i] = (ch, style)
        for ch, style in shades:
            segments.append(Segment(ch, style))
        used = self.name_width + grid.cells
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return segments

    def _actual_line(
        self, person: PersonSchedule, row: int, grid: Grid, width: int, base: Style
    ) -> list[Segment]:
        """Under the blocks: where the positions say the person was — ━ on site at an
        object, ╌ a stop elsewhere; under a visit ✗ never came, ◂ late."""
        marks = self.marks
        assert marks is not None
        cursor = row == self.cursor_row
        name_style = base + self._style("name") + Style(bold=False, dim=not cursor)
        if cursor:
            name_style = base + self._style("cursor" if self.has_focus else "cursor-blurred")
        tracked = person.employee_id in marks.stays
        label = "  " + t("planner.actual", self.lang) if tracked else ""
        segments = [Segment(cells.fit(label, self.name_width - 1) + " ", name_style)]
        chars: list[tuple[str, Style]] = [(" ", base)] * grid.cells
        end_of_day = grid.slice(grid.cells - 1)[1]
        for start, end, object_id in marks.stays.get(person.employee_id, []):
            until = end or min(self.now or end_of_day, end_of_day)
            a = max(0, int(grid.cell_of(start)))
            b = min(grid.cells, max(a + 1, round(grid.cell_of(until))))
            style = base + self._style("stay" if object_id is not None else "stop")
            for i in range(a, b):
                chars[i] = ("━" if object_id is not None else "╌", style)
        for visit in person.days[0].visits:
            if visit.id in marks.missed or visit.id in marks.late:
                a, b = self._span_cells(grid, visit)
                if 0 <= a < grid.cells:
                    missed = visit.id in marks.missed
                    kind = "missed" if missed else "late"
                    chars[a] = ("✗" if missed else "◂", base + self._style(kind))
        segments.extend(Segment(ch, style) for ch, style in chars)
        used = self.name_width + grid.cells
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return segments
