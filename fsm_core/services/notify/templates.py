"""The texts of notifications: built-in per event in Russian and English, replaced by an
admin's files in the ``notify_templates`` folder (``received.ru.txt``, ``done.en.txt``…).

A template's first line is the subject (an e-mail's Subject, a messenger's title), the rest
the body. Values are written ``$number`` or ``${number}`` (Python's string.Template: no
code, no attribute access); a name the event does not have becomes empty. The values:
number, name (the contact), description, customer, object, company, company_phone,
status_url; "planned" adds date and window; "en_route" eta_time, eta_window and technician.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from fsm_core.errors import InvalidInput

_SIGNATURE = {
    "ru": "\n\n-- \n$company $company_phone",
    "en": "\n\n-- \n$company $company_phone",
}

BUILT_IN: dict[tuple[str, str], str] = {
    ("received", "ru"): "Заявка $number принята\n"
    "Здравствуйте, $name!\n\n"
    "Ваша заявка $number принята: $description\n\n"
    "Статус заявки: $status_url",
    ("received", "en"): "Request $number received\n"
    "Hello $name,\n\n"
    "your request $number has been received: $description\n\n"
    "Its status: $status_url",
    ("planned", "ru"): "Заявка $number: выезд $date, $window\n"
    "Здравствуйте, $name!\n\n"
    "По заявке $number запланирован выезд техника: $date, $window.\n\n"
    "Статус заявки: $status_url",
    ("planned", "en"): "Request $number: visit on $date, $window\n"
    "Hello $name,\n\n"
    "a technician's visit for request $number is planned on $date, $window.\n\n"
    "Its status: $status_url",
    ("en_route", "ru"): "Заявка $number: техник в пути\n"
    "Здравствуйте, $name!\n\n"
    "Техник $technician выехал к вам по заявке $number и приедет около $eta_time "
    "($eta_window).\n\n"
    "Где он сейчас: $status_url",
    ("en_route", "en"): "Request $number: the technician is on the way\n"
    "Hello $name,\n\n"
    "technician $technician is on the way for request $number and will arrive about "
    "$eta_time ($eta_window).\n\n"
    "Follow them: $status_url",
    ("done", "ru"): "Заявка $number выполнена\n"
    "Здравствуйте, $name!\n\n"
    "Работы по заявке $number выполнены. Акт и оценка работы — на странице заявки: "
    "$status_url\n\n"
    "Спасибо, что оценили нашу работу.",
    ("done", "en"): "Request $number done\n"
    "Hello $name,\n\n"
    "the work on request $number is done. The act, and a form to rate the work, are on "
    "its page: $status_url\n\n"
    "Thank you for rating our work.",
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _source(event: str, locale: str, folder: str | None, cache: dict[Path, str] | None) -> str:
    if folder:
        for name in (f"{event}.{locale}.txt", f"{event}.txt"):
            path = Path(folder).expanduser() / name
            if cache is not None and path in cache:
                return cache[path]
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"notification template {path}: {exc}") from None
            if cache is not None:
                cache[path] = text
            return text
    text = BUILT_IN.get((event, locale)) or BUILT_IN[(event, "ru")]
    return text + _SIGNATURE.get(locale, _SIGNATURE["ru"])


def render(
    event: str,
    locale: str,
    payload: dict[str, Any],
    *,
    folder: str | None = None,
    cache: dict[Path, str] | None = None,
) -> Rendered:
    """The subject and body of one notification."""
    source = _source(event, locale, folder, cache)
    values = _Blank({k: "" if v is None else str(v) for k, v in payload.items()})
    try:
        text = Template(source).substitute(values)
    except ValueError as exc:  # a lone "$" in an admin's file
        raise InvalidInput(f"notification template {event}.{locale}: {exc}") from None
    subject, _, body = text.partition("\n")
    subject = " ".join(subject.split())  # one line, however the values were typed
    body = body.strip("\n").rstrip()
    if body.endswith("--"):  # a signature with nothing in it
        body = body[: -len("--")].rstrip()
    return Rendered(subject=subject[:200], body=body)
