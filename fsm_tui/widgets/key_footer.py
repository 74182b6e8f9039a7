"""The footer of keys, rebuilt only when the keys it shows change.

Textual's :class:`~textual.widgets.Footer` recomposes itself (one widget per key, each
styled) whenever the screen says its bindings were updated: on every focus change, and
several times while a screen is being built, mostly with the very same keys. Opening an
order did it four times (52 key widgets for 13 keys). This one coalesces the updates that
arrive before the next refresh and recomposes only if the shown keys differ from what is
on screen; what it draws is Textual's own footer.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from fsm_tui.text import t

TEXTUAL_WORDS = {"Dismiss menu": "footer.dismiss_menu"}
"""Textual's own key descriptions (an open list's escape) in the user's language."""


class KeyFooter(Footer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[Any, ...] | None = None
        self._pending = False

    def _keys(self, screen: Screen[Any]) -> tuple[Any, ...]:
        """What the footer would show for ``screen``'s bindings now."""
        return tuple(
            (binding.key, self.app.get_key_display(binding), binding.description, enabled, tip)
            for _node, binding, enabled, tip in screen.active_bindings.values()
            if binding.show or binding.action == "command_palette"
        )

    def compose(self) -> ComposeResult:
        lang = getattr(self.app, "lang", "en")
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                if widget.description in TEXTUAL_WORDS:
                    widget.description = t(TEXTUAL_WORDS[widget.description], lang)
                # a key takes its compact (the default, or the footer's it is bound to)
                # once mounted, and is styled again for each: it gets it before it mounts
                # (the command palette's key is not bound: compact, as it defaults)
                compact = widget.has_class("-command-palette") or self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or self._pending:
            return
        if self.is_attached and screen is self.screen:
            self._pending = True
            self.call_after_refresh(self._refresh_keys)

    async def _refresh_keys(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        keys = self._keys(self.screen)
        if keys != self._shown:
            self._shown = keys
            await self.recompose()
