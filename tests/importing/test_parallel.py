"""A large orders file is checked by worker processes (importing/parallel.py): the result
must be the serial import's, row for row, error for error, on both back-ends."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.errors import FsmError, InvalidInput
from fsm_core.importing import parallel
from fsm_core.importing.engine import ImportOptions, ImportReport, run_import
from fsm_core.importing.entities import Orders
from fsm_core.importing.readers import open_source
from tests.conftest import NOW

HEADER = (
    "Внешний код;Номер;Дата создания;Заказчик;Объект;Описание;Критичность;Стадия;"
    "Исполнитель;Плановая дата;Плановое окончание;Срок"
)
# rows that each take one path through the import, by their place among the data rows
SPECIAL = {
    5: "P-005;;01.11.2026 10:00;ООО «СМ-Трейд»;;Срок с ошибкой;;;;;;31.02.2026",
    9: "P-009;;01.11.2026 10:00;ООО Несуществующая;;Чужой заказчик;;;;;;",
    17: "P-002;;01.11.2026 10:00;ООО «СМ-Трейд»;;Второй раз тот же код;;;;;;",
    # existing orders: one changed and assigned, one named as it is, one that cannot lose
    # its technician
    21: "DEMO-017;;;ООО «СМ-Трейд»;O-SMT-NEV-PUMP;Помпа срабатывает снова;;;Иванов К. П.;;;",
    22: "DEMO-030;;;ООО «БЦ Невский Плаза»;O-NPL-LOCK;Дверь не открывается по кнопке выхода;;;;;;",
    23: "DEMO-042;;;ООО «БЦ Невский Плаза»;;Турникет снова не пропускает;;;;;;",
    25: "P-025;26-0003;01.11.2026 10:00;ООО «СМ-Трейд»;;Номер уже занят;;;;;;",
    26: "P-026;Z-0001;01.11.2026 10:00;ООО «СМ-Трейд»;;Свой номер;;;;;;",
    29: "P-029;;01.11.2026 10:00;ООО «СМ-Трейд»;;В работе без исполнителя;;В работе;;;;",
    33: "P-033;;01.11.2026 10:00;ООО «СМ-Трейд»;;Окно наоборот;;;;02.11.2026 12:00;"
    "02.11.2026 09:00;",
    36: 'P-036;;01.11.2026 10:00;ООО «СМ-Трейд»;;"Две строки:\nвторая";;;;;;',
}


def plain_row(i: int) -> str:
    day = 1 + i % 27
    created = f"{day:02d}.10.2026 {8 + i % 10:02d}:{(7 * i) % 60:02d}"
    if i % 3:
        customer, obj = "ООО «СМ-Трейд»", "СМТ-000114"
    else:
        customer, obj = "7842001128", ""
    stage, assignee, planned = ["Новая", "", ""] if i % 2 else ["Назначена", "Иванов К. П.", ""]
    if assignee:
        planned = f"{day:02d}.10.2026 15:30"
    due = f"{day + 1:02d}.11.2026" if i % 4 == 0 else ""
    criticality = ["обычная", "высокая", "low", ""][i % 4]
    return (
        f"P-{i:03d};;{created};{customer};{obj};Заявка № {i} (проверка);{criticality};{stage};"
        f"{assignee};{planned};;{due}"
    )


def sheet(tmp_path: Path, rows: int = 44) -> Path:
    lines = [HEADER]
    for i in range(rows):
        lines.append(SPECIAL.get(i) or plain_row(i))
        if i == 37:
            lines.append(";;;;;;;;;;;")  # an empty Excel row
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_file(
    url: str, path: Path, *, workers: int, sheet: str | None = None, **options: object
) -> tuple[ImportReport, list[str]]:
    errors: list[str] = []
    database = Database(url)
    try:
        with clock.frozen(NOW), open_source(str(path), sheet=sheet) as source:
            report = run_import(
                database,
                entity="orders",
                source=source,
                options=ImportOptions(workers=workers, batch_size=4, **options),  # type: ignore[arg-type]
                on_error=errors.append,
            )
    finally:
        database.dispose()
    return report, errors


def contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    """What an import leaves: orders (all but the id), their history, the counters."""
    database = Database(url)
    try:
        with database.reader() as s:
            conn = s.connection()
            columns = [c["name"] for c in inspect(conn).get_columns("orders") if c["name"] != "id"]
            orders = conn.execute(
                text(f"SELECT {', '.join(columns)} FROM orders ORDER BY number")
            ).all()
            history = conn.execute(
                text(
                    "SELECT o.number, h.at, h.actor, h.action, h.field, h.old_value, h.new_value "
                    "FROM order_history h JOIN orders o ON o.id = h.order_id "
                    "ORDER BY o.number, h.id"
                )
            ).all()
            counters = conn.execute(text("SELECT scope, value FROM order_counter ORDER BY scope"))
            return {
                "orders": [tuple(r) for r in orders],
                "history": [tuple(r) for r in history],
                "counters": [tuple(r) for r in counters],
            }
    finally:
        database.dispose()


def counts(report: ImportReport) -> tuple[int, ...]:
    return (report.inserted, report.updated, report.unchanged, report.rejected, report.checked)


@pytest.mark.parametrize("skip_invalid", [True, False], ids=["skip-invalid", "all-or-nothing"])
def test_workers_import_what_the_serial_import_does(
    with_demo, db_url, twin_url, tmp_path, skip_invalid
):
    path = sheet(tmp_path)
    before = contents(db_url)
    serial, serial_errors = import_file(
        db_url, path, workers=1, skip_invalid=skip_invalid, rejects=tmp_path / "serial.csv"
    )
    shared, shared_errors = import_file(
        twin_url, path, workers=3, skip_invalid=skip_invalid, rejects=tmp_path / "shared.csv"
    )
    # every path was taken: new, updated, unchanged, and each kind of refusal
    assert counts(serial) == (
        # (all or nothing: once a row is refused, an order that would lose its technician
        # is not written, so it is not found out: it counts as valid but not written)
        (35, 1, 1, 7, 0) if skip_invalid else (0, 0, 1, 6, 37)
    ), serial_errors
    assert counts(shared) == counts(serial)
    assert sorted(shared_errors) == sorted(serial_errors)
    for needle in (
        ":7: column 'Срок': cannot read date '31.02.2026'",
        ":11: column 'Заказчик'",
        ":19: external_id 'P-002' appears again (first at line 4)",
        ":27: order number '26-0003' is already taken",
        ":31: order (new) needs an assignee or a crew",
        ":35: planned end is before planned start",
    ):
        assert any(needle in e for e in serial_errors), (needle, serial_errors)
    if skip_invalid:
        assert any(":25: order 26-0002 is in stage In progress" in e for e in serial_errors)
    assert contents(twin_url) == contents(db_url)
    if skip_invalid:
        after = contents(db_url)
        assert after != before
        # every new order has its one "create" line in the history, written at the end
        created = [h for h in after["history"] if h[3] == "create" and h[2] == "import"]
        assert len(created) == serial.inserted
        assert len({h[0] for h in created}) == serial.inserted
        assert all(h[6].startswith(f"{h[0]}; stage=") for h in created)
    else:
        assert contents(db_url) == before
    rejected = [
        (tmp_path / n).read_text(encoding="utf-8-sig") for n in ("serial.csv", "shared.csv")
    ]
    assert sorted(rejected[1].splitlines()) == sorted(rejected[0].splitlines())
    assert "Две строки" not in rejected[0]  # the two-line row went in


def json_lines(path: Path) -> Path:
    """The sheet as JSON lines: one object a row (a later key on a refused row only)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    target = path.with_suffix(".jsonl")
    with target.open("w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            if not any(row.values()):
                out.write("\n")  # the empty Excel row becomes a blank line
                continue
            if row["Внешний код"] == "P-009":
                row["Комментарий"] = "клиент новый"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            if i == 3:
                out.write("   \n")
    return target


def test_json_lines_are_shared_the_same_way(with_demo, db_url, twin_url, tmp_path):
    path = json_lines(sheet(tmp_path))
    serial, serial_errors = import_file(
        db_url, path, workers=1, skip_invalid=True, rejects=tmp_path / "serial.csv"
    )
    shared, shared_errors = import_file(
        twin_url, path, workers=3, skip_invalid=True, rejects=tmp_path / "shared.csv"
    )
    assert counts(serial) == (35, 1, 1, 7, 0), serial_errors
    assert counts(shared) == counts(serial)
    assert sorted(shared_errors) == sorted(serial_errors)
    assert any("orders.jsonl:11: column 'Заказчик'" in e for e in serial_errors)
    assert contents(twin_url) == contents(db_url)
    rejected = [
        (tmp_path / n).read_text(encoding="utf-8-sig") for n in ("serial.csv", "shared.csv")
    ]
    assert rejected[1].splitlines()[0] == rejected[0].splitlines()[0]  # the later key too
    assert "Комментарий" in rejected[0].splitlines()[0]
    assert sorted(rejected[1].splitlines()) == sorted(rejected[0].splitlines())


def workbook(path: Path) -> Path:
    """The sheet as a workbook: creation dates as date cells, as Excel serial numbers and
    as text by turns, empty cells empty, with a title sheet before the orders' sheet."""
    from datetime import datetime

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    book = openpyxl.Workbook()
    title = book.active
    title.title = "Титул"
    title.append(["Выгрузка заявок за октябрь"])
    orders = book.create_sheet("Заявки")
    for i, row in enumerate(rows):
        cells: list[object] = [value or None for value in row]
        created = row[2] if i else ""
        if created and i % 3:
            moment = datetime.strptime(created, "%d.%m.%Y %H:%M")
            serial = (moment - datetime(1899, 12, 30)).total_seconds() / 86400
            cells[2] = moment if i % 3 == 1 else serial
        orders.append(cells)
    orders.append([None] * 3)  # an empty trailing row, as a sheet often ends
    target = path.with_suffix(".xlsx")
    book.save(target)
    return target


def test_workbooks_are_shared_the_same_way(with_demo, db_url, twin_url, tmp_path, demo_template):
    """A workbook read by workers (which share the sheet parsed before they forked) gives
    the serial import's result, and the same refusals as the same rows as CSV."""
    path = sheet(tmp_path)
    book = workbook(path)
    reports, errors = [], []
    for url, source, workers in ((db_url, book, 1), (twin_url, book, 3)):
        report, found = import_file(url, source, workers=workers, skip_invalid=True, sheet="Заявки")
        reports.append(counts(report))
        errors.append(sorted(found))
    assert reports[0] == reports[1] == (35, 1, 1, 7, 0), errors[0]
    assert errors[0] == errors[1]
    assert contents(twin_url) == contents(db_url)
    # the same lines refused for the same reasons as from the CSV (the empty Excel row
    # there is a sheet row here too, so the line numbers agree)
    shutil.copyfile(demo_template, tmp_path / "csv.db")
    _, as_csv = import_file(f"sqlite:///{tmp_path / 'csv.db'}", path, workers=1, skip_invalid=True)
    assert errors[0] == sorted(e.replace("orders.csv", "orders.xlsx") for e in as_csv)


@pytest.mark.parametrize("fmt", ["csv", "nl"])
def test_a_file_that_breaks_off_fails_as_it_does_serially(
    with_demo, db_url, twin_url, tmp_path, fmt
):
    """A worker that does not own the broken row does not notice it (a JSON line not its
    own is only counted): the import must still stop right there, having reported the
    same refusals before it."""
    path = sheet(tmp_path)
    if fmt == "nl":
        path = json_lines(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[30] = lines[30] + ";лишняя;ячейка" if fmt == "csv" else lines[30][:-1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = contents(db_url)
    outcomes = []
    for url, workers in ((db_url, 1), (twin_url, 3)):
        errors: list[str] = []
        database = Database(url)
        try:
            with pytest.raises(InvalidInput) as caught, open_source(str(path)) as source:
                run_import(
                    database,
                    entity="orders",
                    source=source,
                    options=ImportOptions(workers=workers, batch_size=4, skip_invalid=True),
                    on_error=errors.append,
                )
        finally:
            database.dispose()
        outcomes.append((caught.value.one_line(), sorted(errors)))
    assert outcomes[0] == outcomes[1]
    assert f"{path.name}:31:" in outcomes[0][0]
    assert len(outcomes[0][1]) == 5  # the refusals in the batches before it
    assert contents(db_url) == before == contents(twin_url)


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_worker_that_fails_stops_the_import_and_writes_nothing(
    with_demo, db_url, tmp_path, monkeypatch, how
):
    real = Orders.prepare

    def faulty(self, row):
        if row.line == 30:
            if how == "dies":
                os._exit(3)
            raise RuntimeError("checking went wrong")
        return real(self, row)

    monkeypatch.setattr(Orders, "prepare", faulty)
    before = contents(db_url)
    with pytest.raises(FsmError) as caught:
        import_file(db_url, sheet(tmp_path), workers=2)
    expected = "checking went wrong" if how == "raises" else "stopped unexpectedly"
    assert expected in caught.value.one_line()
    assert "\n" not in caught.value.message
    assert contents(db_url) == before
    assert no_children_left()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_progress_is_reported_as_the_workers_read(with_demo, db_url, tmp_path, fmt):
    path = sheet(tmp_path, rows=2500)
    if fmt == "xlsx":
        path = workbook(path)
    seen: list[int] = []
    database = Database(db_url)
    try:
        with (
            clock.frozen(NOW),
            open_source(
                str(path), progress=seen.append, sheet="Заявки" if fmt == "xlsx" else None
            ) as source,
        ):
            report = run_import(
                database,
                entity="orders",
                source=source,
                options=ImportOptions(workers=2, batch_size=200, skip_invalid=True),
            )
    finally:
        database.dispose()
    assert report.inserted > 2000
    assert seen == sorted(seen)
    assert seen[-1] == path.stat().st_size
    # as the workers go, not only at the end: 64 KB steps (a CSV's first is this process's
    # own, when it reads the headers; a workbook's come from the workers only)
    assert len(set(seen)) >= (3 if fmt == "csv" else 2), seen


def test_which_imports_are_shared_with_workers(with_demo, db, tmp_path, monkeypatch):
    small = sheet(tmp_path)

    def workers(path: Path | str, entity: str = "orders", **options: object) -> int:
        from fsm_core.importing.engine import ImportRun, plan_columns
        from fsm_core.importing.registry import ENTITIES

        chosen = ImportOptions(**options)  # type: ignore[arg-type]
        with open_source(str(path)) as source, db.transaction() as session:
            plan, _ = plan_columns(ENTITIES[entity], source.headers, chosen)
            report = ImportReport(entity=entity, source=source.name)
            run = ImportRun(
                session,
                entity_name=entity,
                source=source,
                options=chosen,
                report=report,
                plan=plan,
                on_error=None,
            )
            return parallel.workers_for(run, ENTITIES[entity](run), chosen)

    assert workers(small) == 1  # too small to be worth a fork
    assert workers(small, workers=3) == 3
    assert workers(small, workers=0) == 1
    assert workers(small, workers=3, create_missing=True) == 1  # creating needs the database
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert workers(small) == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert workers(small) == 1  # one core: nothing to share
    nl = tmp_path / "orders.jsonl"
    nl.write_text('{"customer": "ООО «СМ-Трейд»", "description": "x"}\n', encoding="utf-8")
    assert workers(nl, workers=3) == 3  # JSON lines are shared too
    book = tmp_path / "orders.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Заказчик", "Описание"])
    workbook.active.append(["ООО «СМ-Трейд»", "x"])
    workbook.save(book)
    assert workers(book, workers=3) == 3  # a workbook too: the workers share its parsed sheet
    companies = tmp_path / "companies.csv"
    companies.write_text("Наименование\nООО «Ромашка»\n", encoding="utf-8")
    assert workers(companies, "companies", workers=3) == 1  # only orders come in bulk


def test_the_command_line_takes_a_number_of_workers(with_demo, db_url, tmp_path):
    from typer.testing import CliRunner

    from fsm_cli.main import app

    path = sheet(tmp_path)
    result = CliRunner().invoke(
        app, ["--db", db_url, "import", "orders", str(path), "--workers", "2", "--skip-invalid"]
    )
    assert result.exit_code == 1, result.stderr  # some rows are refused on purpose
    assert "35 inserted, 1 updated, 1 unchanged, 7 rejected" in result.stderr
    assert no_children_left()
    refused = CliRunner().invoke(
        app, ["--db", db_url, "import", "orders", str(path), "--workers", "-1"]
    )
    assert refused.exit_code == 2


def test_a_large_pipe_is_spooled_so_that_workers_can_share_it(
    with_demo, db_url, tmp_path, monkeypatch
):
    import tempfile

    from typer.testing import CliRunner

    from fsm_cli.main import app

    shared: list[str | None] = []
    real_run = parallel.run

    def spy(run, *args, **kwargs):
        shared.append(run.source.path)
        assert Path(run.source.path).exists()
        return real_run(run, *args, **kwargs)

    monkeypatch.setattr(parallel, "run", spy)
    data = sheet(tmp_path).read_bytes()
    spools = lambda: set(Path(tempfile.gettempdir()).glob("fsm-import-*"))  # noqa: E731
    before = spools()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", len(data) // 2)
    args = ["--db", db_url, "import", "orders", "-", "--workers", "2", "--skip-invalid"]
    result = CliRunner().invoke(app, args, input=data)
    assert "35 inserted, 1 updated, 1 unchanged, 7 rejected" in result.stderr
    assert "<stdin>:7: column 'Срок'" in result.stderr  # named as the pipe, not the spool
    assert len(shared) == 1
    assert shared[0] is not None
    assert not Path(shared[0]).exists()  # the spool is gone
    assert spools() == before
    # a pipe shorter than that is read as it comes, in this process
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", len(data) * 2)
    result = CliRunner().invoke(app, [*args[:-1], "--dry-run"], input=data)
    assert "37 unchanged" in result.stderr  # the rows the first import wrote
    assert len(shared) == 1


# --- the shares of a file, put back together, are the file -----------------------------


def read_whole(path: Path, **opened: str) -> tuple[list, str | None]:
    """(line, values) of every row read in one process, and the error it stopped at."""
    got: list = []
    try:
        with open_source(str(path), **opened) as source:
            got.extend((r.line, r.values) for r in source.rows())
    except InvalidInput as exc:
        return got, exc.one_line()
    return got, None


def read_in_shares(path: Path, parts: int, size: int, **opened: str) -> tuple[list, str | None]:
    """The same, read by ``parts`` shares and put back together as the importing process
    does (frames on the workers' side, merge on the writer's)."""
    messages = []
    for part in range(parts):
        with open_source(str(path), **opened) as source:
            shares = source.shared_rows(part, parts, size)
            check = lambda row: (row.line, row.values)  # noqa: E731
            messages.append(iter(list(parallel.frames(shares, check, lambda: 0))))
    merged: list = []
    try:
        for batch in parallel.merge(lambda part: next(messages[part]), parts):
            merged.extend(batch)
    except InvalidInput as exc:
        return merged, exc.one_line()
    return merged, None


_PLAIN = st.text(alphabet="abcxyz АБВ ёЖ0123456789-.,/", max_size=6)
_QUOTED = st.text(alphabet='ab ;Ж"\n\r,', max_size=8).map(
    lambda t: '"' + t.replace('"', '""') + '"'
)
_STRAY = st.sampled_from(['3/4"', 'a"b', '""', '"open'])  # quotes a careless sheet has
_CELL = st.one_of(_PLAIN, _PLAIN, _QUOTED, _STRAY)
_LINE = st.one_of(
    st.lists(_CELL, min_size=1, max_size=4).map(";".join),
    st.sampled_from(["", ";;", ";;;;;"]),  # blank lines and empty Excel rows
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_LINE, max_size=14),
    ending=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "cp1251"]),
    bad_byte=st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
    parts=st.integers(min_value=2, max_value=3),
    size=st.integers(min_value=1, max_value=3),
)
def test_shares_read_by_workers_add_up_to_the_file(
    tmp_path_factory, lines, ending, encoding, bad_byte, parts, size
):
    data = ending.join(["a;b;c", *lines]).encode(encoding, errors="replace")
    header = len(("a;b;c" + ending).encode())
    if bad_byte is not None and encoding == "utf-8" and len(data) > header:
        cut = min(len(data), header + bad_byte)  # somewhere after the header
        data = data[:cut] + b"\xff" + data[cut:]
    path = tmp_path_factory.mktemp("shares") / "f.csv"
    path.write_bytes(data)

    opened = {"encoding": encoding, "delimiter": ";"}
    assert read_in_shares(path, parts, size, **opened) == read_whole(path, **opened)


_JSON_LINE = st.one_of(
    st.dictionaries(st.sampled_from(["a", "b", "в"]), st.text(max_size=4), min_size=1).map(
        lambda obj: json.dumps(obj, ensure_ascii=False)
    ),
    st.sampled_from(["", "   ", '{"a": "1"', "[1, 2]", '"text"', "{}"]),  # blank and broken
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_JSON_LINE, min_size=1, max_size=14),
    parts=st.integers(min_value=2, max_value=3),
    size=st.integers(min_value=1, max_value=3),
)
def test_json_lines_shares_add_up_to_the_file(tmp_path_factory, lines, parts, size):
    path = tmp_path_factory.mktemp("shares") / "f.jsonl"
    path.write_text('{"a": "first"}\n' + "\n".join(lines) + "\n", encoding="utf-8")

    assert read_in_shares(path, parts, size) == read_whole(path)
