"""Rendering the customer's pages: Jinja2 templates (autoescaped), their words in Russian
and English, times in the company's time zone, and the answers every page shares (the
same "not found" for any token, a one-line error page, "too many requests")."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.responses import HTMLResponse

HERE = Path(__file__).resolve().parent

WORDS: dict[str, tuple[str, str]] = {
    "not_found_title": ("Page not found", "Страница не найдена"),
    "not_found": (
        "This page does not exist or is no longer available. If you scanned a label, "
        "call us: the label may have been replaced.",
        "Такой страницы нет или она больше недоступна. Если вы сканировали наклейку — "
        "позвоните нам: возможно, её заменили.",
    ),
    "error_title": ("Something is wrong", "Что-то не так"),
    "busy_title": ("Too many requests", "Слишком много запросов"),
    "busy": (
        "Too many requests from here. Please try again in {seconds} s.",
        "Слишком много запросов. Попробуйте ещё раз через {seconds} с.",
    ),
    "csrf": (
        "The form has expired. Open the page again and send it once more.",
        "Форма устарела. Откройте страницу заново и отправьте её ещё раз.",
    ),
    "too_big": ("The request is too large.", "Запрос слишком большой."),
    "call": ("Call us", "Позвоните нам"),
    "customer": ("Customer", "Заказчик"),
    "address": ("Address", "Адрес"),
    "where": ("Where to find it", "Как найти"),
    "building": ("Building", "Корпус"),
    "floor": ("Floor", "Этаж"),
    "serial": ("Serial number", "Заводской номер"),
    "inventory": ("Inventory number", "Инвентарный номер"),
    "open_orders": ("Requests in work", "Заявки в работе"),
    "history": ("Service history", "История обслуживания"),
    "request": ("Report a problem", "Сообщить о неисправности"),
    "description": ("What is wrong?", "Что случилось?"),
    "description_hint": (
        "For example: water is dripping from the indoor unit",
        "Например: из внутреннего блока капает вода",
    ),
    "name": ("Your name", "Ваше имя"),
    "phone": ("Phone", "Телефон"),
    "photo": ("Photo (optional)", "Фото (необязательно)"),
    "send": ("Send the request", "Отправить заявку"),
    "remembered": (
        "Your name and phone are remembered on this phone for the next time.",
        "Имя и телефон запомнятся на этом телефоне до следующего раза.",
    ),
    "received_title": ("Request received", "Заявка принята"),
    "received": ("Your request number is", "Номер вашей заявки"),
    "follow": ("Follow its status", "Следить за статусом"),
    "follow_hint": (
        "Keep this link: it shows the stage, the technician and when they will arrive.",
        "Сохраните ссылку: там видно стадию, специалиста и когда он приедет.",
    ),
    "order": ("Request", "Заявка"),
    "stage": ("Stage", "Стадия"),
    "planned": ("Planned visit", "Запланированный визит"),
    "technician": ("Technician", "Специалист"),
    "arrives": ("will arrive at about {at}", "приедет около {at}"),
    "window": ("between {a} and {b}", "с {a} до {b}"),
    "by_position": ("by the technician's position", "по местоположению специалиста"),
    "by_plan": ("by the plan", "по плану"),
    "chat": ("Messages", "Сообщения"),
    "no_messages": ("No messages yet.", "Сообщений пока нет."),
    "write": ("Your message", "Ваше сообщение"),
    "send_message": ("Send", "Отправить"),
    "act": ("Download the act (PDF)", "Скачать акт (PDF)"),
    "rate": ("Rate the work", "Оцените работу"),
    "rating": ("Your rating of the work", "Оценка работы"),
    "no_contact": (
        "This request was left without a name or phone, so it cannot be written to here: call us.",
        "Заявка оставлена без имени и телефона, поэтому написать сюда нельзя: позвоните нам.",
    ),
    "promptness": ("Promptness", "Оперативность"),
    "accuracy": ("Accuracy", "Точность"),
    "communication": ("Communication", "Общение"),
    "comment": ("Comment (up to 110 characters)", "Комментарий (до 110 символов)"),
    "send_rating": ("Send the rating", "Отправить оценку"),
    "rated": ("Your rating: {mean} of 5. Thank you!", "Ваша оценка: {mean} из 5. Спасибо!"),
    "refresh": ("Refresh", "Обновить"),
}

_MONTHS_RU = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
_MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"


class Words:
    """The page's words in one language: ``t("send")``, ``t("busy", seconds=5)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = 1 if lang == "ru" else 0

    def __call__(self, key: str, **values: Any) -> str:
        text = WORDS[key][self._index]
        return text.format(**values) if values else text


class Clock:
    """Times as the company's customers read them: ``14:20``, ``7 декабря``."""

    def __init__(self, zone: str, lang: str) -> None:
        try:
            self.tz: tzinfo = ZoneInfo(zone)
        except (KeyError, ValueError):
            self.tz = ZoneInfo("UTC")
        self.lang = lang

    def hm(self, at: datetime | None) -> str:
        return at.astimezone(self.tz).strftime("%H:%M") if at else ""

    def day(self, at: datetime | None) -> str:
        if at is None:
            return ""
        local = at.astimezone(self.tz)
        if self.lang == "ru":
            return f"{local.day} {_MONTHS_RU.split()[local.month - 1]}"
        return f"{local.day} {_MONTHS_EN.split()[local.month - 1]}"

    def when(self, at: datetime | None) -> str:
        return f"{self.day(at)}, {self.hm(at)}" if at else ""

    def span(self, start: datetime | None, end: datetime | None) -> str:
        if start is None:
            return ""
        if end is None:
            return self.when(start)
        same_day = start.astimezone(self.tz).date() == end.astimezone(self.tz).date()
        if same_day:
            return f"{self.day(start)}, {self.hm(start)}–{self.hm(end)}"
        return f"{self.when(start)} – {self.when(end)}"


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)

PAGE_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}
"""The customer's pages run no script at all: none is allowed."""


def render_html(template: str, *, brand: Any, **context: Any) -> str:
    """``template`` rendered in the brand's language and time zone."""
    lang = brand.lang if brand is not None else "ru"
    words = Words(lang)
    clock = Clock(brand.tz if brand is not None else "UTC", lang)
    return ENV.get_template(template).render(
        brand=brand, lang=lang, t=words, clock=clock, **context
    )


def html_response(
    html: str, *, status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def render(
    template: str,
    *,
    brand: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    return html_response(
        render_html(template, brand=brand, **context), status=status, headers=headers
    )


def message_page(
    brand: Any, *, status: int, title: str, text: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """A page of one line: not found, an error, too many requests."""
    return render(
        "message.html", brand=brand, status=status, title=title, text=text, headers=headers
    )
