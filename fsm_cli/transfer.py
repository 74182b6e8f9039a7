"""``fsm import`` and ``fsm export``: data in and out as CSV, TSV, JSON lines or Excel."""

import sys
from typing import Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE

import_app = typer.Typer()
export_app = typer.Typer()

ENTITIES_HELP = (
    "companies, contacts, employees, crews, objects, work-types, items, warehouses, stock or orders"
)
Format = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="csv, tsv, nl (JSON lines) or xlsx; default: by extension."
    ),
]


def _check_format(fmt: str | None, nl: bool, tsv: bool) -> str | None:
    chosen = [f for f, on in (("nl", nl), ("tsv", tsv)) if on]
    if fmt:
        chosen.append(fmt)
    if len(set(chosen)) > 1:
        raise typer.BadParameter("give one format", param_hint="--format")
    if chosen and chosen[0] not in ("csv", "tsv", "nl", "xlsx"):
        raise typer.BadParameter("use csv, tsv, nl or xlsx", param_hint="--format")
    return chosen[0] if chosen else None


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or ():
        source, sep, target = pair.rpartition("=")
        if not sep or not source.strip() or not target.strip():
            raise typer.BadParameter(f"{pair!r}: write 'Source column=field'", param_hint="--map")
        mapping[source.strip()] = target.strip()
    return mapping


@import_app.command("import")
def import_(
    entity: Annotated[str, typer.Argument(help=f"What the rows are: {ENTITIES_HELP}.")],
    file: Annotated[str, typer.Argument(help="A file, or - for standard input.")],
    fmt: Format = None,
    nl: Annotated[bool, typer.Option("--nl", help="The input is JSON lines.")] = False,
    tsv: Annotated[bool, typer.Option("--tsv", help="The input is tab-separated.")] = False,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", "-d", help="CSV delimiter (default: sniffed).")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="utf-8, cp1251... (default: detected)."),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel sheet name.")] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="'Source column=field' for a header we do not know."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Unknown columns are an error, not ignored.")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Match existing records by this field (default external_id)."),
    ] = None,
    create_missing: Annotated[
        bool,
        typer.Option(
            "--create-missing",
            help="Create what the rows name but we lack: customers, objects (under the row's "
            "customer, at its address), warehouses and items.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Write the valid rows, leave out the others.")
    ] = False,
    rejects: Annotated[
        str | None,
        typer.Option("--rejects", help="Write rejected rows (with an error column) here."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            max=1_000_000,
            help="Rows checked at a time, and new orders written per turn (default: checked "
            "2,000 at a time, written 8,000 a turn).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            max=64,
            help="Processes that check a CSV or JSON-lines file's rows while this one writes them "
            "(default: 2 or more for a file over 2 MB on a multi-core machine; 0 or 1: none).",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no summary line.")
    ] = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="CSV/TSV cells as they are: keep the ' that `fsm export` puts before a text "
            "Excel would run as a formula (for a file exported with --raw, or not by fsm).",
        ),
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import rows into the database: all or nothing, every invalid row reported.

    Headers may be the field names or the Russian ones a sheet carries (Номер, Заказчик,
    Объект, Описание, Срок, ИНН...); see README. Exit status: 0 when every row is in,
    1 when a row was rejected or nothing was written.
    """
    from fsm_core.importing.engine import ImportOptions, run_import
    from fsm_core.importing.parallel import pipe_spool_limit
    from fsm_core.importing.readers import open_source

    chosen = _check_format(fmt, nl, tsv)
    if file == "-" and sys.stdin.isatty():
        raise typer.BadParameter(
            "standard input is a terminal: pipe a file in (cat orders.csv | fsm import orders -)"
            " or give its path",
            param_hint="FILE",
        )
    options = ImportOptions(
        mapping=_mapping(mapping),
        strict=strict,
        key=key,
        create_missing=create_missing,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        rejects=rejects,
        batch_size=batch_size,
        actor=STATE.actor,
        workers=workers,
        command=STATE.command,
    )
    database = STATE.database()
    progress = None if quiet or file == "-" or not sys.stderr.isatty() else _Progress(file)
    try:
        with open_source(
            file,
            fmt=chosen,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            progress=progress.update if progress else None,
            # a large pipe goes to a temporary file first, so that workers can share it
            spool_over=pipe_spool_limit(workers),
            raw=raw,
        ) as source:
            if source.encoding_notice:  # even with --quiet: the text may be misread
                output.plain(source.encoding_notice, err=True)
            if progress:
                progress.start(source.total_bytes)
            report = run_import(
                database,
                entity=entity,
                source=source,
                options=options,
                on_error=(progress.error if progress else _print_error),
            )
    except KeyboardInterrupt:
        if progress:
            progress.stop()
        name = "<stdin>" if file == "-" else file
        output.plain(f"{name}: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None
    finally:
        if progress:
            progress.stop()
    if json_:
        output.emit_json(
            {
                "entity": report.entity,
                "file": report.source,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "not_written": report.checked,
                "seconds": round(report.seconds, 3),
                "dry_run": report.dry_run,
                "committed": report.committed,
                "unknown_columns": report.unknown_columns,
                "columns": report.columns,
                "key": report.key,
                "rejects": report.rejects_path,
                "created": report.created,
                "errors": report.first_errors,
            }
        )
    elif not quiet:
        if report.unknown_columns:
            ignored = ", ".join(repr(c) for c in report.unknown_columns)
            output.plain(f"Ignored column(s): {ignored}", err=True)
        output.plain(report.summary(), err=True)
        if report.rejects_path:
            output.plain(f"Rejected rows written to {report.rejects_path}", err=True)
    raise typer.Exit(report.exit_code)


def _print_error(line: str) -> None:
    """A rejected row's line: it quotes the file's cells, which may carry escapes."""
    from fsm_core.values import terminal_safe

    sys.stderr.write(terminal_safe(line) + "\n")


class _Progress:
    """A byte-based progress bar on stderr (files on a terminal only)."""

    def __init__(self, name: str) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=output.console(stderr=True),
            transient=True,
        )
        self.name = name
        self.task: Any = None

    def start(self, total: int | None) -> None:
        self.bar.start()
        self.task = self.bar.add_task(self.name, total=total)

    def update(self, done: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=done)

    def error(self, line: str) -> None:
        self.bar.console.print(line, markup=False, highlight=False)

    def stop(self) -> None:
        self.bar.stop()


@export_app.command("export")
def export(
    entity: Annotated[str, typer.Argument(help=f"What to export: {ENTITIES_HELP}.")],
    out: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for standard output.")
    ] = "-",
    fmt: Format = None,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Excel: the same as --format xlsx.")] = False,
    for_import: Annotated[
        bool,
        typer.Option(
            "--for-import",
            help="Orders in Excel: the columns `fsm import` reads (external ids, ISO times), "
            "not the workbook for people.",
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Orders in Excel: headers and names in ru or en (default: yours)."
        ),
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="utf-8 or cp1251.")] = "utf-8",
    delimiter: Annotated[str, typer.Option("--delimiter", "-d")] = ",",
    bom: Annotated[
        bool, typer.Option("--bom", help="Start a UTF-8 CSV with a BOM (for Excel).")
    ] = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="CSV/TSV: write every text as it is. By default a text Excel would run as a "
            "formula (=, +, -, @) gets a ' in front; `fsm import` takes it off again.",
        ),
    ] = False,
    stage: Annotated[list[str] | None, typer.Option("--stage", help="Orders: stage.")] = None,
    assignee: Annotated[list[str] | None, typer.Option("--assignee", "-a")] = None,
    customer: Annotated[list[str] | None, typer.Option("--customer", "-c")] = None,
    obj: Annotated[list[str] | None, typer.Option("--object")] = None,
    criticality: Annotated[list[str] | None, typer.Option("--criticality")] = None,
    sla_status: Annotated[list[str] | None, typer.Option("--sla")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    open_only: Annotated[bool, typer.Option("--open")] = False,
    search: Annotated[str | None, typer.Option("--search", "-s")] = None,
) -> None:
    """Export rows with the columns `fsm import` reads (orders take the list's filters).

    Orders in Excel (--xlsx, or a .xlsx file) are a workbook for people: real dates in
    the company's time zone, names, stages and criticality in --lang; --for-import gives
    the columns `fsm import` reads instead.
    """
    from fsm_core.exporting.tables import write_export
    from fsm_core.tabular.writers import fmt_for_path

    if xlsx and fmt not in (None, "xlsx"):
        raise typer.BadParameter("give one format", param_hint="--xlsx")
    chosen = ("xlsx" if xlsx else fmt) or (fmt_for_path(out) if out != "-" else None) or "csv"
    if chosen not in ("csv", "tsv", "nl", "xlsx"):
        raise typer.BadParameter("use csv, tsv, nl or xlsx", param_hint="--format")
    language = lang or STATE.language
    if language not in ("ru", "en"):
        raise typer.BadParameter("use ru or en", param_hint="--lang")
    filters = None
    narrowed = any(
        (stage, assignee, customer, obj, criticality, sla_status, since, until, open_only, search)
    )
    with STATE.reader() as session:
        if narrowed:
            if entity != "orders":
                raise typer.BadParameter("filters apply to orders only")
            from fsm_core.services.order_queries import filter_from_text

            filters = filter_from_text(
                session=session,
                stages=stage,
                assignees=assignee,
                customers=customer,
                objects=obj,
                criticalities=criticality,
                sla_statuses=sla_status,
                since=since,
                until=until,
                text=search,
                open_only=open_only,
            )
        count = write_export(
            session,
            entity,
            out=out,
            fmt=chosen,
            filters=filters,
            for_import=for_import,
            lang=language,
            encoding=encoding,
            delimiter=delimiter,
            bom=bom,
            raw=raw,
        )
    if out != "-":
        output.done(f"Exported {count} {entity} to {out}.")
