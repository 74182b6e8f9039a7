"""What an imported row's references may resolve to: exact evidence only.

An order that lands on the wrong object puts its work and materials into that object's
history without a word, so a batch import decides on a key (external id, INN, inventory or
serial number, e-mail, phone, short name) or the whole name -- an object's within the row's
customer, told apart from a same-named one of that customer by the row's address -- and
never on a part of a name. On SQLite and PostgreSQL, serially and with worker processes.
"""

from __future__ import annotations

import csv
import random
import time
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from fsm_core import clock
from fsm_core.db import Database
from fsm_core.importing.engine import ImportOptions, ImportReport, run_import
from fsm_core.importing.readers import open_source
from fsm_core.models import Company, Order, ServiceObject
from tests.cli_runner import invoke
from tests.conftest import NOW

SPLIT = "Сплит-система Daikin FTXB35C"
NEVSKY = "Санкт-Петербург, Невский пр., 10"
LIGOVSKY = "Санкт-Петербург, Лиговский пр., 50"
SADOVAYA = "Санкт-Петербург, Садовая ул., 5"


fsm = partial(invoke)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


class Shops:
    """Two customers whose shops have equipment of the same names, and names that are
    parts of other names; two technicians whose surnames are parts of each other's."""

    def __init__(self, db: Database) -> None:
        from fsm_core.services import objects, parties

        def obj(customer: Company, name: str, **data: object) -> int:
            created = objects.create_object(
                session=s, data={"customer_id": customer.id, "name": name, **data}
            )
            return created.id  # type: ignore[return-value]

        with db.transaction() as s:
            self.north = parties.create_company(
                session=s,
                data={"name": "ООО «Северный ветер»", "inn": "7801000005", "external_id": "C-N"},
            )
            self.south = parties.create_company(
                session=s, data={"name": "АО «Южный берег»", "external_id": "C-S"}
            )
            nevsky = obj(self.north, "Магазин на Невском", kind="site", address=NEVSKY)
            ligovsky = obj(self.north, "Магазин на Лиговском", kind="site", address=LIGOVSKY)
            sadovaya = obj(self.south, "Магазин на Садовой", kind="site", address=SADOVAYA)
            self.sites = {"nevsky": nevsky, "ligovsky": ligovsky, "sadovaya": sadovaya}
            # the same unit at two shops of one customer, and at another customer's shop
            self.north_nevsky = obj(self.north, SPLIT, parent_id=nevsky)
            self.north_ligovsky = obj(self.north, SPLIT, parent_id=ligovsky)
            self.south_split = obj(self.south, SPLIT, parent_id=sadovaya, serial_number="SN-1")
            # a name that is a part of another's
            self.north_store = obj(self.north, f"{SPLIT} (склад)", parent_id=nevsky)
            self.north_lg = obj(self.north, "Кондиционер LG S12EQ", inventory_number="INV-7")
            self.south_lg = obj(self.south, "Кондиционер LG", address=SADOVAYA)
            self.ivanov = parties.create_employee(
                session=s,
                data={
                    "full_name": "Иванов Кирилл Петрович",
                    "phone": "+7 921 000-00-01",
                    "email": "ivanov@example.ru",
                },
            ).id
            self.ivanova = parties.create_employee(
                session=s, data={"full_name": "Иванова Мария Сергеевна"}
            ).id
            self.contact = parties.create_contact(
                session=s,
                data={"company_id": self.north.id, "full_name": "Смирнова Ольга Викторовна"},
            ).id
            parties.create_crew(session=s, data={"name": "Бригада «Холод-2»"})
        self.db = db


@pytest.fixture
def shops(db: Database) -> Shops:
    return Shops(db)


def import_orders(
    url: str, path: Path, *, workers: int = 1, **options: object
) -> tuple[ImportReport, list[str]]:
    errors: list[str] = []
    database = Database(url)
    try:
        with clock.frozen(NOW), open_source(str(path)) as source:
            report = run_import(
                database,
                entity="orders",
                source=source,
                options=ImportOptions(workers=workers, batch_size=3, **options),  # type: ignore[arg-type]
                on_error=errors.append,
            )
    finally:
        database.dispose()
    return report, errors


def landed(db: Database) -> dict[str, tuple[int | None, str | None]]:
    """Each imported order's object: its id and the object's own address."""
    with db.reader() as s:
        rows = s.execute(
            select(Order.external_id, Order.object_id, ServiceObject.address)
            .outerjoin(ServiceObject, ServiceObject.id == Order.object_id)
            .where(Order.external_id.is_not(None))  # type: ignore[union-attr]
        )
        return {k: (o, a) for k, o, a in rows}


def objects_named(db: Database, name: str) -> list[tuple[int, int, str | None]]:
    with db.reader() as s:
        rows = s.execute(
            select(ServiceObject.id, ServiceObject.customer_id, ServiceObject.address)
            .where(ServiceObject.name == name)
            .order_by(ServiceObject.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


WORKERS = pytest.mark.parametrize("workers", [1, 2], ids=["serial", "workers"])


# --- objects ---------------------------------------------------------------------------


@WORKERS
def test_same_named_objects_at_two_customers_each_go_to_the_rows_customer(
    shops, db, db_url, tmp_path, workers
):
    sheet = (
        "Внешний код;Заказчик;Объект;Адрес;Описание\n"
        f"O-1;АО «Южный берег»;{SPLIT};;Не охлаждает\n"
        f"O-2;C-S;{SPLIT};{SADOVAYA};Течёт\n"
        f"O-3;ООО «Северный ветер»;{SPLIT};{NEVSKY};Шумит\n"
        f"O-4;7801000005;{SPLIT};{LIGOVSKY};Не включается\n"
        "O-5;АО «Южный берег»;SN-1;;По заводскому номеру\n"
    )
    report, errors = import_orders(db_url, write(tmp_path / "o.csv", sheet), workers=workers)
    assert (report.inserted, report.rejected) == (5, 0), errors
    got = {k: v[0] for k, v in landed(db).items()}
    assert got == {
        "O-1": shops.south_split,
        "O-2": shops.south_split,
        "O-3": shops.north_nevsky,
        "O-4": shops.north_ligovsky,
        "O-5": shops.south_split,
    }


@WORKERS
def test_a_name_known_only_at_another_customer_is_created_under_the_rows_customer(
    shops, db, db_url, tmp_path, workers
):
    """What refused a real file before ("object ... belongs to A, not to B")."""
    sheet = (
        "Внешний код;Заказчик;Объект;Адрес объекта;Описание\n"
        "N-1;ООО «Северный ветер»;Кондиционер LG;Санкт-Петербург, ул. Марата, 3;Не дует\n"
        "N-2;ООО «Северный ветер»;Кондиционер LG;Санкт-Петербург, ул. Марата, 3;Снова не дует\n"
        "N-3;АО «Южный берег»;Кондиционер LG;;У себя\n"
    )
    path = write(tmp_path / "o.csv", sheet)
    report, errors = import_orders(db_url, path, workers=workers)
    assert (report.inserted, report.rejected) == (0, 2)
    assert errors[0] == (
        f"{path}:2: column 'Объект': no object matches 'Кондиционер LG' at ООО «Северный ветер», "
        "address 'Санкт-Петербург, ул. Марата, 3' (closest: Кондиционер LG S12EQ "
        "(ООО «Северный ветер»; inv. no. INV-7); Кондиционер LG (АО «Южный берег», "
        f"{SADOVAYA}); --create-missing creates it)"
    )
    assert landed(db) == {}

    report, errors = import_orders(db_url, path, workers=workers, create_missing=True)
    assert (report.inserted, report.rejected) == (3, 0), errors
    created = [o for o in objects_named(db, "Кондиционер LG") if o[0] != shops.south_lg]
    assert created == [(created[0][0], shops.north.id, "Санкт-Петербург, ул. Марата, 3")]
    got = {k: v[0] for k, v in landed(db).items()}
    assert got == {"N-1": created[0][0], "N-2": created[0][0], "N-3": shops.south_lg}


def test_an_inventory_number_of_another_customers_object_is_refused(shops, db_url, tmp_path):
    sheet = "Заказчик;Объект;Описание\nАО «Южный берег»;INV-7;Чужой инвентарный номер\n"
    for create in ((), ("--create-missing",)):
        result = fsm(
            db_url, "import", "orders", str(write(tmp_path / "o.csv", sheet)), *create, code=1
        )
        assert (
            "column 'Объект': object 'Кондиционер LG S12EQ' ('INV-7') belongs to "
            "ООО «Северный ветер», not to АО «Южный берег»"
        ) in result.stderr


@WORKERS
def test_same_named_objects_of_one_customer_are_told_apart_by_the_address(
    shops, db, db_url, tmp_path, workers
):
    sheet = (
        "Внешний код;Заказчик;Объект;Адрес;Описание\n"
        # the address as the site has it, in another case and spacing
        f"A-1;ООО «Северный ветер»;{SPLIT};санкт-петербург,  невский пр., 10;Шумит\n"
        f"A-2;ООО «Северный ветер»;{SPLIT};{LIGOVSKY};Течёт\n"
        f"A-3;ООО «Северный ветер»;{SPLIT};;Не сказано где\n"
        f"A-4;ООО «Северный ветер»;{SPLIT};Санкт-Петербург, Невский пр., 12;Соседний дом\n"
        # the address only tells apart: where the customer has one of the name, it is that
        f"A-5;ООО «Северный ветер»;Кондиционер LG S12EQ;{NEVSKY};Единственный\n"
        f"A-6;АО «Южный берег»;{SPLIT};{NEVSKY};Единственный у заказчика\n"
    )
    path = write(tmp_path / "o.csv", sheet)
    report, errors = import_orders(db_url, path, workers=workers, skip_invalid=True)
    assert (report.inserted, report.rejected) == (4, 2)
    assert errors[0].startswith(
        f"{path}:4: column 'Объект': object '{SPLIT}' is ambiguous: it matches "
        f"{SPLIT} (ООО «Северный ветер», {NEVSKY}); {SPLIT} (ООО «Северный ветер», {LIGOVSKY})"
    )
    assert "give the address (Адрес) or the inventory number" in errors[0]
    assert errors[1].startswith(
        f"{path}:5: column 'Объект': no object matches '{SPLIT}' at ООО «Северный ветер», "
        "address 'Санкт-Петербург, Невский пр., 12' (closest: "
    )
    got = {k: v[0] for k, v in landed(db).items()}
    assert got == {
        "A-1": shops.north_nevsky,
        "A-2": shops.north_ligovsky,
        "A-5": shops.north_lg,
        "A-6": shops.south_split,
    }


def test_create_missing_gives_a_new_shops_unit_the_rows_address(shops, db, db_url, tmp_path):
    sheet = (
        "Внешний код;Заказчик;Объект;Адрес;Описание\n"
        f"B-1;ООО «Северный ветер»;{SPLIT};Санкт-Петербург, Московский пр., 7;Новый магазин\n"
        f"B-2;ООО «Северный ветер»;{SPLIT};{NEVSKY};Старый магазин\n"
        f"B-3;ООО «Северный ветер»;{SPLIT};Санкт-Петербург, Московский пр., 7;Снова новый\n"
    )
    path = write(tmp_path / "o.csv", sheet)
    dry = fsm(db_url, "import", "orders", str(path), "--create-missing", "--dry-run")
    assert "3 would be inserted" in dry.stderr
    assert ", would create 1 object in" in dry.stderr
    result = fsm(db_url, "import", "orders", str(path), "--create-missing")
    assert "3 inserted, 0 updated, 0 unchanged, 0 rejected, created 1 object in" in result.stderr
    new = [o for o in objects_named(db, SPLIT) if o[2] == "Санкт-Петербург, Московский пр., 7"]
    assert [o[1] for o in new] == [shops.north.id]
    got = {k: v[0] for k, v in landed(db).items()}
    assert got == {"B-1": new[0][0], "B-2": shops.north_nevsky, "B-3": new[0][0]}


@WORKERS
def test_a_part_of_a_name_never_resolves_and_the_error_lists_the_closest(
    shops, db, db_url, tmp_path, workers
):
    sheet = (
        "Внешний код;Заказчик;Объект;Описание\n"
        "P-1;ООО «Северный ветер»;Кондиционер LG;Часть имени чужого объекта\n"
        "P-2;ООО «Северный ветер»;Daikin FTXB35C (склад);Часть имени\n"
        f"P-3;ООО «Северный ветер»;{SPLIT} (склад);Полное имя\n"
        f'P-4;ооо  "северный ветер";{SPLIT.upper()} (СКЛАД);Регистр, пробелы, кавычки\n'
    )
    path = write(tmp_path / "o.csv", sheet)
    report, errors = import_orders(db_url, path, workers=workers, skip_invalid=True)
    assert (report.inserted, report.rejected) == (2, 2), errors
    assert errors[0].startswith(
        f"{path}:2: column 'Объект': no object matches 'Кондиционер LG' at ООО «Северный ветер» "
        "(closest: Кондиционер LG S12EQ (ООО «Северный ветер»; inv. no. INV-7)"
    )
    assert errors[1].startswith(
        f"{path}:3: column 'Объект': no object matches 'Daikin FTXB35C (склад)' at "
        f"ООО «Северный ветер» (closest: {SPLIT} (склад) (ООО «Северный ветер», {NEVSKY})"
    )
    got = {k: v[0] for k, v in landed(db).items()}
    assert got == {"P-3": shops.north_store, "P-4": shops.north_store}


def test_an_object_without_a_customer_column_needs_a_name_only_one_object_has(
    shops, db, db_url, tmp_path
):
    sheet = (
        "Внешний код;Объект;Описание\n"
        "W-1;Кондиционер LG S12EQ;Одно такое\n"
        f"W-2;{SPLIT};Таких три\n"
        "W-3;Кондиционер;Часть имени\n"
    )
    path = write(tmp_path / "o.csv", sheet)
    report, errors = import_orders(db_url, path, skip_invalid=True)
    assert (report.inserted, report.rejected) == (1, 2)
    assert f"{path}:3: column 'Объект': object '{SPLIT}' is ambiguous" in errors[0]
    assert f"АО «Южный берег», {SADOVAYA}" in errors[0]
    assert errors[1].startswith(f"{path}:4: column 'Объект': no object matches 'Кондиционер'")
    assert landed(db) == {"W-1": (shops.north_lg, None)}


# --- every other reference an import resolves ------------------------------------------


@WORKERS
def test_customers_contacts_technicians_and_crews_by_exact_evidence_only(
    shops, db, db_url, tmp_path, workers
):
    sheet = (
        "Внешний код;Заказчик;Контакт;Исполнитель;Бригада;Описание\n"
        "E-1;ООО «Северный ветер»;Смирнова Ольга Викторовна;Иванов К.П.;;Краткое имя\n"
        "E-2;ООО «Северный ветер»;;+7 (921) 000-00-01;;Телефон\n"
        "E-3;ООО «Северный ветер»;;IVANOV@example.ru;;Почта\n"
        "E-4;ООО «Северный ветер»;;иванов кирилл петрович;;Полное имя\n"
        "E-5;ООО «Северный ветер»;;Иванов;;Одна фамилия\n"
        "E-6;Северный ветер;;;;Часть названия заказчика\n"
        "E-7;ООО «Северный ветер»;Смирнова;;;Часть имени контакта\n"
        "E-8;ООО «Северный ветер»;;;Холод;Часть названия бригады\n"
        "E-9;ООО «Северный ветер»;;;бригада «холод-2»;Бригада целиком\n"
    )
    path = write(tmp_path / "o.csv", sheet)
    report, errors = import_orders(db_url, path, workers=workers, skip_invalid=True)
    assert (report.inserted, report.rejected) == (5, 4), errors
    assert errors == [
        f"{path}:6: column 'Исполнитель': no employee matches 'Иванов' "
        "(closest: Иванов К. П.; Иванова М. С.)",
        f"{path}:7: column 'Заказчик': no customer matches 'Северный ветер' "
        "(closest: ООО «Северный ветер» (INN 7801000005); --create-missing creates it)",
        f"{path}:8: column 'Контакт': no contact matches 'Смирнова' at ООО «Северный ветер» "
        "(closest: Смирнова Ольга Викторовна)",
        f"{path}:9: column 'Бригада': no crew matches 'Холод' (closest: Бригада «Холод-2»)",
    ]
    assert sorted(landed(db)) == ["E-1", "E-2", "E-3", "E-4", "E-9"]
    with db.reader() as s:
        assignees = dict(s.execute(select(Order.external_id, Order.assignee_id)).all())
    assert {assignees[k] for k in ("E-1", "E-2", "E-3", "E-4")} == {shops.ivanov}


def test_a_crew_or_a_warehouse_never_takes_a_technician_by_surname(shops, db_url, tmp_path):
    crews = "Бригада;Бригадир;Состав\nБригада «Север»;Иванов;Иванова Мария Сергеевна\n"
    result = fsm(db_url, "import", "crews", str(write(tmp_path / "c.csv", crews)), code=1)
    assert "column 'Бригадир': no employee matches 'Иванов' (closest: " in result.stderr
    vans = "Склад;Сотрудник\nАвтомобиль Иванова;Иванов\n"
    result = fsm(db_url, "import", "warehouses", str(write(tmp_path / "w.csv", vans)), code=1)
    assert "column 'Сотрудник': no employee matches 'Иванов' (closest: " in result.stderr


def test_a_parent_site_is_found_by_its_whole_name_within_the_customer(shops, db, db_url, tmp_path):
    sheet = (
        "Заказчик;Площадка;Наименование\n"
        "ООО «Северный ветер»;Магазин на Невском;Тепловая завеса\n"
        "ООО «Северный ветер»;Магазин;Вывеска\n"
        "АО «Южный берег»;Магазин на Невском;Чужая площадка\n"
    )
    result = fsm(db_url, "import", "objects", str(write(tmp_path / "p.csv", sheet)), code=1)
    assert ":3: column 'Площадка': no object matches 'Магазин' at ООО «Северный ветер»" in (
        result.stderr
    )
    assert ":4: column 'Площадка': no object matches 'Магазин на Невском' at АО «Южный берег»" in (
        result.stderr
    )
    assert "1 inserted" not in result.stderr  # all or nothing
    sheet = (
        "Заказчик;Площадка;Наименование\n"
        "ООО «Северный ветер»;;Магазин на Лиговском\n"  # a second site of that name
        "ООО «Северный ветер»;магазин на лиговском;Кофемашина\n"
    )
    path = write(tmp_path / "q.csv", sheet)
    result = fsm(db_url, "import", "objects", str(path), "--skip-invalid", code=1)
    assert (
        f"{path}:3: column 'Площадка': object 'магазин на лиговском' is ambiguous: it matches "
        f"Магазин на Лиговском (ООО «Северный ветер», {LIGOVSKY}); Магазин на Лиговском "
        "(ООО «Северный ветер») (name the site by its external id or inventory number)"
    ) in result.stderr


def test_stock_items_and_warehouses_by_whole_names_only(db, db_url, tmp_path):
    fsm(
        db_url,
        "import",
        "items",
        str(write(tmp_path / "i.csv", "Артикул;Наименование\nR410A;Фреон R410A\n")),
    )
    fsm(
        db_url,
        "import",
        "warehouses",
        str(write(tmp_path / "w.csv", "Склад\nЦентральный склад\n")),
    )
    balances = (
        "Склад;Наименование;Количество\n"
        "Центральный;Фреон R410A;5\n"
        "Центральный склад;Фреон;5\n"
        "центральный  склад;фреон r410a;5\n"
    )
    path = write(tmp_path / "s.csv", balances)
    result = fsm(db_url, "import", "stock", str(path), "--skip-invalid", code=1)
    assert (
        f"{path}:2: column 'Склад': no warehouse matches 'Центральный' "
        "(closest: Центральный склад; --create-missing creates it)"
    ) in result.stderr
    assert f"{path}:3: column 'Наименование': no item matches 'Фреон' (closest: " in result.stderr
    assert "1 inserted" in result.stderr


# --- a large file where all of this happens often ---------------------------------------

CUSTOMERS = 40
LARGE_ROWS = 100_000


def _large_world(db: Database) -> dict[str, object]:
    """40 customers, each with two shops holding equipment of the same names, and names
    that are parts of other names; every customer's names repeat at every other."""
    from fsm_core.services import objects, parties

    units = ["Сплит-система", "Сплит-система LG", "Сплит-система LG S12EQ (зал)", "Помпа"]
    known: dict[tuple[str, str, str], int] = {}  # (customer, name, address) -> object id
    by_inventory: dict[str, int] = {}
    customers = []
    with db.transaction() as s:
        for c in range(CUSTOMERS):
            name = f"ООО «Магазины {c:02d}»" if c % 5 else f"ООО «Магазины {c // 5:02d}» (опт)"
            company = parties.create_company(
                session=s, data={"name": name, "external_id": f"C{c:02d}"}
            )
            customers.append(name)
            for shop in range(2):
                address = f"Санкт-Петербург, ул. Торговая, {c * 2 + shop}"
                site = objects.create_object(
                    session=s,
                    data={
                        "customer_id": company.id,
                        "name": f"Магазин {shop + 1}",
                        "kind": "site",
                        "address": address,
                    },
                )
                for u, unit in enumerate(units):
                    if shop == 1 and u == 3:
                        continue  # a name only one shop of the customer has
                    created = objects.create_object(
                        session=s,
                        data={
                            "customer_id": company.id,
                            "parent_id": site.id,
                            "name": unit,
                            "inventory_number": f"INV-{c:02d}-{shop}-{u}",
                        },
                    )
                    known[(name, unit, address)] = created.id  # type: ignore[assignment]
                    by_inventory[f"INV-{c:02d}-{shop}-{u}"] = created.id  # type: ignore[assignment]
    return {"customers": customers, "known": known, "inventory": by_inventory}


PARTS = {  # a part of each name that is no object's whole name
    "Сплит-система": "Сплит",
    "Сплит-система LG": "система LG",
    "Сплит-система LG S12EQ (зал)": "LG S12EQ (зал)",
    "Помпа": "Помп",
}


def test_a_hundred_thousand_rows_each_on_its_own_object(db, db_url, tmp_path):
    world = _large_world(db)
    known: dict[tuple[str, str, str], int] = world["known"]  # type: ignore[assignment]
    inventory_of = {v: k for k, v in world["inventory"].items()}  # type: ignore[attr-defined]
    rng = random.Random(14)
    path = tmp_path / "orders.csv"
    expected: dict[str, int] = {}
    refused: dict[int, str] = {}  # line -> key
    keys = sorted(known)
    with path.open("w", encoding="cp1251", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(["Внешний код", "Заказчик", "Объект", "Адрес", "Описание"])
        for i in range(LARGE_ROWS):
            customer, unit, address = keys[rng.randrange(len(keys))]
            target = known[(customer, unit, address)]
            key = f"L-{i:06d}"
            kind = i % 10
            if kind == 0:  # a part of the name: never resolved
                ref, where, right = PARTS[unit], address, None
            elif kind == 1:  # by inventory number: no address needed
                ref, where, right = inventory_of[target], "", target
            elif kind == 2 and unit == "Помпа":  # the customer's only one: the address
                ref, where, right = unit.upper(), address.replace("ул.", "пр."), target
            elif kind == 2:  # no address where the customer has two: refused
                ref, where, right = unit.upper(), "", None
            else:  # the whole name and the shop's address, as people type them
                ref, where, right = unit, address.replace(", ", ",  ").lower(), target
            if right is None:
                refused[i + 2] = key
            else:
                expected[key] = right
            out.writerow([key, customer, ref, where, f"Заявка {i}"])
    errors: list[str] = []
    database = Database(db_url)
    started = time.perf_counter()
    try:
        with clock.frozen(NOW), open_source(str(path)) as source:
            report = run_import(
                database,
                entity="orders",
                source=source,
                options=ImportOptions(workers=2, skip_invalid=True),
                on_error=errors.append,
            )
    finally:
        database.dispose()
    seconds = time.perf_counter() - started
    assert (report.inserted, report.rejected) == (len(expected), len(refused)), errors[:3]
    assert {int(e.split(":")[1]) for e in errors} == set(refused)
    assert all("no object matches" in e or "is ambiguous" in e for e in errors)
    got = {k: v[0] for k, v in landed(db).items()}
    assert got == expected
    print(f"{LARGE_ROWS} rows imported in {seconds:.1f} s")
