"""``fsm`` as every test of the command line runs it: one runner, one set of checks.

:func:`invoke` runs a command on a database and checks its exit code (a success must not
hide an exception). :class:`Fsm` binds a database and an acting user for a test module
that calls many commands and reads their text or JSON; through it a refused command must
say why in one line starting with ``Error:``.

Tables are drawn 200 columns wide (``COLUMNS``), so a line never wraps at the width of
whatever terminal or xdist worker runs the suite.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from fsm_cli.main import app

runner = CliRunner()
WIDTH = 200
BOUND: Any = object()
"""``user=BOUND``: the user the :class:`Fsm` was made with (``None`` is no ``--as``)."""


def invoke(
    url: str,
    *args: str,
    code: int | None = 0,
    user: str | None = None,
    lang: str | None = "en",
    stdin: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    columns: int = WIDTH,
) -> Result:
    """``fsm --db URL [--as USER] [--lang LANG] ARGS``; ``code=None`` takes any exit."""
    argv = ["--db", url]
    if user:
        argv += ["--as", user]
    if lang:
        argv += ["--lang", lang]
    result = runner.invoke(
        app, [*argv, *args], input=stdin, env={"COLUMNS": str(columns), **(env or {})}
    )
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    if result.exit_code == 0 and result.exception is not None:
        raise result.exception
    return result


class Fsm:
    """A database and an acting user, for a module that runs many commands."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        lang: str | None = "en",
        columns: int = WIDTH,
        stderr: bool = False,
    ) -> None:
        self.url = url
        self.user = user
        self.lang = lang
        self.columns = columns
        self.stderr = stderr
        """Whether a success returns the notices on stderr too, after the output."""

    def run(self, *args: str, code: int | None = 0, user: str | None = BOUND) -> Result:
        return invoke(
            self.url,
            *args,
            code=code,
            user=self.user if user is BOUND else user,
            lang=self.lang,
            columns=self.columns,
        )

    def __call__(self, *args: str, code: int = 0, user: str | None = BOUND) -> str:
        """What a script reads (with ``stderr``, what a person reads), or the one error
        line of a refusal."""
        result = self.run(*args, code=code, user=user)
        if result.exit_code == 1:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, result.stderr
            assert lines[0].startswith("Error: "), result.stderr
            return lines[0]
        return result.stdout + (result.stderr if self.stderr else "")

    def error(self, *args: str, user: str | None = BOUND) -> str:
        """The message of a refused command, without ``Error:``."""
        return self(*args, code=1, user=user).removeprefix("Error: ")

    def json(self, *args: str, user: str | None = BOUND) -> Any:
        return json.loads(self.run(*args, "--json", user=user).stdout)
