"""Two ways Textual 8 keeps widgets in memory after they have been removed, undone here.

Every order screen opened and closed stayed in memory, with its widgets and the lines they
had drawn: ~25,000 objects more for the garbage collector to walk at each full collection,
so that opening orders got slower the more orders a session had opened.

- :func:`fix_styles_cache`: Textual caches the background styles of a line with an
  ``lru_cache`` on a *method*, so the key holds the widget's ``StylesCache`` (and with it
  every line the widget drew) for the last 1,024 calls (textualize/textual#6665). The
  styles depend on the two colours only; they are cached on those here.
- :func:`forget_closed_watchers`: ``widget.watch(app, attribute, ...)`` (TextArea watches
  the app's theme) is kept on the app until that attribute next changes, however long ago
  the widget was removed (textualize/textual#6666). The app drops them when a screen goes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What ``StylesCache.get_inner_outer`` returns, keyed on the colours alone."""
    return (Style(background=base_background + background), Style(background=base_background))


def _get_inner_outer(
    self: StylesCache, base_background: Color, background: Color
) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def fix_styles_cache() -> None:
    """Cache a line's inner and outer background styles without the ``StylesCache``."""
    if StylesCache.get_inner_outer is not _get_inner_outer:
        StylesCache.get_inner_outer.cache_clear()
        StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[assignment]


def forget_closed_watchers(obj: Any) -> None:
    """Drop the watchers that closed widgets left on ``obj`` (Textual prunes them only when
    the watched attribute changes)."""
    watchers: dict[str, list[tuple[Any, Any]]] = getattr(obj, "__watchers", {})
    for entries in watchers.values():
        entries[:] = [(node, cb) for node, cb in entries if not (node._closing or node._closed)]
