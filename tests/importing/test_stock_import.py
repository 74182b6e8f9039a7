"""`fsm import items|warehouses|stock` with the headers a Russian back office's sheets
carry, every refusal, and export → import round trips, on SQLite and PostgreSQL."""

import json
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fsm_core.importing.readers import open_source
from fsm_core.models import Item, StockMovement, Warehouse
from tests.cli_runner import invoke

fsm = partial(invoke)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


ITEMS_1C = (
    "Артикул;Номенклатура;Ед. изм.;Цена закупки;Цена;Мин. остаток;Штрихкод;Код\r\n"
    "ASP-MAXI-OR;Дренажная помпа ASPEN MAXI ORANGE;шт;6 900,00;9 800,00;2;5060181700205;00-001\r\n"
    "R410A;Фреон R410A;кг;1 150;1 900;10,5;;00-002\r\n"
    "F017C450;Кронштейн F 017 C 450;;890;1 450;;;00-003\r\n"
)


def test_items_from_a_1c_sheet_in_windows_1251(db_url, db, tmp_path):
    path = write(tmp_path / "items.csv", ITEMS_1C, "cp1251")
    result = fsm(db_url, "import", "items", str(path))
    assert "3 inserted, 0 updated, 0 unchanged, 0 rejected" in result.stderr
    with db.reader() as s:
        pump, freon, bracket = s.execute(select(Item).order_by(Item.id)).scalars()
    assert (pump.sku, pump.unit, pump.purchase_price, pump.sale_price) == (
        "ASP-MAXI-OR",
        "шт",
        Decimal("6900.00"),
        Decimal("9800.00"),
    )
    assert (pump.min_level, pump.barcode, pump.external_id) == (
        Decimal(2),
        "5060181700205",
        "00-001",
    )
    assert (freon.unit, freon.min_level) == ("кг", Decimal("10.5"))
    assert (bracket.unit, bracket.min_level) == ("шт", Decimal(0))  # the defaults
    again = fsm(db_url, "import", "items", str(path))
    assert "0 inserted, 0 updated, 3 unchanged" in again.stderr
    changed = ITEMS_1C.replace("1 150;1 900", "1 200;1 990")
    result = fsm(db_url, "import", "items", str(write(tmp_path / "b.csv", changed, "cp1251")))
    assert "0 inserted, 1 updated, 2 unchanged" in result.stderr


def test_invalid_item_rows_are_reported_and_nothing_is_written(db_url, db, tmp_path):
    sheet = (
        "Артикул,Наименование,Ед. изм.,Мин. остаток,Цена\n"
        "A-1,Хорошая строка,шт,1,100\n"
        ",Без артикула,шт,,\n"
        "A-3,Дробные штуки,шт,1.5,\n"
        "A-4,Плохая цена,м,,сто рублей\n"
        "A-1,Повтор,шт,,\n"
    )
    path = write(tmp_path / "items.csv", sheet)
    result = fsm(db_url, "import", "items", str(path), code=1)
    lines = result.stderr.strip().splitlines()
    name = str(path)
    assert f"{name}:3: column 'Артикул': a value is required" in lines
    assert f"{name}:5: column 'Цена': cannot read number 'сто рублей'" in lines
    assert f"{name}:6: sku 'A-1' appears again (first at line 2)" in lines
    assert "nothing written" in lines[-1]
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(Item)).scalar_one() == 0
    assert f"{name}:4: column 'Мин. остаток': '1.5' is not a whole number of шт" in lines
    result = fsm(db_url, "import", "items", str(path), "--skip-invalid", code=1)
    assert "1 inserted, 0 updated, 0 unchanged, 4 rejected" in result.stderr


def test_warehouses_with_a_van_named_by_its_technician(db_url, db, tmp_path):
    fsm(db_url, "employees", "create", "Иванов Кирилл Петрович", "--external-id", "E-01")
    sheet = (
        "Склад\tТип\tСотрудник\tАдрес\tВнешний код\n"
        "Центральный склад\tцентральный\t\tул. Салова, 27\tWH-01\n"
        "Склад Юг\tрегиональный\t\t\tWH-02\n"
        "Машина Иванова\t\tИванов К. П.\t\tWH-V01\n"
    )
    result = fsm(db_url, "import", "warehouses", str(write(tmp_path / "w.tsv", sheet)))
    assert "3 inserted" in result.stderr, result.stderr
    with db.reader() as s:
        rows = s.execute(
            select(Warehouse.name, Warehouse.kind, Warehouse.employee_id).order_by(Warehouse.id)
        ).all()
    assert [(n, k, e is not None) for n, k, e in rows] == [
        ("Центральный склад", "central", False),
        ("Склад Юг", "regional", False),
        ("Машина Иванова", "van", True),
    ]
    bad = "Склад;Тип;Сотрудник\nСклад 134;подвал;\nМашина Петрова;;Петров П. П.\n"
    result = fsm(db_url, "import", "warehouses", str(write(tmp_path / "bad.csv", bad)), code=1)
    lines = result.stderr.strip().splitlines()
    assert any("column 'Тип': unknown warehouse kind 'подвал'" in line for line in lines)
    assert any("column 'Сотрудник': no employee matches 'Петров П. П.'" in line for line in lines)


@pytest.fixture
def catalogue(db_url, tmp_path):
    fsm(db_url, "import", "items", str(write(tmp_path / "items.csv", ITEMS_1C)))
    sheet = "Склад,Тип\nЦентральный склад,central\nСклад Юг,regional\n"
    fsm(db_url, "import", "warehouses", str(write(tmp_path / "w.csv", sheet)))
    return db_url


def movements(db) -> list[tuple[str, str, Decimal, Decimal]]:
    with db.reader() as s:
        rows = s.execute(
            select(StockMovement.kind, Item.sku, StockMovement.quantity, StockMovement.unit_price)
            .join(Item, Item.id == StockMovement.item_id)
            .order_by(StockMovement.id)
        ).all()
    return [tuple(r) for r in rows]


def test_opening_balances_become_receipts_then_adjustments(catalogue, db, tmp_path):
    sheet = (
        "Склад;Артикул;Наименование;Количество;Цена;Документ\n"
        "Центральный склад;ASP-MAXI-OR;Дренажная помпа ASPEN MAXI ORANGE;6;6 950;Остатки на 01.12\n"
        "Центральный склад;;Фреон R410A;25,5;;\n"
        "Склад Юг;F017C450;;4;;\n"
    )
    path = write(tmp_path / "stock.csv", sheet)
    result = fsm(catalogue, "import", "stock", str(path))
    assert "3 inserted, 0 updated, 0 unchanged, 0 rejected" in result.stderr
    assert movements(db) == [
        ("receipt", "ASP-MAXI-OR", Decimal(6), Decimal("6950.00")),
        ("receipt", "R410A", Decimal("25.5"), Decimal("1150.00")),  # the purchase price
        ("receipt", "F017C450", Decimal(4), Decimal("890.00")),
    ]
    again = fsm(catalogue, "import", "stock", str(path))
    assert "0 inserted, 0 updated, 3 unchanged" in again.stderr
    counted = sheet.replace("Фреон R410A;25,5", "Фреон R410A;24")
    result = fsm(catalogue, "import", "stock", str(write(tmp_path / "b.csv", counted)))
    assert "0 inserted, 1 updated, 2 unchanged" in result.stderr
    assert movements(db)[-1] == ("adjustment", "R410A", Decimal("1.5"), Decimal("1150.00"))
    balance = json.loads(fsm(catalogue, "stock", "balance", "R410A", "--json").stdout)
    assert [(b["warehouse"], b["on_hand"]) for b in balance] == [("Центральный склад", "24.000")]


def test_invalid_stock_rows_are_reported_and_nothing_is_written(catalogue, db, tmp_path):
    sheet = (
        "Склад,Артикул,Наименование,Количество\n"
        "Центральный склад,ASP-MAXI-OR,,2\n"
        "Склад 134,ASP-MAXI-OR,,1\n"
        "Склад Юг,NO-SUCH,,1\n"
        "Склад Юг,,Кронштейн F 017 C 450,1.5\n"
        "Склад Юг,,,1\n"
        "Центральный склад,ASP-MAXI-OR,,3\n"
        "Склад Юг,R410A,,-1\n"
        "Склад Юг,R410A,,\n"
    )
    path = write(tmp_path / "stock.csv", sheet)
    result = fsm(catalogue, "import", "stock", str(path), code=1)
    lines = result.stderr.strip().splitlines()
    name = str(path)
    assert (
        f"{name}:3: column 'Склад': no warehouse matches 'Склад 134' "
        "(closest: Склад Юг; --create-missing creates it)"
    ) in lines
    assert (
        f"{name}:4: column 'Артикул': no item matches 'NO-SUCH' (add it with fsm import "
        "items, or --create-missing (needs SKU and name))"
    ) in lines
    assert f"{name}:5: column 'Количество': '1.5' is not a whole number of шт" in lines
    assert f"{name}:6: give the item's SKU (Артикул) or its name (Наименование)" in lines
    assert (f"{name}:7: the same warehouse and item appear again (first at line 2)") in lines
    assert f"{name}:8: column 'Количество': '-1' is negative" in lines
    assert f"{name}:9: column 'Количество': a value is required" in lines
    assert "nothing written" in lines[-1]
    assert movements(db) == []
    no_item = write(tmp_path / "x.csv", "Склад;Количество\nСклад Юг;1\n")
    assert "missing required column(s): sku (Артикул) or item (Наименование)" in (
        fsm(catalogue, "import", "stock", str(no_item), code=1).stderr
    )


def test_create_missing_makes_the_warehouses_and_items_a_balance_names(db_url, db, tmp_path):
    sheet = (
        "Склад;Артикул;Наименование;Ед. изм.;Количество;Цена\n"
        "Склад 134;UTP-5E;Кабель UTP cat. 5e;м;305;24\n"
        "Склад 134;MATRIX-II;Считыватель EM-Marine Matrix-II;;3;1 100\n"
    )
    path = write(tmp_path / "stock.csv", sheet)
    dry = fsm(db_url, "import", "stock", str(path), "--create-missing", "--dry-run")
    assert "2 would be inserted" in dry.stderr
    assert movements(db) == []
    result = fsm(db_url, "import", "stock", str(path), "--create-missing")
    assert "2 inserted" in result.stderr
    items = json.loads(fsm(db_url, "stock", "items", "list", "--json").stdout)
    assert [(i["sku"], i["unit"], i["purchase_price"], i["on_hand"]) for i in items] == [
        ("UTP-5E", "м", "24.00", "305.000"),
        ("MATRIX-II", "шт", "1100.00", "3.000"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "nl"])
def test_export_then_import_reproduces_items_warehouses_and_stock(
    with_demo, db_url, tmp_path, fmt, request
):
    first = {}
    entities = ("employees", "items", "warehouses", "stock")
    for entity in entities:
        path = tmp_path / f"{entity}.{fmt}"
        fsm(db_url, "export", entity, "-o", str(path), "--format", fmt)
        first[entity] = path
    other = request.getfixturevalue("second_db_url")
    for entity in entities:
        result = fsm(other, "import", entity, str(first[entity]), "--format", fmt)
        assert "0 rejected" in result.stderr, result.stderr
    for entity in entities[1:]:
        again = tmp_path / f"{entity}.again.{fmt}"
        fsm(other, "export", entity, "-o", str(again), "--format", fmt)
        with open_source(str(first[entity]), fmt=fmt) as a, open_source(str(again), fmt=fmt) as b:
            assert [r.values for r in a.rows()] == [r.values for r in b.rows()], entity
    balance = json.loads(fsm(other, "stock", "balance", "Фреон R410A", "--json").stdout)
    assert [(b["warehouse"], b["on_hand"]) for b in balance] == [
        ("Центральный склад", "21.000"),
        ("Склад Юг", "8.500"),
        ("Автомобиль (Иванов К. П.)", "2.800"),
    ]


@pytest.fixture
def second_db_url(request, tmp_path):
    """Another empty database on the same back-end as ``db_url``."""
    url = request.getfixturevalue("db_url")
    if url.startswith("sqlite"):
        import shutil

        target = tmp_path / "second.db"
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
