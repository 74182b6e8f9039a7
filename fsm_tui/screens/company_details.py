"""Company details (реквизиты компании): what the act of works says about the company —
its names, INN/KPP/OGRN, legal address, bank details, VAT rate and who signs acts for it.

Reached from the command palette ("Company details…"). The values are read in a worker
when the dialog opens and saved together through the core's settings service
(:func:`fsm_core.services.settings.set_values`), which checks every field first: each
refused value is shown beside its field with the core's own message, and nothing is saved
until all are right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static
from textual.worker import Worker

from fsm_core.services import settings
from fsm_core.services.settings import COMPANY_DETAILS, SettingsInvalid
from fsm_tui.screens.forms import ChangeForm
from fsm_tui.text import t
from fsm_tui.widgets.key_footer import KeyFooter

# the field of each setting: its label and, where it helps, what to type
FIELDS: dict[str, tuple[str, str | None]] = {
    key: (f"company.{key}", f"company.{key}.hint" if key in ("vat_rate",) else None)
    for key in COMPANY_DETAILS
}


class CompanyDetailsScreen(ChangeForm):
    """The company's details for the act, saved together or not at all."""

    @dataclass
    class Read(Message):
        values: dict[str, str]

    def __init__(self) -> None:
        super().__init__(id="company-details-form")
        self.shown: dict[str, str] = {}  # what each field showed when read

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog") as box:
            box.border_title = t("company.title", lang)
            yield Static(t("company.intro", lang), classes="hint")
            with VerticalScroll(id="company-fields"):
                for key, (label, hint) in FIELDS.items():
                    yield from self.field(
                        t(label, lang),
                        Input(
                            placeholder=t(hint, lang) if hint else "",
                            compact=True,
                            disabled=True,  # until the current values are read
                            id=key,
                        ),
                        key,
                    )
            yield from self.buttons(t("company.save", lang))
        yield KeyFooter()

    def field(self, label: str, widget: Widget, name: str) -> ComposeResult:
        """A row — the label, the field — and under it, across the whole dialog, the line
        for its error (a long message wraps there instead of in the label's column)."""
        with Horizontal(classes="company-row"):
            yield Label(label)
            yield widget
        yield Label("", classes="field-error", id=f"error-{name}")

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._read, thread=True, group="company-read", exit_on_error=False)

    def _read(self) -> None:
        with self.fsm.backend.reader() as session:
            loaded = settings.load(session=session)
        self.post_message(self.Read({key: loaded[key] for key in COMPANY_DETAILS}))

    def on_company_details_screen_read(self, message: Read) -> None:
        message.stop()
        for key, value in message.values.items():
            field = self.query_one(f"#{key}", Input)
            # several lines of bank details show on one; saved only if edited
            field.value = self.shown[key] = value.replace("\n", "; ")
            field.disabled = False
        self.query_one(f"#{COMPANY_DETAILS[0]}", Input).focus()

    def action_submit(self) -> None:
        fields = [self.query_one(f"#{key}", Input) for key in COMPANY_DETAILS]
        if any(field.disabled for field in fields):
            return  # not read yet: nothing to save over
        # only what was edited: a field left alone is not rewritten
        values = {
            field.id or "": field.value
            for field in fields
            if field.value != self.shown.get(field.id or "")
        }
        lang = self.lang
        if not values:
            self.dismiss(None)
            return

        def save(session: Session) -> str:
            settings.set_values(session=session, values=values)
            return t("company.saved", lang)

        self.save(save)

    def handle_worker_error(self, worker: Worker[Any], error: BaseException | None) -> bool:
        if isinstance(error, SettingsInvalid):
            for key, message in error.errors.items():
                self.show_error(message, key)
            self.query_one(f"#{next(iter(error.errors))}", Input).focus()
            return True
        return super().handle_worker_error(worker, error)


def open_company_details(app: Any) -> None:
    """Push the dialog; when saved, say so and let the app reread what it caches."""

    def done(text: str | None) -> None:
        if text:
            app.notify(text)
            app.reload_catalog()

    app.push_screen(CompanyDetailsScreen(), done)
