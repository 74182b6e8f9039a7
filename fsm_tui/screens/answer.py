"""Answer one checklist item (чек-лист) of an order, as its kind asks: yes or no, a number
(its unit and allowed range shown), a text, one of the choices, or a file (a photo: its
path, completed as it is typed). A check-in needs no dialog: it records the time now.

The answer goes through the core's ``answer_item``, which also runs the item's rule: a
follow-up order, a raised criticality. What the rule did comes back in :class:`Answered`
for the checklist tab to announce.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from fsm_core.formatting import quantity
from fsm_core.i18n import criticality_name
from fsm_core.models.execution import ChecklistItem
from fsm_core.services import execution
from fsm_tui.screens.modal import FormScreen
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter
from fsm_tui.widgets.path_suggester import PathSuggester


@dataclass(frozen=True)
class ItemView:
    """A checklist item and its answer, as the tab shows it (plain data, off the session)."""

    id: int
    template: str
    position: int
    kind: str
    text: str
    hint: str | None
    required: bool
    unit: str | None
    min_value: Decimal | None
    max_value: Decimal | None
    choices: tuple[str, ...]
    trigger: str | None
    follow_up: str | None
    raise_to: str | None
    value: str | None = None  # as stored ("yes", "12.8", a choice, a file name)
    shown: str = ""  # as a person reads it
    answered_by: str | None = None
    answered_at: Any = None
    triggered: bool = False

    @property
    def answered(self) -> bool:
        return self.value is not None


def item_view(state: execution.ItemState, *, tz: Any, lang: str) -> ItemView:
    item, answer = state.item, state.answer
    assert item.id is not None
    value = answer.value if answer is not None else None
    number = answer.number if answer is not None else None
    return ItemView(
        id=item.id,
        template=state.template.name,
        position=item.position,
        kind=item.kind,
        text=item.text,
        hint=item.hint,
        required=item.required,
        unit=item.unit,
        min_value=item.min_value,
        max_value=item.max_value,
        choices=tuple(item.choices or ()),
        trigger=item.trigger,
        follow_up=item.follow_up,
        raise_to=item.raise_to,
        value=value,
        shown=execution.answer_text(item, answer, tz=tz, lang=lang),
        answered_by=answer.answered_by if answer is not None else None,
        answered_at=answer.answered_at if answer is not None else None,
        triggered=answer is not None and _triggered(item, value, number),
    )


def _triggered(item: ChecklistItem, value: str | None, number: Decimal | None) -> bool:
    if item.trigger is None:
        return False
    if item.kind == "number":
        low, high = item.min_value, item.max_value
        return number is not None and (
            (low is not None and number < low) or (high is not None and number > high)
        )
    return value == item.trigger


def allowed_range(item: ItemView, lang: str) -> str:
    """``12,2–14,5 В``, ``≥ 0 В``, ``≤ 100`` or ''."""
    low, high = item.min_value, item.max_value
    if low is not None and high is not None:
        return f"{quantity(low, lang=lang)}–{quantity(high, item.unit, lang=lang)}"
    if low is not None:
        return f"≥ {quantity(low, item.unit, lang=lang)}"
    if high is not None:
        return f"≤ {quantity(high, item.unit, lang=lang)}"
    return ""


def kind_text(item: ItemView, lang: str) -> str:
    """What kind of answer an item wants: ``число, В (12,2–14,5 В)``."""
    name = t(f"checklist.kind.{item.kind}", lang)
    if item.kind == "number":
        limits = allowed_range(item, lang)
        unit = f", {item.unit}" if item.unit else ""
        return f"{name}{unit}" + (f" ({limits})" if limits else "")
    if item.kind == "choice":
        return f"{name}: {' / '.join(item.choices)}"
    return name


def rule_text(item: ItemView, lang: str, number: str | None = None) -> str:
    """``если «нет»: новая заявка «…», критичность → высокая`` or ''; ``number`` (the
    order's) fills the follow-up's ``{order}``."""
    if item.trigger is None:
        return ""
    if item.trigger == "out_of_range":
        when = t("checklist.rule.out_of_range", lang)
    elif item.kind == "yes_no":
        when = t("checklist.rule.if", lang, answer=t(f"answer.{item.trigger}", lang))
    else:
        when = t("checklist.rule.if", lang, answer=item.trigger)
    does = []
    if item.follow_up:
        text = item.follow_up.replace("{order}", number) if number else item.follow_up
        does.append(t("checklist.rule.follow_up", lang, text=text))
    if item.raise_to:
        does.append(t("checklist.rule.raise", lang, crit=criticality_name(item.raise_to, lang)))
    return f"{when}: {', '.join(does)}"


@dataclass(frozen=True)
class Answered:
    """What an answer did: shown in a notification, announced to the app."""

    item: str
    shown: str
    follow_up_id: int | None = None
    follow_up_number: str | None = None
    raised_to: str | None = None
    out_of_range: bool = False


def record_answer(
    session: Session,
    *,
    order_id: int,
    item_id: int,
    value: str | None,
    file: str | None,
    actor: str,
    tz: Any,
    lang: str,
) -> Answered:
    """Answer through the core (its checks, its rule) and say what happened."""
    outcome = execution.answer_item(
        session=session, order_id=order_id, item_id=item_id, value=value, file=file, actor=actor
    )
    item = session.get(ChecklistItem, item_id)
    assert item is not None
    follow = outcome.follow_up
    return Answered(
        item=item.text,
        shown=execution.answer_text(item, outcome.answer, tz=tz, lang=lang),
        follow_up_id=follow.id if follow is not None else None,
        follow_up_number=follow.number if follow is not None else None,
        raised_to=outcome.raised_to,
        out_of_range=outcome.out_of_range,
    )


def answered_message(result: Answered, lang: str) -> str:
    parts = [t("checklist.answered", lang, item=result.item, answer=result.shown)]
    if result.out_of_range:
        parts.append(t("checklist.out_of_range", lang))
    if result.follow_up_number:
        parts.append(t("checklist.follow_up", lang, number=result.follow_up_number))
    if result.raised_to:
        parts.append(t("checklist.raised", lang, crit=criticality_name(result.raised_to, lang)))
    return " ".join(parts)


class AnswerScreen(FormScreen[Answered | None]):
    """The dialog for one item; returns what the answer did (None: cancelled)."""

    def __init__(self, order_id: int, item: ItemView, *, tz: Any) -> None:
        super().__init__(id="answer")
        self.order_id = order_id
        self.item = item
        self.tz = tz

    def compose(self) -> ComposeResult:
        lang = self.lang
        item = self.item
        with Vertical(classes="dialog") as box:
            box.border_title = t("answer.title", lang)
            yield Static(item.text, id="answer-question", classes="question")
            if item.hint:
                yield Static(t("checklist.hint", lang, hint=item.hint), classes="hint")
            yield Static(kind_text(item, lang), classes="hint")
            if item.kind in ("yes_no", "choice"):
                options = (
                    [Option(t("answer.yes", lang), id="yes"), Option(t("answer.no", lang), id="no")]
                    if item.kind == "yes_no"
                    else [Option(c, id=f"choice-{i}") for i, c in enumerate(item.choices)]
                )
                yield OptionList(*options, id="answer-options")
            else:
                placeholder = {
                    "number": t("answer.number_placeholder", lang, range=allowed_range(item, lang)),
                    "text": t("answer.text_placeholder", lang),
                    "file": t("answer.file_placeholder", lang),
                }.get(item.kind, "")
                yield Input(
                    self._typed_value(),
                    placeholder=placeholder,
                    suggester=PathSuggester() if item.kind == "file" else None,
                    id="answer-value",
                )
            yield Label("", classes="field-error", id="error-form")
        yield KeyFooter()

    def show_error(self, message: str, field: str | None = None) -> None:
        super().show_error(message, None)  # one answer: its errors go under it

    def _typed_value(self) -> str:
        item = self.item
        if item.value is None or item.kind == "file":
            return ""
        if item.kind == "number" and self.lang == "ru":
            return item.value.replace(".", ",")
        return item.value

    def on_mount(self) -> None:
        self.clear_errors()
        if self.item.kind in ("yes_no", "choice"):
            options = self.query_one("#answer-options", OptionList)
            index = 0
            if self.item.value is not None:
                ids = ["yes", "no"] if self.item.kind == "yes_no" else list(self.item.choices)
                if self.item.value in ids:
                    index = ids.index(self.item.value)
            options.highlighted = index
            options.focus()
        else:
            self.query_one("#answer-value", Input).focus()

    @on(OptionList.OptionSelected, "#answer-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    @on(Input.Submitted, "#answer-value")
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        item = self.item
        value: str | None = None
        file: str | None = None
        if item.kind in ("yes_no", "choice"):
            options = self.query_one("#answer-options", OptionList)
            if options.highlighted is None:
                return
            if item.kind == "yes_no":
                value = str(options.get_option_at_index(options.highlighted).id)
            else:
                value = item.choices[options.highlighted]
        elif item.kind == "file":
            file = os.path.expanduser(self.query_one("#answer-value", Input).value.strip())
            if not file:
                self.show_error(t("answer.file_needed", self.lang))
                return
        else:
            value = self.query_one("#answer-value", Input).value
        self.clear_errors()
        self._answer(value, file)

    def _answer(self, value: str | None, file: str | None) -> None:
        backend = self.fsm.backend

        def work(session: Session) -> Answered:
            result = record_answer(
                session,
                order_id=self.order_id,
                item_id=self.item.id,
                value=value,
                file=file,
                actor=backend.user,
                tz=self.tz,
                lang=self.lang,
            )
            return result

        self.save(work)
