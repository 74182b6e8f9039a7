"""Option bundles shared by commands (as sqlite-utils shares --csv/--nl and friends)."""

from typing import Annotated

import typer

# The largest whole number a command takes: what a PostgreSQL integer column (ids,
# versions) holds; a count or offset beyond it means nothing either.
MAX_INT = 2**31 - 1

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
JsonLines = Annotated[bool, typer.Option("--nl", help="Print one JSON object per line.")]
Limit = Annotated[
    int,
    typer.Option("--limit", "-n", min=0, max=MAX_INT, help="At most this many rows (0: all)."),
]
Offset = Annotated[
    int, typer.Option("--offset", min=0, max=MAX_INT, help="Skip this many rows first.")
]
Search = Annotated[
    str | None, typer.Option("--search", "-s", help="Free text, case- and ё-insensitive.")
]
IfVersion = Annotated[
    int | None,
    typer.Option(
        "--if-version",
        min=1,
        max=MAX_INT,
        help="Refuse the change unless the order is still at this version (as you saw it).",
    ),
]
SinceDay = Annotated[
    str | None, typer.Option("--since", help="On or after this day (e.g. 01.11.2026).")
]
UntilDay = Annotated[str | None, typer.Option("--until", help="On or before this day (inclusive).")]
