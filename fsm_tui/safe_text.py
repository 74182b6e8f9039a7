"""Text from data never reaches the terminal as a command.

Descriptions, names and chat messages come from customers and from other systems, and may
carry ESC, OSC or C1 sequences (one description used to blank the board on every repaint).
Every line the dashboard draws passes :class:`ControlCharacters`, a Textual line filter
that shows each control character as a visible sign (:func:`fsm_core.values.terminal_safe`:
ESC as ␛, C1 as \\x9b) and keeps the line as wide as the layout made it. Textual's own
escapes (colours, cursor moves) are added after the filters and are not touched.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from fsm_core.values import terminal_safe


class ControlCharacters(LineFilter):
    """Shows the control characters a line's text carries; the line keeps its width."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(terminal_safe(s.text) is not s.text for s in segments if not s.control):
            return segments  # the usual line: nothing to do, nothing copied
        width = sum(cell_len(s.text) for s in segments if not s.control)
        shown = [
            s if s.control else Segment(terminal_safe(s.text), s.style, s.control) for s in segments
        ]
        # a control character took no cell, its sign takes one: cut the line back
        return list(Segment.adjust_line_length(shown, width, pad=False))
