"""Values no one means, typed on the command line: each is one line of error, exit 1, and
nothing changed (issue: hostile input and bad moments)."""

import json
from datetime import datetime
from functools import partial

import pytest

from tests.cli_runner import invoke

run = partial(invoke, user="Орлова В. П.")


@pytest.fixture
def demo(with_demo, db_url):
    return db_url


def _ledger(url):
    return json.loads(run(url, "stock", "ledger", "--limit", "0", "--json").stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("stock", "receive", "R410A", "1e30", "--to", "Центральный склад"),
        ("stock", "receive", "R410A", "1", "--to", "Центральный склад", "--price", "1e30"),
        ("stock", "adjust", "R410A", "-w", "Центральный склад", "--count", "1e30", "--reason", "x"),
        ("stock", "adjust", "R410A", "-w", "Центральный склад", "--by", "-1e30", "--reason", "x"),
        ("stock", "transfer", "R410A", "1e30", "--from", "Центральный склад", "--to", "Склад Юг"),
    ],
)
def test_a_quantity_beyond_any_column_is_one_line(demo, args):
    before = _ledger(demo)
    result = run(demo, *args, code=1)
    assert result.stderr.count("\n") == 1
    assert "too large" in result.stderr
    assert _ledger(demo) == before


def test_work_and_material_quantities_are_checked_in_the_core(demo):
    found = json.loads(run(demo, "orders", "list", "--stage", "in_progress", "--json").stdout)[0]
    order, worker = found["number"], found["assignee"]
    before = json.loads(run(demo, "orders", "history", order, "--json").stdout)
    common = ("work", "add", order, "-t", "Диагностика", "--start", "-2h", "--end", "-1h")
    huge = run(demo, *common, "-e", worker, "--quantity", "1e30", code=1)
    assert huge.stderr.strip() == "Error: --quantity: '1e30' is too large"
    zero = run(demo, *common, "-e", worker, "--quantity", "0", code=1)
    assert zero.stderr.strip() == "Error: quantity: must be more than 0"  # the core's rule
    material = run(
        demo, "work", "material", order, "R410A", "1e30", "-w", "Центральный склад", code=1
    )
    assert material.stderr.strip() == "Error: quantity: '1e30' is too large"
    assert json.loads(run(demo, "orders", "history", order, "--json").stdout) == before


def test_a_customers_formula_is_text_in_excel_and_comes_back_unchanged(demo, tmp_path):
    order = json.loads(run(demo, "orders", "list", "--limit", "1", "--json").stdout)[0]["number"]
    formula = '=HYPERLINK("http://evil.example","Подробнее")'
    run(demo, "orders", "update", order, "-d", formula)
    exported = tmp_path / "orders.csv"
    run(demo, "export", "orders", "-o", str(exported), "--bom")
    text = exported.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ',"=HYPERLINK' not in text
    again = json.loads(run(demo, "import", "orders", str(exported), "--json").stdout)
    assert (again["updated"], again["inserted"]) == (0, 0)  # read back exactly as stored
    raw = tmp_path / "raw.csv"
    run(demo, "export", "orders", "-o", str(raw), "--raw")
    assert ',"=HYPERLINK' in raw.read_text(encoding="utf-8")
    same = json.loads(run(demo, "import", "orders", str(raw), "--raw", "--json").stdout)
    assert (same["updated"], same["inserted"]) == (0, 0)
    shown = json.loads(run(demo, "orders", "show", order, "--json").stdout)
    assert shown["description"] == formula


def test_a_control_character_in_an_imported_row_refuses_that_row(demo, tmp_path):
    """A NUL was stored by SQLite (then every Excel export failed) and made PostgreSQL
    raise psycopg.DataError even with --skip-invalid."""
    sheet = tmp_path / "orders.csv"
    sheet.write_bytes(
        "customer;description\r\n"
        "ООО «СМ-Трейд»;Течёт\x00вода\r\n"
        "ООО «СМ-Трейд»;Экран \x1b[2J чист\r\n"
        "ООО «СМ-Трейд»;Кондиционер \x9b капает\r\n"
        "ООО «СМ-Трейд»;Нормальная заявка\twith a tab\r\n".encode()
    )
    before = len(json.loads(run(demo, "orders", "list", "--limit", "0", "--json").stdout))
    refused = run(demo, "import", "orders", str(sheet), code=1)
    lines = refused.stderr.strip().splitlines()
    assert lines[:3] == [
        f"{sheet}:2: column 'description': contains the control character U+0000 (NUL) at "
        "position 6; text in a sheet cannot carry it",
        f"{sheet}:3: column 'description': contains the control character U+001B (ESC) at "
        "position 7; text in a sheet cannot carry it",
        f"{sheet}:4: column 'description': contains the control character U+009B (CSI) at "
        "position 13; text in a sheet cannot carry it",
    ]
    kept = run(demo, "import", "orders", str(sheet), "--skip-invalid", "--json", code=1)
    assert json.loads(kept.stdout)["inserted"] == 1
    listed = json.loads(run(demo, "orders", "list", "--limit", "0", "--json").stdout)
    assert len(listed) == before + 1
    run(demo, "export", "orders", "-o", str(tmp_path / "all.xlsx"))  # nothing blocks Excel


def test_a_workbook_for_people_shows_what_excel_cannot_hold(demo, tmp_path):
    from openpyxl import load_workbook

    order = json.loads(run(demo, "orders", "list", "--limit", "1", "--json").stdout)[0]["number"]
    run(demo, "orders", "update", order, "-d", "Экран \x1b[2J Течёт")
    people = tmp_path / "people.xlsx"
    run(demo, "export", "orders", "-o", str(people))
    cells = [c for row in load_workbook(people).active.iter_rows(values_only=True) for c in row]
    shown = next(c for c in cells if isinstance(c, str) and c.startswith("Экран"))
    assert shown == "Экран ␛[2J Течёт"
    refused = run(
        demo, "export", "orders", "-o", str(tmp_path / "back.xlsx"), "--for-import", code=1
    )
    assert "contains a control character Excel cannot store" in refused.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("orders", "list", "--since", "01.01.0001"), "since"),
        (("orders", "list", "--until", "31.12.9999"), "until"),
        (("plan", "day", "31.12.9999"), "day"),
        (("stock", "ledger", "--since", "01.01.0001"), "since"),
        (
            ("orders", "create", "-c", "ООО «СМ-Трейд»", "-d", "x", "--due", "01.01.0001 00:00"),
            "--due",
        ),
    ],
)
def test_a_date_outside_the_window_is_one_line_naming_the_option(demo, args, field):
    """OverflowError tracebacks before (issue 15 item 10)."""
    before = run(demo, "orders", "list", "--limit", "0", "--json").stdout
    result = run(demo, *args, code=1)
    assert result.stderr.startswith(f"Error: {field}: '")
    assert "is outside the years fsm accepts (1970-2100)" in result.stderr
    assert result.stderr.count("\n") == 1
    assert run(demo, "orders", "list", "--limit", "0", "--json").stdout == before


def test_an_import_refuses_a_date_outside_the_window_at_its_row(demo, tmp_path):
    """created_at 31.12.9999 raised OverflowError; a deadline 01.01.0001 went in silently."""
    from openpyxl import Workbook

    sheet = tmp_path / "orders.csv"
    sheet.write_text(
        "customer;description;created_at;resolution_due\n"
        "ООО «СМ-Трейд»;a;31.12.9999 10:00;\n"
        "ООО «СМ-Трейд»;b;;01.01.0001\n"
        "ООО «СМ-Трейд»;c;01.12.2026 10:00;02.12.2026\n",
        encoding="utf-8",
    )
    lines = json.dumps(
        {"customer": "ООО «СМ-Трейд»", "description": "d", "planned_start": "0001-01-01"}
    )
    (tmp_path / "orders.jsonl").write_text(lines + "\n", encoding="utf-8")
    book = Workbook()
    book.active.append(["customer", "description", "created_at"])
    book.active.append(["ООО «СМ-Трейд»", "e", datetime(9999, 12, 31, 10, 0)])
    book.save(tmp_path / "orders.xlsx")
    before = run(demo, "orders", "list", "--limit", "0", "--json").stdout
    refused = run(demo, "import", "orders", str(sheet), code=1)
    assert refused.stderr.splitlines()[:2] == [
        f"{sheet}:2: column 'created_at': '31.12.9999 10:00' is outside the years fsm accepts "
        "(1970-2100) (the date_window setting, FSM_DATE_WINDOW, sets them)",
        f"{sheet}:3: column 'resolution_due': '01.01.0001' is outside the years fsm accepts "
        "(1970-2100) (the date_window setting, FSM_DATE_WINDOW, sets them)",
    ]
    for other, place in (
        ("orders.jsonl", ":1: column 'planned_start'"),
        ("orders.xlsx", ":2: column 'created_at'"),
    ):
        again = run(demo, "import", "orders", str(tmp_path / other), code=1)
        assert f"{place}: '" in again.stderr
        assert "is outside the years fsm accepts" in again.stderr
    assert run(demo, "orders", "list", "--limit", "0", "--json").stdout == before


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FSM_DATE_WINDOW", "2100-1970", "the first year is after the last"),
        ("FSM_WRITE_WAIT", "abc", "Input should be a valid number"),
    ],
)
def test_a_setting_that_cannot_be_read_is_one_line(demo, monkeypatch, variable, value, message):
    """pydantic's report of FSM_WRITE_WAIT=abc was a traceback of many lines."""
    from fsm_core.config import get_settings

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        result = invoke(demo, "orders", "list", code=None, lang=None)
    finally:
        monkeypatch.delenv(variable)
        get_settings.cache_clear()
    assert result.exit_code == 1, result.exception
    assert result.stderr.startswith(f"Error: {variable}={value!r}: {message}")
    assert result.stderr.count("\n") == 1


def test_an_empty_output_path_is_one_line(demo, tmp_path, monkeypatch):
    """`fsm objects passport REF -o ''` was a FileNotFoundError traceback (found by the
    fuzz): an OSError whose file name is empty was not taken for the user's error."""
    monkeypatch.chdir(tmp_path)
    result = run(demo, "objects", "passport", "СМТ-000114", "--output", "", code=1)
    assert result.stderr.splitlines()[-1] == "Error: '': no file name to write to"


@pytest.mark.parametrize("revision", ["", " ", "00", "base", "heads", "0001+1"])
def test_db_upgrade_to_a_revision_fsm_does_not_have_is_one_line(demo, revision):
    """`fsm db upgrade ''` was an AssertionError from Alembic (found by the fuzz); its
    prefixes and relative steps are not fsm's revisions either."""
    result = run(demo, "db", "upgrade", "--", revision, code=1)
    assert result.stderr.startswith(f"Error: unknown schema revision {revision!r}")
    assert result.stderr.count("\n") == 1


NINES = "9" * 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("checklist", "template", "bind", NINES), f"no checklist matches '{NINES}'"),
        (("checklist", "template", "bind", "²"), "no checklist matches '²'"),
        (("plan", "remove", NINES), f"no visit matches '{NINES}'"),
        (("plan", "remove", "²"), "no order matches '²'"),
        (("work-types", "update", f"#{NINES}", "--price", "1"), f"no work type matches '#{NINES}'"),
        (("stock", "items", "show", f"#{NINES}"), f"no item matches '#{NINES}'"),
        (("--as", f"#{NINES}", "users", "me"), f"no user matches '#{NINES}'"),
        (("--as", "#²", "users", "me"), "no user matches '#²'"),
        (("sla", "set", "high", "²", "6h"), "reaction: cannot read duration '²'"),
        (("sla", "set", "high", NINES, "6h"), "reaction: duration '9"),
        (("sla", "set", "high", "1h", "9" * 400 + ".5h"), "resolution: duration '9"),
        (("plan", "free", "today", "--length", NINES), "length: duration '9"),
        (("companies", "create", "X", "--inn", "²" * 10), "inn: INN '²²²²²²²²²²' must have"),
        (("companies", "create", "X", "--phone", "²" * 11), "phone: cannot read phone number"),
        (("settings", "set", "company_ogrn", "²" * 13), "company_ogrn: OGRN '²²²²²²²²²²²²²'"),
    ],
)
def test_digits_beyond_a_column_or_not_ascii_are_one_line(demo, args, message):
    """Found by the fuzz: an id of 20 digits raised OverflowError on SQLite, '²' (which
    str.isdigit takes) ValueError from int(), and a duration of 20 digits was stored and
    then broke `fsm sla list` for good (OverflowError in timedelta)."""
    before = run(demo, "sla", "list", "--json").stdout
    result = run(demo, *args, code=1)
    assert result.stderr.startswith(f"Error: {message}")
    assert result.stderr.count("\n") == 1
    assert run(demo, "sla", "list", "--json").stdout == before
