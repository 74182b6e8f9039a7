"""Text from data never reaches the terminal as a command (issue: terminal escape injection).

A customer's description, a chat message or a company's name may carry ESC, OSC, CSI or
C1 controls: a title change, a screen clear, a hyperlink. Every view shows them as visible
signs; what is stored is what was sent.
"""

import json

import pytest
from typer.testing import CliRunner

from fsm_cli.main import app
from fsm_core.values import terminal_safe

runner = CliRunner()

ESCAPES = [
    "\x1b]0;pwned\x07",  # OSC: set the window title
    "\x1b[2J\x1b[H",  # CSI: clear the screen, cursor home
    "\x9b31m",  # C1 CSI on its own
    "\x1bP+q\x1b\\",  # DCS ... ST
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",  # a hyperlink
    "\x1b[6n",  # ask the terminal to type its cursor position back
    "[link=http://evil.example/]markup[/link] [bold red]x[/bold red]",  # rich markup
]
CONTROLS = "".join(chr(c) for c in [*range(1, 9), *range(11, 32), 127, *range(0x80, 0xA0)])
HOSTILE = " ".join([*ESCAPES, CONTROLS])


def run(url, *args, code=0):
    result = runner.invoke(
        app, ["--db", url, "--as", "Орлова В. П.", "--lang", "en", *args], env={"COLUMNS": "200"}
    )
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def assert_terminal_safe(text):
    bad = sorted(
        {
            f"{ord(ch):#04x}"
            for ch in text
            if ch not in "\t\n" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0)
        }
    )
    assert bad == [], f"control characters reached the terminal: {bad}"
    assert "[link=" in text or "markup" not in text  # markup stays text, never a link


def test_terminal_safe_shows_every_control_visibly():
    shown = terminal_safe(HOSTILE)
    assert_terminal_safe(shown)
    assert "␛]0;pwned␇" in shown
    assert "\\x9b31m" in shown
    assert terminal_safe("обычный текст\tс табом\nи строкой") == "обычный текст\tс табом\nи строкой"


@pytest.fixture
def hostile(with_demo, db_url):
    customer = json.loads(run(db_url, "companies", "create", f"ООО {HOSTILE}", "--json").stdout)
    run(
        db_url,
        "objects",
        "create",
        str(customer["id"]),
        f"Сплит {HOSTILE}",
        "--inventory-number",
        "HX-1",
    )
    order = json.loads(
        run(db_url, "orders", "create", "--object", "HX-1", "-d", HOSTILE, "--json").stdout
    )
    run(db_url, "chat", "send", order["number"], HOSTILE)
    run(db_url, "chat", "send", order["number"], HOSTILE, "--also-customer")
    return db_url, order["number"], customer


VIEWS = [
    ("orders", "list"),
    ("orders", "list", "--search", "Сплит"),
    ("orders", "show", "{number}"),
    ("orders", "history", "{number}"),
    ("chat", "show", "{number}", "--keep-unread"),
    ("chat", "list"),
    ("chat", "search", "pwned"),
    ("companies", "list"),
    ("companies", "show", "{customer}"),
    ("objects", "list"),
    ("objects", "show", "HX-1"),
    ("orders", "show", "{hostile}"),  # an error quoting what was typed
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: " ".join(v))
def test_every_view_shows_hostile_text_safely(hostile, view):
    url, number, customer = hostile
    args = [
        a.format(number=number, customer=customer["id"], hostile=HOSTILE) if "{" in a else a
        for a in view
    ]
    result = runner.invoke(
        app, ["--db", url, "--as", "Орлова В. П.", "--lang", "en", *args], env={"COLUMNS": "200"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert_terminal_safe(result.stdout + result.stderr)


def test_stored_text_keeps_what_was_sent(hostile):
    url, number, _ = hostile
    order = json.loads(run(url, "orders", "show", number, "--json").stdout)
    assert order["description"] == HOSTILE
    messages = json.loads(run(url, "chat", "show", number, "--keep-unread", "--json").stdout)
    assert {m["text"] for m in messages} == {HOSTILE}
    listed = run(url, "orders", "list", "--search", "Сплит", "--json").stdout
    assert_terminal_safe(listed)  # JSON escapes C1 too: \\u009b is the same string
    assert json.loads(listed)[0]["description"] == HOSTILE


def test_an_import_error_quoting_a_hostile_cell_is_safe(with_demo, db_url, tmp_path):
    import csv

    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        rows = [["customer", "description"], [" ".join(ESCAPES), "x"], [ESCAPES[0], "y"]]
        csv.writer(f).writerows(rows)
    result = runner.invoke(
        app, ["--db", db_url, "--lang", "en", "import", "orders", str(path), "--skip-invalid"]
    )
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "contains the control character U+001B (ESC)" in result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
