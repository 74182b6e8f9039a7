"""The status line: which section, which database, who is acting, the live-update state."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from textual.reactive import reactive
from textual.widgets import Static

from fsm_tui.text import t

LIVE_CLASSES = {"on": "live-on", "connecting": "live-connecting", "lost": "live-lost"}


def database_label(url: str) -> str:
    """What to call a database in one short word: the SQLite file's name, or host/db."""
    try:
        parsed = make_url(url)
    except Exception:
        return url
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        return database.replace("\\", "/").rsplit("/", 1)[-1] or database
    host = parsed.host or "localhost"
    return f"{host}/{parsed.database or ''}"


class StatusLine(Static):
    """``Заявки · ООО «Сервис-Север»        БД fsm.db · Орлова В. П. · обновления: выкл.``"""

    section: reactive[str] = reactive("")
    live: reactive[str] = reactive("off")
    failed_notifications: reactive[int] = reactive(0)
    """notifications to customers that gave up (``fsm notify list --failed``); shown when any"""

    def __init__(self, *, lang: str, database_url: str, user: str, company: str = "") -> None:
        super().__init__(id="status-line")
        self.lang = lang
        self.database_url = database_url
        self.user = user
        self.company = company
        self.tooltip = database_url

    def set_company(self, company: str) -> None:
        self.company = company
        self.refresh()

    def watch_live(self, old: str, new: str) -> None:
        for name in LIVE_CLASSES.values():
            self.remove_class(name)
        if new in LIVE_CLASSES:
            self.add_class(LIVE_CLASSES[new])

    def render(self) -> str:
        lang = self.lang
        left = " · ".join(x for x in (self.section, self.company) if x)
        if self.failed_notifications:
            failed = t("status.failed_notifications", lang, count=self.failed_notifications)
            left = f"{left} · {failed}" if left else failed
        live = t(f"live.{self.live}", lang) if f"live.{self.live}" else self.live
        right = (
            f"{t('status.db', lang)} {database_label(self.database_url)} · "
            f"{t('status.user', lang)} {self.user} · {t('status.live', lang)}: {live}"
        )
        width = self.size.width or 120
        if len(left) + len(right) + 3 > width:  # 80 columns: the company is on the act
            left = self.section
            if self.failed_notifications:  # what needs someone's attention stays
                left += f" · ⚠ {self.failed_notifications}"
        if len(left) + len(right) + 3 > width:  # and the database in the tooltip
            right = f"{self.user} · {t('status.live', lang)}: {live}"
        gap = max(width - len(left) - len(right) - 2, 1)
        return f" {left}{' ' * gap}{right} "
