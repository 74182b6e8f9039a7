"""Textual's Select, drawn as it is, styled once.

A Select mounts its parts (the current value, the list of options) and only then sets its
value and binds ``compact``: the current value takes its ``-has-value`` class and the
list its ``-textual-compact`` class after they are in the DOM, and Textual styles them
(and what they hold) once more for each. The order form's four lists did that eight times
before its first frame. :class:`FormSelect` gives its parts those classes (and the
reactives behind them) before they mount, from the value it was made with; the reactives
then do not change when the Select sets them, so nothing is styled twice.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from textual.app import ComposeResult
from textual.widgets import Select
from textual.widgets._select import SelectCurrent, SelectOverlay

T = TypeVar("T", bound=Hashable)


class FormSelect(Select[T]):
    def compose(self) -> ComposeResult:
        current = SelectCurrent(self.prompt)
        # what _init_selected_option picks on mount: the value, else (no blank) the first
        has_value = self._value is not Select.NULL or not self._allow_blank
        current.set_reactive(SelectCurrent.has_value, has_value)
        current.set_class(has_value, "-has-value", update=False)
        yield current
        overlay = SelectOverlay(type_to_search=self._type_to_search)
        overlay.set_reactive(SelectOverlay.compact, self.compact)
        overlay.set_class(self.compact, "-textual-compact", update=False)
        yield overlay.data_bind(compact=Select.compact)
