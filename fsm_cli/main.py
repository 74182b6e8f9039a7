"""The ``fsm`` command: one Typer app joining a sub-app per area.

Start-up stays lean. Sub-apps are imported and turned into click groups only when their
name is on the command line (or for ``--help``), and each command imports the core
services it calls when it runs: ``fsm orders list`` loads the orders module and the
database layer, nothing else, and no command loads textual, reportlab or segno unless it
draws a screen or a document.
"""

import sys
from typing import Annotated

import typer

from fsm_cli import context
from fsm_cli.errors import FsmGroup

app = typer.Typer(
    name="fsm",
    cls=FsmGroup,
    help="Field service management: orders, technicians, objects and stock, in the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def root(
    database: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="FSM_DATABASE_URL",
            help="Database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
            "(default: fsm.db in the user's data folder).",
            show_envvar=True,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="FSM_USER",
            help="Act on behalf of another user (admins only): a login, name or short name; "
            "recorded as 'A on behalf of B'. Who you are comes from your database login "
            "(PostgreSQL) or operating-system account (SQLite).",
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", envvar="FSM_LANG", help="Language of output: ru or en."),
    ] = None,
) -> None:
    if lang is not None and lang not in ("ru", "en"):
        raise typer.BadParameter("use ru or en", param_hint="--lang")
    context.reset(db_url=database, user=user, lang=lang, command=context.STATE.command)
    from fsm_core.files import sweep

    sweep()  # the temporaries of fsm processes that were killed (see fsm_core.files)


@app.command("init")
def init(
    demo: Annotated[bool, typer.Option("--demo", help="Also load the demo data set.")] = False,
) -> None:
    """Create the database, or upgrade it to this version's schema."""
    from fsm_cli.db import init_database

    init_database(demo=demo)


@app.command("demo")
def demo(
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Do nothing (and succeed) when the database has data."),
    ] = False,
    directory: Annotated[
        str | None,
        typer.Option("--data", help="Folder with the demo CSV files (default: data/demo)."),
    ] = None,
) -> None:
    """Load demo data (a Saint Petersburg service company) into an empty database."""
    from fsm_cli.db import load_demo

    load_demo(if_empty=if_empty, directory=directory)


@app.command("tui")
def tui(
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="First create or upgrade the database and load the demo company if it is "
            "empty (what `make run` does, in one start instead of three).",
        ),
    ] = False,
) -> None:
    """Open the dispatcher's dashboard (the order board) on the database."""
    from fsm_tui.app import run

    state = context.STATE
    if demo:
        from fsm_cli.db import prepare_demo

        prepare_demo()
    run(state.db_url, lang=state.lang, user=state.user)


def main() -> None:
    """Entry point of the ``fsm`` console script."""
    try:
        app(prog_name="fsm")
    except BrokenPipeError:  # `fsm orders list | head`: the reader left; not an error
        sys.stderr.close()


if __name__ == "__main__":
    main()
