"""fsm_core: every business rule of the FSM product, once.

Front ends (fsm_cli, fsm_tui) parse input, call one service and render the result.
This package never imports them, nor typer, textual or rich (checked by import-linter).
"""

__version__ = "0.1.0"
