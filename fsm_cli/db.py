"""``fsm init``, ``fsm demo`` and ``fsm db``: creating, upgrading and filling a database."""

from pathlib import Path
from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, say

app = typer.Typer(no_args_is_help=True, help="The database: schema revision and upgrades.")


def init_database(*, demo: bool) -> None:
    """Create the database, or upgrade it to this version's schema."""
    database = STATE.database()
    before, after = database.upgrade()
    if before == after:
        output.done(f"Database {database.display_url} is up to date (schema {after}).")
    elif before is None:
        output.done(f"Created database {database.display_url} (schema {after}).")
    else:
        output.done(f"Upgraded database {database.display_url} from schema {before} to {after}.")
    principal = STATE.principal()  # the first account to use a database claims its admin
    from fsm_cli.context import say

    roles = principal.role_text(STATE.language)
    account = principal.account or "?"
    output.done(
        say(
            f"You act as {principal.name} ({roles}), bound to {account}.",
            f"Вы действуете как {principal.name} ({roles}), вход: {account}.",
        )
    )
    if database.is_sqlite:
        output.done(
            say(
                "The database file is readable and writable by its owner and group alone "
                "(0660): add the company's people to its group, and bind each one's "
                "account with `fsm users bind LOGIN --os-login ACCOUNT`.",
                "Файл базы доступен только владельцу и группе (0660): добавьте сотрудников "
                "компании в группу и привяжите учётную запись каждого: "
                "`fsm users bind ЛОГИН --os-login УЧЁТНАЯ_ЗАПИСЬ`.",
            )
        )
    if demo:
        load_demo(if_empty=True, directory=None)


def prepare_demo() -> None:
    """What ``make run`` needs before the dashboard: the schema at this version's revision
    and the demo company in an empty database; silent when both are there already."""
    from fsm_core.migrations import HEAD

    if STATE.database().current_revision() != HEAD:
        init_database(demo=False)
    load_demo(if_empty=True, directory=None, quiet=True)


def load_demo(*, if_empty: bool, directory: str | None, quiet: bool = False) -> None:
    """Load the demo data set (``fsm demo``)."""
    from sqlmodel import select

    from fsm_core.demo import load_demo as load_demo_data
    from fsm_core.models import Company

    with STATE.transaction() as session:
        if if_empty and session.exec(select(Company.id)).first() is not None:
            if not quiet:
                output.done("The database already has data; demo data not loaded.")
            return
        summary = load_demo_data(session=session, directory=Path(directory) if directory else None)
        # a morning of technicians' positions, for the map (kept out of the core's demo
        # set, which the tests' screenshots are taken of)
        from fsm_core import clock
        from fsm_core.demo_gps import load_demo_positions

        summary.counts["positions"] = load_demo_positions(session=session, now=clock.now())
    counts = ", ".join(f"{n} {what}" for what, n in summary.counts.items())
    output.done(f"Loaded demo data into {STATE.database().display_url}: {counts}.")


@app.command("status")
def status(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show the database, its schema revision and whether it needs an upgrade."""
    from fsm_core.migrations import HEAD, is_known_revision

    database = STATE.database()
    current = database.current_revision()
    if current is None:
        state = "empty (it will be created on first use, or by `fsm init`)"
    elif current == HEAD:
        state = "up to date"
    elif is_known_revision(current):
        state = "needs an upgrade: run `fsm db upgrade`"
    else:
        state = "written by a newer fsm: upgrade fsm"
    if json_:
        output.emit_json(
            {
                "url": database.display_url,
                "revision": current,
                "head": HEAD,
                "up_to_date": current == HEAD,
            }
        )
        return
    output.fields(
        [
            ("Database", database.display_url),
            ("Schema revision", current or "none"),
            ("This fsm needs", HEAD),
            ("State", state),
        ]
    )


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (back it up first)."""
    database = STATE.database()
    before, after = database.upgrade(revision)
    if before == after:
        output.done(f"Already at schema {after}.")
    else:
        output.done(f"Upgraded {database.display_url} from {before or 'empty'} to {after}.")


@app.command("grants")
def grants() -> None:
    """PostgreSQL: create this database's group roles where missing and grant them their
    privileges and row-level security anew (its owner runs it after copying, restoring
    under another name or renaming a database)."""
    from fsm_cli.context import say as _t
    from fsm_core.services import db_logins

    db_logins.require_postgres(STATE.database())
    with STATE.transaction() as session:
        applied = db_logins.grant_groups(session=session)
    for name in applied.revoked_stale:
        output.done(
            _t(
                f"Revoked the privileges of {name} (another database's group role).",
                f"Отозваны права {name} (групповой роли другой базы).",
            )
        )
    if applied.created:
        output.done(
            _t("Created group roles: ", "Созданы групповые роли: ") + ", ".join(applied.created)
        )
    if applied.missing:
        output.done(
            _t(
                "Could not create (this login lacks CREATEROLE): ",
                "Не созданы (у этого логина нет CREATEROLE): ",
            )
            + ", ".join(applied.missing)
        )
    output.done(
        _t(
            f"Granted the group roles of database {applied.database} their privileges.",
            f"Групповым ролям базы {applied.database} выданы их права.",
        )
    )


@app.command("path")
def path() -> None:
    """Print the database URL in use (where the default SQLite file lives)."""
    output.plain(STATE.database().display_url)


@app.command("backup")
def backup(
    file: Annotated[str, typer.Argument(help="The archive to write (a .tar file).")],
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep",
            help="Then delete older archives of the folder but the newest of each of the "
            "last days, weeks, months, years: e.g. 7d,4w,12m.",
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Back up the database and its attachments into one archive (a .tar with a manifest)."""
    from fsm_core.backup import backup as make_backup
    from fsm_core.backup import parse_keep, prune_archives, refuse_empty
    from fsm_core.errors import FsmError

    keeping = parse_keep(keep) if keep is not None else None  # refused before any work
    database = STATE.database()
    refuse_empty(database)  # before the acting user is looked up, which creates a schema
    try:
        actor = STATE.actor
    except FsmError:  # a database with no users yet: who runs the command
        import getpass

        actor = getpass.getuser()
    made = make_backup(database=database, out=file, actor=actor)
    counts = made.manifest["counts"]
    deleted: list[str] = []
    if keeping is not None:
        _, gone = prune_archives(made.path.parent, keeping, protect=made.path)
        deleted = [str(p) for p in gone]
    if json_:
        output.emit_json(
            {
                "path": str(made.path),
                "size": made.size,
                "manifest": made.manifest,
                "deleted": deleted,
            }
        )
        return
    for path in deleted:
        output.done(
            say(
                f"Deleted the older archive {path} (--keep {keep}).",
                f"Удалён более старый архив {path} (--keep {keep}).",
            )
        )
    revision, rows = made.manifest["schema_revision"], sum(counts.values())
    attachments = made.manifest["attachments"]
    output.done(
        say(
            f"Backed up {database.display_url} (schema {revision}, {len(counts)} tables, "
            f"{rows} rows, {attachments} attachments) to {made.path} ({made.size} bytes).",
            f"Резервная копия {database.display_url} (схема {revision}, таблиц: "
            f"{len(counts)}, строк: {rows}, вложений: {attachments}) записана в "
            f"{made.path} ({made.size} байт).",
        )
    )


@app.command("restore")
def restore(
    file: Annotated[str, typer.Argument(help="The archive `fsm db backup` wrote.")],
    into: Annotated[str, typer.Option("--into", help="The database URL to restore into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that is not empty.")
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Restore into a throwaway database and report; change nothing."
        ),
    ] = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Restore an archive into an empty database (checksums, counts and integrity checked)."""
    from dataclasses import asdict

    from fsm_core.backup import restore as run_restore

    done = run_restore(archive=file, into_url=into, force=force, verify=verify)
    if json_:
        output.emit_json(asdict(done))
        return
    rows = sum(done.counts.values())
    steps = f"{done.archive_revision} -> {done.revision}"
    upgraded = f", upgraded {steps}" if done.upgraded else ""
    upgraded_ru = f", схема обновлена {steps}" if done.upgraded else ""
    what = f"{len(done.counts)} tables, {rows} rows, {done.attachments} attachments"
    what_ru = f"таблиц: {len(done.counts)}, строк: {rows}, вложений: {done.attachments}"
    integrity = done.integrity
    integrity_ru = "числа строк сходятся" if integrity == "counts match" else integrity
    if done.verified_only:
        message = say(
            f"Verified {file}: checksums match, a trial restore gave {what} "
            f"(integrity: {integrity}{upgraded}); nothing was changed.",
            f"Проверен {file}: контрольные суммы сходятся, пробное восстановление дало "
            f"{what_ru} (целостность: {integrity_ru}{upgraded_ru}); ничего не изменено.",
            ask_database=False,
        )
    else:
        message = say(
            f"Restored {file} into {done.target}: {what} (integrity: {integrity}{upgraded}).",
            f"{file} восстановлен в {done.target}: {what_ru} "
            f"(целостность: {integrity_ru}{upgraded_ru}).",
            ask_database=False,
        )
    output.done(message)


@app.command("copy")
def copy(
    to: Annotated[str, typer.Option("--to", help="The empty database to copy into (a URL).")],
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Copy every table, sequence and attachment into an empty database (e.g. SQLite to
    PostgreSQL), checked by counts and a sample of rows."""
    from dataclasses import asdict

    from fsm_core.db_copy import copy_database

    done = copy_database(source=STATE.database(), to_url=to)
    if json_:
        output.emit_json(asdict(done))
        return
    output.done(
        say(
            f"Copied {done.source} to {done.target}: {done.tables} tables, {done.rows} rows, "
            f"{done.attachments} attachments in {done.seconds} s "
            f"(counts match, {done.sampled} sample rows compared).",
            f"{done.source} скопирована в {done.target}: таблиц: {done.tables}, строк: "
            f"{done.rows}, вложений: {done.attachments} за {done.seconds} с "
            f"(числа строк сходятся, сверено строк выборки: {done.sampled}).",
        )
    )
