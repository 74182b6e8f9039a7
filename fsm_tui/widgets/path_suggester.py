"""Completes a file path as it is typed (right arrow takes the suggestion), the way a shell
does: a photo, a signature image, a folder for acts. The folder is read in a thread, so a
slow disk or a network mount never holds the screen.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.suggester import Suggester


def complete_path(value: str, *, folders_only: bool = False) -> str | None:
    """The first entry of the typed path's folder that starts with its last part, as the
    whole value typed so far plus the rest of that name (``/`` after a folder)."""
    if not value:
        return None
    head, sep, tail = value.rpartition(os.sep)
    folder = Path(os.path.expanduser(head + sep if sep else ".") or os.sep)
    try:
        names = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    for entry in names:
        if not entry.name.startswith(tail) or (entry.name.startswith(".") and not tail):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if folders_only and not is_dir:
            continue
        suggestion = value + entry.name[len(tail) :] + (os.sep if is_dir else "")
        if suggestion != value:
            return suggestion
    return None


class PathSuggester(Suggester):
    def __init__(self, *, folders_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.folders_only = folders_only

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value, folders_only=self.folders_only)
