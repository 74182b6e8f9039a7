"""The base of the dashboard's dialogs: a framed box over the screen, escape to cancel,
ctrl+s to submit, the change made in one transaction off the event loop
(:meth:`FormScreen.save`), errors from the core shown next to the field they are about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlmodel import Session
from textual import on
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label
from textual.worker import Worker

from fsm_core.errors import Ambiguous, FsmError, InvalidInput, NotFound
from fsm_tui.node import AppNode
from fsm_tui.workers import WorkerErrors

if TYPE_CHECKING:
    pass

R = TypeVar("R")

# What the core calls a field (InvalidInput.field, NotFound.kind, "name: ..." prefixes)
# -> the form field that shows the message.
FIELD_ALIASES = {
    "customer_id": "customer",
    "object_id": "object",
    "contact_id": "contact",
    "assignee_id": "assignee",
    "employee": "assignee",
    "crew_id": "crew",
    "planned_start": "planned_start",
    "planned_end": "planned_end",
    "resolution_due": "resolution_due",
}


def error_field(error: BaseException) -> str | None:
    """Which form field an error from the core is about, if it says."""
    name: str | None = None
    if isinstance(error, InvalidInput) and error.field:
        name = error.field
    elif isinstance(error, NotFound | Ambiguous):
        name = error.kind
    elif isinstance(error, FsmError):
        head, sep, _ = error.message.partition(":")
        if sep and head.replace("_", "").isalpha() and " " not in head:
            name = head
    if name is None:
        return None
    return FIELD_ALIASES.get(name, name)


class FormScreen(AppNode, WorkerErrors, ModalScreen[R], Generic[R]):
    """A dialog. Subclasses yield ``Label(classes="field-error", id="error-<field>")`` under
    each field and one ``#error-form`` for errors that name no field."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.submit", priority=True),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)

    # a form's buttons (those that have them): #submit and #cancel, as ctrl+s and escape
    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_submit(self) -> None:
        """Override: check and send the form."""

    # --- saving --------------------------------------------------------------------------

    @dataclass
    class Saved(Message):
        result: Any

    def save(self, work: Callable[[Session], Any]) -> None:
        """Run ``work(session)`` — the core's service call — in one transaction in a
        worker, then close the dialog with what it returned. An error leaves the dialog
        open as typed, shown where :meth:`handle_worker_error` puts it; nothing is
        changed."""
        self.clear_errors()
        self.run_worker(
            partial(self._save, work),
            thread=True,
            exclusive=True,
            group="form-save",
            exit_on_error=False,
        )

    def _save(self, work: Callable[[Session], Any]) -> None:
        with self.fsm.backend.transaction() as session:
            result = work(session)
        self.post_message(FormScreen.Saved(result))

    def on_form_screen_saved(self, message: Saved) -> None:
        message.stop()
        self.dismiss(message.result)

    # --- errors in place -----------------------------------------------------------------

    def clear_errors(self) -> None:
        for label in self.query(".field-error").results(Label):
            label.update("")
            label.display = False

    def show_error(self, message: str, field: str | None = None) -> None:
        target: Label | None = None
        if field:
            try:
                target = self.query_one(f"#error-{field}", Label)
            except NoMatches:
                target = None
        if target is None:
            target = self.query_one("#error-form", Label)
        target.update(message)
        target.display = True

    def handle_worker_error(self, worker: Worker[Any], error: BaseException | None) -> bool:
        if isinstance(error, FsmError):
            self.show_error(error.one_line(self.lang), error_field(error))
            return True
        return False
