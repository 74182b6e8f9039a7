"""``fsm settings``: company-wide settings (name, time zone, order numbering...)."""

from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.options import Json

app = typer.Typer(
    no_args_is_help=True, help="Company-wide settings (name, time zone, order numbering)."
)


@app.command("list")
def list_(json_: Json = False) -> None:
    """Show every setting with its value."""
    from fsm_core.i18n import label
    from fsm_core.services.settings import SPECS

    with STATE.reader() as session:
        values = company(session).values
    if json_:
        output.emit_json(values)
        return
    lang = STATE.language
    output.table(
        [label("setting", lang), label("value", lang), label("description", lang)],
        [[key, values[key], spec.description] for key, spec in SPECS.items()],
    )


@app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="Setting name (see `fsm settings list`).")],
    value: Annotated[str, typer.Argument(help="New value.")],
) -> None:
    """Change a setting for every dispatcher of the company."""
    from fsm_core.services import settings

    with STATE.transaction() as session:
        stored = settings.set_value(session=session, key=key, value=value)
    output.done(f"{key} = {stored}")
