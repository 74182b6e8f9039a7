"""Printing: rich tables for people, JSON (or JSON lines) for scripts, one-line errors."""

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import typer


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# json.dumps(ensure_ascii=False) escapes C0 controls but writes C1 ones (a lone 0x9b is a
# CSI to a terminal) as they are; in JSON text they can only be inside strings, so \u009b
# is the same data and safe to show.
_JSON_C1 = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}  # and DEL


def to_json(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False).translate(_JSON_C1)


def emit_json(value: Any) -> None:
    """A JSON document; a list is written one element per line (readable, and encoded by
    the C encoder: indenting would fall back to the slow pure-Python one)."""
    if isinstance(value, list):
        body = ",\n ".join(to_json(item) for item in value)
        sys.stdout.write(f"[{body}]\n" if value else "[]\n")
    else:
        text = json.dumps(value, default=_default, ensure_ascii=False, indent=2)
        sys.stdout.write(text.translate(_JSON_C1) + "\n")


def emit_lines(rows: Iterable[Any]) -> None:
    write = sys.stdout.write
    for row in rows:
        write(to_json(row) + "\n")


def emit_records(records: list[Any], json_: bool, nl: bool) -> bool:
    """Print ``records`` as a JSON array (``--json``) or JSON lines (``--nl``); False when
    neither was asked for (the caller prints a table)."""
    if not (json_ or nl):
        return False
    (emit_lines if nl else emit_json)(records)
    return True


def console(stderr: bool = False) -> Any:
    """A rich console; piped into a file or a pager it is wide rather than 80 columns.

    It reads no markup (a description "[link=...]" is text, not a hyperlink) and shows
    every control character a text carries as a visible sign (see
    :func:`fsm_core.values.terminal_safe`): data never reaches the terminal as a command."""
    import os

    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not stream.isatty() and "COLUMNS" not in os.environ:
        width = 200
    return _safe_console_class()(
        stderr=stderr, highlight=False, soft_wrap=False, width=width, markup=False, emoji=False
    )


_SAFE_CONSOLE: Any = None


def _safe_console_class() -> Any:
    global _SAFE_CONSOLE
    if _SAFE_CONSOLE is None:
        from rich.console import Console
        from rich.segment import Segment

        from fsm_core.values import terminal_safe

        class SafeConsole(Console):
            """Rich's own escapes (styles, cursor moves) are control segments or come from
            styles; the text of every other segment is made safe as it is written."""

            def _render_buffer(self, buffer: Iterable[Segment]) -> str:
                return super()._render_buffer(
                    seg if seg.control else Segment(terminal_safe(seg.text), seg.style)
                    for seg in buffer
                )

        _SAFE_CONSOLE = SafeConsole
    return _SAFE_CONSOLE


def plain(text: str, *, err: bool = False) -> None:
    """One line of plain output (a number, a path) that came from data."""
    from fsm_core.values import terminal_safe

    typer.echo(terminal_safe(text), err=err)


def table(
    columns: Sequence[str | tuple[str, dict[str, Any]]],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Print a table; a column is a header or (header, rich column options).

    The extra option ``squeeze=True`` keeps a column's cells on one line, cut with an
    ellipsis when the terminal is narrow, while the columns without it stay whole.
    """
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, caption=caption, header_style="bold", title_justify="left")
    squeezed = []
    for column in columns:
        header, options = column if isinstance(column, tuple) else (column, {})
        options = dict(options)
        squeezed.append(options.pop("squeeze", False))
        grid.add_column(header, **options)
    for row in rows:
        cells = []
        for value, squeeze in zip(row, squeezed, strict=True):
            cell = "" if value is None else str(value) if isinstance(value, int | float) else value
            if squeeze:
                cell = Text(cell) if isinstance(cell, str) else cell
                cell.no_wrap = True
                cell.overflow = "ellipsis"
            cells.append(cell)
        grid.add_row(*cells)
    console().print(grid)


def fields(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    """Print a record as a two-column list of label and value."""
    from rich.table import Table

    grid = Table(show_header=False, box=None, title=title, title_justify="left", pad_edge=False)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in pairs:
        if value is None or value == "":
            continue
        grid.add_row(name, value if not isinstance(value, str | int | float) else str(value))
    console().print(grid)


def result(json_: bool, value: Any, line: str) -> None:
    """What a create or update command prints: ``value`` as JSON for a script (``--json``),
    else the one line that tells a person what was done."""
    if json_:
        emit_json(value)
    else:
        done(line)


def done(message: str) -> None:
    """A short confirmation on stderr, so stdout stays clean for scripts."""
    plain(message, err=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    plain(f"Error: {message}", err=True)
    return typer.Exit(code)


class _NoProgress:
    def __call__(self, done: int, total: int | None) -> None:
        return None


@contextmanager
def progress_bar(label: str, *, total: int | None) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise.

    Yields ``advance(done, total)``."""
    if not sys.stderr.isatty():
        yield _NoProgress()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, new_total: int | None) -> None:
            bar.update(task, completed=done, total=new_total or None)

        yield advance
