"""Where Textual 8 falls short for a dashboard that runs all day, made good here: two ways
it keeps widgets in memory after they have been removed, and a terminal that goes away.

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

import asyncio
import select
import sys
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.app import App
from textual.color import Color
from textual.drivers._writer_thread import WriterThread
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


# --- a terminal that goes away ------------------------------------------------------------
#
# When the terminal goes (its window closed, the SSH session dropped) and no hang-up
# signal stops the program, Textual's input thread finds nothing to read and polls the
# terminal again at once, in a loop, and its output thread dies at the first write that
# fails; 30 writes later its queue is full and the app's loop waits on it for ever. A
# dashboard left like that held a core busy for as long as the machine ran. Here the app
# exits instead: it looks for the hang-up once a second, and the output thread goes on
# taking writes (dropping them) once one failed, and asks the app to exit.

GONE_EVERY = 1.0
"""Seconds between two looks at whether the terminal is still there."""

_on_gone: list[Callable[[], object]] = []


def _write_until_gone(self: WriterThread) -> None:
    write, flush = self._file.write, self._file.flush
    get, qsize = self._queue.get, self._queue.qsize
    gone = False
    while (text := get()) is not None:
        if gone:
            continue  # nowhere to write: taken and dropped, so that no writer waits
        try:
            write(text)
            if qsize() == 0:
                flush()
        except OSError:  # EIO: the terminal is gone
            gone = True
            for call in _on_gone:
                call()
    if not gone:
        with suppress(OSError):
            flush()


def keep_writing_when_the_terminal_goes() -> None:
    """Before the app starts its driver: the output thread survives a failed write."""
    WriterThread.run = _write_until_gone  # type: ignore[method-assign]


def exit_when_the_terminal_goes(app: App[Any]) -> None:
    """In the running app: exit when the terminal hangs up or a write to it fails."""
    stdin = sys.__stdin__
    if app.is_headless or stdin is None or not stdin.isatty():
        return
    loop = asyncio.get_running_loop()
    _on_gone[:] = [lambda: loop.call_soon_threadsafe(app.exit)]
    watch = select.poll()
    watch.register(stdin.fileno(), select.POLLIN)

    def look() -> None:
        if any(events & (select.POLLHUP | select.POLLERR) for _fd, events in watch.poll(0)):
            app.exit()

    app.set_interval(GONE_EVERY, look, name="terminal-gone")
