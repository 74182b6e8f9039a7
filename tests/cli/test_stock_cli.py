"""``fsm stock``, end to end through Typer's CliRunner, on both back-ends."""

import pytest

from fsm_cli.main import app
from tests.cli_runner import Fsm, runner


@pytest.fixture
def fsm(db_url):
    return Fsm(db_url, user="lebedev", stderr=True)


@pytest.fixture
def shop(fsm):
    """A customer, a technician with a van, two warehouses, two items and an order; the
    storekeeper and a dispatcher as users."""
    fsm("users", "create", "lebedev", "--name", "Лебедев С. В.",
        "--role", "dispatcher", "--role", "storekeeper", user=None)  # fmt: skip
    fsm("users", "create", "orlova", "--name", "Орлова В. П.", user=None)
    fsm("companies", "create", "ООО «СМ-Трейд»", "--inn", "7801234564")
    fsm("employees", "create", "Иванов Кирилл Петрович")
    fsm("employees", "create", "Петров Алексей Сергеевич")
    fsm("stock", "warehouses", "create", "Склад СМ-Трейд", "--address", "Невский пр., 114")
    fsm("stock", "warehouses", "create", "Склад Юг", "--kind", "региональный")
    fsm("stock", "warehouses", "create", "--employee", "Иванов К. П.")
    fsm(
        "stock",
        "items",
        "create",
        "ASP-MAXI-OR",
        "Дренажная помпа ASPEN MAXI ORANGE",
        "--purchase-price",
        "6 900",
        "--sale-price",
        "9 800",
        "--min-level",
        "2",
        "--barcode",
        "5060181700205",
    )
    fsm("stock", "items", "create", "R410A", "Фреон R410A", "-u", "кг", "--sale-price", "1900")
    fsm("orders", "create", "--customer", "СМ-Трейд", "-d", "Не охлаждает", "--assignee", "Иванов")
    return fsm


def test_catalogue_and_warehouses(shop):
    items = shop.json("stock", "items", "list")
    assert [(i["sku"], i["unit"], i["on_hand"]) for i in items] == [
        ("ASP-MAXI-OR", "шт", "0.000"),
        ("R410A", "кг", "0.000"),
    ]
    warehouses = shop.json("stock", "warehouses", "list")
    assert [(w["name"], w["kind"], w["employee"]) for w in warehouses] == [
        ("Склад СМ-Трейд", "central", None),
        ("Склад Юг", "regional", None),
        ("Автомобиль (Иванов К. П.)", "van", "Иванов К. П."),
    ]
    assert "Created item F017C450 Кронштейн (шт)." in shop(
        "stock", "items", "create", "F017C450", "Кронштейн"
    )
    shop("stock", "items", "update", "F017C450", "--name", "Кронштейн F 017 C 450", "--inactive")
    assert shop.json("stock", "items", "show", "F017C450")["active"] is False
    assert [i["sku"] for i in shop.json("stock", "items", "list", "--all")] == [
        "ASP-MAXI-OR",
        "F017C450",
        "R410A",
    ]
    assert shop.error("stock", "items", "create", "R410A", "Фреон") == (
        "SKU 'R410A' is already used by Фреон R410A"
    )
    assert shop.error("stock", "warehouses", "create", "--employee", "Иванов К. П.") == (
        "Иванов К. П. already has a van: 'Автомобиль (Иванов К. П.)'"
    )
    shop("stock", "warehouses", "update", "van of Иванов", "--employee", "Петров А. С.")
    van = shop.json("stock", "warehouses", "list")[-1]
    assert van["employee"] == "Петров А. С."
    table = shop("stock", "warehouses", "list")
    assert "Невский пр., 114" in table
    assert "regional" in table


def test_receive_transfer_reserve_write_off_return_adjust(shop):
    number = shop.json("orders", "list")[0]["number"]
    out = shop("stock", "receive", "ASP-MAXI-OR", "6", "--to", "Склад СМ-Трейд", "-d", "ТН-1")
    assert "Received 6 шт Дренажная помпа ASPEN MAXI ORANGE at Склад СМ-Трейд: 6 шт on hand." in out
    receipt = shop.json("stock", "receive", "R410A", "12,5", "--to", "Склад СМ-Трейд")
    assert (receipt["kind"], receipt["quantity"], receipt["to_warehouse"]) == (
        "receipt",
        "12.500",
        "Склад СМ-Трейд",
    )
    out = shop("stock", "transfer", "R410A", "3", "--from", "Склад СМ-Трейд", "--to", "Иванов")
    assert "Moved 3 кг Фреон R410A from Склад СМ-Трейд to Автомобиль (Иванов К. П.)" in out
    # reserve at the central warehouse, carry the reservation to the van, use it there
    out = shop("stock", "reserve", number, "ASP-MAXI-OR", "2", "--from", "Склад СМ-Трейд")
    assert (
        f"Reserved 2 шт Дренажная помпа ASPEN MAXI ORANGE at Склад СМ-Трейд for order {number}"
        in out
    )
    shop(
        "stock",
        "transfer",
        "5060181700205",
        "2",
        "--from",
        "Склад СМ-Трейд",
        "--to",
        "van of Иванов К. П.",
        "--order",
        number,
    )
    out = shop("stock", "writeoff", number, "ASP-MAXI-OR", "1")  # from the reservation's van
    assert (
        f"Wrote off 1 шт Дренажная помпа ASPEN MAXI ORANGE from Автомобиль (Иванов К. П.) for "
        f"order {number}; 1 шт still reserved for it: 1 шт on hand, 0 шт available." in out
    )
    written = shop.json("stock", "writeoff", number, "R410A", "1,2", "--note", "дозаправка")
    assert (written["kind"], written["order"], written["unit_price"], written["reason"]) == (
        "write_off",
        number,
        "1900.00",
        "дозаправка",
    )
    # overselling is refused in one line and changes nothing
    before = shop.json("stock", "balance")
    assert shop.error("stock", "writeoff", number, "R410A", "5", "--from", "Иванов") == (
        "not enough 'Фреон R410A' at 'Автомобиль (Иванов К. П.)': 1,8 кг available, "
        "5 кг requested (available elsewhere: Склад СМ-Трейд 9,5 кг)"
    )
    assert shop.json("stock", "balance") == before
    out = shop("stock", "return", number, "R410A", "0,2")  # back to where it came from
    assert f"Returned 0.2 кг Фреон R410A from order {number} to Автомобиль (Иванов К. П.)" in out
    assert shop.error("stock", "return", number, "R410A", "2") == (
        f"order {number} has 1 кг of 'Фреон R410A' written off; 2 кг cannot come back"
    )
    out = shop(
        "stock", "adjust", "R410A", "-w", "Склад СМ-Трейд", "--count", "9", "-r", "инвентаризация"
    )
    assert "Adjusted Фреон R410A at Склад СМ-Трейд by −0.5 кг: 9 кг on hand." in out
    out = shop("stock", "adjust", "R410A", "-w", "Склад СМ-Трейд", "--by", "-1", "-r", "утечка")
    assert "by −1 кг: 8 кг on hand." in out
    out = shop("stock", "adjust", "R410A", "-w", "Склад СМ-Трейд", "--count", "8", "-r", "пересчёт")
    assert "the count agrees (8 кг on hand); nothing to adjust." in out
    materials = shop.json("stock", "reserve", number)
    assert [
        (m["sku"], m["warehouse"], m["reserved"], m["written_off"], m["returned"])
        for m in materials
    ] == [
        ("ASP-MAXI-OR", "Автомобиль (Иванов К. П.)", "1.000", "1.000", "0.000"),
        ("R410A", "Автомобиль (Иванов К. П.)", "0.000", "1.200", "0.200"),
    ]
    table = shop("stock", "reserve", number)
    assert "Дренажная помпа ASPEN MAXI ORANGE (ASP-MAXI-OR)" in table
    out = shop("stock", "reserve", number, "--release")
    assert "Released 1 шт Дренажная помпа ASPEN MAXI ORANGE at Автомобиль (Иванов К. П.)" in out
    assert "has nothing reserved to release" in shop("stock", "reserve", number, "--release")
    ledger = shop.json("stock", "ledger", "--order", number)
    assert [line["kind"] for line in ledger] == ["return", "write_off", "write_off", "transfer"]
    kinds = [line["kind"] for line in shop.json("stock", "ledger", "--kind", "adjustment")]
    assert kinds == ["adjustment", "adjustment"]
    assert shop.json("stock", "ledger", "--since", "27.11.2026") == []
    assert len(shop.json("stock", "ledger", "--item", "R410A", "--until", "26.11.2026")) == 6
    table = shop("stock", "ledger")
    assert "write-off" in table
    assert "Склад СМ-Трейд → Автомобиль" in table


def test_balance_availability_and_low_stock(shop):
    shop("stock", "receive", "ASP-MAXI-OR", "3", "--to", "Склад СМ-Трейд")
    shop("stock", "receive", "ASP-MAXI-OR", "1", "--to", "Склад Юг")
    number = shop.json("orders", "list")[0]["number"]
    shop("stock", "reserve", number, "ASP-MAXI-OR", "2", "--from", "Склад СМ-Трейд")
    where = shop.json("stock", "balance", "ASP-MAXI-OR")
    assert [(w["warehouse"], w["on_hand"], w["reserved"], w["available"]) for w in where] == [
        ("Склад СМ-Трейд", "3.000", "2.000", "1.000"),
        ("Склад Юг", "1.000", "0.000", "1.000"),
    ]
    table = shop("stock", "balance", "помпа")
    assert "Total" in table
    assert "Available" in table
    every = shop.json("stock", "balance", "ASP-MAXI-OR", "--all")
    assert [w["warehouse"] for w in every] == [
        "Склад СМ-Трейд",
        "Склад Юг",
        "Автомобиль (Иванов К. П.)",
    ]
    by_warehouse = shop.json("stock", "balance", "--warehouse", "Склад Юг")
    assert [(b["sku"], b["on_hand"]) for b in by_warehouse] == [("ASP-MAXI-OR", "1.000")]
    assert "No stock here." in shop("stock", "balance", "--warehouse", "Иванов")
    assert shop.json("stock", "low") == []  # 2 available, the minimum is 2
    assert "Every item is at or above its minimum level." in shop("stock", "low")
    shop("stock", "reserve", number, "ASP-MAXI-OR", "1", "--from", "Склад Юг")
    low = shop.json("stock", "low")
    assert [(r["sku"], r["available"], r["shortfall"]) for r in low] == [
        ("ASP-MAXI-OR", "1.000", "1.000")
    ]
    assert "To order" in shop("stock", "low")


def test_cancelling_the_order_releases_its_reservations(shop):
    number = shop.json("orders", "list")[0]["number"]
    shop("stock", "receive", "R410A", "5", "--to", "Склад СМ-Трейд")
    shop("stock", "reserve", number, "R410A", "2,5", "--from", "Склад СМ-Трейд")
    shop("orders", "move", number, "cancelled", user="orlova")
    assert shop.json("stock", "balance", "R410A")[0]["reserved"] == "0.000"
    history = shop.json("orders", "history", number)
    assert (history[-1]["action"], history[-1]["actor"], history[-1]["new"]) == (
        "release",
        "Диспетчер on behalf of Орлова В. П.",  # the database's first admin acts for her
        "2,5 кг Фреон R410A (R410A), Склад СМ-Трейд (order cancelled)",
    )
    assert shop.error("stock", "reserve", number, "R410A", "1", "--from", "Склад СМ-Трейд") == (
        f"order {number} is cancelled; nothing can be reserved for it"
    )


def test_errors_are_one_line_and_usage_errors_exit_2(shop):
    number = shop.json("orders", "list")[0]["number"]
    assert shop.error("stock", "receive", "Кронштейн", "1", "--to", "Склад Юг") == (
        "no item matches 'Кронштейн'"
    )
    assert shop.error("stock", "receive", "R410A", "1", "--to", "Склад 134") == (
        "no warehouse matches 'Склад 134' (fsm stock warehouses list shows them)"
    )
    assert shop.error("stock", "receive", "ASP-MAXI-OR", "1,5", "--to", "Склад Юг") == (
        "quantity: '1,5' is not a whole number of шт"
    )
    assert shop.error("stock", "writeoff", "26-9999", "R410A", "1") == (
        "no order matches '26-9999' (give the order number, e.g. 26-0012)"
    )
    shop("stock", "adjust", "R410A", "-w", "Склад Юг", "-r", "x", code=2)
    shop(
        "stock", "adjust", "R410A", "-w", "Склад Юг", "-r", "x", "--count", "1", "--by", "1", code=2
    )
    shop("stock", "items", "update", "R410A", code=2)
    shop("stock", "warehouses", "create", code=2)
    shop("stock", "reserve", number, "R410A", code=2)
    # Петров's order: no reservation and no van to guess the warehouse from
    shop("orders", "create", "--customer", "СМ-Трейд", "-d", "Шумит", "--assignee", "Петров А. С.")
    other = shop.json("orders", "list")[0]["number"]
    result = runner.invoke(app, ["--db", shop.url, "stock", "writeoff", other, "R410A", "1"])
    assert result.exit_code == 2
    assert "say which warehouse" in result.stderr


def test_demo_stock_is_real(db_url):
    fsm = Fsm(db_url, stderr=True)  # as the demo's dispatcher: the account that loads it
    fsm("demo")
    balance = fsm.json("stock", "balance")
    assert {b["warehouse"] for b in balance} == {
        "Центральный склад",
        "Склад Юг",
        "Автомобиль (Иванов К. П.)",
        "Автомобиль (Соколов Д. А.)",
    }
    assert any(b["reserved"] != "0.000" for b in balance)
    low = [r["sku"] for r in fsm.json("stock", "low")]
    assert low == ["AKB-12-100", "MATRIX-II"]
    write_offs = fsm.json("stock", "ledger", "--kind", "write_off", "--limit", "0")
    assert len(write_offs) >= 4
    assert all(line["order"] for line in write_offs)
    freon = fsm.json("stock", "balance", "Фреон R410A")
    assert [(w["warehouse"], w["on_hand"]) for w in freon] == [
        ("Центральный склад", "21.000"),
        ("Склад Юг", "8.500"),
        ("Автомобиль (Иванов К. П.)", "2.800"),
    ]
