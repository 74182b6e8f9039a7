"""How many orders match, by stage: the board's header line. A click on a stage filters by it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from fsm_core.formatting import number
from fsm_tui.backend import Catalog
from fsm_tui.text import t


class StageCounts(Static):
    """``Все 1 234 │ Новая 5 │ Назначена 3 │ …`` for the orders the filters match."""

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.catalog: Catalog | None = None
        self.counts: dict[str, int] | None = None
        self.total: int | None = None
        self.selected: str | None = None

    def show(self, counts: dict[str, int], total: int, selected: str | None) -> None:
        self.counts = counts
        self.total = total
        self.selected = selected
        self.update(self._content())

    def loading(self) -> None:
        self.counts = None
        self.update(self._content())

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.update(self._content())

    def _count(self, n: int) -> str:
        return number(n, lang=self.lang, digits=0)

    def _content(self) -> Content:
        lang = self.lang
        if self.catalog is None or self.counts is None:
            return Content(" " + t("loading", lang))
        parts: list[Content] = []
        total = Content.from_markup(
            "[@click=screen.filter_stage('')]$name\u00a0[b]$n[/b][/]",
            name=t("counts.all", lang),
            n=self._count(self.total or 0),
        )
        parts.append(total.stylize("reverse") if not self.selected else total)
        for code, stage in self.catalog.workflow.stages.items():
            n = self.counts.get(code, 0)
            if not n and self.selected != code:
                continue
            chip = Content.from_markup(
                f"[@click=screen.filter_stage('{code}')]$name\u00a0[b]$n[/b][/]",
                name=stage.name(lang).replace(" ", "\u00a0"),  # a count is not split
                n=self._count(n),
            )
            parts.append(chip.stylize("reverse") if self.selected == code else chip)
        return Content(" ") + Content(" │ ").join(parts)
