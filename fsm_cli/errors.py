"""The root command group: sub-apps loaded on demand, and failures turned into one line
on stderr (exit 1 for errors a user can fix, 2 for usage errors, as click does).

The handling sits in the group itself, so ``fsm`` and ``CliRunner`` behave alike.
"""

import importlib
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

# name on the command line: (module, attribute) of its Typer sub-app, in help order
SUB_APPS: dict[str, tuple[str, str]] = {
    "orders": ("fsm_cli.orders", "app"),
    "companies": ("fsm_cli.parties", "companies"),
    "contacts": ("fsm_cli.parties", "contacts"),
    "employees": ("fsm_cli.parties", "employees"),
    "crews": ("fsm_cli.parties", "crews"),
    "objects": ("fsm_cli.catalog", "objects"),
    "work-types": ("fsm_cli.catalog", "work_types"),
    "stages": ("fsm_cli.catalog", "stages"),
    "sla": ("fsm_cli.catalog", "sla"),
    "checklist": ("fsm_cli.checklist", "app"),
    "work": ("fsm_cli.work", "app"),
    "act": ("fsm_cli.work", "act_app"),
    "plan": ("fsm_cli.plan", "app"),
    "chat": ("fsm_cli.chat", "app"),
    "ratings": ("fsm_cli.ratings", "app"),
    "users": ("fsm_cli.users", "app"),
    "audit": ("fsm_cli.audit", "app"),
    "labels": ("fsm_cli.labels", "app"),
    "stock": ("fsm_cli.stock", "app"),
    "import": ("fsm_cli.transfer", "import_app"),
    "export": ("fsm_cli.transfer", "export_app"),
    "report": ("fsm_cli.report", "app"),
    "settings": ("fsm_cli.settings", "app"),
    "gps": ("fsm_cli.gps", "app"),
    "serve": ("fsm_cli.serve", "app"),
    "notify": ("fsm_cli.notify", "app"),
    "map": ("fsm_cli.map", "app"),
    "db": ("fsm_cli.db", "app"),
}


def describe(exc: BaseException, lang: str = "en") -> str | None:
    """The one-line message for an error the user can act on, or None for a bug."""
    from fsm_core.errors import FsmError

    if isinstance(exc, FsmError):
        return exc.one_line(lang)
    if type(exc).__module__.startswith("sqlalchemy"):
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            return f"database error: {reason}"
    if isinstance(exc, OSError) and exc.filename is not None:
        # an empty name is a path too (`-o ''`): show it as one
        return f"{exc.filename or repr(exc.filename)}: {exc.strerror}"
    return None


def refuse_undecodable(args: list[str]) -> None:
    """Refuse an argument whose bytes are not UTF-8 before it goes anywhere.

    Python hands such bytes over as lone surrogates, which no database driver can encode.
    The one exception is the name of a file that exists: Linux file names are bytes, and
    a file is opened by its name, never stored as text by it."""
    import os

    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if os.path.lexists(arg):
                continue
            from fsm_core.values import terminal_safe

            # the bytes shown as \x9b, and whatever else it carries made visible: Click
            # prints this message as it is
            shown = terminal_safe(
                arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            )
            raise typer.BadParameter(
                f"argument {position} ('{shown}') is not valid UTF-8 text; "
                "retype it, or set a UTF-8 locale"
            ) from None


class FsmGroup(TyperGroup):
    """The root group of ``fsm``."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*SUB_APPS, *(n for n in super().list_commands(ctx) if n not in SUB_APPS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in SUB_APPS:
            import typer.main

            module, attribute = SUB_APPS[cmd_name]
            sub_app = getattr(importlib.import_module(module), attribute)
            command = typer.main.get_command(sub_app)  # a group, or a lone command
            command.name = cmd_name
            self.commands[cmd_name] = command
        return command

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        refuse_undecodable(args)
        rest = super().parse_args(ctx, args)
        from fsm_cli import context

        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        path: list[str] = []
        for word in words[:2]:
            if word.startswith("-"):
                break
            path.append(word)
        context.STATE.command = "fsm " + " ".join(path) if path else None
        return rest

    def invoke(self, ctx: Any) -> Any:
        # Typer carries its own copy of click: its exceptions, not the click package's,
        # are the ones it turns into exit statuses.
        from fsm_cli import context

        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:
            lang = context.STATE.known_language()
            message = describe(exc, lang)
            if message is None:
                raise
            from fsm_core.values import terminal_safe

            # the same word for scripts to find; the message may quote hostile input
            typer.echo(f"Error: {terminal_safe(message)}", err=True)
            raise typer.Exit(1) from None
        finally:
            context.STATE.close()
