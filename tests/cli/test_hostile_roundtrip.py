"""Hostile text through the whole trip: import → every view of the command line → export →
import (issue 15, "Done means").

Descriptions, names and messages come from customers and from other programs' files: they
may carry NUL, C0 and C1 controls, ESC / OSC / CSI sequences, what Excel runs as a formula
(``=`` ``+`` ``-`` ``@`` tab CR), right-to-left marks and very long cells. Whatever a cell
holds, the trip ends in one of two ways:

- the row is refused where the rules refuse it (a control character in a sheet, a text
  longer than its column, an empty description), in one line naming the file and line,
  and nothing is written; or
- it is stored as it came (less the white space around it), every view shows it without
  letting a control character reach the terminal, ``--json`` gives it back exactly, and
  exporting and importing it again changes nothing.

A chat message takes the command line's way in (``fsm chat send``), where a control
character is stored as sent and only shown as a sign.

Six generated texts per back-end besides the fixed ones (derandomized for CI);
``FSM_FUZZ_EXAMPLES=200`` makes a longer, random hunt.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fsm_cli.main import app
from tests.cli_runner import runner

# What the import refuses in a cell (engine.control_problem), and what no output may carry.
REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
DESCRIPTION_MAX = 4000

PIECES = [
    "\x00",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H",
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m",
    "\x85",
    "\x7f",
    "\x08",
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "+",
    "-",
    "@",
    "'",
    "''=",
    "\t",
    "\r",
    "\r\n",
    "\n",
    "\u202e",
    "\u200f",
    "\u2028",
    "\ufeff",
    '"',
    ";",
    ",",
    "  ",
    "[bold]x[/bold]",
    "Течёт вода",
    "🙂",
]

cells = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
    ),
    min_size=1,
    max_size=6,
).map("".join)

# Reached the trip's end: a refusal that named its row, or a stored text that came back.
OUTCOMES: dict[str, int] = {"refused": 0, "stored": 0}


def fsm(url: str, *args: str, code: int | None = 0) -> Any:
    result = runner.invoke(
        app,
        ["--db", url, "--as", "Орлова В. П.", "--lang", "en", *args],
        env={"COLUMNS": "160"},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args[:2],
        result.exc_info,
    )
    assert "Traceback" not in result.output + result.stderr
    if code is not None:
        assert result.exit_code == code, (args[:2], result.stdout[-2000:], result.stderr[-2000:])
    return result


def shown(url: str, *args: str) -> Any:
    """A view: it succeeds and shows no control character to the terminal."""
    result = fsm(url, *args)
    for stream in (result.stdout, result.stderr):
        found = UNSAFE.search(stream)
        assert found is None, (
            args[:2],
            repr(stream[max(found.start() - 40, 0) : found.end() + 40]),
        )
    return result


def write_sheet(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def order_count(url: str) -> int:
    return len(json.loads(fsm(url, "orders", "list", "--limit", "0", "--json").stdout))


def trip(url: str, folder: Path, text: str, n: int) -> None:
    key = f"FUZZ-{n}"
    sheet = folder / f"in{n}.csv"
    write_sheet(sheet, [{"customer": "ООО «СМ-Трейд»", "description": text, "external_id": key}])
    before = order_count(url)
    # --raw: a foreign file's cells as they are (no ' taken off: fsm did not write it)
    imported = fsm(url, "import", "orders", str(sheet), "--raw", code=None)
    expected = text.strip()
    if REFUSED.search(text) or not expected or len(expected) > DESCRIPTION_MAX:
        assert imported.exit_code == 1
        errors = [line for line in imported.stderr.splitlines() if line.startswith(f"{sheet}:")]
        assert errors[0].startswith(f"{sheet}:2: ")  # the row, by its line
        assert all(len(line) < 500 for line in imported.stderr.splitlines())  # no cell echoed
        assert order_count(url) == before  # nothing written
        OUTCOMES["refused"] += 1
        return
    assert imported.exit_code == 0, imported.stderr
    stored = json.loads(shown(url, "orders", "show", key, "--json").stdout)
    assert stored["description"] == expected
    number = stored["number"]

    # every view of it
    shown(url, "orders", "show", number)
    shown(url, "orders", "list", "--limit", "3")
    shown(url, "orders", "list", "--limit", "3", "--nl")
    shown(url, "orders", "history", number)
    shown(url, "work", "show", number)
    shown(url, "companies", "show", "ООО «СМ-Трейд»")
    message = text.replace("\x00", "")  # a command line cannot carry NUL
    sent = fsm(url, "chat", "send", "--json", "--", number, message, code=None)
    if sent.exit_code == 0:
        (message_id,) = json.loads(sent.stdout)["ids"]
        shown(url, "chat", "show", number)
        shown(url, "chat", "list")
        views = json.loads(shown(url, "chat", "show", number, "--json").stdout)
        assert [m["text"] for m in views if m["id"] == message_id] == [message.strip()]
    else:
        assert sent.exit_code == 1, sent.stderr
        assert sent.stderr.count("\n") == 1, sent.stderr

    # export and import again: nothing changes
    for fmt, extra in (("csv", ()), ("xlsx", ()), ("csv", ("--raw",))):
        out = folder / f"out{n}.{fmt}"
        fsm(url, "export", "orders", "-o", str(out), *extra)
        again = json.loads(fsm(url, "import", "orders", str(out), *extra, "--json").stdout)
        assert (again["inserted"], again["updated"], again["rejected"]) == (0, 0, 0)
    after = json.loads(fsm(url, "orders", "show", key, "--json").stdout)
    assert (after["description"], after["version"]) == (expected, stored["version"])
    OUTCOMES["stored"] += 1


def test_hostile_text_goes_the_whole_trip_unchanged_or_refused_at_its_row(
    with_demo, db_url, tmp_path
):
    numbers = iter(range(1_000_000))
    OUTCOMES.update(refused=0, stored=0)

    @settings(
        max_examples=int(os.environ.get("FSM_FUZZ_EXAMPLES", "0")) or 6,
        deadline=None,
        database=None,
        derandomize="FSM_FUZZ_EXAMPLES" not in os.environ,
        suppress_health_check=list(HealthCheck),
    )
    @given(cells)
    @example("x" * 10_000_000)  # a 10 MB cell: refused at its row, not the whole file
    @example("Течёт\x00вода")
    @example("\x1b]0;pwned\x07\x1b[2J \x9b31m текст")
    @example("=cmd|' /C calc'!A0")
    @example('\'=HYPERLINK("http://evil.example")')
    @example("\t+1\r\n-2 @x\u202eevil\u200f [bold]x[/bold]")
    def run(text: str) -> None:
        trip(db_url, tmp_path, text, next(numbers))

    run()
    # both ends of the property ran
    assert OUTCOMES["refused"]
    assert OUTCOMES["stored"]
