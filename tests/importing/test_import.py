"""`fsm import` and `fsm export`: every entity, format and encoding, every refusal, and
export → import round trips, on SQLite and PostgreSQL."""

import io
import json
import shutil
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fsm_core.db import Database
from fsm_core.exporting.tables import EXPORT_ORDER
from fsm_core.importing.engine import ImportOptions, run_import
from fsm_core.importing.readers import open_source
from fsm_core.models import Company, Employee, Order, OrderHistory, ServiceObject
from tests.cli_runner import invoke

fsm = partial(invoke, lang=None)


def count(db: Database, model) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def demo(with_demo, db):
    """The demo company in ``db`` (and so at ``db_url``)."""
    return db


COMPANIES_RU = (
    "Наименование;ИНН;Адрес;Телефон;Внешний код\r\n"
    "ООО «Ромашка»;7707083893;Санкт-Петербург, ул. Садовая, 1;8 (812) 555-12-34;1C-001\r\n"
    'ООО «Василёк»;;"Санкт-Петербург; Литейный пр., 10";+7 911 000-00-01;1C-002\r\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_companies_from_a_russian_sheet_in_any_encoding(db_url, db, tmp_path, encoding):
    path = write(tmp_path / "companies.csv", COMPANIES_RU, encoding)
    result = fsm(db_url, "import", "companies", str(path))
    assert "2 inserted, 0 updated, 0 unchanged, 0 rejected" in result.stderr
    with db.reader() as s:
        romashka = s.execute(select(Company).where(Company.external_id == "1C-001")).scalar_one()
        vasilek = s.execute(select(Company).where(Company.external_id == "1C-002")).scalar_one()
    assert (romashka.name, romashka.inn, romashka.phone) == (
        "ООО «Ромашка»",
        "7707083893",
        "+78125551234",
    )
    assert vasilek.address == "Санкт-Петербург; Литейный пр., 10"
    again = fsm(db_url, "import", "companies", str(path))
    assert "0 inserted, 0 updated, 2 unchanged" in again.stderr


def test_upsert_updates_only_what_changed(db_url, db, tmp_path):
    fsm(db_url, "import", "companies", str(write(tmp_path / "a.csv", COMPANIES_RU)))
    changed = COMPANIES_RU.replace("ул. Садовая, 1", "ул. Садовая, 2")
    result = fsm(db_url, "import", "companies", str(write(tmp_path / "b.csv", changed)))
    assert "0 inserted, 1 updated, 1 unchanged" in result.stderr
    by_inn = "ИНН;Наименование\r\n7707083893;ООО «Ромашка» (СПб)\r\n"
    result = fsm(
        db_url, "import", "companies", str(write(tmp_path / "c.csv", by_inn)), "--key", "inn"
    )
    assert "1 updated" in result.stderr
    assert count(db, Company) == 2


def test_orders_with_russian_headers_dates_and_references(demo, db_url, tmp_path):
    sheet = (
        "Номер;Дата создания;Заказчик;Объект;Описание;Критичность;Стадия;Исполнитель;Срок\n"
        "А191118;14.11.2026 16:40;7801234564;СМТ-000114;Течёт вода из блока;Высокая;"
        "Назначена;Иванов К.П.;20.11.2026\n"
        ";15.11.2026;ООО «СМ-Трейд»;Кондиционер Ballu BSW-09HN1 (подсобка);Не охлаждает;обычная;;;\n"
    )
    result = fsm(db_url, "import", "orders", str(write(tmp_path / "o.csv", sheet, "cp1251")))
    assert "2 inserted" in result.stderr
    first = json.loads(fsm(db_url, "orders", "show", "А191118", "--json").stdout)
    assert (first["stage"], first["criticality"], first["assignee"]) == (
        "assigned",
        "high",
        "Иванов К. П.",
    )
    assert first["created_at"] == "2026-11-14T13:40:00Z".replace("Z", "+00:00")
    assert first["resolution_due"] == "2026-11-20T20:59:00+00:00"  # the end of 20.11 in Moscow
    history = json.loads(fsm(db_url, "orders", "history", "А191118", "--json").stdout)
    assert history[0]["actor"] == "Орлова В. П."
    second = json.loads(fsm(db_url, "orders", "list", "--search", "Не охлаждает", "--json").stdout)
    assert second[0]["number"].startswith("26-")  # numbered by the company's pattern
    assert second[0]["object"] == "Кондиционер Ballu BSW-09HN1 (подсобка)"


def test_an_imported_deadline_sets_only_the_resolution(demo, db_url, tmp_path):
    """A high row with Срок gets its reaction from the policy (high: 1 h); raising the
    criticality later recomputes the reaction, keeps the Срок, and the history says so."""
    sheet = (
        "Внешний код;Дата создания;Заказчик;Описание;Критичность;Срок\n"
        "D-1;26.11.2026 10:00;ООО «СМ-Трейд»;Срок из файла D-1;Высокая;30.11.2026\n"
    )
    fsm(db_url, "import", "orders", str(write(tmp_path / "o.csv", sheet)))
    found = fsm(db_url, "orders", "list", "--search", "Срок из файла", "--json").stdout
    (row,) = json.loads(found)
    number = row["number"]
    order = json.loads(fsm(db_url, "orders", "show", number, "--json").stdout)
    assert order["resolution_due"] == "2026-11-30T20:59:00+00:00"  # the end of 30.11
    assert order["reaction_due"] == "2026-11-26T08:00:00+00:00"  # 10:00 + 1 h, in Moscow
    assert (order["reaction_manual"], order["resolution_manual"]) == (False, True)
    fsm(db_url, "orders", "update", number, "--criticality", "critical")
    order = json.loads(fsm(db_url, "orders", "show", number, "--json").stdout)
    assert order["reaction_due"] == "2026-11-26T07:30:00+00:00"  # critical: 30 min
    assert order["resolution_due"] == "2026-11-30T20:59:00+00:00"
    history = json.loads(fsm(db_url, "orders", "history", number, "--json").stdout)
    recomputed = [h for h in history if h["action"] == "sla"]
    assert [(h["field"], h["old"], h["new"]) for h in recomputed] == [
        ("reaction_due", "2026-11-26T08:00+00:00", "2026-11-26T07:30+00:00")
    ]
    # the same row again, now low: the import recomputes the reaction the same way
    again = sheet.replace("Высокая", "низкая")
    result = fsm(db_url, "import", "orders", str(write(tmp_path / "o2.csv", again)))
    assert "1 updated" in result.stderr
    order = json.loads(fsm(db_url, "orders", "show", number, "--json").stdout)
    assert order["reaction_due"] == "2026-11-26T15:00:00+00:00"  # low: 8 h
    assert order["resolution_due"] == "2026-11-30T20:59:00+00:00"
    history = json.loads(fsm(db_url, "orders", "history", number, "--json").stdout)
    assert [h["field"] for h in history if h["action"] == "sla"] == ["reaction_due"] * 2


def test_every_invalid_row_is_reported_and_nothing_is_written(demo, db_url, db, tmp_path):
    before = count(db, Order)
    sheet = (
        "Внешний код,Заказчик,Описание,Срок,Критичность,Исполнитель\n"
        "X-1,ООО «СМ-Трейд»,Хорошая строка,,,\n"
        "X-2,ООО «СМ-Трейд»,Плохая дата,31.02.2024,,\n"
        "X-3,Рога и копыта,Нет такого заказчика,,,\n"
        "X-4,ООО «СМ-Трейд»,Неизвестная критичность,,срочнейшая,\n"
        "X-5,ООО «СМ-Трейд»,Часть имени исполнителя,,,ова\n"
        "X-1,ООО «СМ-Трейд»,Повтор ключа,,,\n"
        "X-7,ООО «СМ-Трейд»,,,,\n"
    )
    path = write(tmp_path / "orders.csv", sheet)
    result = fsm(db_url, "import", "orders", str(path), code=1)
    lines = result.stderr.strip().splitlines()
    name = str(path)
    assert f"{name}:3: column 'Срок': cannot read date '31.02.2024'" in lines
    assert (
        f"{name}:4: column 'Заказчик': no customer matches 'Рога и копыта' "
        "(--create-missing creates it)"
    ) in lines
    assert any(
        line.startswith(f"{name}:5: column 'Критичность': unknown criticality") for line in lines
    )
    assert any(  # a part of several names: none is chosen, the closest are named
        line.startswith(f"{name}:6: column 'Исполнитель': no employee matches 'ова' (closest: ")
        for line in lines
    )
    assert f"{name}:7: external_id 'X-1' appears again (first at line 2)" in lines
    assert f"{name}:8: column 'Описание': a value is required" in lines
    assert "0 inserted" in lines[-1]
    assert "6 rejected" in lines[-1]
    assert "nothing written" in lines[-1]
    assert count(db, Order) == before


def test_skip_invalid_writes_the_rest_and_a_rejects_file_to_fix(demo, db_url, db, tmp_path):
    before = count(db, Order)
    sheet = (
        "Внешний код;Заказчик;Описание;Срок\n"
        "R-1;ООО «СМ-Трейд»;Первая;\n"
        "R-2;ООО «СМ-Трейд»;Вторая;32.13.2026\n"
        "R-3;ООО «СМ-Трейд»;Третья;\n"
    )
    path = write(tmp_path / "o.csv", sheet, "cp1251")
    rejects = tmp_path / "rejects.csv"
    result = fsm(
        db_url, "import", "orders", str(path), "--skip-invalid", "--rejects", str(rejects), code=1
    )
    assert "2 inserted, 0 updated, 0 unchanged, 1 rejected" in result.stderr
    assert count(db, Order) == before + 2
    with open_source(str(rejects)) as source:
        rows = list(source.rows())
    assert len(rows) == 1
    assert rows[0].values["Срок"] == "32.13.2026"
    assert "cannot read date" in rows[0].values["error"]
    fixed = rejects.read_text(encoding="cp1251").replace("32.13.2026", "30.12.2026")
    rejects.write_text(fixed, encoding="cp1251")
    result = fsm(db_url, "import", "orders", str(rejects))  # re-imported as is
    assert "1 inserted" in result.stderr
    assert "Ignored column(s): 'error'" in result.stderr


@pytest.mark.parametrize(
    ("encoding", "delimiter", "starts"),
    [
        ("cp1251", ";", b""),  # as Russian Excel saves "CSV (разделители - запятые)"
        ("utf-8-sig", "\t", b"\xef\xbb\xbf"),
        ("utf-8", ",", b"\xef\xbb\xbf"),  # a BOM, so that Excel shows the Cyrillic right
    ],
)
def test_the_rejects_file_keeps_the_inputs_encoding_and_delimiter(
    demo, db_url, tmp_path, encoding, delimiter, starts
):
    header = delimiter.join(["Внешний код", "Заказчик", "Описание", "Срок"])
    rows = [
        delimiter.join(["R-1", "ООО «СМ-Трейд»", "Хорошая строка", ""]),
        delimiter.join(["R-2", "ООО «Нет такого»", "Чужой заказчик — № 5", ""]),
        delimiter.join(["R-3", "ООО «СМ-Трейд»", "Плохой срок", "32.13.2026"]),
    ]
    path = write(tmp_path / "o.csv", "\r\n".join([header, *rows]) + "\r\n", encoding)
    rejects = tmp_path / "rejects.csv"
    fsm(db_url, "import", "orders", str(path), "--skip-invalid", "--rejects", str(rejects), code=1)
    data = rejects.read_bytes()
    assert data.startswith(starts + header.encode("utf-8" if starts else encoding))
    text = data[len(starts) :].decode("utf-8" if starts else encoding)  # strict: all of it
    lines = text.split("\r\n")
    assert lines[0] == f"{header}{delimiter}error"
    assert lines[1].startswith(f"{rows[1]}{delimiter}{path}:3: column 'Заказчик': no customer")
    assert lines[2].startswith(f"{rows[2]}{delimiter}{path}:4: column 'Срок': cannot read")
    assert lines[3:] == [""]


def test_dry_run_writes_nothing(demo, db_url, db, tmp_path):
    before = count(db, Order)
    path = write(tmp_path / "o.csv", "Заказчик,Описание\nООО «СМ-Трейд»,Проверка\n")
    result = fsm(db_url, "import", "orders", str(path), "--dry-run")
    assert "1 would be inserted" in result.stderr
    assert count(db, Order) == before


def test_column_problems_are_refused_before_any_row(demo, db_url, db, tmp_path):
    path = write(
        tmp_path / "o.csv", "Заказчик;Номер;Комментарий диспетчера\nООО «СМ-Трейд»;Z-1;x\n"
    )
    result = fsm(db_url, "import", "orders", str(path), code=1)
    assert result.stderr.strip() == ("Error: missing required column(s): description (Описание)")
    path = write(
        tmp_path / "p.csv", "Заказчик;Описание;Комментарий диспетчера\nООО «СМ-Трейд»;x;y\n"
    )
    result = fsm(db_url, "import", "orders", str(path), "--strict", code=1)
    assert "unknown column(s): 'Комментарий диспетчера'" in result.stderr
    result = fsm(db_url, "import", "orders", str(path))
    assert "Ignored column(s): 'Комментарий диспетчера'" in result.stderr
    mapped = write(tmp_path / "m.csv", "Клиент организации;Суть\nООО «СМ-Трейд»;Через map\n")
    result = fsm(
        db_url,
        "import",
        "orders",
        str(mapped),
        "--map",
        "Клиент организации=customer",
        "--map",
        "Суть=description",
    )
    assert "1 inserted" in result.stderr
    result = fsm(db_url, "import", "orders", str(mapped), "--map", "Суть=subject", code=1)
    assert "have no field 'subject'" in result.stderr
    both = write(tmp_path / "b.csv", "Описание;Суть заявки;Заказчик\nа;б;ООО «СМ-Трейд»\n")
    assert "both mean 'description'" in fsm(db_url, "import", "orders", str(both), code=1).stderr


def test_create_missing_creates_customers_and_objects(demo, db_url, db, tmp_path):
    sheet = "Заказчик;Объект;Описание\nООО «Новый клиент»;Котельная № 3;Не греет\n"
    path = write(tmp_path / "o.csv", sheet)
    assert "no customer matches" in fsm(db_url, "import", "orders", str(path), code=1).stderr
    result = fsm(db_url, "import", "orders", str(path), "--create-missing")
    assert "1 inserted, 0 updated, 0 unchanged, 0 rejected, created 1 customer, 1 object" in (
        result.stderr
    )
    with db.reader() as s:
        obj = s.execute(
            select(ServiceObject).where(ServiceObject.name == "Котельная № 3")
        ).scalar_one()
        owner = s.get(Company, obj.customer_id)
    assert owner.name == "ООО «Новый клиент»"


def test_an_object_of_another_customer_is_refused(demo, db_url, tmp_path):
    sheet = "Заказчик;Объект;Описание\nООО «СМ-Трейд»;ПТК-12-ДГУ;Чужой генератор\n"
    result = fsm(db_url, "import", "orders", str(write(tmp_path / "o.csv", sheet)), code=1)
    assert (  # an inventory number is exact evidence: of another customer's object
        "column 'Объект': object 'Дизель-генератор FG Wilson P110-3' ('ПТК-12-ДГУ') belongs to АО"
        in result.stderr
    )


def test_updating_orders_by_external_id_moves_them_through_the_rules(demo, db_url, db, tmp_path):
    first = "Внешний код;Заказчик;Описание\nU-1;ООО «СМ-Трейд»;Не работает\n"
    fsm(db_url, "import", "orders", str(write(tmp_path / "a.csv", first)))
    moved = "Внешний код;Заказчик;Описание;Исполнитель;Стадия\nU-1;ООО «СМ-Трейд»;Не работает;Иванов К. П.;В пути\n"
    result = fsm(db_url, "import", "orders", str(write(tmp_path / "b.csv", moved)))
    assert "1 updated" in result.stderr
    number = json.loads(fsm(db_url, "orders", "list", "--search", "Не работает", "--json").stdout)[
        0
    ]["number"]
    history = json.loads(fsm(db_url, "orders", "history", number, "--json").stdout)
    assert [(h["field"], h["new"]) for h in history[1:]] == [
        ("assignee", "Иванов К. П."),
        ("stage", "assigned"),
        ("stage", "en_route"),
    ]
    closed = moved.replace("В пути", "Закрыта")
    result = fsm(db_url, "import", "orders", str(write(tmp_path / "c.csv", closed)), code=1)
    assert "cannot move from En route (en_route) to Closed (closed)" in result.stderr


def test_json_lines_from_standard_input(demo, db_url, db):
    lines = "\n".join(
        json.dumps(
            {
                "customer": "ООО «СМ-Трейд»",
                "description": f"Из конвейера {i}",
                "external_id": f"CI-{i}",
                "criticality": "high",
            },
            ensure_ascii=False,
        )
        for i in range(3)
    )
    result = fsm(db_url, "import", "orders", "-", "--nl", stdin=lines.encode())
    assert "3 inserted" in result.stderr
    result = fsm(db_url, "import", "orders", "-", stdin=lines.encode())  # sniffed as JSON lines
    assert "3 unchanged" in result.stderr


def test_excel_with_dates_and_numbers(db_url, db, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ФИО", "Должность", "Ставка", "Навыки", "Табельный номер", "Активен"])
    sheet.append(["Иванов Кирилл Петрович", "Инженер", 1750.5, "кондиционеры; холод", 101, "да"])
    sheet.append(["Петров Пётр", "Техник", "1 200,00", "", 102, "нет"])
    book.create_sheet("Прочее").append(["x"])
    path = tmp_path / "employees.xlsx"
    book.save(path)
    result = fsm(db_url, "import", "employees", str(path))
    assert "2 inserted" in result.stderr
    with db.reader() as s:
        ivanov = s.execute(select(Employee).where(Employee.external_id == "101")).scalar_one()
        petrov = s.execute(select(Employee).where(Employee.external_id == "102")).scalar_one()
    assert (str(ivanov.hourly_rate), ivanov.skills, ivanov.short_name) == (
        "1750.50",
        ["кондиционеры", "холод"],
        "Иванов К. П.",
    )
    assert (str(petrov.hourly_rate), petrov.active) == ("1200.00", False)
    refused = fsm(db_url, "import", "employees", str(path), "--sheet", "Нет", code=1).stderr
    assert f"{path}: no sheet named 'Нет' (sheets: 'Sheet', 'Прочее')" in refused


def test_excel_serial_dates_in_an_order_sheet(demo, db_url, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Заказчик", "Описание", "Дата создания", "Срок"])
    sheet.append(["ООО «СМ-Трейд»", "Из Excel", 46340.5, None])  # 14.11.2026 12:00
    path = tmp_path / "o.xlsx"
    book.save(path)
    fsm(db_url, "import", "orders", str(path))
    row = json.loads(fsm(db_url, "orders", "list", "--search", "Из Excel", "--json").stdout)[0]
    assert row["created_at"] == "2026-11-14T09:00:00+00:00"


@pytest.mark.parametrize("fmt", ["csv", "nl", "xlsx", "tsv"])
def test_export_then_import_into_an_empty_database_reproduces_the_data(
    demo, db_url, tmp_path, fmt, request
):
    first = {}
    for entity in EXPORT_ORDER:
        path = tmp_path / f"{entity}.{fmt}"
        # --for-import: the orders workbook is otherwise the one for people
        fsm(db_url, "export", entity, "-o", str(path), "--format", fmt, "--for-import")
        first[entity] = path
    other = request.getfixturevalue("second_db_url")
    for entity in EXPORT_ORDER:
        result = fsm(other, "import", entity, str(first[entity]), "--format", fmt)
        assert "0 rejected" in result.stderr, result.stderr
    for entity in EXPORT_ORDER:
        again = tmp_path / f"{entity}.again.{fmt}"
        fsm(other, "export", entity, "-o", str(again), "--format", fmt, "--for-import")
        with open_source(str(first[entity]), fmt=fmt) as a, open_source(str(again), fmt=fmt) as b:
            assert [r.values for r in a.rows()] == [r.values for r in b.rows()], entity


@pytest.fixture
def second_db_url(request, tmp_path):
    """Another empty database on the same back-end as ``db_url``."""
    url = request.getfixturevalue("db_url")
    if url.startswith("sqlite"):
        target = tmp_path / "second.db"
        import shutil

        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    from tests.conftest import fresh_pg

    server = request.getfixturevalue("pg_server")
    name, other = fresh_pg(server)
    try:
        yield other
    finally:
        server.drop(name)


def test_export_filters_and_formats_for_excel(demo, db_url, tmp_path):
    out = tmp_path / "open.csv"
    fsm(
        db_url,
        "export",
        "orders",
        "--open",
        "--stage",
        "in_progress",
        "-o",
        str(out),
        "--encoding",
        "cp1251",
        "--delimiter",
        ";",
    )
    text = out.read_bytes().decode("cp1251")
    assert text.splitlines()[0].startswith("number;external_id;created_at")
    assert all(";in_progress;" in line for line in text.splitlines()[1:])
    stdout = fsm(db_url, "export", "companies", "--format", "nl").stdout
    assert json.loads(stdout.splitlines()[0])["name"]


def test_usage_errors_exit_2(db_url, tmp_path):
    path = write(tmp_path / "x.csv", "a\n1\n")
    assert fsm(db_url, "import", "orders", str(path), "--format", "pdf", code=2).exit_code == 2
    assert fsm(db_url, "import", "orders", str(path), "--map", "broken", code=2).exit_code == 2
    assert "cannot import 'invoices'" in fsm(db_url, "import", "invoices", str(path), code=1).stderr
    assert "no such file" in fsm(db_url, "import", "orders", "nope.csv", code=1).stderr


# --- mangled input never crashes and never half-writes ---------------------------------

cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=5), min_size=1, max_size=6),
    header=st.sampled_from(
        [
            ["Заказчик", "Описание", "Срок"],
            ["Внешний код", "Заказчик", "Описание", "Критичность", "Исполнитель"],
            ["Наименование", "ИНН"],
        ]
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_mangled_csv_gives_one_line_errors_and_no_partial_write(db, world, rows, header, delimiter):
    text = delimiter.join(header) + "\n" + "\n".join(delimiter.join(r) for r in rows) + "\n"
    before = {m: count(db, m) for m in (Order, OrderHistory, Company)}
    errors: list[str] = []
    try:
        with open_source("-", stdin=io.BytesIO(text.encode())) as source:
            report = run_import(
                db, entity="orders", source=source, options=ImportOptions(), on_error=errors.append
            )
    except Exception as exc:  # only the user's kind of error may escape, never a bug
        from fsm_core.errors import FsmError

        assert isinstance(exc, FsmError), repr(exc)  # noqa: PT017 - any exception must be one
        assert "\n" not in exc.one_line()  # noqa: PT017
        assert {m: count(db, m) for m in before} == before
        return
    assert all("\n" not in e for e in errors)
    if report.rejected:
        assert {m: count(db, m) for m in before} == before
    else:
        assert count(db, Order) == before[Order] + report.inserted


def test_readme_documents_every_accepted_column():
    from fsm_core.importing.registry import ENTITIES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for entity in ENTITIES.values():
        for column in entity.columns:
            assert f"`{column.name}`" in readme, (entity.name, column.name)
            for alias in column.aliases:
                assert alias in readme, (entity.name, alias)


# -- a large import on SQLite builds its indexes once ------------------------------------


@pytest.fixture
def sqlite_demo(demo_template, tmp_path):
    """A demo database on SQLite (index deferral is SQLite's: PostgreSQL keeps them)."""
    target = tmp_path / "deferral.db"
    shutil.copyfile(demo_template, target)
    url = f"sqlite:///{target}"
    database = Database(url)
    yield url, database
    database.engine.dispose()


def _indexes(db: Database) -> list[tuple[str, str]]:
    with db.reader() as s:
        return [
            tuple(r)
            for r in s.connection().exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('orders', 'order_history') ORDER BY name"
            )
        ]


def _order_sheet(tmp_path: Path, rows: int, bad_line: int | None = None) -> Path:
    lines = ["Внешний код;Заказчик;Описание;Срок"]
    for i in range(rows):
        due = "31.02.2026" if i + 2 == bad_line else "20.12.2026"
        lines.append(f"BULK-{i:05d};ООО «СМ-Трейд»;Заявка {i};{due}")
    return write(tmp_path / "bulk.csv", "\n".join(lines) + "\n")


def test_a_large_import_leaves_the_indexes_as_they_were(sqlite_demo, tmp_path):
    url, db = sqlite_demo
    before = _indexes(db)
    result = fsm(url, "import", "orders", str(_order_sheet(tmp_path, 700)), "--batch-size", "100")
    assert "700 inserted" in result.stderr
    assert _indexes(db) == before
    with db.reader() as s:
        conn = s.connection()
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM orders WHERE resolution_due < '2027'"
            )
        )
    assert "ix_orders_resolution_due" in plan
    listed = json.loads(fsm(url, "orders", "list", "--search", "Заявка 699", "--json").stdout)
    assert [o["external_id"] for o in listed] == ["BULK-00699"]


def test_a_failed_large_import_keeps_the_indexes_and_writes_nothing(sqlite_demo, tmp_path):
    url, db = sqlite_demo
    before_indexes, before = _indexes(db), count(db, Order)
    path = _order_sheet(tmp_path, 700, bad_line=650)
    result = fsm(url, "import", "orders", str(path), "--batch-size", "100", code=1)
    assert "bulk.csv:650: column 'Срок': cannot read date '31.02.2026'" in result.stderr
    assert count(db, Order) == before
    assert _indexes(db) == before_indexes


def test_an_interrupted_import_says_nothing_was_written(
    with_demo, db_url, db, tmp_path, monkeypatch
):
    from fsm_core.importing import engine

    real = engine._process_serially

    def interrupted(run, *args):
        real(run, *args)  # every row is written, and then the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "_process_serially", interrupted)
    before = count(db, Order)
    sheet = "Заказчик;Описание\nООО «СМ-Трейд»;Прерванная заявка\n"
    result = fsm(db_url, "import", "orders", str(write(tmp_path / "o.csv", sheet)), code=130)
    assert "o.csv: interrupted; nothing was written" in result.stderr
    assert count(db, Order) == before


def test_keys_with_quotes_backslashes_and_commas_are_found_again(with_demo, db_url, db, tmp_path):
    """Batches look their keys up as one array (on PostgreSQL a text[] literal)."""
    keys = ['A"1', "B\\2", "C,{3}", 'D "4"', "", "Е ё"]
    lines = ["Внешний код;Заказчик;Описание"]
    lines += [
        f'"{k.replace(chr(34), chr(34) * 2)}";ООО «СМ-Трейд»;Заявка {i}'
        for i, k in enumerate(keys)
        if k
    ]
    path = write(tmp_path / "keys.csv", "\n".join(lines) + "\n")
    first = fsm(db_url, "import", "orders", str(path))
    assert "5 inserted" in first.stderr
    again = fsm(db_url, "import", "orders", str(path))
    assert "0 inserted, 0 updated, 5 unchanged" in again.stderr
    with db.reader() as s:
        stored = set(
            s.execute(select(Order.external_id).where(Order.external_id.in_(keys))).scalars()
        )
    assert stored == set(keys) - {""}


def test_a_header_in_another_encoding_is_refused_naming_the_encoding(demo, db_url, db, tmp_path):
    """A KOI8-R header gave "missing required column(s): customer" (issue 15 item 17)."""
    text = "Заказчик;Описание\nООО «СМ-Трейд»;Течёт вода\n".replace("«", '"').replace("»", '"')
    before = count(db, Order)
    for data in (text.encode("koi8-r"), text.lower().encode("koi8-r")):
        path = tmp_path / "koi8.csv"
        path.write_bytes(data)
        refused = fsm(db_url, "import", "orders", str(path), code=1)
        assert "missing" not in refused.stderr
        error = refused.stderr.splitlines()[-1]
        assert error.startswith(
            f"Error: {path}:1: read as cp1251, the encoding guessed, the header"
        )
        assert error.endswith(
            "are no column fsm knows (give the file's encoding: --encoding koi8-r)"
        )
        assert count(db, Order) == before
    right = fsm(db_url, "import", "orders", str(path), "--encoding", "koi8-r", "--json")
    assert json.loads(right.stdout)["inserted"] == 1
    assert right.stderr == ""  # no notice: the encoding was given


def test_a_latin_1_file_is_read_with_a_notice(demo, db_url, db, tmp_path):
    """It was read as Windows-1251 without a word: 'Cafй crиme'."""
    path = tmp_path / "latin.csv"
    path.write_bytes(b"customer;description\n7801234564;Caf\xe9 cr\xe8me\n")
    guessed = fsm(db_url, "import", "orders", str(path), "--dry-run")
    assert guessed.stderr.splitlines()[0] == (
        f"{path}: read as cp1251, a guess: its text does not read like Russian in it; "
        "if it looks wrong, give the encoding: --encoding latin-1"
    )
    quiet = fsm(db_url, "import", "orders", str(path), "--dry-run", "--quiet")
    assert quiet.stderr.count("\n") == 1  # the notice stays: the text may be misread
    fsm(db_url, "import", "orders", str(path), "--encoding", "latin-1")
    with db.reader() as s:
        stored = s.execute(select(Order.description).order_by(Order.id.desc())).scalars().first()
    assert stored == "Café crème"
    french = tmp_path / "french.csv"
    french.write_bytes("Numéro;description\n1;x\n".encode("latin-1"))
    refused = fsm(db_url, "import", "orders", str(french), code=1)
    assert "the header(s) 'Numйro' are no column fsm knows" in refused.stderr
    assert "--encoding" in refused.stderr.splitlines()[-1]
