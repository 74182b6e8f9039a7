"""Plan a visit for an order, or move one (запланировать / перенести визит).

What the dialog offers is the core's (:func:`fsm_core.services.planning.offer_visit`): for
the start and length typed — to begin with, the first free moment of whom the order is for
(its assignee; for a move, the visit's technician), else of anyone, and the company's
usual visit length —

1. the technicians for that moment: the order's assignee first, then the free ones and
   the nearest first — by the drive from their previous visit of the day, or from home
   before the first one (:func:`fsm_core.services.planning.nearest`);
2. then everyone's free slots of that day that are long enough, leaving time to drive
   (:func:`fsm_core.services.planning.free_slots`).

Enter on a technician plans the visit at the start typed; enter on a free slot plans it at
the slot's start. Busy technicians can be picked too: the planner shows conflicts, it never
refuses them. Planning assigns the order to the technician (the core's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from fsm_core.errors import FsmError, InvalidInput
from fsm_core.formatting import duration, moment
from fsm_core.models import Order
from fsm_core.services import planning
from fsm_core.services.planning import Candidate, FreeSlot, VisitOffer
from fsm_core.timeparse import parse_minutes
from fsm_tui import cells
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter


@dataclass(frozen=True)
class Target:
    """What the dialog plans: an order (a new visit), or one of its visits (a move)."""

    order_id: int
    number: str
    summary: Text
    object_id: int | None
    day: date | None  # the planner's day; None: the first day someone is free (the board)
    minutes: int | None  # None: the company's usual visit length
    start: datetime | None = None  # the visit's (a move), or None: the first free moment
    visit_id: int | None = None
    visit_version: int | None = None
    employee_id: int | None = None  # who has the visit now (a move)

    @property
    def moving(self) -> bool:
        return self.visit_id is not None


@dataclass
class Planned:
    order_id: int
    number: str
    visit_id: int
    employee: str
    start: datetime
    end: datetime
    moved: bool
    stage_code: str


def visit_summary(number: str, customer: str, obj: str | None, description: str) -> Text:
    """``26-0091 · ООО «СМ-Трейд» · Кассетный кондиционер`` over the description."""
    text = Text(number, style="bold")
    text.append(f" · {customer}")
    if obj:
        text.append(f" · {obj}", style="dim")
    text.append("\n" + cells.one_line(description), style="italic")
    return text


def distance_text(c: Candidate, lang: str, *, origin: bool = True) -> str:
    """``3,2 км · 7 мин · от дома`` (or after a visit; ``origin=False``: without)."""
    parts = []
    if c.distance_km is not None:
        km = f"{c.distance_km:.1f}"
        parts.append((km.replace(".", ",") if lang == "ru" else km) + t("plan.km", lang))
    if c.travel_minutes is not None:
        parts.append(duration(timedelta(minutes=c.travel_minutes), lang=lang))
    if origin and c.origin == "home":
        parts.append(t("plan.from_home", lang))
    elif origin and c.origin:
        parts.append(t("plan.after", lang, number=c.origin.removeprefix("visit ")))
    return " · ".join(parts)


def busy_text(c: Candidate, lang: str) -> str:
    if c.free:
        return t("plan.free", lang)
    if c.busy_reason == "not working":
        return t("plan.not_working", lang)
    return t("plan.busy", lang, number=(c.busy_reason or "").removeprefix("visit "))


class VisitScreen(FormScreen[Planned | None]):
    """Pick who and when for ``target``."""

    @dataclass
    class ChoicesLoaded(Message):
        generation: int
        choices: VisitOffer
        typed: tuple[str, str]  # the start and length they were found for

    WIDTH: ClassVar[int] = 96  # the list's inner width

    def __init__(self, target: Target, *, tz: Any) -> None:
        super().__init__(id="plan-visit")
        self.target = target
        self.tz = tz
        self.day = target.day  # the day a typed "14:00" is on: the offer's, once made
        self.choices: VisitOffer | None = None
        self._choices_typed: tuple[str, str] | None = None  # what self.choices is for
        self._pending: tuple[int, datetime, datetime] | None = None  # (who, start, end)
        self._generation = 0
        self._timer: Timer | None = None
        self._filling = False

    def compose(self) -> ComposeResult:
        lang = self.lang
        target = self.target
        key = "plan.move_title" if target.moving else "plan.place_title"
        with Vertical(classes="dialog wide") as box:
            box.border_title = t(key, lang, number=target.number)
            yield Static(target.summary, classes="dialog-summary")
            with Grid(classes="form-grid"):
                yield Label(t("plan.start", lang))
                yield Input(placeholder=t("plan.start_placeholder", lang), compact=True, id="start")
                yield Label("", classes="field-error", id="error-start")
                yield Label(t("plan.length", lang))
                yield Input(
                    duration(timedelta(minutes=target.minutes), lang=lang)
                    if target.minutes
                    else "",
                    placeholder=t("plan.length_placeholder", lang),
                    compact=True,
                    id="length",
                )
                yield Label("", classes="field-error", id="error-length")
            yield Static(t("loading", lang), id="choices-title", classes="dialog-subtitle")
            yield OptionList(id="choices")
            yield Label("", classes="field-error", id="error-form")
            yield Static(t("plan.hint", lang), classes="dialog-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.clear_errors()
        if self.target.start is not None:
            self._fill_start(self.target.start)
        self.query_one("#choices", OptionList).focus()
        self._refresh_choices()

    def _fill_start(self, start: datetime) -> None:
        """The time alone when it is today; with the day when the offer is another day
        (a Sunday's offer is Monday's), so what the field says is what will be planned."""
        local = start.astimezone(self.tz)
        today = self.fsm.backend.now().astimezone(self.tz).date()
        text = f"{local:%H:%M}" if local.date() == today else f"{local:%d.%m %H:%M}"
        self._fill("#start", text)

    def _fill(self, selector: str, text: str) -> None:
        self._filling = True
        self.query_one(selector, Input).value = text
        self._filling = False

    # --- the choices ---------------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._filling:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.4, self._refresh_choices)

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._refresh_choices()
        self.query_one("#choices", OptionList).focus()

    def _typed_now(self) -> tuple[str, str]:
        start = self.query_one("#start", Input).value.strip()
        return start, self.query_one("#length", Input).value.strip()

    def _refresh_choices(self) -> None:
        self.clear_errors()
        self._generation += 1
        self._load_choices(self._generation, *self._typed_now())

    @work(thread=True, exclusive=True, exit_on_error=False, group="visit-choices")
    def _load_choices(self, generation: int, start_text: str, length_text: str) -> None:
        worker = get_current_worker()
        target = self.target
        backend = self.fsm.backend
        minutes = target.minutes
        if length_text:
            try:
                minutes = parse_minutes(length_text, field="length")
            except FsmError as error:
                raise InvalidInput(error.message, field="length") from None
        with backend.reader() as session:
            now = backend.now()
            start = None
            if start_text:
                day = self.day or now.astimezone(self.tz).date()
                start = planning.read_moment(start_text, self.tz, day=day, field="start")
            offer = planning.offer_visit(
                session=session,
                order_id=target.order_id,
                day=target.day,
                start=start,
                minutes=minutes,
                employee_id=target.employee_id,
                moving_visit_id=target.visit_id,
                now=now,
            )
        if not worker.is_cancelled:
            self.post_message(self.ChoicesLoaded(generation, offer, (start_text, length_text)))

    def on_visit_screen_choices_loaded(self, message: ChoicesLoaded) -> None:
        if message.generation != self._generation:
            return
        choices = self.choices = message.choices
        self.day = choices.day
        lang = self.lang
        if not self.query_one("#start", Input).value.strip():
            self._fill_start(choices.start)
        if not self.query_one("#length", Input).value.strip():
            self._fill("#length", duration(timedelta(minutes=choices.minutes), lang=lang))
        # the list is for what was typed, or for what was just filled in where nothing was
        start_now, length_now = self._typed_now()
        self._choices_typed = (message.typed[0] or start_now, message.typed[1] or length_now)
        self.query_one("#choices-title", Static).update(
            Text(
                t(
                    "plan.choices_title",
                    lang,
                    when=moment(choices.start, self.tz, lang=lang, now=self.fsm.backend.now()),
                    length=duration(timedelta(minutes=choices.minutes), lang=lang),
                ),
                style="bold",
            )
        )
        options = self.query_one("#choices", OptionList)
        options.clear_options()
        for i, c in enumerate(choices.candidates):
            options.add_option(Option(self._candidate_prompt(c), id=f"at:{i}"))
        if choices.slots:
            options.add_option(None)
            options.add_option(
                Option(Text(t("plan.free_slots", lang), style="bold"), disabled=True)
            )
            for i, slot in enumerate(choices.slots):
                options.add_option(Option(self._slot_prompt(slot), id=f"slot:{i}"))
        if not choices.candidates and not choices.slots:
            options.add_option(Option(Text(t("plan.no_one", lang), style="dim"), disabled=True))
        elif choices.first is not None:
            options.highlighted = choices.first
        else:  # nobody is free then: the first free slot of the day
            options.highlighted = len(choices.candidates) + 2 if choices.slots else 0

    def _candidate_prompt(self, c: Candidate) -> Text:
        lang = self.lang
        current = self.choices is not None and c.employee_id == self.choices.preferred
        text = Text("● " if current else "\u00a0\u00a0", style="bold")
        text.append(cells.fit(c.employee, 18), style="bold" if c.free else "dim")
        text.append(" " + cells.fit(busy_text(c, lang), 20), style="green" if c.free else "dim")
        text.append(" " + distance_text(c, lang), style="" if c.free else "dim")
        return text

    def _slot_prompt(self, slot: FreeSlot) -> Text:
        a, b = slot.start.astimezone(self.tz), slot.end.astimezone(self.tz)
        text = Text("\u00a0\u00a0")
        text.append(cells.fit(slot.employee, 18), style="bold")
        text.append(f" {a:%H:%M}–{b:%H:%M}")
        text.append(f"  ({duration(slot.end - slot.start, lang=self.lang)})", style="dim")
        return text

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    # --- planning ------------------------------------------------------------------------

    def action_submit(self) -> None:
        choices = self.choices
        options = self.query_one("#choices", OptionList)
        option = options.highlighted_option
        if choices is not None and self._choices_typed != self._typed_now():
            # the list is for what was typed before (or the start cannot be read): never
            # plan at a time other than the one the field shows
            self._refresh_choices()
            return
        if choices is None or option is None or option.id is None:
            self.show_error(t("plan.pick", self.lang))
            return
        kind, _, index = option.id.partition(":")
        if kind == "at":
            employee_id = choices.candidates[int(index)].employee_id
            start = choices.start
        else:
            slot = choices.slots[int(index)]
            employee_id, start = slot.employee_id, slot.start
        self.clear_errors()
        self._plan(employee_id, start, start + timedelta(minutes=choices.minutes))

    def handle_worker_error(self, worker: Any, error: BaseException | None) -> bool:
        if worker.group == "visit-choices" and isinstance(error, InvalidInput):
            self.choices = None  # what the list showed was for another start
            self.query_one("#choices", OptionList).clear_options()
            self.query_one("#choices-title", Static).update("")
        if isinstance(error, planning.VisitInThePast) and self._pending is not None:
            self._confirm_past(error, *self._pending)
            return True
        return super().handle_worker_error(worker, error)

    def _confirm_past(
        self, error: planning.VisitInThePast, employee_id: int, start: datetime, end: datetime
    ) -> None:
        """The core refused a start in the past: ask, and plan it anyway on a yes."""
        from fsm_tui.screens.confirm import ConfirmScreen

        lang = self.lang
        local = error.start.astimezone(self.tz)
        question = t(
            "plan.past_question",
            lang,
            when=f"{local:%d.%m.%Y %H:%M}",
            number=self.target.number,
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._plan(employee_id, start, end, allow_past=True)
            else:
                self.show_error(t("plan.past_refused", lang), "start")
                self.query_one("#start", Input).focus()

        self.app.push_screen(ConfirmScreen(question, title=t("plan.past_title", lang)), answered)

    def _plan(
        self, employee_id: int, start: datetime, end: datetime, *, allow_past: bool = False
    ) -> None:
        backend = self.fsm.backend
        target = self.target
        self._pending = (employee_id, start, end)

        def work(session: Session) -> Planned:
            if target.visit_id is not None:
                visit = planning.move_visit(
                    session=session,
                    visit_id=target.visit_id,
                    actor=backend.user,
                    start=start,
                    end=end,
                    employee_id=employee_id,
                    expected_version=target.visit_version,
                    allow_past=allow_past,
                )
            else:
                visit = planning.add_visit(
                    session=session,
                    order_id=target.order_id,
                    start=start,
                    end=end,
                    employee_id=employee_id,
                    actor=backend.user,
                    allow_past=allow_past,
                )
            order = session.get(Order, target.order_id)
            view = (
                planning.visit_view(session=session, visit_id=visit.id)
                if visit.id is not None
                else None
            )
            assert order is not None
            assert view is not None
            result = Planned(
                order_id=target.order_id,
                number=order.number,
                visit_id=view.id,
                employee=view.who,
                start=view.start,
                end=view.end,
                moved=target.moving,
                stage_code=order.stage_code,
            )
            return result

        self.save(work)
