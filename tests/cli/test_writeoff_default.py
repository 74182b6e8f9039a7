"""``fsm stock writeoff`` and ``fsm work material`` without a warehouse take the core's
suggestion: the technician's van only when it has enough, else the nearest warehouse that
has enough (as the dashboard suggests it)."""

from tests.cli_runner import Fsm


def test_writeoff_skips_an_empty_van_for_the_warehouse_that_has_it(db_url):
    shop = Fsm(db_url, user="lebedev", stderr=True)
    shop("users", "create", "lebedev", "--name", "Лебедев С. В.", "-r", "dispatcher", "-r", "storekeeper",
         user=None)  # fmt: skip
    shop("companies", "create", "ООО «СМ-Трейд»", "--inn", "7801234564")
    shop("objects", "create", "СМ-Трейд", "Магазин на Невском", "--kind", "site",
         "--lat", "59.9311", "--lon", "30.3609")  # fmt: skip
    shop("employees", "create", "Иванов Кирилл Петрович")
    shop("stock", "warehouses", "create", "Склад Север", "--lat", "60.05", "--lon", "30.33")
    shop("stock", "warehouses", "create", "Склад Центр", "--lat", "59.92", "--lon", "30.35")
    shop("stock", "warehouses", "create", "--employee", "Иванов К. П.")
    shop("stock", "items", "create", "R410A", "Фреон R410A", "-u", "кг")
    shop("stock", "receive", "R410A", "10", "--to", "Склад Север")
    shop("stock", "receive", "R410A", "3", "--to", "Склад Центр")
    shop("orders", "create", "--object", "Магазин на Невском", "-d", "Не холодит",
         "--assignee", "Иванов")  # fmt: skip
    number = shop.json("orders", "list")[0]["number"]
    out = shop("stock", "writeoff", number, "R410A", "2")  # the van is empty: the nearest
    assert "from Склад Центр" in out
    out = shop("stock", "writeoff", number, "R410A", "4")  # 1 kg left there: the next one
    assert "from Склад Север" in out
    out = shop("work", "material", number, "R410A", "1")  # the same default
    assert "from Склад Центр" in out
