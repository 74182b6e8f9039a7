"""The command line, end to end through Typer's CliRunner, on both back-ends."""

import json
import os
import subprocess
import sys
from datetime import date, datetime

import pytest
import typer.main

from fsm_cli.main import app
from tests.cli_runner import Fsm, runner


@pytest.fixture
def fsm(db_url):
    return Fsm(db_url)  # the demo's dispatcher, Орлова В. П., is who the test account is bound to


@pytest.fixture
def demo(with_demo, fsm):
    return fsm


def test_demo_data_is_a_realistic_company(demo):
    orders = demo.json("orders", "list", "--limit", "0")
    assert len(orders) >= 80
    stages = {o["stage_code"] for o in orders}
    assert stages == {
        "new",
        "assigned",
        "en_route",
        "in_progress",
        "on_hold",
        "done",
        "closed",
        "cancelled",
    }
    assert sum(o["sla_status"] == "violated" for o in orders) >= 3
    assert sum(o["criticality"] in ("high", "critical") for o in orders) >= 10
    assert all(o["customer"] for o in orders)
    assert any("Течёт" in o["description"] or "течь" in o["description"].lower() for o in orders)
    assert len(demo.json("companies", "list")) >= 3
    assert len(demo.json("objects", "list")) >= 25
    assert len(demo.json("employees", "list")) >= 10
    assert all(o["latitude"] for o in demo.json("objects", "list", "--kind", "site"))


def test_demo_refuses_a_database_with_data(demo):
    assert "already holds data" in demo("demo", code=1)
    demo("demo", "--if-empty")  # make run: no error, nothing loaded twice
    assert len(demo.json("companies", "list")) == 5


def test_create_assign_move_end_to_end(demo):
    number = demo(
        "orders",
        "create",
        "--object",
        "СМТ-000114",
        "-d",
        "Течёт вода из внутреннего блока",
        "--criticality",
        "высокая",
        "--contact",
        "Смирнова",
    ).strip()
    order = demo.json("orders", "show", number)
    assert order["customer"] == "ООО «СМ-Трейд»"
    assert order["object"].startswith("Кондиционер Daikin")
    assert (order["stage"], order["criticality"], order["created_by"]) == (
        "new",
        "high",
        "Орлова В. П.",
    )
    demo("orders", "assign", number, "Иванов К.П.")
    demo("orders", "move", number, "В пути", user="Иванов К. П.")
    demo("orders", "move", number, "in_progress", user="Иванов К. П.")
    demo("orders", "move", number, "done", user="Иванов К. П.")
    order = demo.json("orders", "show", number)
    assert (order["stage"], order["assignee"]) == ("done", "Иванов К. П.")
    history = demo.json("orders", "history", number)
    assert [(h["field"], h["new"], h["actor"]) for h in history[1:]] == [
        ("assignee", "Иванов К. П.", "Орлова В. П."),
        ("stage", "assigned", "Орлова В. П."),
        ("stage", "en_route", "Орлова В. П. on behalf of Иванов К. П."),
        ("stage", "in_progress", "Орлова В. П. on behalf of Иванов К. П."),
        ("stage", "done", "Орлова В. П. on behalf of Иванов К. П."),
    ]
    # someone else's order is not his to move, nor to see
    other = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Не работает").strip()
    refused = "Error: Иванов К. П. (technician) may not see orders other than their own"
    assert demo("orders", "move", other, "cancelled", user="Иванов К. П.", code=1) == refused
    assert demo("orders", "show", other, user="Иванов К. П.", code=1) == refused
    mine = [o["number"] for o in demo.json("orders", "list", "--limit", "0", user="Иванов К.П.")]
    assert number in mine
    assert other not in mine
    listed = demo.json("orders", "list", "--stage", "done", "--assignee", "Иванов К. П.")
    assert number in [o["number"] for o in listed]


def test_errors_are_one_line_and_change_nothing(demo):
    number = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Не работает").strip()
    before = demo.json("orders", "show", number)
    assert demo("orders", "move", number, "closed", code=1) == (
        f"Error: order {number} cannot move from New (new) to Closed (closed); allowed from "
        "here: Assigned (assigned), En route (en_route), In progress (in_progress), "
        "On hold (on_hold), Cancelled (cancelled)"
    )
    assert "needs an assignee" in demo("orders", "move", number, "in_progress", code=1)
    assert demo("orders", "assign", number, "Сидоров", code=1) == (
        "Error: no employee matches 'Сидоров'"
    )
    assert "no customer matches" in demo("orders", "create", "-c", "Рога", "-d", "x", code=1)
    assert "ambiguous: it matches" in demo("orders", "assign", number, "ова", code=1)
    assert "unknown stage" in demo("orders", "move", number, "finished", code=1)
    assert "--planned-start: cannot read date '31.02.2026 10:00'" in demo(
        "orders", "update", number, "--planned-start", "31.02.2026 10:00", code=1
    )
    assert "no order matches" in demo("orders", "show", "99-9999", code=1)
    assert demo.json("orders", "show", number) == before
    assert len(demo.json("orders", "history", number)) == 1


def test_a_stale_edit_is_refused(demo):
    number = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Не работает").strip()
    demo("orders", "update", number, "--criticality", "high", "--if-version", "1")
    line = demo("orders", "update", number, "-d", "Другое", "--if-version", "1", code=1)
    assert line.startswith(f"Error: order {number} was changed by someone else")
    assert "nothing was saved" in line
    assert demo.json("orders", "show", number)["description"] == "Не работает"


def test_usage_errors_exit_2(fsm):
    result = runner.invoke(app, ["--db", fsm.url, "orders", "list", "--limit", "lots"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["--db", fsm.url, "orders", "assign", "26-0001"])
    assert result.exit_code == 2
    assert "name an employee" in result.stderr


def test_list_filters(demo):
    everything = demo.json("orders", "list", "--limit", "0")
    open_orders = demo.json("orders", "list", "--open", "--limit", "0")
    assert {o["stage_code"] for o in open_orders}.isdisjoint({"closed", "cancelled"})
    assert len(open_orders) < len(everything)
    violated = demo.json("orders", "list", "--sla", "violated", "--limit", "0")
    assert violated
    assert all(o["sla_status"] == "violated" for o in violated)
    unassigned = demo.json("orders", "list", "--assignee", "none", "--limit", "0")
    assert unassigned
    assert all(o["assignee_id"] is None for o in unassigned)
    site = demo.json("orders", "list", "--object", "Магазин «СМ-Трейд» на Невском", "-n", "0")
    assert {o["object"] for o in site} > {"Кондиционер Daikin FTXB35C (торговый зал)"}
    page = demo.json("orders", "list", "--limit", "5", "--offset", "5")
    assert [o["number"] for o in page] == [o["number"] for o in everything[5:10]]
    lines = demo("orders", "list", "--nl", "--limit", "3").strip().splitlines()
    assert [json.loads(line)["number"] for line in lines] == [o["number"] for o in everything[:3]]


def test_board_table_is_readable(demo):
    text = demo("orders", "list", "--limit", "5")
    assert "Number" in text
    assert "shown 5 of" in text
    assert everything_first_number(demo) in text


def everything_first_number(demo) -> str:
    return demo.json("orders", "list", "--limit", "1")[0]["number"]


def test_reference_data_commands(fsm):
    fsm(
        "companies",
        "create",
        "ООО «Ромашка»",
        "--inn",
        "7707083893",
        "--phone",
        "8 (812) 555-12-34",
    )
    assert "INN '7707083894' has a wrong control digit" in fsm(
        "companies", "create", "Другая", "--inn", "7707083894", code=1
    )
    assert "INN '7707083893' is already used by ООО «Ромашка»" in fsm(
        "companies", "create", "Третья", "--inn", "7707083893", code=1
    )
    fsm("contacts", "create", "Ромашка", "Петрова Анна", "--email", "anna@romashka.example")
    fsm(
        "employees",
        "create",
        "Сидоров Пётр Ильич",
        "--rate",
        "1 200,50",
        "--skills",
        "ДГУ, электрика",
    )
    fsm("crews", "create", "Бригада А", "--member", "Сидоров П. И.")
    fsm(
        "objects",
        "create",
        "Ромашка",
        "Котельная",
        "--kind",
        "site",
        "--lat",
        "59.9",
        "--lon",
        "30.3",
        "--address",
        "Санкт-Петербург, ул. Садовая, 1",
    )
    fsm(
        "objects",
        "create",
        "Ромашка",
        "Котёл Viessmann",
        "--parent",
        "Котельная",
        "--inventory-number",
        "INV-1",
    )
    fsm("work-types", "create", "Чистка радиатора испарителя", "3 500")
    employee = fsm.json("employees", "show", "Сидоров П. И.")
    assert (employee["short_name"], employee["hourly_rate"], employee["skills"]) == (
        "Сидоров П. И.",
        "1200.50",
        ["дгу", "электрика"],
    )
    company = fsm.json("companies", "show", "7707083893")
    assert company["phone"] == "+78125551234"
    assert [c["full_name"] for c in company["contacts"]] == ["Петрова Анна"]
    boiler = fsm.json("objects", "show", "INV-1")
    assert boiler["path"] == ["Котельная", "Котёл Viessmann"]
    assert boiler["effective_address"] == "Санкт-Петербург, ул. Садовая, 1"
    assert fsm.json("crews", "show", "Бригада А")["members"][0]["short_name"] == "Сидоров П. И."
    assert fsm.json("work-types", "list")[0]["price"] == "3500.00"
    assert "latitude and longitude go together" in fsm(
        "objects", "create", "Ромашка", "Щит", "--lat", "59.9", code=1
    )


def test_stages_sla_and_settings(fsm):
    fsm(
        "stages",
        "add",
        "waiting_parts",
        "--en",
        "Waiting for parts",
        "--ru",
        "Ожидание запчастей",
        "--category",
        "paused",
    )
    fsm("stages", "allow", "in_progress", "waiting_parts")
    stages = {s["code"]: s for s in fsm.json("stages", "list")}
    assert "waiting_parts" in stages["in_progress"]["next"]
    fsm("sla", "set", "high", "30m", "6h")
    high = [p for p in fsm.json("sla", "list") if p["criticality"] == "high"]
    assert (high[0]["reaction_minutes"], high[0]["resolution_minutes"]) == (30, 360)
    assert "cannot read duration" in fsm("sla", "set", "high", "soon", "6h", code=1)
    fsm("settings", "set", "timezone", "Asia/Yekaterinburg")
    assert fsm.json("settings", "list")["timezone"] == "Asia/Yekaterinburg"
    assert "unknown time zone" in fsm("settings", "set", "timezone", "Mars/Olympus", code=1)


def test_sla_calendars_and_deadlines_shown_by_day(demo):
    """Now is Thursday 26.11.2026 12:00 in Moscow."""
    from fsm_core.formatting import moment
    from fsm_core.timeparse import zone

    demo("sla", "set", "high", "30m", "6h", "--calendar", "company")
    policies = demo.json("sla", "list")
    high = [p for p in policies if p["criticality"] == "high" and not p["customer"]]
    assert high[0]["calendar"] == "company"
    demo("settings", "set", "company_hours", "mon-fri 09:00-15:00")
    demo("sla", "set", "normal", "4h", "2d", "--calendar", "пн-пт 10-12")
    wide = runner.invoke(
        app, ["--db", demo.url, "--lang", "en", "sla", "list"], env={"COLUMNS": "160"}
    )
    table = wide.stdout
    assert "company hours (Mon–Fri 09:00–15:00)" in table
    assert "Mon–Fri 10:00–12:00" in table
    assert "24/7" in table
    line = demo("sla", "set", "high", "30m", "6h", "--calendar", "mon-fri 09:00-1800", code=1)
    assert line.startswith("Error: calendar 'mon-fri 09:00-1800'")
    assert [p["calendar"] for p in demo.json("sla", "list") if p["criticality"] == "high"] == [
        "company"
    ]

    high_order = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Жарко", "--criticality", "high")
    shown = demo("orders", "show", high_order.split()[0])
    assert "Reaction due    Thu 12:30" in shown
    assert "Resolution due  Fri 12:00" in shown  # Thu 12–15, Fri 9–12
    assert "SLA calendar    Mon–Fri 09:00–15:00" in shown
    # 48 h of 2-hour days (from Friday: 12:00 is the day's close) is 24 working days away:
    # a date, not a day of the week
    normal = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Прохладно").split()[0]
    details = demo.json("orders", "show", normal)
    due = datetime.fromisoformat(details["resolution_due"])
    expected = moment(due, zone("Europe/Moscow"), lang="en")
    assert due.astimezone(zone("Europe/Moscow")).date() == date(2026, 12, 30)
    assert f"Resolution due  {expected}" in demo("orders", "show", normal)


def test_db_commands(fsm):
    status = fsm.json("db", "status")
    assert status["up_to_date"] is True
    assert "up to date" in runner.invoke(app, ["--db", fsm.url, "init"]).stderr


def test_every_command_has_help():
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    seen = []
    missing = []

    def walk(group, prefix):
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            seen.append(f"{prefix}{name}")
            if not (command.help or "").strip():
                missing.append(f"{prefix}{name}")
            if hasattr(command, "list_commands"):
                walk(command, f"{prefix}{name} ")

    walk(root, "")
    assert missing == []
    assert {"orders list", "import", "labels objects", "db upgrade"} <= set(seen)


def test_help_and_lists_do_not_load_the_dashboard_or_documents(db_url):
    """Start-up stays lean: no textual, reportlab or segno for `--help` or a list."""
    probe = (
        "import sys, runpy; sys.argv = ['fsm'] + sys.argv[1:];\n"
        "try:\n    runpy.run_module('fsm_cli', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('textual', 'reportlab', 'segno', 'alembic') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    env = dict(os.environ, FSM_DATABASE_URL=db_url)
    for args in (["--help"], ["orders", "list", "--json"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True
        )
        assert "HEAVY []" in result.stderr, (args, result.stderr)


def test_a_real_error_is_one_line_on_stderr_without_a_traceback(db_url):
    """Through the installed entry point, not the test runner: a refused move prints one
    line and exits 1."""
    env = dict(os.environ, FSM_DATABASE_URL=db_url)
    result = subprocess.run(
        [sys.executable, "-m", "fsm_cli", "orders", "show", "99-0001"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: no order matches '99-0001' (give the order number, e.g. 26-0012)"
    ]
    usage = subprocess.run(
        [sys.executable, "-m", "fsm_cli", "orders", "list", "--limit", "many"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_the_collector_is_paused_only_while_a_command_starts():
    """The entry point turns the cyclic collector off for start-up and back on by itself,
    so a long command (a big import) collects as usual."""
    import gc

    from fsm_cli.launch import pause_collector

    was_enabled = gc.isenabled()
    try:
        timer = pause_collector(0.05)
        assert not gc.isenabled()
        timer.join(5)
        assert gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


def _run(url: str, *args: str, env: dict[str, str] | None = None, code: int = 0):
    env = {"COLUMNS": "200", **(env or {})}  # tables unwrapped, whatever runs the tests
    result = runner.invoke(app, ["--db", url, "--as", "Орлова В. П.", *args], env=env)
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def test_russian_shows_stage_and_source_names_never_codes(demo, db_url):
    number = demo.json("orders", "create", "--object", "СМТ-000114", "-d", "Течёт")["number"]
    shown = _run(db_url, "--lang", "ru", "orders", "show", number).stdout
    assert "«Назначена», «В пути»" in shown
    assert "assigned" not in shown
    assert "cancelled" not in shown
    assert "вручную" in shown
    assert "manual" not in shown

    refused = _run(db_url, "--lang", "ru", "orders", "move", number, "closed", code=1).stderr
    assert refused.strip() == (
        f"Error: заявку {number} нельзя перевести из «Новая» в «Закрыта». "
        "Можно перевести в «Назначена», «В пути», «В работе», «Приостановлена», «Отменена»"
    )
    english = _run(db_url, "--lang", "en", "orders", "move", number, "closed", code=1).stderr
    assert "cannot move from New (new) to Closed (closed)" in english

    demo("orders", "assign", number, "Иванов К. П.")
    demo("orders", "update", number, "--due", "28.11.2030 18:00")
    history = _run(db_url, "--lang", "ru", "orders", "history", number).stdout
    for code in ("create", "stage=", "criticality=", "assignee", "resolution_due", "T15:00"):
        assert code not in history, code
    assert "стадия: Новая" in history
    assert "Назначена" in history
    assert "Срок решения" in history
    assert "28.11.2030 18:00" in history


def test_the_company_language_decides_unless_the_user_chooses(demo, db_url):
    number = demo.json("orders", "list", "--limit", "1")[0]["number"]
    locale_c = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "FSM_LANG": ""}
    english = _run(db_url, "orders", "show", number, env=locale_c).stdout
    assert "Criticality" in english
    demo("settings", "set", "company_language", "ru")
    assert "Критичность" in _run(db_url, "orders", "show", number, env=locale_c).stdout
    chosen = dict(locale_c, FSM_LANG="en")
    assert "Criticality" in _run(db_url, "orders", "show", number, env=chosen).stdout
    assert "Criticality" in _run(db_url, "--lang", "en", "orders", "show", number).stdout
    assert demo("settings", "set", "company_language", "fr", code=1).startswith(
        "Error: company_language: 'fr' is not a language fsm speaks"
    )


def test_tui_demo_prepares_an_empty_database_once_and_quietly(tmp_path, monkeypatch):
    from fsm_cli import context
    from fsm_cli.db import prepare_demo
    from fsm_core.migrations import HEAD

    url = f"sqlite:///{tmp_path / 'new.db'}"
    state = context.reset(db_url=url)
    try:
        prepare_demo()
        assert state.database().current_revision() == HEAD
        listed = runner.invoke(app, ["--db", url, "orders", "list", "--limit", "0", "--json"])
        orders = json.loads(listed.stdout)
        assert len(orders) >= 80
        state = context.reset(db_url=url)
        shown = []
        monkeypatch.setattr("fsm_cli.output.done", shown.append)
        prepare_demo()  # the second `make run`: nothing to do, nothing said
        assert shown == []
    finally:
        context.STATE.close()


def test_every_whole_number_a_command_reads_is_bounded():
    """`--limit 99999999999999999999` reached SQLite as an OverflowError: every integer a
    command takes has a range the database can hold, checked as a usage error."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    unbounded = []

    def walk(group, prefix):
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if hasattr(command, "list_commands"):
                walk(command, f"{prefix}{name} ")
                continue
            for param in command.params:
                annotation = param.type_descriptor.annotation
                if int not in (annotation, *getattr(annotation, "__args__", ())):
                    continue
                if param.min is None or param.max is None:
                    unbounded.append(f"{prefix}{name} {param.name}")

    walk(root, "")
    assert unbounded == []


@pytest.mark.parametrize(
    "args",
    [
        ("orders", "list", "--limit", "99999999999999999999"),
        ("orders", "list", "--offset", "99999999999999999999"),
        ("chat", "attachment", "99999999999999999999", "-o", "x"),
    ],
)
def test_a_huge_number_is_a_usage_error(fsm, args):
    result = runner.invoke(app, ["--db", fsm.url, *args])
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert "Input should be less than or equal to 2147483647" in result.stderr


def test_an_argument_that_is_not_utf8_is_refused_at_the_edge(demo, tmp_path):
    number = demo.json("orders", "list", "--limit", "1")[0]["number"]
    before = demo.json("chat", "show", number, "--keep-unread")
    bad = b"bad \x9b byte".decode("utf-8", "surrogateescape")  # what Python makes of argv
    result = runner.invoke(app, ["--db", demo.url, "chat", "send", number, bad])
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert "argument 6 ('bad \\x9b byte') is not valid UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr
    assert demo.json("chat", "show", number, "--keep-unread") == before
    # the refusal quotes the argument: its escapes must not reach the terminal either
    hostile = b"\x1b]0;PWNED\x07 \x9b".decode("utf-8", "surrogateescape")
    result = runner.invoke(app, ["--db", demo.url, "chat", "send", number, hostile])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "␛]0;PWNED␇" in result.stderr
    # a file is opened by its name: an existing file's non-UTF-8 name is fine
    name = tmp_path / b"\xff.csv".decode("utf-8", "surrogateescape")
    name.write_text("full_name\nИванов Иван Иванович\n", encoding="utf-8")
    result = runner.invoke(app, ["--db", demo.url, "import", "employees", str(name), "--dry-run"])
    assert "not valid UTF-8" not in result.stderr
