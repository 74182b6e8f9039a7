"""The act's data from a customer's sheets: each customer's contract, each work type's
charge (issue 14)."""

from datetime import date
from functools import partial
from pathlib import Path

from sqlalchemy import select

from fsm_core.models import Company, WorkType
from tests.cli_runner import invoke

fsm = partial(invoke, lang=None)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("cp1251"))
    return path


def test_companies_bring_their_contract(db_url, db, tmp_path):
    sheet = (
        "Наименование;ИНН;Номер договора;Дата договора\r\n"
        "ООО «Ромашка»;7707083893;15/2026;01.02.2026\r\n"
        "ООО «Василёк»;;;\r\n"
    )
    result = fsm(db_url, "import", "companies", str(write(tmp_path / "c.csv", sheet)))
    assert "2 inserted" in result.stderr
    with db.reader() as s:
        rows = {c.name: c for c in s.execute(select(Company)).scalars()}
    assert (rows["ООО «Ромашка»"].contract_number, rows["ООО «Ромашка»"].contract_date) == (
        "15/2026",
        date(2026, 2, 1),
    )
    assert rows["ООО «Василёк»"].contract_number is None
    bad = "Наименование;Договор;Дата договора\r\nООО «Лютик»;7/26;31.02.2026\r\n"
    refused = fsm(db_url, "import", "companies", str(write(tmp_path / "b.csv", bad)), code=1)
    assert "b.csv:2: column 'Дата договора': cannot read date '31.02.2026'" in refused.stderr


def test_work_types_say_how_they_are_charged(db_url, db, tmp_path):
    sheet = (
        "Наименование;Цена;Тарификация\r\n"
        "Диагностика;2000;по часам\r\n"
        "Чистка;3500;fixed\r\n"
        "Монтаж;9000;\r\n"
    )
    result = fsm(db_url, "import", "work-types", str(write(tmp_path / "w.csv", sheet)))
    assert "3 inserted" in result.stderr
    with db.reader() as s:
        charges = {w.name: w.charge for w in s.execute(select(WorkType)).scalars()}
    assert charges == {"Диагностика": "hours", "Чистка": "fixed", "Монтаж": "both"}
    bad = "Наименование;Тарификация\r\nАбонемент;помесячно\r\n"
    refused = fsm(db_url, "import", "work-types", str(write(tmp_path / "b.csv", bad)), code=1)
    assert "unknown charge 'помесячно'" in refused.stderr
