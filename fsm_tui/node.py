"""What every screen of the dashboard shares: the app as :class:`~fsm_tui.app.Dashboard`, its
language, and the screen's bindings put into that language when it is made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from fsm_tui.text import localize_bindings

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from fsm_tui.protocol import Dashboard


class AppNode:
    """Mixin for a screen (first among its bases)."""

    app: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        localize_bindings(cast("DOMNode", self), self.fsm.lang)  # a screen's mixin

    @property
    def fsm(self) -> Dashboard:
        return cast("Dashboard", self.app)

    @property
    def lang(self) -> str:
        return self.fsm.lang
