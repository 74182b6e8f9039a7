"""``fsm report``: the hand-computed world of tests/core/test_analytics.py through the
command line — JSON for scripts, the employee card, CSV that Excel cannot run, a workbook,
charts, and one-line refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from fsm_core.models import Company as CompanyRow
from tests.cli_runner import Fsm
from tests.core.test_analytics import Company

NOVEMBER = ("--since", "01.11.2026", "--until", "30.11.2026")


@pytest.fixture
def fsm(db, world, db_url):
    from fsm_core.services import settings

    with db.transaction() as s:
        settings.set_value(session=s, key="timezone", value="Europe/Moscow")
    Company(db, world)
    return Fsm(db_url)


def test_employees_as_json_for_scripts(fsm):
    rows = {r["employee"]: r for r in fsm.json("report", "employees", *NOVEMBER)}
    a, b = rows["Иванов К. П."], rows["Петров А. С."]
    assert (a["closed"], a["closed_rank"], a["ranked_of"]) == (2, 2, 3)
    assert (b["closed"], b["closed_rank"]) == (3, 1)
    assert (a["sla_violated_share"], a["sla_violated_rank"]) == (0.5, 2)
    assert (b["sla_violated_share"], b["sla_violated_rank"]) == (0.3333, 1)
    assert (a["hours"], a["hours_rank"], b["hours"]) == (6.0, 1, 5.5)
    assert (a["rating"], a["rating_rank"], b["rating"], b["rating_rank"]) == (4.0, 1, 3.67, 2)
    assert rows["Сидоров О. И."]["rating_rank"] == 3  # no rating: last
    assert "Уволенный П. П." not in rows


def test_the_employee_card_ranks_each_metric(fsm):
    card = fsm("report", "employee", "Иванов", *NOVEMBER)
    assert "Closed orders" in card
    assert "2  (2 of 3)" in card
    assert "6.0  (1 of 3)" in card
    assert "4.00, 2 rated orders  (1 of 3)" in card
    ru = Fsm(fsm.url, lang="ru")("report", "employee", "Иванов", *NOVEMBER)
    assert "2  (2 из 3)" in ru


def test_a_table_for_people_and_json_lines(fsm):
    text = fsm("report", "employees", *NOVEMBER)
    assert "Иванов К. П." in text
    assert "│ 2 2/3 " in text  # closed, and the rank beside it
    csv = fsm("report", "employees", *NOVEMBER, "--csv").splitlines()
    assert csv[0].startswith("Employee,Closed,Rank,SLA violated,Rank,")  # ranks of their own
    lines = fsm("report", "orders", *NOVEMBER, "--nl").splitlines()
    assert len(lines) == 8  # received, finished or cancelled in November (not O5)


def test_a_file_named_alone_is_written_as_its_name_says(fsm, tmp_path):
    target = tmp_path / "orders.csv"
    fsm("report", "orders", *NOVEMBER, "-o", str(target))
    assert target.read_text(encoding="utf-8").startswith("Order,Customer,")
    fsm.run("report", "orders", *NOVEMBER, "-o", str(tmp_path / "orders.txt2"), code=2)


def test_csv_is_safe_to_open_in_excel(fsm, db):
    with db.transaction() as s:
        s.execute(update(CompanyRow).values(name="=HYPERLINK(1)").where(CompanyRow.id == 1))
    text = fsm("report", "sla", *NOVEMBER, "--csv")
    assert text.splitlines()[0] == "Customer,Closed,With SLA,Violated,Compliance"
    assert text.splitlines()[1] == "'=HYPERLINK(1),6,3,2,0.3333"


def test_a_workbook(fsm, tmp_path):
    from openpyxl import load_workbook

    target = tmp_path / "employees.xlsx"
    fsm("report", "employees", *NOVEMBER, "--xlsx", "-o", str(target))
    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Employee", "Closed", "Rank")
    assert ("Петров А. С.", 3, 1) in [r[:3] for r in rows[1:]]


def test_charts_in_the_terminal(fsm):
    picture = fsm("report", "orders", *NOVEMBER, "--chart")
    assert "Orders per day, 01.11.2026 – 30.11.2026" in picture
    assert "\x1b[" not in picture  # not a terminal: no colours
    assert "SLA compliance" in fsm("report", "sla", *NOVEMBER, "--chart")
    assert "Order ratings, 01.11.2026 – 30.11.2026: 3, mean 4.11" in fsm(
        "report", "ratings", *NOVEMBER, "--chart"
    )


def test_mistakes_are_one_line(fsm):
    assert "before it starts" in fsm.error(
        "report", "employees", "--since", "30.11.2026", "--until", "01.11.2026"
    )
    assert "since" in fsm.error("report", "employees", "--since", "yesterday-ish")
    assert fsm.error("report", "employees", "--customer", "Нет такого")
    fsm.run("report", "sla", "--by", "month", code=2)
    fsm.run("report", "employees", "--json", "--csv", code=2)


def test_the_management_report_as_a_pdf(fsm, tmp_path):
    from pypdf import PdfReader

    target = tmp_path / "report.pdf"
    result = fsm.run("report", "employees", *NOVEMBER, "--pdf", str(target))
    assert "The management report for 01.11.2026 – 30.11.2026" in result.stderr
    text = " ".join(page.extract_text() for page in PdfReader(target).pages)
    assert "Management report" in text
    assert "Иванов К. П." in text
