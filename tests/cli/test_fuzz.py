"""Every ``fsm`` command, called with hostile values: each run ends in exit 0, 1 or 2 and
never in a traceback (issue 15, "Done means").

The command tree is walked from the app itself, so a command added later is fuzzed too.
Each command gets a few generated calls: its arguments and a random choice of its options,
each value either a real reference from the demo company (an order number, a customer, an
item...) so that the call gets past the look-ups, or hostile text: control characters,
escape sequences, formulas, right-to-left marks, lone surrogates (the bytes of a non-UTF-8
argument), dates at the calendar's ends, numbers beyond any column, long values.

Bounded in time: ``FSM_FUZZ_EXAMPLES`` calls per command (default 3, derandomized so CI
sees the same calls every run); set it higher for a longer, random hunt.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fsm_cli.main import app
from tests.cli_runner import runner as shared_runner

EXAMPLES = int(os.environ.get("FSM_FUZZ_EXAMPLES", "0")) or 3
RANDOM = "FSM_FUZZ_EXAMPLES" in os.environ

# Commands not called, and why.
SKIPPED = {
    "tui": "opens the full-screen dashboard and waits for keys (tests/tui drives it)",
    "serve": "runs an HTTP server until it is stopped (tests/gps/test_serve.py drives it)",
}
# Options never given: they change the machine, not fsm's data.
NEVER = {
    "--install-completion": "writes the shell's start-up file in the home folder",
    "--show-completion": "prints a shell script; nothing of fsm runs",
}
# Options given last, whatever else was drawn, so that a call cannot wait for ever.
BOUNDED = {("chat", "watch"): ["--timeout", "0.05"], ("notify", "run"): ["--once"]}

# Argument values are never absolute paths or '..': the fuzz runs as whoever runs the
# tests (root in CI), and an output option must not write outside the test's folder. NUL
# cannot be in a command line at all (the kernel ends an argument there).
HOSTILE = [
    "",
    " ",
    "-",
    "--",
    "0",
    "-1",
    "1e30",
    "-1e30",
    "99999999999999999999",
    "-99999999999999999999",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "0x10",
    "1_000",
    "٣",  # an Arabic-Indic digit: int() reads it
    "²",  # str.isdigit() takes it, int() refuses it
    "#²",
    "#99999999999999999999",
    "9" * 400 + ".5h",
    "01.01.0001",
    "31.12.9999",
    "31.12.9999 23:59",
    "0001-01-01T00:00+05:00",
    "+99999999999w",
    "-99999999999d",
    "99999999999h",
    "10:0009:00",
    "25:00",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H",
    "\x9b31m",
    "\x1bP+q\x1b\\",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "\ufeff",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(1+1)",
    "+7 (999) 000-00-00",
    "\t\r\n",
    "a\rb",
    "\udc9b bad byte",
    "{seq:0999999999d}",
    "{seq:0100000d}",
    "{yy}{nope}",
    "%s%n%x",
    "'; DROP TABLE orders; --",
    "x" * 5000,
    "Ж" * 300,
    "🙂" * 50,
    "sqlite:///x.db",
    "postgresql+psycopg://nobody@127.0.0.1:1/none",
    "mon-fri 09:00-25:00",
    "mon-fri 18:00-09:00",
    "-90",
    "180.0001",
    "1,5",
    "0,000001",
]

_CHARACTERS = st.characters(
    codec="utf-8",  # no lone surrogates here: HOSTILE has one, refused at the edge
    exclude_characters="\x00/",
)


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(_CHARACTERS, max_size=30),
        st.text(
            st.sampled_from("\x1b\x07\x9b\x85\u2028\x7f\t\r\n;,\"'=+-@[]0123456789"), max_size=12
        ),
    )


def demo_refs(url: str) -> dict[str, list[str]]:
    """Real references in the demo company by kind, so that calls reach the services."""
    from sqlmodel import select

    from fsm_core.db import Database
    from fsm_core.models import Company, Contact, Employee, Order, ServiceObject, WorkType
    from fsm_core.models.chat import AppUser, Message, MessageAttachment
    from fsm_core.models.execution import ChecklistItem, ChecklistTemplate
    from fsm_core.models.planning import TimeOff, Visit
    from fsm_core.models.stock import Item, Warehouse

    refs: dict[str, list[str]] = {}
    database = Database(url)
    try:
        with database.reader() as s:

            def take(kind: str, column: Any, n: int = 3, *where: Any) -> None:
                found = [str(v) for v in s.exec(select(column).where(*where).limit(n)).all() if v]
                refs.setdefault(kind, []).extend(found)

            take("order", Order.number, 2)
            take("order", Order.number, 3, Order.closed_at.is_(None))  # open: work, moves
            take("customer", Company.name)
            take("customer", Company.inn, 1)
            take("contact", Contact.full_name, 2)
            take("employee", Employee.short_name)
            take("object", ServiceObject.inventory_number)
            take("object", ServiceObject.name, 1)
            take("item", Item.sku)
            take("warehouse", Warehouse.name)
            take("work_type", WorkType.name)
            # not the acting user (Орлова, "orlova"): `users deactivate` would stop the rest
            take("user", AppUser.login, 3, AppUser.login != "orlova")
            take("id", Message.id, 2)
            take("id", MessageAttachment.attachment_id, 1)
            take("visit", Visit.id, 2)
            take("id", TimeOff.id, 1)
            take("checklist", ChecklistTemplate.name, 1)
            take("checklist", ChecklistItem.id, 2)
    finally:
        database.dispose()
    refs["visit"] += [f"#{v}" for v in refs["visit"]] + refs["order"][:1]
    refs["stage"] = ["new", "assigned", "in_progress", "done", "В работе"]
    refs["moment"] = ["27.11.2026 10:00", "завтра 10:00", "today", "10:00", "+2h", "28.11"]
    refs["number"] = ["1", "2.5", "0,5", "100", "1 750,00"]
    refs["duration"] = ["1h", "30m", "2d", "1,5ч"]
    refs["file"] = ["out.csv", "out.xlsx", "out.pdf", "orders.csv", "-"]
    refs["word"] = ["high", "site", "orders", "company", "internal", "customer", "yes", "head"]
    refs["word"] += ["company_hours", "order_number_pattern", "mon-fri 09:00-18:00", "59.93"]
    return refs


# Which kind of reference a parameter takes, by its name.
KINDS = {
    "order": ["number", "order", "target"],
    "customer": ["customer", "ref"],
    "contact": ["contact", "contact_name"],
    "employee": ["employee", "employees", "assignee", "executor", "who", "members", "leader"],
    "object": ["obj", "parent", "near"],
    "item": ["item", "sku"],
    "warehouse": ["warehouse", "to", "source", "target", "from_"],
    "work_type": ["work_type"],
    "user": ["user", "login"],
    "id": ["message", "attachment_id", "time_off", "if_version", "entry"],
    "visit": ["visit"],
    "checklist": ["item", "ref"],
    "stage": ["stage", "src", "dst"],
    "moment": ["since", "until", "start", "end", "due", "at", "when", "first", "last", "day"],
    "number": ["quantity", "price", "rate", "count", "by", "lat", "lon", "latitude"],
    "duration": ["reaction", "resolution", "length"],
    "file": ["file", "out", "rejects", "attach", "image", "png", "out_dir", "combined"],
}
BY_NAME: dict[str, list[str]] = {}
for _kind, _names in KINDS.items():
    for _name in _names:
        BY_NAME.setdefault(_name, []).append(_kind)


def commands() -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, click command) for every leaf command of ``fsm``."""
    root = typer.main.get_command(app)
    context = root.context_class(root, info_name="fsm")

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                yield from walk(command.get_command(context, name), (*path, name))
        else:
            yield path, command

    yield from walk(root, ())


def test_the_walk_finds_every_area_of_the_command_line():
    from fsm_cli.errors import SUB_APPS

    found = {path for path, _ in commands()}
    assert {path[0] for path in found} >= set(SUB_APPS) | {"init", "demo", "tui"}
    assert ("plan", "time-off", "add") in found  # nested groups too
    assert len(found) > 100


def _value(draw: Any, param: Any, refs: dict[str, list[str]]) -> str:
    annotation = param.type_descriptor.annotation
    inner = getattr(annotation, "__args__", (annotation,))
    if int in inner and draw(st.booleans()):
        return str(draw(st.integers(-(2**70), 2**70)))
    if float in inner and draw(st.booleans()):
        return repr(draw(st.floats(allow_nan=True, allow_infinity=True)))
    choices = getattr(param, "choices", None)
    if choices and draw(st.booleans()):
        return str(draw(st.sampled_from(list(choices))))
    # mostly a real reference of the kind the parameter takes, so that a call gets past
    # the look-ups to the rules
    kinds = BY_NAME.get(param.name or "", ["word"])
    fitting = [ref for kind in kinds for ref in refs.get(kind, [])] or refs["word"]
    return draw(st.one_of(st.sampled_from(fitting), st.sampled_from(fitting), hostile_text()))


def argv_for(
    draw: Any, path: tuple[str, ...], command: Any, refs: dict[str, list[str]]
) -> list[str]:
    args: list[str] = [*path]
    options: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            count = draw(st.integers(0, 2)) if param.nargs != 1 else 1
            args.extend(_value(draw, param, refs) for _ in range(count))
            continue
        name = param.opts[0]
        if name in NEVER or name in ("--help", "-h") or draw(st.integers(0, 2)):
            continue
        if param.is_flag:
            options.append(name)
        else:
            for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
                options.extend([name, _value(draw, param, refs)])
    # options before or after the arguments, as people type them
    return [*args, *options] if draw(st.booleans()) else [*path, *options, *args[len(path) :]]


def check(result: Any, argv: list[str]) -> str | None:
    """Why the call failed the fuzz, or None."""
    problem = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problem = "".join(traceback.format_exception(*result.exc_info)[-6:])
    elif result.exit_code not in (0, 1, 2):
        problem = f"exit status {result.exit_code}"
    elif "Traceback (most recent call last)" in result.output + result.stderr:
        problem = "a traceback printed"
    if problem is None:
        return None
    return f"fsm {' '.join(map(repr, argv))}\n{problem.strip()}"


@pytest.fixture
def playground(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Files a command writes land in the test's folder, home included."""
    from fsm_core.config import get_settings

    for name in ("HOME", "FSM_DATA_DIR", "FSM_ACT_DIR"):
        monkeypatch.setenv(name, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def fuzz(
    runner: CliRunner,
    db_url: str,
    path: tuple[str, ...],
    command: Any,
    refs: dict[str, list[str]],
) -> Any:
    """A hypothesis test that calls ``command`` with drawn values."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def call(data: Any) -> None:
        draw = data.draw
        argv = argv_for(draw, path, command, refs) + BOUNDED.get(path, [])
        lang = draw(st.sampled_from(["en", "ru"]))
        full = ["--db", db_url, "--as", "Орлова В. П.", "--lang", lang, *argv]
        result = runner.invoke(app, full, input="")
        problem = check(result, argv)
        assert problem is None, problem

    return call


def test_every_command_survives_hostile_values(with_demo, db_url, playground):
    refs = demo_refs(db_url)
    runner = shared_runner
    failures: dict[str, str] = {}
    for path, command in commands():
        if path[0] in SKIPPED:
            continue
        try:
            fuzz(runner, db_url, path, command, refs)()
        except AssertionError as exc:
            failures[" ".join(path)] = str(exc).split("\nFalsifying")[0]
    assert not failures, "\n\n".join(failures.values())


@pytest.mark.parametrize("command", [["orders", "list", "--limit", "1"], ["db", "path"]])
def test_the_global_options_survive_hostile_values(db_url, playground, command):
    """--db, --as and --lang come before every command; FSM_DATABASE_URL and FSM_USER
    hold the same values."""
    runner = shared_runner

    @settings(
        max_examples=EXAMPLES * 4,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.one_of(st.just(db_url), hostile_text()),
        st.one_of(st.just("Орлова В. П."), hostile_text()),
        st.sampled_from(["en", "ru", "", "\x1b[2J", "EN"]),
    )
    def call(database: str, user: str, lang: str) -> None:
        argv = ["--db", database, "--as", user, "--lang", lang, *command]
        problem = check(runner.invoke(app, argv, input=""), argv)
        assert problem is None, problem

    call()
