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
        self.capped = False
        self.selected: str | None = None

    def show(
        self, counts: dict[str, int], total: int, selected: str | None, *, capped: bool = False
    ) -> None:
        """``capped``: a search counted up to a cap; every number is "at least" ("1000+")."""
        self.counts = counts
        self.total = total
        self.capped = capped
        self.selected = selected
        self.update(self._content())

    def show_loading(self) -> None:
        self.counts = None
        self.update(self._content())

    def set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.update(self._content())

    def _count(self, n: int) -> str:
        return number(n, lang=self.lang, digits=0) + ("+" if self.capped else "")

    def _content(self) -> Content:
        lang = self.lang
        if self.catalog is None or self.counts is None:
            return Content(" " + t("loading", lang))
        parts: list[Content] = []
        total = Content.from_markup(
            "[@click=screen.filter_stage('')]$name [b]$n[/b][/]",
            name=t("counts.all", lang),
            n=self._count(self.total or 0),
        )
        parts.append(total.stylize("reverse") if not self.selected else total)
        for code, stage in self.catalog.workflow.stages.items():
            n = self.counts.get(code, 0)
            if not n and self.selected != code:
                continue
            chip = Content.from_markup(
                f"[@click=screen.filter_stage('{code}')]$name [b]$n[/b][/]",
                name=stage.name(lang),
                n=self._count(n),
            )
            parts.append(chip.stylize("reverse") if self.selected == code else chip)
        return self._lines(parts)

    def _lines(self, parts: list[Content]) -> Content:
        """The counts separated by ``│``, a new line started between two counts where the
        next would not fit (80 columns): a count is never split."""
        width = self.size.width or 1000
        lines: list[list[Content]] = [[]]
        used = 1
        for part in parts:
            step = part.cell_length + (3 if lines[-1] else 0)
            if lines[-1] and used + step > width:
                lines.append([])
                used, step = 1, part.cell_length
            lines[-1].append(part)
            used += step
        return Content("\n").join(Content(" ") + Content(" │ ").join(line) for line in lines)

    def on_resize(self) -> None:
        self.update(self._content())
