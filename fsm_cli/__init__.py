"""fsm_cli: the Typer command line. Thin: parse, call one fsm_core service, render."""
